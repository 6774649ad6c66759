#include "nn/sgd.hpp"

#include "matnn/error.hpp"
#include "nn/dispatch.hpp"

namespace matnn::nn {

Sgd::Sgd(NamedTensors params, const SgdOptions& options)
    : Optimizer(std::move(params), options.lr, options.weight_decay, options.decay_all), options_(options) {
  if (!(options.momentum >= 0.0 && options.momentum < 1.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "SGD: momentum {} is outside [0, 1)", options.momentum);
  if (options.nesterov && options.momentum == 0.0)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "SGD: Nesterov momentum needs momentum > 0");
}

std::vector<std::string> Sgd::buffer_names() const { return {"momentum_buffer"}; }

void Sgd::update(std::size_t index, const ad::Tensor& param, const ad::Tensor& grad, int64_t) {
  const double lr = learning_rate();
  const double wd = decays(index) ? weight_decay() : 0.0;
  const double mu = options_.momentum;
  const int64_t n = param.numel();
  detail::with_dtype(param.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    if (mu == 0.0) {
      for (int64_t j = 0; j < n; ++j) p[j] = static_cast<T>(p[j] - lr * (g[j] + wd * p[j]));
      return;
    }
    bool first = false;
    T* b = buffer(index, 0, &first).template data<T>();
    for (int64_t j = 0; j < n; ++j) {
      const double d = g[j] + wd * p[j];
      const double bj = first ? d : mu * b[j] + d;
      b[j] = static_cast<T>(bj);
      p[j] = static_cast<T>(p[j] - lr * (options_.nesterov ? d + mu * bj : bj));
    }
  });
}

}  // namespace matnn::nn
