// Module naming, state save/load, dtype conversion and train/eval propagation.
#include <gtest/gtest.h>

#include <random>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/layers.hpp"
#include "nn/optim.hpp"
#include "nn_test_util.hpp"

namespace matnn::nn {
namespace {

using testing::status_of;

MlpConfig small_config(NormKind norm = NormKind::none) {
  MlpConfig c;
  c.input = 3;
  c.hidden = {8, 6};
  c.output = 2;
  c.activation = ActivationKind::silu;
  c.norm = norm;
  c.seed = 42;
  return c;
}

TEST(NnModule, NamesAreDottedAndOrdered) {
  auto mlp = make_mlp(small_config(NormKind::layer));
  const std::vector<std::string> expected = {"layers.0.weight", "layers.0.bias",  "layers.1.gamma",
                                             "layers.1.beta",   "layers.3.weight", "layers.3.bias",
                                             "layers.4.gamma",  "layers.4.beta",   "layers.6.weight",
                                             "layers.6.bias"};
  EXPECT_EQ(names_of(mlp->named_parameters()), expected);
  EXPECT_TRUE(mlp->named_buffers().empty());
  EXPECT_EQ(mlp->parameters().size(), expected.size());
  EXPECT_EQ(mlp->named_parameters()[8].second.shape(), (ad::Shape{6, 2}));

  auto bn = make_mlp(small_config(NormKind::batch));
  const std::vector<std::string> buffers = {"layers.1.running_mean", "layers.1.running_var",
                                            "layers.4.running_mean", "layers.4.running_var"};
  EXPECT_EQ(names_of(bn->named_buffers()), buffers);
  EXPECT_EQ(bn->state().size(), 14u);
}

TEST(NnModule, FixedSeedGivesIdenticalWeights) {
  auto a = make_mlp(small_config());
  auto b = make_mlp(small_config());
  MlpConfig other = small_config();
  other.seed = 43;
  auto c = make_mlp(other);
  const auto pa = a->named_parameters(), pb = b->named_parameters(), pc = c->named_parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].second.to_vector(), pb[i].second.to_vector());
  EXPECT_NE(pa[0].second.to_vector(), pc[0].second.to_vector());
}

TEST(NnModule, StateRoundTripReproducesOutputs) {
  auto a = make_mlp(small_config(NormKind::batch));
  MlpConfig other = small_config(NormKind::batch);
  other.seed = 7;
  auto b = make_mlp(other);
  std::mt19937_64 rng(1);
  const ad::Tensor x = ad::randn({5, 3}, rng);
  a->forward(x);  // moves the running statistics away from their defaults
  a->eval();
  b->eval();
  const ad::Tensor handle = b->named_parameters()[0].second;
  b->load_state(a->state());
  EXPECT_EQ(a->forward(x).to_vector(), b->forward(x).to_vector());
  // Loaded in place: handles taken before (by an optimiser, say) see the new values.
  EXPECT_EQ(handle.impl(), b->named_parameters()[0].second.impl());
  EXPECT_EQ(handle.to_vector(), a->named_parameters()[0].second.to_vector());
}

TEST(NnModule, LoadStateRejectsWrongNamesAndShapes) {
  MlpConfig c;
  c.input = 16;
  c.hidden = {64, 64};
  c.output = 1;
  auto wide = make_mlp(c);
  c.input = 32;
  auto other = make_mlp(c);
  std::string message;
  EXPECT_EQ(status_of([&] { wide->load_state(other->state()); }, &message), MATNN_ERROR_MODEL);
  EXPECT_EQ(message, "parameter layers.0.weight has shape (32, 64), expected (16, 64)");

  auto state = wide->state();
  state.erase("layers.2.bias");
  EXPECT_EQ(status_of([&] { wide->load_state(state); }, &message), MATNN_ERROR_MODEL);
  EXPECT_NE(message.find("layers.2.bias"), std::string::npos);

  state = wide->state();
  state["layers.9.weight"] = ad::zeros({1, 1});
  EXPECT_EQ(status_of([&] { wide->load_state(state); }, &message), MATNN_ERROR_MODEL);
  EXPECT_NE(message.find("layers.9.weight"), std::string::npos);

  // A failed load changes nothing.
  const auto before = wide->named_parameters()[0].second.to_vector();
  auto bad = other->state();
  EXPECT_EQ(status_of([&] { wide->load_state(bad); }), MATNN_ERROR_MODEL);
  EXPECT_EQ(wide->named_parameters()[0].second.to_vector(), before);
}

TEST(NnModule, ToConvertsInPlace) {
  auto mlp = make_mlp(small_config(NormKind::batch));
  const ad::Tensor w = mlp->named_parameters()[0].second;
  const std::vector<double> before = w.to_vector();
  mlp->to(ad::DType::f64);
  EXPECT_EQ(w.dtype(), ad::DType::f64);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(w.to_vector(), before);  // float32 -> float64 is exact
  for (const auto& [name, t] : mlp->named_buffers()) EXPECT_EQ(t.dtype(), ad::DType::f64) << name;
  std::mt19937_64 rng(3);
  const ad::Tensor y = mlp->forward(ad::randn({4, 3}, rng, ad::DType::f64));
  EXPECT_EQ(y.dtype(), ad::DType::f64);
  // A float64 state loads into a float32 model by conversion.
  auto f32 = make_mlp(small_config(NormKind::batch));
  f32->load_state(mlp->state());
  EXPECT_EQ(f32->named_parameters()[0].second.dtype(), ad::DType::f32);
}

TEST(NnModule, TrainEvalPropagates) {
  MlpConfig c = small_config(NormKind::batch);
  c.dropout = 0.5;
  auto mlp = make_mlp(c);
  EXPECT_TRUE(mlp->is_training());
  mlp->eval();
  for (std::size_t i = 0; i < mlp->layers().size(); ++i) EXPECT_FALSE(mlp->layers()[i].is_training());
  mlp->train();
  EXPECT_TRUE(mlp->layers()[2].is_training());
}

TEST(NnModule, ForwardOfMultiInputModuleIsUnsupported) {
  struct Bare : Module {};
  Bare m;
  EXPECT_EQ(status_of([&] { m.forward(ad::zeros({1})); }), MATNN_ERROR_UNSUPPORTED);
}

TEST(NnModule, ActivationNames) {
  for (auto kind : {ActivationKind::relu, ActivationKind::silu, ActivationKind::gelu, ActivationKind::tanh,
                    ActivationKind::sigmoid, ActivationKind::softplus, ActivationKind::identity})
    EXPECT_EQ(activation_from_name(activation_name(kind)), kind);
  EXPECT_EQ(activation_from_name("swish"), ActivationKind::silu);
  EXPECT_EQ(status_of([] { activation_from_name("relu6"); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(norm_from_name(norm_name(NormKind::batch)), NormKind::batch);
}

}  // namespace
}  // namespace matnn::nn
