// Layers: gradients against finite differences, initialisation statistics, dropout and
// batch-norm behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "autodiff/ops.hpp"
#include "nn/layers.hpp"
#include "nn_test_util.hpp"

namespace matnn::nn {
namespace {

using testing::check_gradients;
using testing::leaf_normal;
using testing::random_projection;

// Randomises a module's parameters so that e.g. gamma = 1, beta = 0 do not hide errors.
void randomise(Module& m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (const auto& [name, p] : m.named_parameters()) copy_values(p, ad::randn(p.shape(), rng, p.dtype()));
}

TEST(NnLayers, GradientCheckerCatchesAWrongGradient) {
  std::mt19937_64 rng(1);
  const ad::Tensor x = leaf_normal({3}, rng);
  // d/dx sum(x^2) is 2x, but detaching one factor makes the engine report x.
  EXPECT_FALSE(check_gradients([&] { return ad::sum(ad::mul(x.detach(), x)); }, {x}));
  EXPECT_TRUE(check_gradients([&] { return ad::sum(ad::mul(x, x)); }, {x}));
}

TEST(NnLayers, LinearGradients) {
  std::mt19937_64 rng(1);
  Linear layer(3, 4, rng, true, Init::kaiming_uniform, ad::DType::f64);
  randomise(layer, 2);
  const ad::Tensor x = leaf_normal({5, 3}, rng);
  std::vector<ad::Tensor> leaves = layer.parameters();
  leaves.push_back(x);
  EXPECT_TRUE(check_gradients([&] { return random_projection(layer.forward(x)); }, leaves));
  // Leading axes are flattened and restored.
  const ad::Tensor x3 = leaf_normal({2, 5, 3}, rng);
  const ad::Tensor y3 = layer.forward(x3);
  EXPECT_EQ(y3.shape(), (ad::Shape{2, 5, 4}));
  EXPECT_TRUE(check_gradients([&] { return random_projection(layer.forward(x3)); }, {x3, layer.weight()}));
  Linear no_bias(3, 2, rng, false, Init::xavier_uniform, ad::DType::f64);
  EXPECT_EQ(names_of(no_bias.named_parameters()), std::vector<std::string>{"weight"});
}

TEST(NnLayers, LayerNormGradients) {
  std::mt19937_64 rng(3);
  LayerNorm norm(6, 1e-5, true, ad::DType::f64);
  randomise(norm, 4);
  const ad::Tensor x = leaf_normal({4, 6}, rng, 2.0);
  std::vector<ad::Tensor> leaves = norm.parameters();
  leaves.push_back(x);
  EXPECT_TRUE(check_gradients([&] { return random_projection(norm.forward(x)); }, leaves));
  // Without the affine map each row has mean 0 and variance 1 (up to eps).
  LayerNorm plain(6, 1e-12, false, ad::DType::f64);
  const std::vector<double> y = plain.forward(x).to_vector();
  for (int r = 0; r < 4; ++r) {
    double mean = 0, sq = 0;
    for (int c = 0; c < 6; ++c) mean += y[r * 6 + c] / 6;
    for (int c = 0; c < 6; ++c) sq += (y[r * 6 + c] - mean) * (y[r * 6 + c] - mean) / 6;
    EXPECT_NEAR(mean, 0.0, 1e-12);
    EXPECT_NEAR(sq, 1.0, 1e-9);
  }
}

TEST(NnLayers, BatchNormTrainingGradients) {
  std::mt19937_64 rng(5);
  BatchNorm1d norm(3, 0.1, 1e-5, true, ad::DType::f64);
  randomise(norm, 6);
  const ad::Tensor x = leaf_normal({6, 3}, rng, 1.5);
  std::vector<ad::Tensor> leaves = norm.parameters();
  leaves.push_back(x);
  // Gradients flow through the batch mean and variance.
  EXPECT_TRUE(check_gradients([&] { return random_projection(norm.forward(x)); }, leaves));
  norm.eval();
  EXPECT_TRUE(check_gradients([&] { return random_projection(norm.forward(x)); }, leaves));
  // A pass that records nothing takes the one-pass kernel; it is the same map.
  const std::vector<double> recorded = norm.forward(x).to_vector();
  const ad::NoGradGuard no_grad;
  const std::vector<double> plain = norm.forward(x).to_vector();
  ASSERT_EQ(plain.size(), recorded.size());
  for (std::size_t k = 0; k < plain.size(); ++k) EXPECT_NEAR(plain[k], recorded[k], 1e-12 * (1 + std::abs(recorded[k])));
}

TEST(NnLayers, BatchNormSecondDerivatives) {
  // A recorded backward pass (forces-style training of a model with batch norm) takes the
  // composed closed form; its own derivatives must match finite differences too.
  std::mt19937_64 rng(9);
  BatchNorm1d norm(3, 0.1, 1e-5, true, ad::DType::f64);
  randomise(norm, 8);
  const ad::Tensor x = leaf_normal({5, 3}, rng, 1.2);
  std::vector<ad::Tensor> leaves = norm.parameters();
  leaves.push_back(x);
  // The recorded backward is the same gradient as the fused one (checked against finite
  // differences in BatchNormTrainingGradients).
  const std::vector<ad::Tensor> fused = ad::grad({random_projection(norm.forward(x))}, leaves);
  const std::vector<ad::Tensor> composed = ad::grad({random_projection(norm.forward(x))}, leaves, {}, true);
  for (std::size_t k = 0; k < leaves.size(); ++k) {
    const std::vector<double> a = fused[k].to_vector(), b = composed[k].to_vector();
    for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-12) << "leaf " << k << " element " << j;
  }
  EXPECT_TRUE(check_gradients(
      [&] {
        const ad::GradModeGuard recording(true);  // also inside the checker's finite differences
        const ad::Tensor dx = ad::grad({random_projection(norm.forward(x))}, {x}, {}, true)[0];
        return ad::sum(ad::mul(dx, dx));
      },
      leaves));
}

TEST(NnLayers, BatchNormVarianceIsExactForColumnsFarFromZero) {
  // Spread 1 around 1e6: sum(x^2) - n mean^2 would lose every digit of the variance in double.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::vector<double> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(1e6 + normal(rng));
  double mean = 0, var = 0;
  for (double v : batch) mean += v / 50;
  for (double v : batch) var += (v - mean) * (v - mean) / 50;
  BatchNorm1d norm(1, 1.0, 1e-300, false, ad::DType::f64);  // momentum 1: running_var is the batch's
  const std::vector<double> y = norm.forward(ad::from_vector(batch, {50, 1})).to_vector();
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], (batch[i] - mean) / std::sqrt(var), 1e-8);
  EXPECT_NEAR(norm.running_var().to_vector()[0], var * 50 / 49, 1e-9 * var);
}

