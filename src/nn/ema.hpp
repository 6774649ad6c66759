// Exponential moving average of model weights, evaluated by swapping it into the model.
#pragma once

#include <cstdint>

#include "nn/state.hpp"

namespace matnn::nn {

/// Keeps a = decay * a + (1 - decay) * p for each parameter p (a starts as a copy of p).
/// Averaged weights usually generalise better than the last iterate of a noisy optimiser;
/// to use them, swap() exchanges the values of the parameters and the averages in place (the
/// model's tensor objects are kept, so optimisers stay attached), and a second swap() puts the
/// trained weights back. With warmup, the decay used at update k (1-based) is
/// min(decay, (1 + k) / (10 + k)), so early averages are not dominated by the random start.
class WeightEma {
 public:
  WeightEma(NamedTensors params, double decay, bool warmup = false);

  /// Folds the current parameter values into the averages (not allowed while swapped).
  void update();
  /// Exchanges parameter values and averages.
  void swap();
  /// True between an odd number of swap() calls: the model holds the averages.
  bool swapped() const noexcept { return swapped_; }

  /// Evaluates with the averages for the scope's lifetime: swaps in, then back on exit.
  class Scope {
   public:
    explicit Scope(WeightEma& ema) : ema_(ema) { ema_.swap(); }
    ~Scope() { ema_.swap(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    WeightEma& ema_;
  };

  double decay() const noexcept { return decay_; }
  int64_t num_updates() const noexcept { return updates_; }
  /// The averages under the parameters' names (the trained values while swapped()).
  const NamedTensors& averages() const noexcept { return averages_; }

  /// Copies of the averages keyed by parameter name, and the scalar "num_updates". Taken
  /// while swapped, the averages are still reported (not the trained weights).
  TrainingState state() const;
  /// Restores state() (names and shapes must match: MATNN_ERROR_MODEL otherwise). Not
  /// allowed while swapped.
  void load_state(const TrainingState& state);

 private:
  NamedTensors params_;
  NamedTensors averages_;
  double decay_;
  bool warmup_;
  bool swapped_ = false;
  int64_t updates_ = 0;
};

}  // namespace matnn::nn
