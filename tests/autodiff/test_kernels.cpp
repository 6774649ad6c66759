// The engine's hand-written numerical kernels against the C library.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace {

using matnn::ad::detail::exp_vectorisable;

TEST(Kernels, VectorisableExpWithinTwoUlpOverTheNormalRange) {
  double worst = 0.0;
  for (double x = -87.0; x <= 88.0; x += 0.000731) {
    const auto xf = static_cast<float>(x);
    const double exact = std::exp(static_cast<double>(xf));
    worst = std::max(worst, std::abs(exp_vectorisable(xf) - exact) / exact);
  }
  EXPECT_LT(worst, 2.0 * std::numeric_limits<float>::epsilon());
  EXPECT_EQ(exp_vectorisable(0.0f), 1.0f);
  // Clamped, never inf or NaN: sigmoid and silu rely on it at large |x|.
  EXPECT_TRUE(std::isfinite(exp_vectorisable(1000.0f)));
  EXPECT_GT(exp_vectorisable(-1000.0f), 0.0f);
  EXPECT_LT(exp_vectorisable(-1000.0f), 1.3e-38f);
}

TEST(Kernels, Float32SoftplusWithinFloatRoundingOfTheExactOne) {
  // The float path (vectorisable exp and log1p) against softplus in double.
  const std::vector<float> xs = [] {
    std::vector<float> v;
    for (double x = -40.0; x <= 40.0; x += 0.000917) v.push_back(static_cast<float>(x));
    return v;
  }();
  const auto n = static_cast<std::int64_t>(xs.size());
  const std::vector<double> got = matnn::ad::softplus(matnn::ad::from_vector(xs, {n})).to_vector();
  double worst = 0.0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i], exact = std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
    worst = std::max(worst, std::abs(got[i] - exact) / std::max(exact, 1e-30));
  }
  EXPECT_LT(worst, 3.0 * std::numeric_limits<float>::epsilon());
}

TEST(Kernels, DoubleVectorisableExpWithinTwoUlpOverTheNormalRange) {
  double worst = 0.0;
  for (double x = -708.0; x <= 709.0; x += 0.00713) {
    const double exact = std::exp(x);
    worst = std::max(worst, std::abs(exp_vectorisable(x) - exact) / exact);
  }
  EXPECT_LT(worst, 2.0 * std::numeric_limits<double>::epsilon());
  EXPECT_EQ(exp_vectorisable(0.0), 1.0);
  EXPECT_TRUE(std::isfinite(exp_vectorisable(1000.0)));
  EXPECT_GT(exp_vectorisable(-1000.0), 0.0);
  EXPECT_LT(exp_vectorisable(-1000.0), 3e-308);
}

TEST(Kernels, FloatSigmoidAndSiluAtTheExtremes) {
  using namespace matnn::ad;
  const std::vector<double> xs{-200.0, -30.0, -1.0, 0.0, 1.0, 30.0, 200.0};
  const Tensor x = to(from_vector(xs, {7}), DType::f32);
  const std::vector<double> s = sigmoid(x).to_vector(), y = silu(x).to_vector();
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const double exact = 1.0 / (1.0 + std::exp(-xs[k]));
    EXPECT_NEAR(s[k], exact, 1e-7 * exact + 1e-37) << xs[k];
    EXPECT_NEAR(y[k], xs[k] * exact, 2e-7 * std::abs(xs[k] * exact) + 1e-35) << xs[k];
  }
}

}  // namespace
