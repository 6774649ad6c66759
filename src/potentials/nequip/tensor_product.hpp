// The weighted Clebsch-Gordan tensor product of node features with edge spherical harmonics,
// the convolution of NequIP ("uvu" paths: each channel keeps its own weight per path).
//
// A path couples input irrep (l1, p1) with the harmonic Y^l2 into (l3, p3), for every
// |l1 - l2| <= l3 <= l1 + l2 with (l3, p3) among the requested outputs, where p3 = p1 (-1)^l2
// (the harmonic Y^l2 has parity (-1)^l2) when parity is on, and p = 0 throughout without it.
// For an edge e and channel c the path's output is
//     out[e, k, c] = w[e, path, c] * scale * sum_ij C_{l1 l2 l3}[i, j, k] x[e, i, c] Y^l2[e, j].
//
// Batching. Inside, edge tensors are turned edge-last by one 2-D transpose ((E, d c) -> (d c, E)),
// so every elementwise op runs over long contiguous rows of E values. The paths of one input
// irrep form a group and are evaluated together:
//   1. outer product x (d1, 1, c, E) * Y (1, n_y, 1, E) -> (d1, n_y, c, E) over the needed range
//      of harmonics (n_y components), one broadcast mul;
//   2. one GEMM of the group's block Clebsch-Gordan matrix (d1 n_y, width)^T, whose columns are
//      all the group's path outputs side by side, with the (d1 n_y, c E) view -> (width, c E);
//   3. the per-path weights (P_g, c E) spread over each path's columns by a tiny 0/1 GEMM and
//      multiplied in;
//   4. one transpose back to (E, width, c).
// So a group costs a fixed handful of ops whatever its number of paths; the caller sums the
// (E, width, c) result over neighbours, and collect() slices the paths apart on the much
// smaller node tensors.
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"
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

  /// x: (E, 2 l1 + 1, c) per input irrep (irreps without paths are ignored). Edge-last inputs:
  /// sh_t ((l_sh_max+1)^2, E), the transposed harmonics; weights_t (num_paths(), c, E), or
  /// undefined for all ones (the model produces both directly in this layout, so that no
  /// transpose is needed). Returns one (E, width_g, c) tensor per group.
  std::vector<ad::Tensor> forward(const Features& x, const ad::Tensor& sh_t, const ad::Tensor& weights_t) const;

  /// From group outputs (possibly reduced to other row counts, e.g. summed over neighbours:
  /// (n, width_g, c)), per output irrep o the outputs of the paths into o concatenated along
  /// the channel axis in path order: (n, 2 l3 + 1, c * output_counts()[o]).
  Features collect(const std::vector<ad::Tensor>& group_outputs) const;

 private:
  struct Group {
    Irrep in;
    int64_t path_begin = 0, path_end = 0;
    int sh_lo = 0, sh_hi = 0;          // harmonics l in [sh_lo, sh_hi] are used
    int64_t width = 0;                 // sum of the paths' output dims
    std::vector<int64_t> offsets;      // per path of the group: first column
    ad::Tensor cg32, cg64;             // (d1 * n_y, width)
    ad::Tensor expand32, expand64;     // (n_paths_g, width) 0/1
  };
  std::vector<TensorProductPath> paths_;
  std::vector<Group> groups_;
  std::map<Irrep, int> output_counts_;
  int sh_l_max_;
};

}  // namespace matnn::potentials::nequip
