// The engine's hand-written numerical kernels against the C library.
#include <cmath>
#include <limits>

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
