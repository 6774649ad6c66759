#include "workflows/property_calibration.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "matnn/error.hpp"
#include "metrics/metrics.hpp"
#include "workflows/job_common.hpp"

namespace matnn::workflows {
namespace {

// The q-quantile with linear interpolation between order statistics.
double quantile(Eigen::VectorXd values, double q) {
  std::sort(values.data(), values.data() + values.size());
  const double at = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<Eigen::Index>(std::floor(at));
  const Eigen::Index above = std::min<Eigen::Index>(below + 1, values.size() - 1);
  return values[below] + (at - static_cast<double>(below)) * (values[above] - values[below]);
}

}  // namespace

CalibrationOptions calibration_options_from(const train::ConfigSection& section) {
  CalibrationOptions o;
  o.recalibrate = section.boolean("recalibrate", o.recalibrate);
  o.ood_quantile = section.number("ood_quantile", o.ood_quantile);
  if (!(o.ood_quantile > 0.0 && o.ood_quantile < 1.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "uncertainty.ood_quantile = {} must be in (0, 1)", o.ood_quantile);
  o.ood_neighbors = static_cast<int>(section.integer("ood_neighbors", o.ood_neighbors, 1));
  o.reference_size = static_cast<std::size_t>(section.integer("reference_size", static_cast<std::int64_t>(o.reference_size), 2));
  section.finish();
  return o;
}

CalibrationReport calibrate_property_model(models::PropertyModel& model, const RowPredictions& predict,
                                           const Eigen::VectorXd& target, const data::Split& split,
                                           const CalibrationOptions& options, std::uint64_t seed) {
  if (model.calibration().has_reference() || model.calibration().sigma_scale != 1.0)
    fail(MATNN_ERROR_INTERNAL, "calibrate_property_model: the model is calibrated already");
  CalibrationReport report;
  models::PredictOptions with_embeddings;
  with_embeddings.embeddings = true;

  models::UncertaintyCalibration calibration;
  models::PropertyPrediction validation;
  if (!split.validation.empty()) validation = predict(split.validation, with_embeddings);

  // The sigma scale, from the validation errors.
  const bool spread = validation.sigma.size() > 0 && (validation.sigma.array() > 0).all() && validation.sigma.allFinite() &&
                      validation.value.allFinite();
  if (split.validation.empty()) {
    report.sigma_basis = "no validation set";
  } else if (model.target().task != models::TaskKind::regression) {
    report.sigma_basis = "classification (not recalibrated)";
  } else if (!options.recalibrate) {
    report.sigma_basis = "uncertainty.recalibrate is false";
  } else if (!spread) {
    report.sigma_basis = "no ensemble spread (one member)";
  } else {
    const Eigen::VectorXd y = pick(target, split.validation);
    calibration.sigma_scale = metrics::sigma_scale_fit(
        std::span<const double>(validation.value.data(), static_cast<std::size_t>(validation.value.size())),
        std::span<const double>(validation.sigma.data(), static_cast<std::size_t>(validation.sigma.size())),
        std::span<const double>(y.data(), static_cast<std::size_t>(y.size())));
    report.sigma_basis = fmt::format("validation ({} structures)", split.validation.size());
  }

  // The OOD reference and threshold, from the embeddings. A model whose embeddings do not vary
  // (a diverged or collapsed network) gets none: it cannot tell structures apart at all.
  // At most reference_size training rows, a seeded sample when there are more.
  const std::vector<std::size_t> reference =
      data::pick_at_random(split.train, options.reference_size, seed ^ 0x7265666572656E63ULL).picked;
  const Eigen::MatrixXd training_embeddings =
      reference.size() < 2 ? Eigen::MatrixXd() : predict(reference, with_embeddings).embedding;
  const bool varies = training_embeddings.rows() >= 2 && training_embeddings.allFinite() &&
                      ((training_embeddings.colwise().maxCoeff() - training_embeddings.colwise().minCoeff()).array() > 0).any();
  if (!varies) {
    report.ood_basis = reference.size() < 2 ? "none: fewer than 2 training structures"
                                            : "none: the training embeddings do not vary (or are not finite)";
  } else {
    calibration.set_reference(training_embeddings, options.ood_neighbors);
    report.reference_size = reference.size();
    if (split.validation.empty() || !validation.embedding.allFinite()) {
      // Leave-one-out distances of the training reference itself: smaller than those of unseen
      // in-distribution data, so the threshold errs towards flagging.
      calibration.threshold = quantile(calibration.distance(training_embeddings, true), options.ood_quantile);
      report.ood_basis = fmt::format("training structures, leave-one-out ({}: no usable validation set)", reference.size());
    } else {
      calibration.threshold = quantile(calibration.distance(validation.embedding), options.ood_quantile);
      report.ood_basis = fmt::format("validation ({} structures)", split.validation.size());
    }
  }
  report.sigma_scale = calibration.sigma_scale;
  report.ood_threshold = calibration.threshold;
  model.set_calibration(std::move(calibration));
  return report;
}

}  // namespace matnn::workflows