TEST(NnLayers, BatchNormRunningStatisticsConverge) {
  std::mt19937_64 rng(7);
  BatchNorm1d norm(2, 0.1, 1e-5, false, ad::DType::f64);
  const std::vector<double> mu = {3.0, -1.0}, sigma = {2.0, 0.5};
  std::normal_distribution<double> normal;
  for (int it = 0; it < 300; ++it) {
    std::vector<double> batch;
    for (int i = 0; i < 64; ++i)
      for (int f = 0; f < 2; ++f) batch.push_back(mu[f] + sigma[f] * normal(rng));
    norm.forward(ad::from_vector(batch, {64, 2}));
  }
  const std::vector<double> rm = norm.running_mean().to_vector(), rv = norm.running_var().to_vector();
  for (int f = 0; f < 2; ++f) {
    EXPECT_NEAR(rm[f], mu[f], 0.1 * sigma[f]);
    EXPECT_NEAR(rv[f], sigma[f] * sigma[f], 0.15 * sigma[f] * sigma[f]);
  }
  // Evaluation uses the running statistics, not the batch's.
  norm.eval();
  const ad::Tensor x = ad::from_vector(std::vector<double>{5.0, 0.0, 1.0, -2.0}, {2, 2});
  const std::vector<double> y = norm.forward(x).to_vector();
  const std::vector<double> xv = x.to_vector();
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(y[i], (xv[i] - rm[i % 2]) / std::sqrt(rv[i % 2] + 1e-5), 1e-12);
  // And evaluation leaves them alone.
  EXPECT_EQ(norm.running_mean().to_vector(), rm);
}

