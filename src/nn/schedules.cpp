#include "nn/schedules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "matnn/error.hpp"

namespace matnn::nn {

namespace {
void check_rate(const char* what, double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: learning rate {} is not a finite non-negative number", what, lr);
}
}  // namespace

// ---- StepLR ----------------------------------------------------------------------------------

StepLR::StepLR(double base_lr, int step_size, double gamma)
    : base_(base_lr), step_size_(step_size), gamma_(gamma), lr_(base_lr) {
  check_rate("StepLR", base_lr);
  if (step_size <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "StepLR: step_size must be positive, got {}", step_size);
  if (!(gamma > 0.0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "StepLR: gamma must be positive, got {}", gamma);
}

double StepLR::rate_at(int epoch) const { return base_ * std::pow(gamma_, std::max(0, epoch) / step_size_); }

double StepLR::on_epoch_end(int epoch, double) { return lr_ = rate_at(epoch + 1); }

TrainingState StepLR::state() const { return {{}, {{"lr", lr_}}}; }

void StepLR::load_state(const TrainingState& state) { lr_ = require_scalar(state, "lr", "StepLR"); }

// ---- CosineLR --------------------------------------------------------------------------------

CosineLR::CosineLR(double base_lr, int total_epochs, double min_lr, int warmup_epochs)
    : base_(base_lr), total_(total_epochs), min_(min_lr), warmup_(warmup_epochs), lr_(0.0) {
  check_rate("CosineLR", base_lr);
  check_rate("CosineLR", min_lr);
  if (warmup_epochs < 0 || total_epochs <= warmup_epochs)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "CosineLR: need 0 <= warmup_epochs ({}) < total_epochs ({})", warmup_epochs,
         total_epochs);
  lr_ = rate_at(0);
}

double CosineLR::rate_at(int epoch) const {
  const int e = std::max(0, epoch);
  if (e < warmup_) return base_ * static_cast<double>(e + 1) / static_cast<double>(warmup_ + 1);
  if (e >= total_) return min_;
  const double progress = static_cast<double>(e - warmup_) / static_cast<double>(total_ - warmup_);
  return min_ + (base_ - min_) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

double CosineLR::on_epoch_end(int epoch, double) { return lr_ = rate_at(epoch + 1); }

TrainingState CosineLR::state() const { return {{}, {{"lr", lr_}}}; }

void CosineLR::load_state(const TrainingState& state) { lr_ = require_scalar(state, "lr", "CosineLR"); }

// ---- ReduceOnPlateau ---------------------------------------------------------------------------

ReduceOnPlateau::ReduceOnPlateau(double base_lr, double factor, int patience, double threshold, double min_lr,
                                 int cooldown)
    : base_(base_lr),
      factor_(factor),
      patience_(patience),
      threshold_(threshold),
      min_lr_(min_lr),
      cooldown_(cooldown),
      lr_(base_lr),
      best_(std::numeric_limits<double>::infinity()) {
  check_rate("ReduceOnPlateau", base_lr);
  check_rate("ReduceOnPlateau", min_lr);
  if (!(factor > 0.0 && factor < 1.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "ReduceOnPlateau: factor {} is outside (0, 1)", factor);
  if (patience < 0 || cooldown < 0 || !(threshold >= 0.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "ReduceOnPlateau: patience ({}), cooldown ({}) and threshold ({}) must be >= 0",
         patience, cooldown, threshold);
}

double ReduceOnPlateau::on_epoch_end(int, double validation_loss) {
  // best = +inf at first, so the first finite loss always improves.
  if (validation_loss < best_ * (1.0 - threshold_) || (std::isinf(best_) && std::isfinite(validation_loss))) {
    best_ = validation_loss;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;  // epochs right after a reduction do not count against the new rate
  }
  if (bad_epochs_ > patience_) {
    lr_ = std::max(lr_ * factor_, min_lr_);
    cooldown_left_ = cooldown_;
    bad_epochs_ = 0;
  }
  return lr_;
}

TrainingState ReduceOnPlateau::state() const {
  return {{},
          {{"lr", lr_},
           {"best", best_},
           {"bad_epochs", static_cast<double>(bad_epochs_)},
           {"cooldown_left", static_cast<double>(cooldown_left_)}}};
}

void ReduceOnPlateau::load_state(const TrainingState& state) {
  lr_ = require_scalar(state, "lr", "ReduceOnPlateau");
  best_ = require_scalar(state, "best", "ReduceOnPlateau");
  bad_epochs_ = static_cast<int>(require_scalar(state, "bad_epochs", "ReduceOnPlateau"));
  cooldown_left_ = static_cast<int>(require_scalar(state, "cooldown_left", "ReduceOnPlateau"));
}

}  // namespace matnn::nn
