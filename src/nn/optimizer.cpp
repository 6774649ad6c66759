#include "nn/optimizer.hpp"

#include <cmath>
#include <set>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/losses.hpp"

namespace matnn::nn {

Optimizer::Optimizer(NamedTensors params, double learning_rate, double weight_decay, bool decay_all)
    : params_(std::move(params)), weight_decay_(weight_decay) {
  std::set<std::string> seen;
  for (const auto& [name, p] : params_) {
    if (!p.defined() || !p.requires_grad())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer: parameter '{}' is undefined or does not require grad", name);
    if (!p.is_leaf()) fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer: parameter '{}' is not a leaf tensor", name);
    if (!seen.insert(name).second) fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer: parameter name '{}' repeats", name);
    decay_.push_back(decay_all || is_decayed_parameter(name));
  }
  if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer: weight decay {} is not a finite non-negative number", weight_decay);
  set_learning_rate(learning_rate);
}

void Optimizer::set_learning_rate(double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer: learning rate {} is not a finite non-negative number", lr);
  lr_ = lr;
}

void Optimizer::step() {
  ad::NoGradGuard no_grad;
  ++step_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const auto& [name, p] = params_[i];
    const ad::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (g.shape() != p.shape() || g.dtype() != p.dtype())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer: gradient of '{}' is {} {}, parameter is {} {}", name,
           ad::dtype_name(g.dtype()), ad::shape_str(g.shape()), ad::dtype_name(p.dtype()), ad::shape_str(p.shape()));
    update(i, p, g, step_);
  }
}

void Optimizer::zero_grad() { ad::zero_grad(tensors_of(params_)); }

void Optimizer::restart() {
  buffers_.clear();
  step_ = 0;
}

ad::Tensor& Optimizer::buffer(std::size_t index, std::size_t slot, bool* created) {
  if (buffers_.empty()) buffers_.assign(params_.size(), std::vector<ad::Tensor>(buffer_names().size()));
  ad::Tensor& b = buffers_[index][slot];
  const bool fresh = !b.defined();
  if (fresh) b = ad::zeros_like(params_[index].second);
  if (created) *created = fresh;
  return b;
}

TrainingState Optimizer::state() const {
  TrainingState s;
  const std::vector<std::string> slots = buffer_names();
  for (std::size_t i = 0; i < buffers_.size(); ++i)
    for (std::size_t k = 0; k < slots.size(); ++k)
      if (buffers_[i][k].defined()) s.tensors.emplace(params_[i].first + "." + slots[k], buffers_[i][k].clone_data());
  s.scalars["step"] = static_cast<double>(step_);
  s.scalars["lr"] = lr_;
  return s;
}

void Optimizer::load_state(const TrainingState& state) {
  const std::vector<std::string> slots = buffer_names();
  std::vector<std::vector<ad::Tensor>> loaded(params_.size(), std::vector<ad::Tensor>(slots.size()));
  std::size_t matched = 0;
  for (std::size_t i = 0; i < params_.size(); ++i)
    for (std::size_t k = 0; k < slots.size(); ++k) {
      const std::string key = params_[i].first + "." + slots[k];
      auto it = state.tensors.find(key);
      if (it == state.tensors.end()) continue;
      const ad::Tensor& p = params_[i].second;
      if (!it->second.defined() || it->second.shape() != p.shape())
        fail(MATNN_ERROR_MODEL, "{} state tensor {} has shape {}, expected {}", type_name(), key,
             it->second.defined() ? ad::shape_str(it->second.shape()) : std::string("(undefined)"),
             ad::shape_str(p.shape()));
      ad::NoGradGuard no_grad;
      loaded[i][k] = ad::to(it->second.detach(), p.dtype()).clone_data();
      ++matched;
    }
  if (matched != state.tensors.size())
    for (const auto& [key, t] : state.tensors) {
      bool known = false;
      for (std::size_t i = 0; i < params_.size() && !known; ++i)
        for (const std::string& slot : slots) known = known || key == params_[i].first + "." + slot;
      if (!known) fail(MATNN_ERROR_MODEL, "{} state has an unexpected tensor {}", type_name(), key);
    }
  const double step = require_scalar(state, "step", type_name().c_str());
  const double lr = require_scalar(state, "lr", type_name().c_str());
  if (!(step >= 0.0) || step != std::floor(step))
    fail(MATNN_ERROR_MODEL, "{} state: step {} is not a non-negative integer", type_name(), step);
  set_learning_rate(lr);
  step_ = static_cast<int64_t>(step);
  buffers_ = std::move(loaded);
}

}  // namespace matnn::nn
