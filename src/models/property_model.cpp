#include "models/property_model.hpp"

#include <cmath>

#include "matnn/error.hpp"
#include "nn/seed_mix.hpp"

namespace matnn::models {

const char* task_name(TaskKind task) noexcept {
  return task == TaskKind::regression ? "regression" : "classification";
}

TaskKind task_from_name(const std::string& name) {
  if (name == "regression") return TaskKind::regression;
  if (name == "classification") return TaskKind::classification;
  fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown task \"{}\" (use regression or classification)", name);
}

Samples Samples::slice(std::size_t first, std::size_t count) const {
  if (first + count > size())
    fail(MATNN_ERROR_INTERNAL, "samples [{}, {}) of a batch of {}", first, first + count, size());
  Samples out;
  if (!structures.empty()) out.structures = structures.subspan(first, count);
  if (!signals.empty()) out.signals = signals.subspan(first, count);
  return out;
}

std::span<const Structure> PropertyModel::structures_of(const Samples& samples) const {
  if (samples.structures.size() != samples.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "a {} model reads structures, but the batch holds {} for {} samples", kind(),
         samples.structures.size(), samples.size());
  return samples.structures;
}

std::span<const Signal> PropertyModel::signals_of(const Samples& samples) const {
  if (samples.signals.size() != samples.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "a {} model reads the signal \"{}\", but the batch holds {} signals for {} samples",
         kind(), input_signal(), samples.signals.size(), samples.size());
  return samples.signals;
}

StateFile PropertyModel::model_file(nlohmann::json config, const std::vector<const nn::Module*>& members) const {
  StateFile file;
  file.format = model_format;
  file.kind = kind();
  file.config = std::move(config);
  file.config["provenance"] = provenance_;
  for (std::size_t k = 0; k < members.size(); ++k) file.tensors["member." + std::to_string(k)] = members[k]->state();
  calibration_.save(file);
  return file;
}

void PropertyModel::load_common(const StateFile& file, const std::string& path) {
  provenance_ = file.config.value("provenance", nlohmann::json::object());
  calibration_ = UncertaintyCalibration::load(file, path);
  if (calibration_.has_reference() && calibration_.whitening.rows() != embedding_width()) {
    fail(MATNN_ERROR_MODEL, "{}: the embedding reference has width {}, the model's embedding {}", path,
         calibration_.whitening.rows(), embedding_width());
  }
}

void PropertyModel::finish_prediction(PropertyPrediction& out, const PredictOptions& options) const {
  if (target().task == TaskKind::regression && options.mc_samples == 0) out.sigma *= calibration_.sigma_scale;
  if (calibration_.has_reference() && out.embedding.rows() == out.value.size() && out.value.size() > 0) {
    out.ood_score = calibration_.distance(out.embedding);
    for (Eigen::Index i = 0; i < out.ood_score.size(); ++i) {
      if (out.ood_score[i] > calibration_.threshold) out.ood[static_cast<std::size_t>(i)] = true;
    }
  }
  if (!options.embeddings) out.embedding.resize(0, 0);
}

std::uint64_t PropertyModel::mc_seed(const PredictOptions& options, std::size_t member, int pass) {
  using nn::splitmix64;
  return splitmix64(splitmix64(splitmix64(options.seed) ^ member) ^ static_cast<std::uint64_t>(pass));
}

void summarize_samples(const std::vector<Eigen::MatrixXd>& samples, TaskKind task, PropertyPrediction& out) {
  if (samples.empty()) fail(MATNN_ERROR_INTERNAL, "summarize_samples: no samples");
  const Eigen::Index n = samples.front().rows();
  const auto count = static_cast<double>(samples.size());
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(n, samples.front().cols());
  for (const auto& s : samples) mean += s;
  mean /= count;
  out.value.resize(n);
  out.sigma.resize(n);
  if (task == TaskKind::regression) {
    out.value = mean.col(0);
    Eigen::VectorXd variance = Eigen::VectorXd::Zero(n);
    for (const auto& s : samples) variance += (s.col(0) - mean.col(0)).cwiseAbs2();
    out.sigma = (variance / count).cwiseSqrt();
    out.probabilities.resize(0, 0);
    return;
  }
  out.probabilities = mean;
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::Index best = 0;
    mean.row(i).maxCoeff(&best);
    out.value[i] = static_cast<double>(best);
    double variance = 0.0;
    for (const auto& s : samples) variance += (s(i, best) - mean(i, best)) * (s(i, best) - mean(i, best));
    out.sigma[i] = std::sqrt(variance / count);
  }
}

}  // namespace matnn::models
