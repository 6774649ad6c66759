// Neighbour lists: every pair of atoms (including periodic images) closer than a cutoff.
//
// Built with cell lists (binning), so the cost is O(N) in the number of atoms at fixed density.
// Works for any periodicity (fully periodic, slabs, wires, molecules), triclinic and strongly
// skewed cells, cutoffs larger than the cell (several images of the same atom, including of
// itself), and positions outside the cell.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "matnn/structure.hpp"

namespace matnn {

enum class NeighborListKind {
  /// Every pair in both directions: (i, j, S) and (j, i, -S).
  full,
  /// Every unordered pair once; see NeighborList for the rule.
  half,
};

/// A list of pairs (i, j, S), stored as three parallel arrays.
///
/// Pair p says that atom `second[p]` displaced by the lattice translation
/// `shifts[p][0] * a + shifts[p][1] * b + shifts[p][2] * c` (a, b, c the rows of Structure::cell)
/// lies within the cutoff of atom `first[p]`. The vector from i to that neighbour is
///
///     r_ij = r_j - r_i + S[0] * a + S[1] * b + S[2] * c
///
/// where r_i, r_j are the positions exactly as the caller gave them (not wrapped into the cell),
/// so r_ij is the true vector whatever the positions were. Shifts along non-periodic axes are
/// always 0; the cell rows of non-periodic axes are never used (they may be zero).
///
/// Contents:
/// - every pair with 0 <= |r_ij| < cutoff (strictly less) is present, except the self pair
///   (i, i, S = 0), which is never present;
/// - a periodic image of an atom itself, (i, i, S != 0), is an ordinary pair;
/// - two different atoms at the same place give a pair with |r_ij| == 0: the list reports it and
///   the caller decides whether overlapping atoms are an error.
///
/// Kinds:
/// - full: (i, j, S) is present if and only if (j, i, -S) is;
/// - half: of the two, only the one with i < j is kept; for images of the same atom (i == j) the
///   one whose shift is lexicographically positive (first non-zero of S[0], S[1], S[2] is > 0).
///
/// Order: pairs are sorted by first, then second, then shift (lexicographically). For a full
/// list, the neighbours of atom i are therefore the contiguous range
/// [offsets[i], offsets[i + 1]) where offsets = neighbor_offsets(list, natoms): the list is a
/// CSR matrix with `first` as the (expanded) row index. The order is deterministic: it does not
/// depend on the number of OpenMP threads.
struct NeighborList {
  std::vector<std::int32_t> first;                   ///< i
  std::vector<std::int32_t> second;                  ///< j
  std::vector<std::array<std::int32_t, 3>> shifts;   ///< S, in units of the cell rows
  double cutoff = 0.0;                               ///< the cutoff it was built with, Angstrom
  NeighborListKind kind = NeighborListKind::full;

  std::size_t size() const noexcept { return first.size(); }
  bool empty() const noexcept { return first.empty(); }
};

/// Builds the list of pairs closer than `cutoff` (Angstrom). See NeighborList for the contents.
///
/// Throws matnn::Error:
/// - MATNN_ERROR_INVALID_ARGUMENT: cutoff <= 0 or not finite;
/// - MATNN_ERROR_FORMAT: positions rows != numbers.size();
/// - MATNN_ERROR_NON_FINITE: NaN or infinity in positions or cell;
/// - MATNN_ERROR_SINGULAR_CELL: the lattice vectors of the periodic axes are zero or linearly
///   dependent (the cell rows of non-periodic axes are ignored and may be zero);
/// - MATNN_ERROR_GEOMETRY: the cutoff is so many times larger than a periodic layer spacing that
///   more than 10^8 images would have to be scanned per atom, or an atom lies more than 2^29
///   cells outside the cell along a periodic axis (its shifts would not fit in 32 bits), or
///   (when `max_neighbors_per_atom` > 0) the density of the atoms predicts more than twice that
///   many neighbours per atom: refused from the estimate, before the list is allocated.
///
/// Cost: O(N) at fixed density; memory: the list (20 bytes per pair) plus about 100 bytes per
/// atom. Uses OpenMP threads across atoms when the list is large enough to gain from them; the
/// result is the same for any number of threads.
NeighborList build_neighbor_list(const Structure& s, double cutoff,
                                 NeighborListKind kind = NeighborListKind::full,
                                 std::size_t max_neighbors_per_atom = 0);

/// size() x 3, Angstrom, row-major (the same memory layout as Positions).
using PairVectors = Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>;

/// The pair vectors r_ij = r_j - r_i + S . cell of a list, one row per pair.
/// Throws MATNN_ERROR_INVALID_ARGUMENT if the list's arrays disagree in length or name atoms
/// that `s` does not have.
PairVectors pair_vectors(const Structure& s, const NeighborList& list);

/// The lengths of pair vectors (Angstrom), one per row.
Eigen::VectorXd pair_distances(const PairVectors& vectors);

/// CSR row offsets of a list sorted by `first` (every list from build_neighbor_list is):
/// natoms + 1 entries; pairs whose first atom is i are [offsets[i], offsets[i + 1]).
/// Throws MATNN_ERROR_INVALID_ARGUMENT if a first index is outside [0, natoms) or unsorted.
std::vector<std::int64_t> neighbor_offsets(const NeighborList& list, std::size_t natoms);

}  // namespace matnn
