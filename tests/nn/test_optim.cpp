// Optimisers: single steps against hand-computed updates, convergence on a convex quadratic,
// decoupled weight decay, clipping, EMA, and bit-identical resumption from saved state.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "autodiff/ops.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"
#include "nn_test_util.hpp"

namespace matnn::nn {
namespace {

using testing::status_of;

// A parameter named like a weight (so weight decay applies) with value {1, -2}.
NamedTensors one_param(std::vector<double> v = {1.0, -2.0}) {
  ad::Tensor p = ad::from_vector(v, {static_cast<int64_t>(v.size())});
  p.set_requires_grad(true);
  return {{"w.weight", p}};
}

// Sets .grad() to the constant gradient of sum(c * p), i.e. c.
void linear_loss_backward(const NamedTensors& params, const std::vector<double>& c) {
  const ad::Tensor& p = params[0].second;
  ad::backward(ad::sum(ad::mul(p, ad::from_vector(c, p.shape()))));
}

std::vector<double> values(const NamedTensors& params) { return params[0].second.to_vector(); }

const std::vector<double> kGrad = {0.5, 3.0};

TEST(NnOptim, SgdMatchesHandComputedSteps) {
  auto params = one_param();
  Sgd plain(params, {.lr = 0.1});
  linear_loss_backward(params, kGrad);
  plain.step();
  EXPECT_NEAR(values(params)[0], 1.0 - 0.1 * 0.5, 1e-15);
  EXPECT_NEAR(values(params)[1], -2.0 - 0.1 * 3.0, 1e-15);

  // Momentum 0.9 and coupled weight decay 0.1, two steps.
  params = one_param();
  Sgd momentum(params, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  for (int i = 0; i < 2; ++i) {
    momentum.zero_grad();
    linear_loss_backward(params, kGrad);
    momentum.step();
  }
  // step 1: d = g + 0.1 p = (0.6, 2.8), b = d, p = (0.94, -2.28)
  // step 2: d = (0.594, 2.772), b = 0.9 (0.6, 2.8) + d = (1.134, 5.292), p -= 0.1 b
  EXPECT_NEAR(values(params)[0], 0.8266, 1e-12);
  EXPECT_NEAR(values(params)[1], -2.8092, 1e-12);
  EXPECT_EQ(momentum.step_count(), 2);

  // Nesterov: first step p -= lr (d + mu b) with b = d.
  params = one_param();
  Sgd nesterov(params, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  linear_loss_backward(params, kGrad);
  nesterov.step();
  EXPECT_NEAR(values(params)[0], 1.0 - 0.1 * 1.9 * 0.5, 1e-15);
  EXPECT_NEAR(values(params)[1], -2.0 - 0.1 * 1.9 * 3.0, 1e-15);
}

TEST(NnOptim, AdamMatchesHandComputedSteps) {
  auto params = one_param();
  Adam adam(params, {.lr = 0.1});
  for (int t = 1; t <= 2; ++t) {
    adam.zero_grad();
    linear_loss_backward(params, kGrad);
    adam.step();
  }
  // With a constant gradient the bias-corrected moments are exactly g and g^2, so every step
  // is lr * g / (|g| + eps).
  for (int i = 0; i < 2; ++i) {
    const double g = kGrad[i];
    EXPECT_NEAR(values(params)[i], (i == 0 ? 1.0 : -2.0) - 2 * 0.1 * g / (std::abs(g) + 1e-8), 1e-14);
  }
}

TEST(NnOptim, AdamWDecouplesWeightDecay) {
  // AdamW: p = p (1 - lr wd) - lr g / (|g| + eps).
  auto params = one_param();
  AdamW adamw(params, {.lr = 0.1, .weight_decay = 0.5});
  linear_loss_backward(params, kGrad);
  adamw.step();
  EXPECT_NEAR(values(params)[0], 1.0 * 0.95 - 0.1, 1e-8);
  EXPECT_NEAR(values(params)[1], -2.0 * 0.95 - 0.1, 1e-8);
  EXPECT_EQ(adamw.type_name(), "AdamW");

  // Adam + L2: the decay enters the gradient, g' = g + wd p = (1, 2), and the first step is
  // normalised by |g'|: p -= lr sign(g'). The decay is divided away, unlike AdamW's.
  params = one_param();
  Adam adam_l2(params, {.lr = 0.1, .weight_decay = 0.5});
  linear_loss_backward(params, kGrad);
  adam_l2.step();
  EXPECT_NEAR(values(params)[0], 0.9, 1e-8);
  EXPECT_NEAR(values(params)[1], -2.1, 1e-8);

  // Parameters outside the naming convention (biases) are not decayed unless decay_all.
  ad::Tensor b = ad::from_vector(std::vector<double>{2.0}, {1});
  b.set_requires_grad(true);
  AdamW bias_only({{"layer.bias", b}}, {.lr = 0.1, .weight_decay = 0.5});
  ad::backward(ad::sum(ad::mul(b, 0.0)));
  bias_only.step();
  EXPECT_DOUBLE_EQ(b.to_vector()[0], 2.0);
  AdamW all({{"layer.bias", b}}, {.lr = 0.1, .weight_decay = 0.5, .decay_all = true});
  all.step();
  EXPECT_DOUBLE_EQ(b.to_vector()[0], 2.0 * 0.95);
}

// f(p) = sum(a (p - c)^2), minimum at c.
template <typename Opt, typename Options>
double minimise_quadratic(const Options& options, int steps) {
  auto params = one_param({4.0, -3.0, 1.0});
  const ad::Tensor a = ad::from_vector(std::vector<double>{0.5, 2.0, 5.0}, {3});
  const ad::Tensor c = ad::from_vector(std::vector<double>{1.0, 2.0, -1.0}, {3});
  Opt opt(params, options);
  const ad::Tensor& p = params[0].second;
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    ad::backward(ad::sum(ad::mul(a, ad::square(ad::sub(p, c)))));
    opt.step();
  }
  double err = 0;
  const std::vector<double> pv = p.to_vector(), cv = c.to_vector();
  for (int i = 0; i < 3; ++i) err = std::max(err, std::abs(pv[i] - cv[i]));
  return err;
}

TEST(NnOptim, EachOptimiserMinimisesAConvexQuadratic) {
  EXPECT_LT(minimise_quadratic<Sgd>(SgdOptions{.lr = 0.05}, 300), 1e-6);
  EXPECT_LT(minimise_quadratic<Sgd>(SgdOptions{.lr = 0.02, .momentum = 0.9}, 300), 1e-6);
  EXPECT_LT(minimise_quadratic<Sgd>(SgdOptions{.lr = 0.02, .momentum = 0.9, .nesterov = true}, 300), 1e-6);
  EXPECT_LT(minimise_quadratic<Adam>(AdamOptions{.lr = 0.05}, 1500), 1e-3);
  EXPECT_LT(minimise_quadratic<AdamW>(AdamOptions{.lr = 0.05}, 1500), 1e-3);
}

TEST(NnOptim, ParametersWithoutGradientsAreSkipped) {
  auto params = one_param();
  ad::Tensor other = ad::from_vector(std::vector<double>{7.0}, {1});
  other.set_requires_grad(true);
  params.emplace_back("other.weight", other);
  Adam adam(params, {.lr = 0.1});
  linear_loss_backward(params, kGrad);
  adam.step();
  EXPECT_DOUBLE_EQ(other.to_vector()[0], 7.0);
  EXPECT_EQ(adam.state().tensors.count("other.weight.exp_avg"), 0u);
  EXPECT_EQ(adam.state().tensors.count("w.weight.exp_avg"), 1u);
}

TEST(NnOptim, ClipGradNorm) {
  ad::Tensor a = ad::from_vector(std::vector<double>{1.0, 1.0}, {2});
  ad::Tensor b = ad::from_vector(std::vector<double>{1.0}, {1});
  ad::Tensor unused = ad::from_vector(std::vector<double>{1.0}, {1});
  for (ad::Tensor* t : {&a, &b, &unused}) t->set_requires_grad(true);
  auto fill = [&] {
    ad::zero_grad({a, b});
    // grad a = (3, 0), grad b = (4): norm 5.
    const ad::Tensor ca = ad::from_vector(std::vector<double>{3.0, 0.0}, {2});
    ad::backward(ad::add(ad::sum(ad::mul(a, ca)), ad::mul(ad::sum(b), 4.0)));
  };
  fill();
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b, unused}, 10.0), 5.0);
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{3.0, 0.0}));  // below the limit: unchanged
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b, unused}, 1.0), 5.0);
  EXPECT_NEAR(a.grad().to_vector()[0], 0.6, 1e-6);
  EXPECT_NEAR(b.grad().to_vector()[0], 0.8, 1e-6);
  EXPECT_NEAR(grad_norm({a, b}), 1.0, 1e-6);
  EXPECT_LE(grad_norm({a, b}), 1.0);
}

