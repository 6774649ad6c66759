// Optimisers and learning-rate schedules made from config sections:
//   optimizer: {name: sgd | adam | adamw, lr, weight_decay, momentum, nesterov, beta1, beta2, eps}
//   optimizer: {name: kalman, epsilon, q0, q_min, q_decay, eta0, eta_max, eta_growth,
//               forces_per_structure, stress_per_structure, threshold}
//   schedule:  {name: constant | step | cosine | plateau, step_size, gamma, min_lr, warmup,
//               factor, patience, threshold, cooldown}
#pragma once

#include <memory>

#include "nn/kalman.hpp"
#include "nn/optim.hpp"
#include "nn/schedules.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

namespace matnn::train {

/// True for optimizer.name kalman, which the trainer runs instead of a gradient optimiser.
bool is_kalman(const Json& config);
struct KalmanSettings {
  nn::KalmanOptions filter;
  MeasurementSelection selection;
};
KalmanSettings kalman_settings(const Json& config);

std::unique_ptr<nn::Optimizer> make_optimizer(const Json& config, const nn::NamedTensors& params);
/// `base_lr` is the optimiser's learning rate; `epochs` the length of the run (for cosine).
std::unique_ptr<nn::LrSchedule> make_schedule(const Json& config, double base_lr, int epochs);

}  // namespace matnn::train
