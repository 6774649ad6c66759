// Inverted dropout, with a Monte-Carlo mode that keeps it active at inference.
#pragma once

#include <cstdint>
#include <random>

#include "nn/module.hpp"

namespace matnn::nn {

/// Each element is zeroed with probability p and the survivors are scaled by 1 / (1 - p), so
/// the expected output equals the input and evaluation needs no rescaling ("inverted"
/// dropout). Active in training mode, or in any mode after set_mc(true): Monte-Carlo dropout
/// samples several masks at inference to estimate the predictive uncertainty. Otherwise the
/// layer is the identity (it returns its input handle).
///
/// Masks come from the layer's own std::mt19937_64 seeded at construction and are drawn in
/// row-major order with a portable bit-to-uniform map, so a seed gives the same masks
/// everywhere. The mask is a constant of the graph: gradients flow through the kept entries
/// only, scaled like the values.
class Dropout : public Module {
 public:
  /// p in [0, 1); p = 0 is the identity.
  explicit Dropout(double p, uint64_t seed = 0x5eed);

  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }

  double p() const noexcept { return p_; }
  /// Keep dropout active in evaluation mode (Monte-Carlo dropout).
  void set_mc(bool on) noexcept { mc_ = on; }
  bool mc() const noexcept { return mc_; }
  /// Restarts the mask sequence (e.g. identical MC samples across runs).
  void reseed(uint64_t seed) { rng_.seed(seed); }
  /// Whether the next forward() drops anything.
  bool active() const noexcept { return p_ > 0.0 && (is_training() || mc_); }

 private:
  double p_;
  bool mc_ = false;
  std::mt19937_64 rng_;
};

}  // namespace matnn::nn
