// Spectrum and image models through the C interface: a host's arrays become matnn::Signals (one
// shared axis for a batch of spectra) and go through the model's predict(), as datasets do.
#include <cmath>
#include <memory>
#include <vector>

#include "internal.hpp"
#include "models/cnn/signal_model.hpp"
#include "property_internal.hpp"

namespace {

using matnn::fail;
using matnn::Signal;
using matnn::SignalKind;
using matnn::capi::guarded;
using matnn::capi::require;
using matnn::capi::require_model;
using matnn::capi::require_property;
using matnn::models::cnn::SignalModel;

/// The handle's signal model reading `kind`, or MATNN_ERROR_INVALID_ARGUMENT naming what it reads.
const SignalModel& require_signal_model(const matnn_model& m, SignalKind kind) {
  const auto* model = dynamic_cast<const SignalModel*>(&require_property(m));
  if (model == nullptr || model->config().signal_kind != kind)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "the model ({}) does not read {}", require_property(m).kind(),
         kind == SignalKind::spectrum ? "spectra" : "images");
  return *model;
}

void check_count(int value, int minimum, const char* name) {
  if (value < minimum) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be >= {}, got {}", name, minimum, value);
}

void check_finite(const double* values, std::size_t n, const char* name) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(values[i])) fail(MATNN_ERROR_NON_FINITE, "{}[{}] is {}", name, i, values[i]);
}

void predict(const SignalModel& model, const std::vector<Signal>& signals, int mc_samples, std::uint64_t seed,
             double* values, double* sigmas, int* ood, double* probabilities, double* embeddings) {
  const matnn::models::PropertyPrediction p =
      model.predict(signals, matnn::capi::options_for(mc_samples, embeddings != nullptr, seed));
  const auto n = static_cast<Eigen::Index>(signals.size());
  matnn::capi::copy_out(p, n, values, sigmas, ood, probabilities);
  if (embeddings == nullptr) return;
  const Eigen::Index width = p.embedding.cols();
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index k = 0; k < width; ++k) embeddings[i * width + k] = p.embedding(i, k);
}

}  // namespace

extern "C" {

MATNN_API matnn_status matnn_property_input(const matnn_model* model, matnn_input* input, int* channels, int* points,
                                            int* width) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(input, "input");
    const auto* signal = dynamic_cast<const SignalModel*>(&require_property(m));
    const std::vector<std::int64_t> shape = signal ? signal->config().shape : std::vector<std::int64_t>{};
    *input = signal == nullptr                                        ? MATNN_INPUT_STRUCTURES
             : signal->config().signal_kind == SignalKind::spectrum ? MATNN_INPUT_SPECTRA
                                                                      : MATNN_INPUT_IMAGES;
    if (channels) *channels = shape.empty() ? 0 : static_cast<int>(shape[0]);
    if (points) *points = shape.size() > 1 ? static_cast<int>(shape[1]) : 0;
    if (width) *width = shape.size() > 2 ? static_cast<int>(shape[2]) : 0;
  });
}

MATNN_API matnn_status matnn_property_spectrum_axis(const matnn_model* model, double* axis, const char** name,
                                                    const char** unit) {
  return guarded(__func__, model, [&] {
    const SignalModel& s = require_signal_model(require_model(model), SignalKind::spectrum);
    if (axis) std::copy(s.config().axis.begin(), s.config().axis.end(), axis);
    if (name) *name = s.config().axis_name.c_str();
    if (unit) *unit = s.config().axis_unit.c_str();
  });
}

MATNN_API matnn_status matnn_property_predict_spectra(const matnn_model* model, int n_spectra, int n_channels,
                                                      int n_points, const double* axis, const double* intensities,
                                                      int mc_samples, uint64_t seed, double* values, double* sigmas,
                                                      int* ood, double* probabilities, double* embeddings) {
  return guarded(__func__, model, [&] {
    const SignalModel& s = require_signal_model(require_model(model), SignalKind::spectrum);
    require(axis, "axis");
    require(intensities, "intensities");
    check_count(n_spectra, 1, "n_spectra");
    check_count(n_channels, 1, "n_channels");
    check_count(n_points, 2, "n_points");
    matnn::capi::check_outputs(s, mc_samples, values, probabilities);
    const auto points = static_cast<std::size_t>(n_points), per = static_cast<std::size_t>(n_channels) * points;
    check_finite(axis, points, "axis");
    check_finite(intensities, per * static_cast<std::size_t>(n_spectra), "intensities");
    const auto grid = std::make_shared<const std::vector<double>>(axis, axis + points);
    std::vector<Signal> signals(static_cast<std::size_t>(n_spectra));
    for (std::size_t i = 0; i < signals.size(); ++i) {
      Signal& signal = signals[i];
      signal.kind = SignalKind::spectrum;
      signal.shape = {n_channels, n_points};
      signal.values.assign(intensities + i * per, intensities + (i + 1) * per);
      signal.axis = grid;
      signal.axis_name = s.config().axis_name;
      signal.axis_unit = s.config().axis_unit;
    }
    predict(s, signals, mc_samples, seed, values, sigmas, ood, probabilities, embeddings);
  });
}

MATNN_API matnn_status matnn_property_predict_images(const matnn_model* model, int n_images, int n_channels,
                                                     int height, int width, const double* pixel_sizes,
                                                     const double* pixels, int mc_samples, uint64_t seed,
                                                     double* values, double* sigmas, int* ood, double* probabilities,
                                                     double* embeddings) {
  return guarded(__func__, model, [&] {
    const SignalModel& s = require_signal_model(require_model(model), SignalKind::image);
    require(pixel_sizes, "pixel_sizes");
    require(pixels, "pixels");
    check_count(n_images, 1, "n_images");
    check_count(n_channels, 1, "n_channels");
    check_count(height, 1, "height");
    check_count(width, 1, "width");
    matnn::capi::check_outputs(s, mc_samples, values, probabilities);
    const auto per = static_cast<std::size_t>(n_channels) * static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
    check_finite(pixels, per * static_cast<std::size_t>(n_images), "pixels");
    std::vector<Signal> signals(static_cast<std::size_t>(n_images));
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (!(pixel_sizes[i] > 0) || !std::isfinite(pixel_sizes[i]))
        fail(MATNN_ERROR_INVALID_ARGUMENT, "pixel_sizes[{}] = {} is not a positive length", i, pixel_sizes[i]);
      signals[i] = matnn::make_image(n_channels, height, width, std::vector<float>(pixels + i * per, pixels + (i + 1) * per),
                                     pixel_sizes[i], s.config().axis_unit);
    }
    predict(s, signals, mc_samples, seed, values, sigmas, ood, probabilities, embeddings);
  });
}

}  // extern "C"
