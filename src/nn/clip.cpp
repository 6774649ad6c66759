#include "nn/clip.hpp"

#include <cmath>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/dispatch.hpp"

namespace matnn::nn {

double grad_norm(const std::vector<ad::Tensor>& params) {
  double total = 0.0;
  for (const ad::Tensor& p : params) {
    const ad::Tensor g = p.defined() ? p.grad() : ad::Tensor();
    if (!g.defined()) continue;
    detail::with_dtype(g.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* x = g.data<T>();
      for (int64_t j = 0; j < g.numel(); ++j) total += static_cast<double>(x[j]) * static_cast<double>(x[j]);
    });
  }
  return std::sqrt(total);
}

double clip_grad_norm(const std::vector<ad::Tensor>& params, double max_norm) {
  if (!(max_norm > 0.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "clip_grad_norm: max_norm must be positive, got {}", max_norm);
  const double norm = grad_norm(params);
  if (!std::isfinite(norm) || norm <= max_norm) return norm;
  const double scale = max_norm / (norm + 1e-6);
  ad::NoGradGuard no_grad;
  for (const ad::Tensor& p : params) {
    const ad::Tensor g = p.defined() ? p.grad() : ad::Tensor();
    // A new tensor rather than a write into the old one: backward() may have handed out the
    // same storage elsewhere (e.g. a gradient shared between tied parameters).
    if (g.defined()) p.set_grad(ad::mul(g, scale));
  }
  return norm;
}

double clip_grad_norm(const NamedTensors& params, double max_norm) {
  return clip_grad_norm(tensors_of(params), max_norm);
}

}  // namespace matnn::nn
