// Helpers of the nn tests: a small finite-difference checker (float64) comparing the gradient
// that the engine gives for a scalar function of some leaf tensors (inputs or a module's
// parameters) with central differences, perturbing the leaves' storage in place; and the
// status of a call that should throw matnn::Error.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::nn::testing {

using ScalarFn = std::function<ad::Tensor()>;

inline ::testing::AssertionResult check_gradients(const ScalarFn& f, const std::vector<ad::Tensor>& leaves,
                                                  double eps = 1e-6, double atol = 1e-7, double rtol = 1e-5) {
  const ad::Tensor out = f();
  if (out.numel() != 1) return ::testing::AssertionFailure() << "function is not scalar";
  const std::vector<ad::Tensor> analytic = ad::grad({out}, leaves, {}, false, true);
  ad::NoGradGuard no_grad;
  for (std::size_t k = 0; k < leaves.size(); ++k) {
    double* x = leaves[k].data<double>();
    const std::vector<double> a = analytic[k].to_vector();
    for (int64_t j = 0; j < leaves[k].numel(); ++j) {
      const double saved = x[j];
      x[j] = saved + eps;
      const double plus = f().item();
      x[j] = saved - eps;
      const double minus = f().item();
      x[j] = saved;
      const double numeric = (plus - minus) / (2 * eps);
      if (std::abs(a[j] - numeric) > atol + rtol * std::abs(numeric))
        return ::testing::AssertionFailure() << "leaf " << k << " element " << j << ": analytic " << a[j]
                                             << " vs numeric " << numeric;
    }
  }
  return ::testing::AssertionSuccess();
}

/// sum(w * y) with fixed random weights w, turning a tensor output into a scalar whose
/// gradient exercises every output element differently.
inline ad::Tensor random_projection(const ad::Tensor& y, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  return ad::sum(ad::mul(y, ad::randn(y.shape(), rng, y.dtype())));
}

inline ad::Tensor leaf_normal(const ad::Shape& shape, std::mt19937_64& rng, double scale = 1.0) {
  ad::Tensor t = ad::randn(shape, rng, ad::DType::f64, 0.0, scale);
  t.set_requires_grad(true);
  return t;
}

/// MATNN_SUCCESS when f returns, else the status of the matnn::Error it throws (message too).
inline matnn_status status_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
  return MATNN_SUCCESS;
}

}  // namespace matnn::nn::testing
