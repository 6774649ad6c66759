// Adam and AdamW: per-element step sizes from bias-corrected moment estimates.
#pragma once

#include "nn/optimizer.hpp"

namespace matnn::nn {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  /// Adam: coupled L2 (weight_decay * p added to the gradient, hence rescaled by the adaptive
  /// step). AdamW: decoupled decay p *= 1 - lr * weight_decay, independent of the gradient
  /// statistics. Decayed parameters only (see Optimizer).
  double weight_decay = 0.0;
  bool decay_all = false;
};

/// Per element at step t, with g the gradient (plus weight_decay * p for Adam):
///   m = beta1 m + (1 - beta1) g,   v = beta2 v + (1 - beta2) g^2
///   p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
/// t is the optimiser's step count, shared by all parameters. Buffers: "exp_avg" (m),
/// "exp_avg_sq" (v). Arithmetic is in double, stored in the parameter's dtype.
class Adam : public Optimizer {
 public:
  Adam(NamedTensors params, const AdamOptions& options);
  std::string type_name() const override { return decoupled_ ? "AdamW" : "Adam"; }
  const AdamOptions& options() const noexcept { return options_; }

 protected:
  Adam(NamedTensors params, const AdamOptions& options, bool decoupled);
  void update(std::size_t index, const ad::Tensor& param, const ad::Tensor& grad, int64_t t) override;
  std::vector<std::string> buffer_names() const override;

 private:
  AdamOptions options_;
  bool decoupled_;
};

/// Adam with decoupled weight decay (Loshchilov & Hutter): first p *= 1 - lr * weight_decay,
/// then the Adam step computed from the raw gradient. Unlike Adam's L2 term, the decay is not
/// divided by sqrt(v), so every weight shrinks at the same relative rate.
class AdamW : public Adam {
 public:
  AdamW(NamedTensors params, const AdamOptions& options) : Adam(std::move(params), options, true) {}
};

}  // namespace matnn::nn
