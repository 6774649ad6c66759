#include "models/network_ensemble.hpp"

#include <cmath>

#include "matnn/error.hpp"

namespace matnn::models {

Eigen::MatrixXd to_matrix(const ad::Tensor& t) {
  const std::vector<double> v = t.to_vector();
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), t.dim(0),
                                                                                                   t.dim(1));
}

void TargetScaling::fit(const Eigen::VectorXd& targets) {
  if (targets.size() < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "cannot fit the target normalisation on no data");
  mean = targets.mean();
  std = std::sqrt((targets.array() - mean).square().mean());
  if (std < 1e-12) std = 1.0;
}

ad::Tensor TargetScaling::standardize(const Eigen::VectorXd& targets) const {
  std::vector<float> values(static_cast<std::size_t>(targets.size()));
  for (Eigen::Index i = 0; i < targets.size(); ++i)
    values[static_cast<std::size_t>(i)] = static_cast<float>((targets[i] - mean) / std);
  return ad::from_vector(values, {targets.size(), 1});
}

void TargetScaling::write(std::map<std::string, double>& scalars) const {
  scalars["target_mean"] = mean;
  scalars["target_std"] = std;
}

void TargetScaling::read(const std::map<std::string, double>& scalars, const std::string& path) {
  const auto m = scalars.find("target_mean"), s = scalars.find("target_std");
  if (m == scalars.end() || s == scalars.end())
    fail(MATNN_ERROR_MODEL, "{}: model file lacks the target normalisation", path);
  mean = m->second;
  std = s->second;
  if (!std::isfinite(mean) || !(std > 0) || !std::isfinite(std))
    fail(MATNN_ERROR_MODEL, "{}: the target normalisation is not finite and positive", path);
}

}  // namespace matnn::models
