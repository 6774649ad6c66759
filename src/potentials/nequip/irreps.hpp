// Feature layout of the NequIP-style equivariant model.
//
// An irrep (l, p) is the (2l+1)-dimensional representation of SO(3) with angular momentum l,
// and under inversion parity p = +1 ("e", even) or -1 ("o", odd); p = 0 marks a model that
// ignores parity (SO(3) only) and prints as plain "l". A vector of the edge direction is 1o, a
// scalar 0e, a pseudoscalar 0o, a pseudovector (cross product) 1e.
//
// Node features are a map irrep -> tensor of shape (n_atoms, 2l+1, channels): the m components
// (order m = -l..l, see spherical_harmonics.hpp) on the middle axis, the channels (the
// "multiplicity") last and contiguous. Channel mixing (the equivariant linear maps) then is one
// GEMM on the (n (2l+1), channels) view and never mixes m, so it commutes with rotations; gates
// are one broadcast product over m. The tensor product (tensor_product.hpp) takes the same
// layout per edge and works internally with the edge axis last.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/module.hpp"

namespace matnn::potentials::nequip {

struct Irrep {
  int l = 0;
  int p = 1;  ///< +1 even, -1 odd, 0 parity ignored (SO(3) model)

  int dim() const noexcept { return 2 * l + 1; }
  /// "0e", "1o", or "2" when p == 0.
  std::string name() const;
  bool operator==(const Irrep& o) const noexcept { return l == o.l && p == o.p; }
  /// Ascending l, then even before odd: 0e < 0o < 1e < 1o < ...
  bool operator<(const Irrep& o) const noexcept { return l != o.l ? l < o.l : p > o.p; }
};

/// Node (or edge) features: one (n, 2l+1, channels) tensor per irrep, ordered by Irrep::operator<.
using Features = std::map<Irrep, ad::Tensor>;

/// The irrep of the even (invariant) scalars: 0e, or 0 without parity.
inline Irrep scalar_irrep(bool parity) noexcept { return Irrep{0, parity ? 1 : 0}; }

/// Every irrep with l <= l_max: both parities when `parity`, else the p = 0 irreps.
std::vector<Irrep> all_irreps(int l_max, bool parity);

/// Mixes the channels of x (n, d, c_in) with w (c_in, c_out): out[n, m, k] = sum_c x[n, m, c] w[c, k].
/// Acts on the channel axis only (never mixes m), so it is equivariant for every irrep. One GEMM.
ad::Tensor channel_linear(const ad::Tensor& x, const ad::Tensor& w);

/// One channel-mixing matrix per irrep: parameters named by the irrep ("0e", "1o", ...) of
/// shape (c_in, c_out), initialised N(0, 1/c_in) so that unit-variance inputs give
/// unit-variance outputs. forward() maps every irrep it has a weight for and ignores the
/// others (an irrep without input contributes nothing).
class IrrepsLinear : public nn::Module {
 public:
  /// `sizes`: irrep -> (c_in, c_out). `gain` multiplies the initial standard deviation (for
  /// inputs of which only a fraction is non-zero, e.g. one-hot products).
  IrrepsLinear(const std::map<Irrep, std::pair<int64_t, int64_t>>& sizes, std::mt19937_64& rng, double gain = 1.0);

  Features forward_features(const Features& x) const;
  std::string type_name() const override { return "IrrepsLinear"; }
  const std::map<Irrep, ad::Tensor>& weights() const noexcept { return weights_; }

 private:
  std::map<Irrep, ad::Tensor> weights_;  // node-stable: registered by address
};

}  // namespace matnn::potentials::nequip