TEST(NnOptim, WeightEmaAveragesAndSwaps) {
  auto params = one_param({1.0, 2.0});
  const ad::Tensor& p = params[0].second;
  WeightEma ema(params, 0.5);
  copy_values(p, ad::from_vector(std::vector<double>{3.0, 4.0}, {2}));
  ema.update();
  EXPECT_EQ(ema.averages()[0].second.to_vector(), (std::vector<double>{2.0, 3.0}));
  {
    WeightEma::Scope averaged(ema);
    EXPECT_TRUE(ema.swapped());
    EXPECT_EQ(p.to_vector(), (std::vector<double>{2.0, 3.0}));
    EXPECT_EQ(status_of([&] { ema.update(); }), MATNN_ERROR_INVALID_ARGUMENT);
  }
  EXPECT_FALSE(ema.swapped());
  EXPECT_EQ(p.to_vector(), (std::vector<double>{3.0, 4.0}));

  // State round trip, and warm-up decay min(decay, (1 + k) / (10 + k)).
  WeightEma restored(params, 0.5);
  restored.load_state(ema.state());
  EXPECT_EQ(restored.averages()[0].second.to_vector(), (std::vector<double>{2.0, 3.0}));
  EXPECT_EQ(restored.num_updates(), 1);
  WeightEma warm(one_param({0.0, 0.0}), 0.999, true);
  copy_values(warm.averages()[0].second, ad::from_vector(std::vector<double>{10.0, 10.0}, {2}));
  warm.update();  // decay 2/11
  EXPECT_NEAR(warm.averages()[0].second.to_vector()[0], 10.0 * 2.0 / 11.0, 1e-12);
}

