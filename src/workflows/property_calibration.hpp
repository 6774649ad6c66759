// The last step of training a property model: measuring its uncertainty on data it was not
// fitted to (models/property_uncertainty.hpp). The training structures' embeddings become the
// OOD reference; the validation set sets the OOD threshold and the sigma recalibration factor.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "data/splits.hpp"
#include "matnn/structure.hpp"
#include "models/property_model.hpp"
#include "train/config.hpp"

namespace matnn::workflows {

/// The config's uncertainty section (docs/training-config.md).
struct CalibrationOptions {
  bool recalibrate = true;            ///< fit the regression sigma scale on validation data
  double ood_quantile = 0.95;         ///< the OOD threshold: this quantile of validation distances
  int ood_neighbors = 10;             ///< nearest training embeddings averaged into a distance
  std::size_t reference_size = 2000;  ///< training embeddings kept (a seeded sample of them beyond)
};

/// Reads (and finishes) the uncertainty section; bad values are MATNN_ERROR_INVALID_ARGUMENT.
CalibrationOptions calibration_options_from(const train::ConfigSection& section);

/// What calibrate_property_model() fitted, and on what.
struct CalibrationReport {
  double sigma_scale = 1.0;
  std::string sigma_basis;   ///< e.g. "validation (154 structures)", or why it stayed 1
  double ood_threshold = 0.0;
  std::string ood_basis;     ///< the data the threshold was chosen on
  std::size_t reference_size = 0;
};

/// The model's predictions for rows (positions in what `split` indexes), as the job makes them
/// (shared among its ranks: a collective call).
using RowPredictions =
    std::function<models::PropertyPrediction(const std::vector<std::size_t>& rows, const models::PredictOptions& options)>;

/// Fits and sets the model's calibration from its predictions (the model must not carry one
/// yet): `predict` predicts, and `target` holds the targets of, the rows that `split` indexes.
/// Collective when `predict` is.
CalibrationReport calibrate_property_model(models::PropertyModel& model, const RowPredictions& predict,
                                           const Eigen::VectorXd& target, const data::Split& split,
                                           const CalibrationOptions& options, std::uint64_t seed);

}  // namespace matnn::workflows
