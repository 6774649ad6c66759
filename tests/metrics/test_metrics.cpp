#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "matnn/error.hpp"
#include "metrics/metrics.hpp"

namespace matnn::metrics {
namespace {

TEST(Regression, KnownValues) {
  const std::vector<double> y{1, 2, 3, 4};
  const std::vector<double> p{1.5, 2, 2, 4};
  EXPECT_DOUBLE_EQ(mae(p, y), (0.5 + 0 + 1 + 0) / 4);
  EXPECT_DOUBLE_EQ(rmse(p, y), std::sqrt((0.25 + 1) / 4));
  EXPECT_DOUBLE_EQ(r2(p, y), 1 - 1.25 / 5.0);
  EXPECT_DOUBLE_EQ(r2(y, y), 1.0);
  EXPECT_TRUE(std::isnan(r2(p, std::vector<double>{2, 2, 2, 2})));
}

TEST(Regression, TopKRecall) {
  const std::vector<double> y{0.1, 0.9, 0.5, 0.7, 0.3};
  const std::vector<double> p{0.2, 0.8, 0.9, 0.1, 0.3};
  // True top 2: {1, 3}; predicted top 2: {2, 1} -> one of two found.
  EXPECT_DOUBLE_EQ(top_k_recall(p, y, 2), 0.5);
  EXPECT_DOUBLE_EQ(top_k_recall(y, y, 3), 1.0);
  // Lowest 2: true {0, 4}, predicted {3, 0}.
  EXPECT_DOUBLE_EQ(top_k_recall(p, y, 2, false), 0.5);
  EXPECT_THROW(top_k_recall(p, y, 0), Error);
  EXPECT_THROW(top_k_recall(p, y, 6), Error);
}

TEST(Classification, ConfusionAccuracyF1) {
  const std::vector<int> y{0, 0, 1, 1, 1, 2};
  const std::vector<int> p{0, 1, 1, 1, 0, 2};
  const auto m = confusion_matrix(p, y, 3);
  EXPECT_EQ(m[0][0], 1u);
  EXPECT_EQ(m[0][1], 1u);
  EXPECT_EQ(m[1][0], 1u);
  EXPECT_EQ(m[1][1], 2u);
  EXPECT_EQ(m[2][2], 1u);
  EXPECT_DOUBLE_EQ(accuracy(p, y), 4.0 / 6.0);
  // Per class F1: class 0: tp1 fp1 fn1 -> 0.5; class 1: tp2 fp1 fn1 -> 4/6; class 2: 1.
  EXPECT_DOUBLE_EQ(f1_score(p, y, 3), (0.5 + 4.0 / 6.0 + 1.0) / 3);
  const std::vector<int> yb{1, 1, 0, 0};
  const std::vector<int> pb{1, 0, 1, 0};
  EXPECT_DOUBLE_EQ(f1_score(pb, yb, 2), 0.5);
  EXPECT_THROW(confusion_matrix(p, y, 2), Error);  // class 2 out of range
}

TEST(Classification, RocAuc) {
  EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{0.1, 0.4, 0.35, 0.8}, std::vector<int>{0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{0.1, 0.2, 0.3}, std::vector<int>{0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{0.5, 0.5}, std::vector<int>{0, 1}), 0.5);
  EXPECT_TRUE(std::isnan(roc_auc(std::vector<double>{0.5, 0.7}, std::vector<int>{1, 1})));
}

TEST(Calibration, NormalQuantile) {
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(normal_quantile(0.841344746068543), 1.0, 1e-9);
  EXPECT_NEAR(normal_quantile(1e-6), -4.753424308822899, 1e-8);
  EXPECT_THROW(normal_quantile(1.0), Error);
}

TEST(Calibration, NllAndCoverageKnownValues) {
  const std::vector<double> mu{0, 0, 0, 0}, sigma{1, 1, 2, 2}, y{0.5, -1.5, 1.0, 5.0};
  const double half_log_two_pi = 0.5 * std::log(2 * M_PI);
  const double expected = (4 * half_log_two_pi + 2 * std::log(2.0) + 0.5 * (0.25 + 2.25 + 0.25 + 6.25)) / 4;
  EXPECT_NEAR(gaussian_nll(mu, sigma, y), expected, 1e-12);
  // |z| = 0.5, 1.5, 0.5, 2.5: two inside one sigma, three inside 1.96 sigma.
  EXPECT_DOUBLE_EQ(interval_coverage(mu, sigma, y, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(interval_coverage(mu, sigma, y, 1.96), 0.75);
  EXPECT_NEAR(sigma_scale_fit(mu, sigma, y), std::sqrt((0.25 + 2.25 + 0.25 + 6.25) / 4), 1e-12);
  EXPECT_THROW(gaussian_nll(mu, std::vector<double>{1, 0, 1, 1}, y), Error);
}

TEST(Calibration, CalibratedGaussianSamplesHaveSmallArea) {
  // Errors drawn from the stated sigma (a deterministic quasi-random set of quantiles): the
  // calibration curve follows the diagonal. Sigmas half the true spread: well off it.
  std::vector<double> mu, sigma, y, small;
  for (int i = 0; i < 2000; ++i) {
    const double s = 0.5 + (i % 7) * 0.25;
    const double z = normal_quantile((i + 0.5) / 2000.0);
    mu.push_back(1.0);
    sigma.push_back(s);
    small.push_back(0.5 * s);
    y.push_back(1.0 + z * s);
  }
  EXPECT_LT(miscalibration_area(mu, sigma, y), 0.01);
  EXPECT_NEAR(interval_coverage(mu, sigma, y, 1.0), 0.6827, 0.005);
  EXPECT_GT(miscalibration_area(mu, small, y), 0.15);
  EXPECT_NEAR(sigma_scale_fit(mu, small, y), 2.0, 0.02);
  const std::vector<double> expected{0.5, 0.9};
  const std::vector<double> observed = observed_coverage(mu, sigma, y, expected);
  EXPECT_NEAR(observed[0], 0.5, 0.005);
  EXPECT_NEAR(observed[1], 0.9, 0.005);
}

TEST(Calibration, Spearman) {
  EXPECT_DOUBLE_EQ(spearman(std::vector<double>{1, 2, 3, 4}, std::vector<double>{10, 20, 30, 400}), 1.0);
  EXPECT_DOUBLE_EQ(spearman(std::vector<double>{1, 2, 3, 4}, std::vector<double>{4, 3, 2, 1}), -1.0);
  // Ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): cov 4.5 / sqrt(4.5 * 5).
  EXPECT_NEAR(spearman(std::vector<double>{1, 2, 2, 3}, std::vector<double>{1, 2, 3, 4}), 4.5 / std::sqrt(4.5 * 5.0), 1e-12);
  EXPECT_TRUE(std::isnan(spearman(std::vector<double>{1, 1}, std::vector<double>{1, 2})));
}

TEST(Metrics, RejectMismatchedInput) {
  try {
    mae(std::vector<double>{1, 2}, std::vector<double>{1});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT);
  }
  EXPECT_THROW(rmse(std::vector<double>{}, std::vector<double>{}), Error);
}

}  // namespace
}  // namespace matnn::metrics