// --- resumption -------------------------------------------------------------------------------

struct TrainingRun {
  std::shared_ptr<Mlp> model;
  std::unique_ptr<Optimizer> opt;
};

std::unique_ptr<Optimizer> make_optimizer(int kind, const NamedTensors& params) {
  switch (kind) {
    case 0:
      return std::make_unique<Sgd>(params,
                                   SgdOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-3});
    case 1: return std::make_unique<Adam>(params, AdamOptions{.lr = 0.01, .weight_decay = 1e-3});
    default: return std::make_unique<AdamW>(params, AdamOptions{.lr = 0.01, .weight_decay = 0.1});
  }
}

TrainingRun make_run(int kind, uint64_t seed) {
  MlpConfig c;
  c.input = 2;
  c.hidden = {8, 8};
  c.output = 1;
  c.seed = seed;
  TrainingRun r;
  r.model = make_mlp(c);
  r.opt = make_optimizer(kind, r.model->named_parameters());
  return r;
}

void train(TrainingRun& r, int steps) {
  std::mt19937_64 rng(100);
  const ad::Tensor x = ad::randn({16, 2}, rng), y = ad::randn({16, 1}, rng);
  for (int i = 0; i < steps; ++i) {
    r.opt->zero_grad();
    ad::backward(mse_loss(r.model->forward(x), y));
    r.opt->step();
  }
}

TEST(NnOptim, StateRoundTripResumesBitIdentically) {
  for (int kind = 0; kind < 3; ++kind) {
    TrainingRun a = make_run(kind, 1);
    train(a, 3);
    const auto model_state = a.model->state();
    const TrainingState opt_state = a.opt->state();
    train(a, 4);

    TrainingRun b = make_run(kind, 2);  // different initial weights, then overwritten
    b.model->load_state(model_state);
    b.opt->load_state(opt_state);
    EXPECT_EQ(b.opt->step_count(), 3);
    train(b, 4);
    const auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
    for (std::size_t i = 0; i < pa.size(); ++i)
      EXPECT_EQ(pa[i].second.to_vector(), pb[i].second.to_vector()) << a.opt->type_name() << " " << pa[i].first;
  }
}

TEST(NnOptim, LoadStateRejectsForeignState) {
  TrainingRun a = make_run(1, 1);
  train(a, 1);
  TrainingState s = a.opt->state();
  s.tensors["layers.0.weight.unknown"] = ad::zeros({2, 8});
  EXPECT_EQ(status_of([&] { a.opt->load_state(s); }), MATNN_ERROR_MODEL);
  s = a.opt->state();
  s.tensors["layers.0.weight.exp_avg"] = ad::zeros({3, 8});
  EXPECT_EQ(status_of([&] { a.opt->load_state(s); }), MATNN_ERROR_MODEL);
  s = a.opt->state();
  s.scalars.erase("step");
  EXPECT_EQ(status_of([&] { a.opt->load_state(s); }), MATNN_ERROR_MODEL);
  EXPECT_EQ(status_of([&] { a.opt->set_learning_rate(-1.0); }), MATNN_ERROR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace matnn::nn
