// The optimiser base class: a fixed list of named parameters updated in place from .grad().
//
// step() runs under NoGradGuard and writes the new values into the parameters' own storage.
// Parameters are leaves, so this is safe once the step's graph is no longer needed (the
// usual forward -> backward -> step cycle); every module, EMA or other optimiser holding the
// same tensors sees the update.
//
// Checkpointing. state() returns copies of every per-parameter buffer, named
// "<parameter name>.<buffer>" (e.g. "layers.0.weight.exp_avg"), plus the scalars "step" and
// "lr". load_state() of that state into an optimiser built over the same named parameters
// makes the following steps bit-identical to an uninterrupted run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nn/state.hpp"

namespace matnn::nn {

class Optimizer {
 public:
  /// `params`: defined tensors that require grad, with unique names (module.named_parameters()).
  /// `decay_all`: apply the optimiser's weight decay to every parameter instead of only those
  /// that is_decayed_parameter() (losses.hpp) selects by name.
  Optimizer(NamedTensors params, double learning_rate, double weight_decay, bool decay_all);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter that has a .grad() (parameters without one are skipped,
  /// their buffers untouched); increments step_count() first.
  void step();
  /// Clears every parameter's .grad() (back to undefined).
  void zero_grad();
  /// Forgets the running statistics (every buffer and the step count), as if the optimiser
  /// were built anew over the same parameters; the learning rate stays. For a loss that has
  /// changed, whose gradients the old statistics no longer describe.
  void restart();

  double learning_rate() const noexcept { return lr_; }
  void set_learning_rate(double lr);
  double weight_decay() const noexcept { return weight_decay_; }
  /// Steps taken so far (the t of Adam's bias correction, shared by all parameters).
  int64_t step_count() const noexcept { return step_; }
  const NamedTensors& params() const noexcept { return params_; }
  virtual std::string type_name() const = 0;

  TrainingState state() const;
  /// Restores state(); fails with MATNN_ERROR_MODEL on an unknown tensor name, a shape that
  /// differs from the parameter's, or missing scalars. Tensors are copied (and converted to
  /// the parameter's dtype).
  void load_state(const TrainingState& state);

 protected:
  /// Updates parameter `index` in place from `grad` (same shape and dtype) at step t >= 1.
  virtual void update(std::size_t index, const ad::Tensor& param, const ad::Tensor& grad, int64_t t) = 0;
  /// Names of the per-parameter buffers this optimiser keeps, e.g. {"exp_avg", "exp_avg_sq"}.
  virtual std::vector<std::string> buffer_names() const = 0;
  /// Buffer `slot` of parameter `index`; created as zeros of the parameter's shape and dtype
  /// on first use, in which case *created is set to true.
  ad::Tensor& buffer(std::size_t index, std::size_t slot, bool* created = nullptr);
  /// Whether weight decay applies to parameter `index`.
  bool decays(std::size_t index) const { return decay_[index]; }

 private:
  NamedTensors params_;
  std::vector<bool> decay_;
  std::vector<std::vector<ad::Tensor>> buffers_;  // [parameter][slot], undefined until used
  double lr_;
  double weight_decay_;
  int64_t step_ = 0;
};

}  // namespace matnn::nn
