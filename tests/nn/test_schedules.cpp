// Learning-rate schedules: the expected sequences and state round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "nn/schedules.hpp"
#include "nn_test_util.hpp"

namespace matnn::nn {
namespace {

using testing::status_of;

// The rates for epochs 0..n-1 (the first from initial_rate, the rest from on_epoch_end).
std::vector<double> rates(LrSchedule& s, const std::vector<double>& losses) {
  std::vector<double> out = {s.initial_rate()};
  for (std::size_t e = 0; e < losses.size(); ++e)
    out.push_back(s.on_epoch_end(static_cast<int>(e), losses[e]));
  return out;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15) << "epoch " << i;
}

TEST(NnSchedules, StepLR) {
  StepLR s(1.0, 2, 0.5);
  expect_near(rates(s, std::vector<double>(6, 0.0)), {1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125});
  EXPECT_EQ(status_of([] { StepLR(1.0, 0); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(NnSchedules, CosineWithWarmup) {
  CosineLR s(1.0, 6, 0.0, 2);
  const double pi = std::numbers::pi;
  expect_near(rates(s, std::vector<double>(7, 0.0)),
              {1.0 / 3, 2.0 / 3, 1.0, (1 + std::cos(pi / 4)) / 2, 0.5, (1 + std::cos(3 * pi / 4)) / 2, 0.0, 0.0});
  CosineLR floor(0.1, 4, 0.01);
  EXPECT_DOUBLE_EQ(floor.initial_rate(), 0.1);
  EXPECT_NEAR(floor.rate_at(2), 0.055, 1e-15);
  EXPECT_DOUBLE_EQ(floor.rate_at(100), 0.01);
  EXPECT_EQ(status_of([] { CosineLR(1.0, 3, 0.0, 3); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(NnSchedules, ReduceOnPlateauWithPatienceAndCooldown) {
  ReduceOnPlateau s(1.0, 0.5, /*patience=*/2, /*threshold=*/0.0, /*min_lr=*/0.2, /*cooldown=*/1);
  const std::vector<double> losses = {1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8};
  // Reductions after three bad epochs (more than patience 2); the epoch after a reduction is
  // cooldown and does not count; the rate stops at min_lr.
  expect_near(rates(s, losses), {1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2});
  EXPECT_DOUBLE_EQ(s.best(), 0.8);
}

TEST(NnSchedules, ReduceOnPlateauRelativeThreshold) {
  ReduceOnPlateau s(1.0, 0.1, 0, 0.1);
  s.on_epoch_end(0, 1.0);
  EXPECT_DOUBLE_EQ(s.on_epoch_end(1, 0.95), 0.1);  // 0.95 is not below 1.0 * (1 - 0.1)
  EXPECT_DOUBLE_EQ(s.on_epoch_end(2, 0.5), 0.1);   // improves: no reduction
  EXPECT_DOUBLE_EQ(s.on_epoch_end(3, std::nan("")), 0.01);  // NaN never improves
}

TEST(NnSchedules, StateRoundTripContinuesTheSequence) {
  const std::vector<double> losses = {1.0, 0.9, 0.95, 0.97, 0.99, 0.96, 0.95, 0.94, 0.99, 0.99, 0.99};
  ReduceOnPlateau a(0.1, 0.5, 1, 1e-3, 0.0, 2);
  for (int e = 0; e < 5; ++e) a.on_epoch_end(e, losses[e]);
  ReduceOnPlateau b(0.1, 0.5, 1, 1e-3, 0.0, 2);
  b.load_state(a.state());
  for (int e = 5; e < 11; ++e) EXPECT_EQ(a.on_epoch_end(e, losses[e]), b.on_epoch_end(e, losses[e]));
  EXPECT_EQ(status_of([&] { b.load_state(TrainingState{}); }), MATNN_ERROR_MODEL);

  CosineLR c(1.0, 10, 0.0, 3), d(1.0, 10, 0.0, 3);
  for (int e = 0; e < 4; ++e) c.on_epoch_end(e, 0.0);
  d.load_state(c.state());
  EXPECT_EQ(d.learning_rate(), c.learning_rate());
  StepLR s1(1.0, 3), s2(1.0, 3);
  s1.on_epoch_end(2, 0.0);
  s2.load_state(s1.state());
  EXPECT_EQ(s2.learning_rate(), 0.1);
}

}  // namespace
}  // namespace matnn::nn
