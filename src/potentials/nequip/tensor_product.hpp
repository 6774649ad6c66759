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
// (n, D_in, c) tensor (pack()). The paths are grouped by output irrep, and each group is one
// fused op (edge_convolution.hpp) over the non-zero coefficients only, whose output is already
// what the next channel mixing takes: (n, 2 l3 + 1, paths x c), the group's paths side by side
// on the channel axis. So no message is ever sliced, copied or concatenated, in either direction.
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

/// The paths into one output irrep and their coupling table (output row m * paths + q for
/// component m of local path q).
struct OutputGroup {
  Irrep out;
  std::vector<int64_t> paths;  ///< indices into TensorProduct::paths(), ascending
  std::shared_ptr<const CouplingTable> table;
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
  /// One group per output irrep, in the order of output_counts().
  const std::vector<OutputGroup>& output_groups() const noexcept { return groups_; }

  /// The input irreps that have paths, (n, 2 l1 + 1, c) each, packed into (n, D_in, c).
  ad::Tensor pack(const Features& x) const;
  /// Messages of packed features (n_sources, D_in, c) and harmonics (E, (sh_l_max + 1)^2) over
  /// the edges of `topology`, with `weights[g]` (E, paths of group g, c) per output group: per
  /// output irrep o, (n_centers, 2 l3 + 1, c * output_counts()[o]), the paths into o side by side
  /// on the channel axis in path order.
  Features convolve(const ad::Tensor& packed, const ad::Tensor& harmonics, const std::vector<ad::Tensor>& weights,
                    const std::shared_ptr<const EdgeTopology>& topology) const;
  /// The same with each group's weights interpolated from `tables[g]` at the edge lengths (E, 1)
  /// inside the kernels (tabulated_messages): inference, differentiable once.
  Features convolve(const ad::Tensor& packed, const ad::Tensor& harmonics,
                    const std::vector<std::shared_ptr<const RadialTable>>& tables, const ad::Tensor& lengths,
                    const std::shared_ptr<const EdgeTopology>& topology) const;

 private:
  // The groups' messages, message(g) each, in the layout convolve() documents.
  template <typename Message>
  Features assemble(const ad::Tensor& packed, const EdgeTopology& topology, std::size_t weight_count,
                    Message message) const;

  std::vector<TensorProductPath> paths_;
  std::map<Irrep, int> output_counts_;
  std::vector<std::pair<Irrep, int64_t>> packed_inputs_;  // irrep, first row in the packed features
  std::vector<OutputGroup> groups_;
};

}  // namespace matnn::potentials::nequip