TEST(NnLayers, InitialisationStatistics) {
  std::mt19937_64 rng(11);
  auto stats = [](const ad::Tensor& w, double& mean, double& var, double& maxabs) {
    const std::vector<double> v = w.to_vector();
    mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    var = 0;
    maxabs = 0;
    for (double x : v) {
      var += (x - mean) * (x - mean) / v.size();
      maxabs = std::max(maxabs, std::abs(x));
    }
  };
  double mean, var, maxabs;
  Linear he(400, 300, rng, true, Init::kaiming_uniform);
  stats(he.weight(), mean, var, maxabs);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(var, 2.0 / 400, 0.03 * 2.0 / 400);
  EXPECT_LE(maxabs, std::sqrt(6.0 / 400));
  EXPECT_GT(maxabs, 0.99 * std::sqrt(6.0 / 400));
  EXPECT_EQ(he.bias().to_vector(), std::vector<double>(300, 0.0));

  Linear glorot(400, 300, rng, true, Init::xavier_uniform);
  stats(glorot.weight(), mean, var, maxabs);
  EXPECT_NEAR(var, 2.0 / 700, 0.03 * 2.0 / 700);
  EXPECT_LE(maxabs, std::sqrt(6.0 / 700));

  std::mt19937_64 a(99), b(99);
  EXPECT_EQ(Linear(5, 4, a).weight().to_vector(), Linear(5, 4, b).weight().to_vector());
  EXPECT_EQ(init_for(ActivationKind::relu), Init::kaiming_uniform);
  EXPECT_EQ(init_for(ActivationKind::tanh), Init::xavier_uniform);
}

TEST(NnLayers, DropoutModes) {
  const double p = 0.3;
  Dropout drop(p, 123);
  const ad::Tensor x = ad::ones({200, 500});
  drop.eval();
  EXPECT_EQ(drop.forward(x).impl(), x.impl());  // the identity: the same tensor

  drop.train();
  const std::vector<double> y = drop.forward(x).to_vector();
  double zeros = 0, sum = 0;
  for (double v : y) {
    zeros += v == 0.0;
    sum += v;
    if (v != 0.0) {
      EXPECT_FLOAT_EQ(v, 1.0 / (1.0 - p));
    }
  }
  EXPECT_NEAR(zeros / y.size(), p, 0.005);
  EXPECT_NEAR(sum / y.size(), 1.0, 0.01);

  // Evaluation: the identity, unless the thread holds a Monte-Carlo stream; then fresh masks per
  // call, the same sequence for the same seed, and the layer's own stream untouched.
  drop.eval();
  EXPECT_EQ(drop.forward(x).to_vector(), x.to_vector());
  std::vector<double> m1, m2, again;
  {
    McDropoutStream stream(11);
    m1 = drop.forward(x).to_vector();
    m2 = drop.forward(x).to_vector();
  }
  {
    McDropoutStream stream(11);
    again = drop.forward(x).to_vector();
  }
  EXPECT_NE(m1, m2);
  EXPECT_EQ(m1, again);
  EXPECT_GT(std::count(m1.begin(), m1.end(), 0.0), 0);
  EXPECT_EQ(drop.forward(x).to_vector(), x.to_vector());  // the stream is gone

  // A seed fixes the masks.
  Dropout d1(p, 5), d2(p, 5);
  EXPECT_EQ(d1.forward(x).to_vector(), d2.forward(x).to_vector());
  d1.reseed(5);
  Dropout d3(p, 5);
  EXPECT_EQ(d1.forward(x).to_vector(), d3.forward(x).to_vector());
}

TEST(NnLayers, DropoutGradientIsTheMask) {
  Dropout drop(0.5, 9);
  std::mt19937_64 rng(1);
  const ad::Tensor x = leaf_normal({4, 8}, rng);
  const ad::Tensor y = drop.forward(x);
  const ad::Tensor g = ad::grad({ad::sum(y)}, {x})[0];
  const std::vector<double> yv = y.to_vector(), xv = x.to_vector(), gv = g.to_vector();
  for (std::size_t i = 0; i < yv.size(); ++i) EXPECT_DOUBLE_EQ(yv[i], xv[i] * gv[i]);
}

