// Several structures as one graph: the input of every interatomic potential.
//
// Edges come from a full neighbour list (both directions), sorted by center atom: edge e links
// the center atom edge_center[e] to its neighbour edge_neighbor[e], and its vector is
//
//     edge_vectors[e] = (r_j - r_i + S . cell) (I + strain[s])          (row vectors, Angstrom)
//
// where s is the structure of the edge. `positions` (n_atoms x 3) and `strain` (n_structures x
// 3 x 3, zero) are leaves that require grad, so a model that reads positions only through
// edge_vectors is translation invariant by construction, and
//     forces = -dE/d(positions),   stress = (1/V) dE/d(strain)   (ASE's sign convention)
// come out of one reverse pass. The strain enters every periodic image consistently because
// the shift S . cell is strained with the positions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "autodiff/tensor.hpp"
#include "matnn/structure.hpp"

namespace matnn::potentials {

struct AtomGraph {
  std::int64_t n_atoms = 0;
  std::int64_t n_structures = 0;
  std::int64_t n_edges = 0;
  ad::DType dtype = ad::DType::f32;
  double cutoff = 0.0;

  std::vector<std::int32_t> species;   ///< per atom: index into the model's species list
  ad::Index species_index;             ///< the same, shareable by gather ops
  ad::Index atom_structure;            ///< per atom: its structure
  std::vector<std::int64_t> atom_offsets;  ///< n_structures + 1: atoms of structure s are [off[s], off[s+1])

  ad::Index edge_center;               ///< per edge: i (sorted ascending)
  ad::Index edge_neighbor;             ///< per edge: j
  ad::Index edge_structure;            ///< per edge: its structure
  std::vector<std::int64_t> center_offsets;  ///< n_atoms + 1: edges of center i are [off[i], off[i+1])

