// The fused equivariant convolution of the NequIP-style model, as one differentiable op family.
//
// The convolution of node features H with edge harmonics Y under per-edge weights W, summed
// into each centre, is one slot of the multilinear form
//
//     S(H, Y, W, G) = sum_e sum_paths p sum_c sum_{(a, b, o, k) in p}
//                     k * H[nbr(e), a, c] * Y[e, b] * W[e, p, c] * G[ctr(e), o, c]
//
// where (a, b, o, k) runs over the non-zero Clebsch-Gordan coefficients k of path p: input row a
// (a component of an input irrep), harmonic column b, output row o. The messages are
// M = dS/dG; the gradients that forces and training need are the other partials dS/dH,
// dS/dY and dS/dW, each linear in the three remaining arguments. The reverse of any partial is
// again a partial: d<U, dS/dX>/dZ = dS/dZ with X's slot filled by U. So one kernel per slot
// serves the forward pass, forces, stress and the force-training double backward, and every
// order of derivative stays in these four kernels.
//
// The kernels walk the edges of one centre (messages) or one neighbour (feature gradient) at a
// time, with the channels innermost and contiguous; nothing of size edges x paths x components
// x channels is ever stored. Per edge, only Y ((l_max + 1)^2 values) and W (paths x channels)
// exist, both produced by the caller; in inference W is interpolated from the radial table inside
// the kernels (tabulated_messages), so only Y and the edge length are.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "autodiff/tensor.hpp"

namespace matnn::potentials::nequip {

class RadialTable;

/// The non-zero coupling coefficients of every path, grouped by path.
struct CouplingTable {
  struct Entry {
    int32_t in_row;   ///< row a of H (component of an input irrep, packed)
    int32_t sh_col;   ///< column b of Y
    int32_t out_row;  ///< row o of G and of the messages (component of a path output, packed)
    double coefficient;
  };
  /// The orders in which the kernels walk each path's entries: runs of one output row, input row
  /// or harmonic column are accumulated in registers and written once.
  enum Order { by_out_row = 0, by_in_row = 1, by_sh_col = 2 };

  int64_t in_rows = 0;   ///< D_in: rows of H per atom
  int64_t out_rows = 0;  ///< D_out: rows of the messages per atom
  int64_t sh_cols = 0;   ///< columns of Y
  std::vector<Entry> entries;            ///< all paths' entries, path after path
  std::vector<int64_t> path_offsets;     ///< num_paths + 1: entries of path p are [off[p], off[p+1])
  int64_t num_paths() const noexcept { return static_cast<int64_t>(path_offsets.size()) - 1; }

  /// Fills `ordered` and `coefficients_f32` from `entries` and `path_offsets`; call once they
  /// are complete.
  void prepare();
  std::array<std::vector<Entry>, 3> ordered;            ///< the entries, sorted within each path by Order
  std::array<std::vector<float>, 3> coefficients_f32;   ///< their coefficients in float32
};

/// Edges grouped both ways: by centre (the graph's order) and by neighbour (a permutation), so
/// that both scatters are race-free loops over their target atoms.
///
/// The messages have a row per centre and the features a row per source atom, and the two counts
/// may differ: a layer whose outputs are needed only on the first n_centers atoms (the atoms
/// nearest the ones whose energies count, ordered first) reads features of the n_sources >=
/// n_centers atoms those centres' neighbours can be, and produces nothing for the rest.
struct EdgeTopology {
  int64_t n_centers = 0;  ///< rows of the messages (and of their gradient)
  int64_t n_sources = 0;  ///< rows of the features (and of their gradient)
  int64_t n_edges = 0;
  std::vector<int32_t> center, neighbor;       ///< per edge
  std::vector<int64_t> center_offsets;         ///< n_centers + 1 (edges sorted by centre)
  std::vector<int64_t> neighbor_offsets;       ///< n_sources + 1, into by_neighbor
  std::vector<int32_t> by_neighbor;            ///< edges sorted by neighbour

  /// Fails unless `center` is sorted, every centre is in [0, n_centers) and every neighbour in
  /// [0, n_sources).
  EdgeTopology(int64_t n_centers, int64_t n_sources, std::vector<int32_t> center, std::vector<int32_t> neighbor);
  /// Centres and sources the same n_atoms atoms.
  EdgeTopology(int64_t n_atoms, std::vector<int32_t> center, std::vector<int32_t> neighbor)
      : EdgeTopology(n_atoms, n_atoms, std::move(center), std::move(neighbor)) {}
};

/// The four arguments of S. Shapes: features (n_sources, D_in, c), harmonics (n_edges, sh_cols),
/// weights (n_edges, num_paths, c), messages (n_centers, D_out, c); one dtype.
enum class ConvolutionSlot { features = 0, harmonics = 1, weights = 2, messages = 3 };

/// dS / d(args[wanted]): args[wanted] is ignored (may be undefined), the other three must be
/// given. Differentiable to any order in the three inputs (see the file comment).
ad::Tensor convolution_partial(const std::shared_ptr<const CouplingTable>& table,
                               const std::shared_ptr<const EdgeTopology>& topology, ConvolutionSlot wanted,
                               const std::array<ad::Tensor, 4>& args);

/// The messages dS/dG with W interpolated from `radial` (radial_table.hpp) at the edge lengths
/// (n_edges, 1), edge by edge inside the kernels, so no edge's weights are stored: inference.
/// The table's outputs are W[e] (num_paths x c). Differentiable once, in the features, harmonics
/// and lengths (forces and stress); a recorded backward is MATNN_ERROR_INTERNAL.
ad::Tensor tabulated_messages(const std::shared_ptr<const CouplingTable>& table,
                              const std::shared_ptr<const EdgeTopology>& topology,
                              const std::shared_ptr<const RadialTable>& radial, const ad::Tensor& features,
                              const ad::Tensor& harmonics, const ad::Tensor& lengths);

}  // namespace matnn::potentials::nequip
