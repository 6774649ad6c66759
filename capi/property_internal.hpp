// Shared by the property-model calls of the C interface (property.cpp: compositions and
// structures; signals.cpp: spectra and images): the checks and output copies every call makes.
#pragma once

#include <cstdint>

#include "internal.hpp"
#include "models/property_model.hpp"

namespace matnn::capi {

/// The handle's property model; MATNN_ERROR_MODEL for a potential.
const models::PropertyModel& require_property(const matnn_model& model);
/// Checks shared by the predict calls, before any work: values given, mc_samples >= 0 and
/// possible for the model, probabilities only for classifiers.
void check_outputs(const models::PropertyModel& model, int mc_samples, const double* values, const double* probabilities);
/// Copies n predictions into the caller's arrays (NULL outputs are skipped).
void copy_out(const models::PropertyPrediction& p, Eigen::Index n, double* values, double* sigmas, int* ood,
              double* probabilities);
/// Predictions never modify the model (Monte-Carlo dropout draws from a stream made for the
/// call), so calls on one handle need no lock.
models::PredictOptions options_for(int mc_samples, bool embeddings = false, std::uint64_t seed = 0);

}  // namespace matnn::capi
