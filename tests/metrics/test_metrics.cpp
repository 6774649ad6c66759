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
