// The radial networks of the NequIP-style model, tabulated for inference.
//
// Per edge, a block's weights depend on the edge length alone: w(r) = MLP(basis(r)), with the
// Bessel basis times the polynomial envelope (radial_basis.hpp) and the bias-free silu MLP
// (interaction.hpp). Evaluating that chain on every edge, and keeping its activations for the
// force pass, was about a third of an inference call and most of its memory. Like DeePMD-kit's
// compressed models, inference instead interpolates w(r) from a table on a uniform grid of r:
// quintic Hermite pieces built from the exact value, slope and curvature of the chain at every
// node (forward-mode derivatives, in float64). With nodes 0.01 Angstrom apart (closer for a
// basis faster than the default one) the interpolant differs from the networks by about 1e-10
// relative in value and 1e-8 in slope, far below float32 rounding; forces are the exact
// derivative of the interpolated energy, so MD conserves it as it conserves the networks' own.
// The convolution interpolates each edge's weights where it uses them (edge_convolution.hpp,
// tabulated_messages), so no edge's weights are ever stored.
//
// The table gives w and dw/dr, enough for forces and stress: training needs second derivatives
// and the weights' gradients, so it evaluates the networks themselves.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace matnn::potentials::nequip {

/// The chain r -> basis -> MLP of one interaction block, in float64.
struct RadialChain {
  int64_t num_basis = 8;
  double cutoff = 4.0;
  int envelope_p = 6;
  /// The MLP's weights (in, out) in order; silu after every one but the last.
  std::vector<Eigen::MatrixXd> weights;

  int64_t outputs() const { return weights.empty() ? num_basis : weights.back().cols(); }
  /// Values, first and second derivatives in r of the chain at lengths `r` (each row one length).
  void evaluate(const Eigen::VectorXd& r, Eigen::MatrixXd& value, Eigen::MatrixXd& slope,
                Eigen::MatrixXd& curvature) const;
};

class RadialTable {
 public:
  /// Node spacing when none is given (Angstrom), for a basis whose fastest Bessel function has
  /// the frequency below (8 functions on 4 Angstrom, the defaults) or a slower one.
  static constexpr double kDefaultSpacing = 0.01;
  static constexpr double kDefaultFrequency = 2.0 * 3.14159265358979323846;  // 1 / Angstrom

  /// The spacing when none is given: kDefaultSpacing, shrunk in proportion to a faster basis
  /// (more Bessel functions, or a shorter cutoff), since the quintic pieces' error grows as the
  /// sixth power of spacing x frequency.
  static double spacing_for(const RadialChain& chain);

  /// Tabulates `chain` on [0, cutoff] with nodes at most `spacing` apart. Lengths at or beyond
  /// the cutoff give zero weights, as the envelope does.
  RadialTable(const RadialChain& chain, double spacing);
  explicit RadialTable(const RadialChain& chain) : RadialTable(chain, spacing_for(chain)) {}

  int64_t outputs() const noexcept { return outputs_; }
  double cutoff() const noexcept { return cutoff_; }

  /// w(r) of one length into `value` (outputs() entries), and dw/dr into `slope` unless it is
  /// null. For kernels that interpolate each edge's weights where they use them instead of
  /// storing every edge's (edge_convolution.hpp, tabulated_messages).
  template <typename T>
  void row(T r, T* value, T* slope = nullptr) const;

 private:
  template <typename T>
  const std::vector<T>& nodes() const;

  int64_t outputs_ = 0;
  int64_t intervals_ = 0;
  double cutoff_ = 0.0;
  double spacing_ = 0.0;
  // Per node k (k = 0 .. intervals): w, h w', h^2 w'' (outputs each), h the spacing.
  std::vector<double> nodes_f64_;
  std::vector<float> nodes_f32_;
};

}  // namespace matnn::potentials::nequip
