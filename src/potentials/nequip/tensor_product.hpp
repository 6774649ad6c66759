// The weighted Clebsch-Gordan tensor product of node features with edge spherical harmonics,
// summed over neighbours: the convolution of NequIP ("uvu" paths: each channel keeps its own
// weight per path).
//
// A path couples input irrep (l1, p1) with the harmonic Y^l2 into (l3, p3), for every
// |l1 - l2| <= l3 <= l1 + l2 with (l3, p3) among the requested outputs, where p3 = p1 (-1)^l2
// (the harmonic Y^l2 has parity (-1)^l2) when parity is on, and p = 0 throughout without it.
// For a centre i, channel c and path p the message is
//     m[i, k, c] = scale * sum_{e: centre i} w[e, p, c] sum_ab C_{l1 l2 l3}[a, b, k] x[nbr(e), a, c] Y^l2[e, b].
//
// Layout. The input irreps that have paths are packed along the component axis into one
// (n, D_in, c) tensor (pack()); the messages of all paths come out side by side as one
// (n, D_out, c) tensor, path after path, and collect() regroups them by output irrep. The work
// is one fused op (edge_convolution.hpp) over the non-zero coefficients only.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "autodiff/tensor.hpp"
#include "potentials/nequip/edge_convolution.hpp"
#include "potentials/nequip/irreps.hpp"

namespace matnn::potentials::nequip {

struct TensorProductPath {
  Irrep in;
  int l_sh = 0;
  Irrep out;
};

class TensorProduct {
 public:
  /// `inputs`: irreps of x; `outputs`: irreps to produce (paths to other irreps are dropped);
  /// `scale` multiplies every path (folded into the coefficients).
  TensorProduct(const std::vector<Irrep>& inputs, int sh_l_max, const std::vector<Irrep>& outputs, bool parity,
                double scale = 1.0);

  /// Paths ordered by input irrep, then l2, then output irrep: the order of the weights.
  const std::vector<TensorProductPath>& paths() const noexcept { return paths_; }
  int64_t num_paths() const noexcept { return static_cast<int64_t>(paths_.size()); }
  /// Output irreps that at least one path reaches, with the number of paths into each.
  const std::map<Irrep, int>& output_counts() const noexcept { return output_counts_; }
  const std::shared_ptr<const CouplingTable>& coupling_table() const noexcept { return table_; }

  /// The input irreps that have paths, (n, 2 l1 + 1, c) each, packed into (n, D_in, c).
  ad::Tensor pack(const Features& x) const;
  /// Messages (n, D_out, c) of packed features (n, D_in, c), harmonics (E, (sh_l_max + 1)^2)
  /// and weights (E, num_paths(), c) over the edges of `topology`.
  ad::Tensor convolve(const ad::Tensor& packed, const ad::Tensor& harmonics, const ad::Tensor& weights,
                      const std::shared_ptr<const EdgeTopology>& topology) const;
  /// Per output irrep o, the messages of the paths into o concatenated along the channel axis
  /// in path order: (n, 2 l3 + 1, c * output_counts()[o]).
  Features collect(const ad::Tensor& messages) const;

 private:
  std::vector<TensorProductPath> paths_;
  std::map<Irrep, int> output_counts_;
  std::vector<std::pair<Irrep, int64_t>> packed_inputs_;  // irrep, first row in the packed features
  std::vector<int64_t> path_rows_;                        // per path: first row of its messages
  std::shared_ptr<const CouplingTable> table_;
};

}  // namespace matnn::potentials::nequip
