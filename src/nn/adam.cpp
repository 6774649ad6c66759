#include "nn/adam.hpp"

#include <cmath>

#include "matnn/error.hpp"
#include "nn/dispatch.hpp"

namespace matnn::nn {

Adam::Adam(NamedTensors params, const AdamOptions& options) : Adam(std::move(params), options, false) {}

Adam::Adam(NamedTensors params, const AdamOptions& options, bool decoupled)
    : Optimizer(std::move(params), options.lr, options.weight_decay, options.decay_all),
      options_(options),
      decoupled_(decoupled) {
  auto beta_ok = [](double b) { return b >= 0.0 && b < 1.0; };
  if (!beta_ok(options.beta1) || !beta_ok(options.beta2))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: betas ({}, {}) must lie in [0, 1)", type_name(), options.beta1,
         options.beta2);
  if (!(options.eps > 0.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: eps must be positive, got {}", type_name(), options.eps);
}

std::vector<std::string> Adam::buffer_names() const { return {"exp_avg", "exp_avg_sq"}; }

void Adam::update(std::size_t index, const ad::Tensor& param, const ad::Tensor& grad, int64_t t) {
  const double lr = learning_rate();
  const double wd = decays(index) ? weight_decay() : 0.0;
  const double b1 = options_.beta1, b2 = options_.beta2, eps = options_.eps;
  const double correction1 = 1.0 - std::pow(b1, static_cast<double>(t));
  const double correction2 = 1.0 - std::pow(b2, static_cast<double>(t));
  const double shrink = decoupled_ ? 1.0 - lr * wd : 1.0;
  const double coupled = decoupled_ ? 0.0 : wd;
  const int64_t n = param.numel();
  detail::with_dtype(param.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* m = buffer(index, 0).template data<T>();
    T* v = buffer(index, 1).template data<T>();
    for (int64_t j = 0; j < n; ++j) {
      const double gj = g[j] + coupled * p[j];
      const double mj = b1 * m[j] + (1.0 - b1) * gj;
      const double vj = b2 * v[j] + (1.0 - b2) * gj * gj;
      m[j] = static_cast<T>(mj);
      v[j] = static_cast<T>(vj);
      const double step = lr * (mj / correction1) / (std::sqrt(vj / correction2) + eps);
      p[j] = static_cast<T>(shrink * p[j] - step);
    }
  });
}

}  // namespace matnn::nn
