#include "models/property_model.hpp"

#include <cmath>

#include "matnn/error.hpp"

namespace matnn::models {

const char* task_name(TaskKind task) noexcept {
  return task == TaskKind::regression ? "regression" : "classification";
}

TaskKind task_from_name(const std::string& name) {
  if (name == "regression") return TaskKind::regression;
  if (name == "classification") return TaskKind::classification;
  fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown task \"{}\" (use regression or classification)", name);
}

StateFile PropertyModel::model_file(nlohmann::json config, const std::vector<const nn::Module*>& members) const {
  StateFile file;
  file.format = model_format;
  file.kind = kind();
  file.config = std::move(config);
  file.config["provenance"] = provenance_;
  for (std::size_t k = 0; k < members.size(); ++k) file.tensors["member." + std::to_string(k)] = members[k]->state();
  return file;
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