TEST(NnLayers, MlpShapesAndDropoutLayers) {
  MlpConfig c;
  c.input = 4;
  c.hidden = {16, 16};
  c.output = 3;
  c.activation = ActivationKind::relu;
  c.dropout = 0.2;
  c.dtype = ad::DType::f64;
  auto mlp = make_mlp(c);
  EXPECT_EQ(mlp->layers().size(), 7u);  // (Linear, Activation, Dropout) x 2 + Linear
  std::mt19937_64 rng(2);
  const ad::Tensor x = ad::randn({10, 4}, rng, ad::DType::f64);
  mlp->eval();
  const ad::Tensor y = mlp->forward(x);
  EXPECT_EQ(y.shape(), (ad::Shape{10, 3}));
  EXPECT_EQ(y.to_vector(), mlp->forward(x).to_vector());  // deterministic in eval
  McDropoutStream stream(3);
  EXPECT_NE(mlp->forward(x).to_vector(), mlp->forward(x).to_vector());
}

// A float64 MLP with dropout 0.3, in evaluation mode.
std::shared_ptr<Mlp> dropout_mlp(std::vector<int64_t> hidden) {
  MlpConfig c;
  c.input = 4;
  c.hidden = std::move(hidden);
  c.output = 1;
  c.dropout = 0.3;
  c.dtype = ad::DType::f64;
  auto mlp = make_mlp(c);
  mlp->eval();
  return mlp;
}

// `count` Monte-Carlo passes of `mlp` over `x` from one stream (seed, first_row), concatenated.
std::vector<double> mc_passes(Mlp& mlp, const ad::Tensor& x, std::uint64_t seed, std::uint64_t first_row, int count) {
  McDropoutStream stream(seed, first_row);
  std::vector<double> out;
  for (int k = 0; k < count; ++k) {
    const std::vector<double> y = mlp.forward(x).to_vector();
    out.insert(out.end(), y.begin(), y.end());
  }
  return out;
}

TEST(NnLayers, McDropoutStreamsArePerThread) {
  // Two threads predicting with one network, each from its own seeded stream, get exactly what
  // each seed gives alone: no state of the network is shared between Monte-Carlo passes.
  auto mlp = dropout_mlp({32});
  std::mt19937_64 rng(4);
  const ad::Tensor x = ad::randn({64, 4}, rng, ad::DType::f64);
  auto passes = [&](std::uint64_t seed) { return mc_passes(*mlp, x, seed, 0, 50); };
  const std::vector<double> alone_a = passes(1), alone_b = passes(2);
  std::vector<double> threaded_a, threaded_b;
  std::thread ta([&] { threaded_a = passes(1); }), tb([&] { threaded_b = passes(2); });
  ta.join();
  tb.join();
  EXPECT_EQ(threaded_a, alone_a);
  EXPECT_EQ(threaded_b, alone_b);
  EXPECT_NE(alone_a, alone_b);
}

TEST(NnLayers, McDropoutMasksBelongToTheSampleNotItsBatch) {
  // A row's Monte-Carlo masks depend on the stream's seed and the row's number: the second half
  // of a batch, passed alone with its first row's number, gets the same samples; numbered from
  // elsewhere, other ones.
  auto mlp = dropout_mlp({32, 32});
  std::mt19937_64 rng(6);
  const ad::Tensor x = ad::randn({40, 4}, rng, ad::DType::f64);
  const ad::Tensor tail = ad::slice(x, 0, 25, 40);
  auto passes = [&](const ad::Tensor& input, std::uint64_t first_row) { return mc_passes(*mlp, input, 9, first_row, 5); };
  const std::vector<double> whole = passes(x, 0), alone = passes(tail, 25), elsewhere = passes(tail, 26);
  ASSERT_EQ(alone.size(), 5u * 15u);
  for (std::size_t k = 0; k < 5; ++k) {
    for (std::size_t r = 0; r < 15; ++r) EXPECT_NEAR(alone[k * 15 + r], whole[k * 40 + 25 + r], 1e-12) << k << " " << r;
  }
  std::size_t differ = 0;
  for (std::size_t i = 0; i < alone.size(); ++i) differ += std::abs(alone[i] - elsewhere[i]) > 1e-9;
  EXPECT_GT(differ, alone.size() / 2);
}

}  // namespace
}  // namespace matnn::nn
