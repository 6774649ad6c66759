// End to end: a small MLP trained with Adam fits y = sin(x1) + x2^2.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>

#include "autodiff/ops.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"
#include "nn/schedules.hpp"

namespace matnn::nn {
namespace {

// One OpenMP thread for the duration of a test: the GEMMs here are tiny, and on a shared,
// oversubscribed machine the threads' barriers, not the arithmetic, would set the time.
class SingleThread {
 public:
  SingleThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThread() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(NnTraining, MlpFitsASmoothFunction) {
  SingleThread single_thread;
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  std::vector<float> xs, ys;
  for (int i = 0; i < 256; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    xs.push_back(static_cast<float>(x1));
    xs.push_back(static_cast<float>(x2));
    ys.push_back(static_cast<float>(std::sin(x1) + x2 * x2));
  }
  const ad::Tensor x = ad::from_vector(xs, {256, 2}), y = ad::from_vector(ys, {256, 1});

  MlpConfig config;
  config.input = 2;
  config.hidden = {32, 32};
  config.output = 1;
  config.activation = ActivationKind::silu;
  config.seed = 1;
  auto model = make_mlp(config);
  const int epochs = 400;
  Adam adam(model->named_parameters(), {.lr = 1e-2});
  CosineLR schedule(1e-2, epochs, 1e-4, 10);
  adam.set_learning_rate(schedule.initial_rate());
  double initial = 0.0, loss = 0.0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    adam.zero_grad();
    const ad::Tensor l = mse_loss(model->forward(x), y);
    loss = l.item();
    if (epoch == 0) initial = loss;
    ad::backward(l);
    adam.step();
    adam.set_learning_rate(schedule.on_epoch_end(epoch, loss));
  }
  model->eval();
  const double final_loss = mse_loss(model->forward(x), y).item();
  RecordProperty("final_mse", std::to_string(final_loss));
  EXPECT_LT(final_loss, 2e-3) << "initial " << initial;
  EXPECT_LT(final_loss, 1e-2 * initial);
  // Speed is measured by benchmarks, never asserted in a test.
  std::printf("fit: initial mse %.4g, final %.4g\n", initial, final_loss);
}

}  // namespace
}  // namespace matnn::nn
