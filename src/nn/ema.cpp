#include "nn/ema.hpp"

#include <algorithm>
#include <utility>

#include "matnn/error.hpp"
#include "nn/dispatch.hpp"
#include "nn/module.hpp"

namespace matnn::nn {

WeightEma::WeightEma(NamedTensors params, double decay, bool warmup)
    : params_(std::move(params)), decay_(decay), warmup_(warmup) {
  if (!(decay >= 0.0 && decay <= 1.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "WeightEma: decay {} is outside [0, 1]", decay);
  for (const auto& [name, p] : params_) {
    if (!p.defined()) fail(MATNN_ERROR_INVALID_ARGUMENT, "WeightEma: parameter '{}' is undefined", name);
    averages_.emplace_back(name, p.clone_data());
  }
}

void WeightEma::update() {
  if (swapped_) fail(MATNN_ERROR_INVALID_ARGUMENT, "WeightEma: update() while the averages are swapped in");
  ++updates_;
  const double k = static_cast<double>(updates_);
  const double d = warmup_ ? std::min(decay_, (1.0 + k) / (10.0 + k)) : decay_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ad::Tensor& p = params_[i].second;
    const ad::Tensor& a = averages_[i].second;
    if (p.dtype() != a.dtype() || p.shape() != a.shape())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "WeightEma: parameter '{}' changed dtype or shape since construction",
           params_[i].first);
    detail::with_dtype(p.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* x = p.data<T>();
      T* y = a.data<T>();
      for (int64_t j = 0; j < p.numel(); ++j) y[j] = static_cast<T>(d * y[j] + (1.0 - d) * x[j]);
    });
  }
}

void WeightEma::swap() {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ad::Tensor& p = params_[i].second;
    const ad::Tensor& a = averages_[i].second;
    detail::with_dtype(p.dtype(), [&](auto zero) {
      using T = decltype(zero);
      std::swap_ranges(p.data<T>(), p.data<T>() + p.numel(), a.data<T>());
    });
  }
  swapped_ = !swapped_;
}

TrainingState WeightEma::state() const {
  TrainingState s;
  const NamedTensors& held = swapped_ ? params_ : averages_;
  for (const auto& [name, t] : held) s.tensors.emplace(name, t.clone_data());
  s.scalars["num_updates"] = static_cast<double>(updates_);
  return s;
}

void WeightEma::load_state(const TrainingState& state) {
  if (swapped_) fail(MATNN_ERROR_INVALID_ARGUMENT, "WeightEma: load_state() while the averages are swapped in");
  if (state.tensors.size() != averages_.size())
    fail(MATNN_ERROR_MODEL, "WeightEma state has {} tensors, expected {}", state.tensors.size(), averages_.size());
  for (const auto& [name, a] : averages_) {
    auto it = state.tensors.find(name);
    if (it == state.tensors.end()) fail(MATNN_ERROR_MODEL, "WeightEma state lacks the average of {}", name);
    if (!it->second.defined() || it->second.shape() != a.shape())
      fail(MATNN_ERROR_MODEL, "WeightEma state: average of {} has the wrong shape (expected {})", name,
           ad::shape_str(a.shape()));
  }
  const double updates = require_scalar(state, "num_updates", "WeightEma");
  for (const auto& [name, a] : averages_) copy_values(a, state.tensors.at(name));
  updates_ = static_cast<int64_t>(updates);
}

}  // namespace matnn::nn
