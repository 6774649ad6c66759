// Learning-rate schedules driven once per epoch.
//
// Epochs are counted from 0. A schedule starts at initial_rate() (the rate for epoch 0);
// on_epoch_end(e, validation_loss) is called after epoch e and returns the rate for epoch
// e + 1, which the caller passes to Optimizer::set_learning_rate. Schedules that do not look
// at the loss ignore it. state()/load_state() hold the counters as scalars, so a resumed run
// continues the same sequence.
#pragma once

#include <string>

#include "nn/state.hpp"

namespace matnn::nn {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  /// The rate for epoch 0.
  virtual double initial_rate() const = 0;
  /// The rate for epoch `epoch` + 1.
  virtual double on_epoch_end(int epoch, double validation_loss) = 0;
  /// The rate most recently returned (initial_rate() before the first epoch ends).
  virtual double learning_rate() const = 0;
  virtual std::string type_name() const = 0;
  virtual TrainingState state() const = 0;
  /// Fails with MATNN_ERROR_MODEL when a scalar is missing.
  virtual void load_state(const TrainingState& state) = 0;
};

/// lr(e) = base_lr * gamma^floor(e / step_size).
class StepLR : public LrSchedule {
 public:
  StepLR(double base_lr, int step_size, double gamma = 0.1);
  double initial_rate() const override { return base_; }
  double on_epoch_end(int epoch, double validation_loss) override;
  double learning_rate() const override { return lr_; }
  std::string type_name() const override { return "StepLR"; }
  TrainingState state() const override;
  void load_state(const TrainingState& state) override;
  /// The closed form (no state).
  double rate_at(int epoch) const;

 private:
  double base_;
  int step_size_;
  double gamma_;
  double lr_;
};

/// Optional linear warm-up, then a half cosine from base_lr down to min_lr:
///   e < W:       lr = base_lr * (e + 1) / (W + 1)      (rises towards base_lr, never 0)
///   W <= e < T:  lr = min_lr + (base_lr - min_lr) (1 + cos(pi (e - W) / (T - W))) / 2
///   e >= T:      lr = min_lr
/// with W = warmup_epochs < T = total_epochs.
class CosineLR : public LrSchedule {
 public:
  CosineLR(double base_lr, int total_epochs, double min_lr = 0.0, int warmup_epochs = 0);
  double initial_rate() const override { return rate_at(0); }
  double on_epoch_end(int epoch, double validation_loss) override;
  double learning_rate() const override { return lr_; }
  std::string type_name() const override { return "CosineLR"; }
  TrainingState state() const override;
  void load_state(const TrainingState& state) override;
  double rate_at(int epoch) const;

 private:
  double base_;
  int total_;
  double min_;
  int warmup_;
  double lr_;
};

/// Multiplies the rate by `factor` when the validation loss has not improved for more than
/// `patience` epochs. An epoch improves when loss < best * (1 - threshold) (relative
/// threshold, for losses that are positive; NaN never improves). After a reduction the
/// counter restarts and the next `cooldown` epochs are not counted as bad. The rate never
/// goes below min_lr.
class ReduceOnPlateau : public LrSchedule {
 public:
  ReduceOnPlateau(double base_lr, double factor = 0.1, int patience = 10, double threshold = 1e-4,
                  double min_lr = 0.0, int cooldown = 0);
  double initial_rate() const override { return base_; }
  double on_epoch_end(int epoch, double validation_loss) override;
  double learning_rate() const override { return lr_; }
  std::string type_name() const override { return "ReduceOnPlateau"; }
  TrainingState state() const override;
  void load_state(const TrainingState& state) override;

  double best() const noexcept { return best_; }
  int bad_epochs() const noexcept { return bad_epochs_; }

 private:
  double base_;
  double factor_;
  int patience_;
  double threshold_;
  double min_lr_;
  int cooldown_;
  double lr_;
  double best_;
  int bad_epochs_ = 0;
  int cooldown_left_ = 0;
};

}  // namespace matnn::nn
