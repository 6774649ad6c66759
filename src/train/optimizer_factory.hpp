// Optimisers and learning-rate schedules made from config sections:
//   optimizer: {name: sgd | adam | adamw, lr, weight_decay, momentum, nesterov, beta1, beta2, eps}
//   schedule:  {name: constant | step | cosine | plateau, step_size, gamma, min_lr, warmup,
//               factor, patience, threshold, cooldown}
#pragma once

#include <memory>

#include "nn/optim.hpp"
#include "nn/schedules.hpp"
#include "train/config.hpp"

namespace matnn::train {

std::unique_ptr<nn::Optimizer> make_optimizer(const Json& config, const nn::NamedTensors& params);
/// `base_lr` is the optimiser's learning rate; `epochs` the length of the run (for cosine).
std::unique_ptr<nn::LrSchedule> make_schedule(const Json& config, double base_lr, int epochs);

}  // namespace matnn::train
