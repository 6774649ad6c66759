// Losses: values on hand-worked examples, weights and masks, gradients, stability.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "autodiff/ops.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn_test_util.hpp"

namespace matnn::nn {
namespace {

using testing::check_gradients;
using testing::leaf_normal;
using testing::status_of;

ad::Tensor f64(std::vector<double> v, ad::Shape s) { return ad::from_vector(v, s); }

TEST(NnLosses, RegressionValues) {
  const ad::Tensor pred = f64({1.0, 2.0, 3.0, 4.0}, {4});
  const ad::Tensor target = f64({1.5, 2.0, 0.0, 4.0}, {4});
  // residuals 0.5 0 -3 0
  EXPECT_DOUBLE_EQ(mse_loss(pred, target).item(), (0.25 + 9.0) / 4);
  EXPECT_DOUBLE_EQ(mae_loss(pred, target).item(), 3.5 / 4);
  // Huber with delta 1: 0.125 + 0 + (3 - 0.5) + 0
  EXPECT_DOUBLE_EQ(huber_loss(pred, target, 1.0).item(), 2.625 / 4);
  // Weights: sample 2 dropped, sample 0 counted twice -> (2 * 0.25 + 0 + 0) / 4.
  const ad::Tensor w = f64({2.0, 1.0, 0.0, 1.0}, {4});
  EXPECT_DOUBLE_EQ(mse_loss(pred, target, w).item(), 0.5 / 4);
  EXPECT_DOUBLE_EQ(mae_loss(pred, target, w).item(), 1.0 / 4);
}

TEST(NnLosses, MasksForMissingLabels) {
  // Two samples with three properties each; sample 1 lacks property 2 (NaN target).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const ad::Tensor pred = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const ad::Tensor target = f64({0, 2, 3, 4, 5, nan}, {2, 3});
  const ad::Tensor mask = f64({1, 1, 1, 1, 1, 0}, {2, 3});
  EXPECT_DOUBLE_EQ(mse_loss(pred, target, mask).item(), 1.0 / 5);
  EXPECT_DOUBLE_EQ(huber_loss(pred, target, 0.5, mask).item(), 0.5 * (1 - 0.25) / 5);
  // Per-sample weights cover every property of a sample.
  const ad::Tensor per_sample = f64({0, 1}, {2});
  EXPECT_DOUBLE_EQ(mae_loss(pred, f64({9, 9, 9, 4, 5, 7}, {2, 3}), per_sample).item(), 1.0 / 3);
  // All weights zero: 0, not NaN, and still differentiable (zero gradient).
  std::mt19937_64 rng(1);
  const ad::Tensor p = leaf_normal({3}, rng);
  const ad::Tensor loss = mse_loss(p, f64({0, 0, 0}, {3}), f64({0, 0, 0}, {3}));
  EXPECT_EQ(loss.item(), 0.0);
  EXPECT_EQ(ad::grad({loss}, {p})[0].to_vector(), std::vector<double>(3, 0.0));
  // Bad weights.
  EXPECT_EQ(status_of([&] { mse_loss(pred, target, f64({1, -1}, {2})); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { mse_loss(pred, target, f64({1, 1, 1}, {3})); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { mse_loss(pred, f64({1, 2}, {2})); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(NnLosses, RegressionGradients) {
  std::mt19937_64 rng(3);
  const ad::Tensor pred = leaf_normal({5, 2}, rng);
  const ad::Tensor target = leaf_normal({5, 2}, rng);
  const ad::Tensor sample_w = f64({1.0, 0.0, 2.5, 0.5, 1.0}, {5});
  const ad::Tensor elem_w = ad::rand({5, 2}, rng, ad::DType::f64, 0.0, 2.0);
  for (const ad::Tensor& w : {ad::Tensor(), sample_w, elem_w}) {
    EXPECT_TRUE(check_gradients([&] { return mse_loss(pred, target, w); }, {pred, target}));
    EXPECT_TRUE(check_gradients([&] { return mae_loss(pred, target, w); }, {pred, target}));
    // delta 0.7 puts some residuals in each branch of the Huber loss.
    EXPECT_TRUE(check_gradients([&] { return huber_loss(pred, target, 0.7, w); }, {pred, target}));
  }
}

TEST(NnLosses, SoftmaxIsStable) {
  const ad::Tensor logits = f64({1000.0, 1001.0, 1002.0, -1000.0, 0.0, 1000.0}, {2, 3});
  const std::vector<double> s = softmax(logits).to_vector();
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  EXPECT_NEAR(s[0], 1 / z, 1e-15);
  EXPECT_NEAR(s[2], std::exp(2.0) / z, 1e-15);
  EXPECT_NEAR(s[3] + s[4] + s[5], 1.0, 1e-15);
  EXPECT_NEAR(s[5], 1.0, 1e-15);
  for (double v : log_softmax(logits).to_vector()) EXPECT_TRUE(std::isfinite(v));
  const ad::Tensor big = ad::from_vector(std::vector<float>{80.0f, 100.0f, 90.0f}, {1, 3});
  for (double v : softmax(big).to_vector()) EXPECT_TRUE(std::isfinite(v));
}

TEST(NnLosses, CrossEntropy) {
  const ad::Tensor logits = f64({2.0, 1.0, 0.0, 0.0, 0.0, 0.0}, {2, 3});
  const double l0 = -(2.0 - std::log(std::exp(2.0) + std::exp(1.0) + 1.0));
  const double l1 = std::log(3.0);
  EXPECT_NEAR(softmax_cross_entropy(logits, {0, 2}).item(), (l0 + l1) / 2, 1e-14);
  // A weight of 0 drops a sample, whose label may then be a placeholder such as -1.
  EXPECT_NEAR(softmax_cross_entropy(logits, {0, -1}, f64({1, 0}, {2})).item(), l0, 1e-14);
  EXPECT_EQ(status_of([&] { softmax_cross_entropy(logits, {0, 3}); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { softmax_cross_entropy(logits, {0}); }), MATNN_ERROR_INVALID_ARGUMENT);

  std::mt19937_64 rng(4);
  const ad::Tensor x = leaf_normal({4, 5}, rng, 3.0);
  const std::vector<int64_t> labels = {1, 4, 0, 2};
  EXPECT_TRUE(check_gradients([&] { return softmax_cross_entropy(x, labels); }, {x}));
  const ad::Tensor w = f64({0.5, 0.0, 2.0, 1.0}, {4});
  EXPECT_TRUE(check_gradients([&] { return softmax_cross_entropy(x, labels, w); }, {x}));
  EXPECT_TRUE(check_gradients([&] { return testing::random_projection(log_softmax(x)); }, {x}));
}

TEST(NnLosses, L2PenaltyFollowsTheNamingConvention) {
  MlpConfig c;
  c.input = 3;
  c.hidden = {4};
  c.output = 1;
  c.norm = NormKind::layer;
  c.dtype = ad::DType::f64;
  auto mlp = make_mlp(c);
  double expected = 0;
  for (const auto& [name, p] : mlp->named_parameters()) {
    if (name.ends_with(".weight"))
      for (double v : p.to_vector()) expected += v * v;
  }
  EXPECT_TRUE(is_decayed_parameter("layers.0.weight"));
  EXPECT_FALSE(is_decayed_parameter("layers.0.bias"));
  EXPECT_FALSE(is_decayed_parameter("layers.1.gamma"));
  EXPECT_FALSE(is_decayed_parameter("layers.1.weights"));
  const ad::Tensor penalty = l2_penalty(mlp->named_parameters());
  EXPECT_NEAR(penalty.item(), expected, 1e-12);
  const auto params = mlp->named_parameters();
  const std::vector<ad::Tensor> g = ad::grad({penalty}, tensors_of(params), {}, false, true);
  EXPECT_EQ(g[1].to_vector(), std::vector<double>(4, 0.0));  // bias: not penalised
  const std::vector<double> w = params[0].second.to_vector(), gw = g[0].to_vector();
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_DOUBLE_EQ(gw[i], 2 * w[i]);
}

}  // namespace
}  // namespace matnn::nn
