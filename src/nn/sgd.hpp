// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay.
#pragma once

#include "nn/optimizer.hpp"

namespace matnn::nn {

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0.0;   // mu in [0, 1); 0 disables the buffer
  bool nesterov = false;   // needs momentum > 0
  double weight_decay = 0.0;  // coupled L2: adds weight_decay * p to the gradient
  bool decay_all = false;  // see Optimizer
};

/// Per element, with d = g + weight_decay * p (decayed parameters only):
///   without momentum:  p -= lr * d
///   with momentum:     b = d on the first step, then b = mu * b + d;
///                      p -= lr * (nesterov ? d + mu * b : b)
/// State buffer per parameter: "momentum_buffer" (when momentum > 0).
class Sgd : public Optimizer {
 public:
  Sgd(NamedTensors params, const SgdOptions& options);
  std::string type_name() const override { return "SGD"; }
  const SgdOptions& options() const noexcept { return options_; }

 protected:
  void update(std::size_t index, const ad::Tensor& param, const ad::Tensor& grad, int64_t t) override;
  std::vector<std::string> buffer_names() const override;

 private:
  SgdOptions options_;
};

}  // namespace matnn::nn