  ad::Tensor positions;                ///< n_atoms x 3, requires grad
  ad::Tensor strain;                   ///< n_structures x 3 x 3 zeros, requires grad
  ad::Tensor edge_vectors;             ///< n_edges x 3, differentiable in positions and strain
  std::vector<double> volumes;         ///< per structure, Angstrom^3 (0 when not fully periodic)
  /// When GraphOptions left environments out: per atom, its hops from the nearest atom of
  /// nonzero energy weight (GraphOptions::layers when that many or more). A message-passing
  /// model then needs layer k's features (k = 1 .. L) only where hops <= L - k. Else empty.
  std::vector<int32_t> hops;
  /// GraphOptions::inference: the edge vectors are leaves, and only first derivatives are taken.
  bool inference = false;
};

/// Builds the graph of `structures` for a model with atomic numbers `species_z` (the model's
/// species list, in the model's order) and the given cutoff. Throws matnn::Error:
/// MATNN_ERROR_UNKNOWN_ELEMENT for an atom whose element the model does not know (naming
/// structure, atom and element), MATNN_ERROR_GEOMETRY for two atoms closer than 1e-6 Angstrom
/// or more than 4096 neighbours per atom (a periodic cell far smaller than the cutoff),
/// and whatever Structure::validate() and the neighbour list throw.
AtomGraph build_graph(std::span<const Structure* const> structures, const std::vector<int>& species_z, double cutoff,
                      ad::DType dtype);

/// A neighbour list the host already has (LAMMPS, a KIM simulator), in CSR form over the atoms
/// of one structure given as explicit, non-periodic positions (a rank's own atoms and its
/// ghosts): the candidates of atom i are neighbors[offsets[i]] .. neighbors[offsets[i + 1] - 1].
/// Candidates at or beyond the cutoff are dropped (hosts' lists carry a skin). An atom without
/// candidates gets no edges: a host leaves out the ghosts whose environments it does not need.
struct HostNeighbors {
  std::span<const int> offsets;    ///< n_atoms + 1 values, offsets[0] = 0, non-decreasing
  std::span<const int> neighbors;  ///< offsets[n_atoms] atom indices
  bool empty() const noexcept { return offsets.empty(); }
};

/// How the graph of one evaluation may be built.
struct GraphOptions {
  /// The host's neighbours instead of matnn's own search (empty: search).
  HostNeighbors neighbors{};
  /// Environments that cannot matter are left out: when some of these per-atom energy weights
  /// are 0 (a domain-decomposed rank's ghosts, a block's halo), an atom `layers` or more hops
  /// (edges shorter than the cutoff) from every weighted atom gets no edges. With L message-
  /// passing layers a weighted energy reads nothing of such an atom but its species, so the
  /// energy and every force are unchanged; the work on far ghosts goes. Empty: keep all.
  std::span<const double> energy_weights{};
  int layers = 1;
  /// Inference (Potential::compute): nothing differentiates the energy twice or in the
  /// parameters, and forces and stress are formed from dE/d(edge vectors). The edge vectors are
  /// then leaves that require gradients, not functions of positions and strain (a broadcast
  /// product and two gathers per edge fewer), and models may use their inference forms (the
  /// NequIP-style model's tabulated radial networks). Training, which differentiates through
  /// positions and strain, keeps the full graph.
  bool inference = false;
};

/// The graph of one structure as `options` say. Throws what build_graph throws, and, for host
/// neighbours, MATNN_ERROR_INVALID_ARGUMENT for a periodic structure or a malformed list
/// (offsets of the wrong length or decreasing, an index out of range, an atom listed as its own
/// neighbour or twice for one centre), naming the atom.
AtomGraph build_graph(const Structure& structure, const std::vector<int>& species_z, double cutoff, ad::DType dtype,
                      const GraphOptions& options);

/// Per-atom virials: n_atoms x 6, Voigt (xx yy zz yz xz xy), eV.
using AtomVirials = Eigen::Matrix<double, Eigen::Dynamic, 6, Eigen::RowMajor>;

/// Forces and virials from the gradient of an energy with respect to the edge vectors,
/// dE/d(edge_vectors) (n_edges x 3, row-major), by the chain rule through the definition above:
///     forces_i = sum_{e: center i} g_e - sum_{e: neighbour i} g_e,
///     virial[s]_ab = dE/d(strain[s])_ab = sum_{e in s} d_e,a g_e,b.
/// With `atom_virials`, each edge's symmetrised d_e (x) g_e is also shared half and half between
/// its two atoms (as LAMMPS tallies a pair's virial): the per-atom virials then sum to the
/// symmetrised structure virials. The split is a convention (no per-atom virial of a many-body
/// energy is unique); this one is local, and a domain-decomposed host that adds ghost atoms'
/// shares to their owners gets the same per-atom virials as one whole evaluation.
struct EdgeGradientResult {
  Positions forces;                      ///< n_atoms x 3, eV/Angstrom
  std::vector<Eigen::Matrix3d> virials;  ///< per structure, eV
  AtomVirials atom_virials;              ///< n_atoms x 6 when asked for, else empty
};
EdgeGradientResult forces_from_edge_gradient(const AtomGraph& graph, std::span<const double> edge_gradient,
                                             bool atom_virials = false);

/// The checks build_graph makes of one structure, without building anything: Structure::validate(),
/// every element known to the model, at most 4096 neighbours per atom within `cutoff`, no two
/// atoms closer than 1e-6 Angstrom. Messages name the atom, not the structure, so a caller that
/// knows the structure's file and index can say so (the data jobs check whole datasets this way
/// before training or evaluating).
void check_structure(const Structure& structure, const std::vector<int>& species_z, double cutoff);

/// Only the element check of check_structure(): every atom's element is one of `species_z`
/// (MATNN_ERROR_UNKNOWN_ELEMENT naming the atom). Needs no neighbour list, so it suits cells too
/// large for one.
void check_elements(const Structure& structure, const std::vector<int>& species_z);

/// Convenience for one structure.
AtomGraph build_graph(const Structure& structure, const std::vector<int>& species_z, double cutoff, ad::DType dtype);

}  // namespace matnn::potentials
