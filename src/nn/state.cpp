#include "nn/state.hpp"

#include "matnn/error.hpp"

namespace matnn::nn {

std::vector<std::string> names_of(const NamedTensors& named) {
  std::vector<std::string> names;
  names.reserve(named.size());
  for (const auto& [name, t] : named) names.push_back(name);
  return names;
}

std::vector<ad::Tensor> tensors_of(const NamedTensors& named) {
  std::vector<ad::Tensor> tensors;
  tensors.reserve(named.size());
  for (const auto& [name, t] : named) tensors.push_back(t);
  return tensors;
}

double require_scalar(const TrainingState& state, const std::string& key, const char* what) {
  auto it = state.scalars.find(key);
  if (it == state.scalars.end()) fail(MATNN_ERROR_MODEL, "{} state has no scalar '{}'", what, key);
  return it->second;
}

}  // namespace matnn::nn
