// Internal to matnn_neighbors: the bin grid (cell list) behind build_neighbor_list.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "matnn/structure.hpp"

namespace matnn::neighbors_detail {

/// The vector from atom i to atom j displaced by S . cell, computed from the positions exactly as
/// given. The one formula used by the builder (for pairs within rounding of the cutoff),
/// by pair_vectors, so the two always agree on which side of the cutoff a pair lies.
inline void exact_pair_vector(const Positions& pos, const Cell& cell, std::int64_t i,
                              std::int64_t j, const std::array<std::int32_t, 3>& S,
                              double out[3]) {
  const double s0 = S[0], s1 = S[1], s2 = S[2];
  for (int k = 0; k < 3; ++k) {
    const double shift = (s0 * cell(0, k) + s1 * cell(1, k)) + s2 * cell(2, k);
    out[k] = (pos(j, k) - pos(i, k)) + shift;
  }
}

/// Atoms wrapped into the cell along periodic axes and sorted into bins.
///
/// The grid lives in the fractional coordinates of an "effective cell" `lattice`: its rows on
/// periodic axes are the caller's lattice vectors; its rows on non-periodic axes are unit vectors
/// orthogonal to the periodic ones and to each other, so the fractional coordinate along a
/// non-periodic axis is a length in Angstrom and the caller's cell rows there are never used.
struct CellGrid {
  Eigen::Matrix3d lattice;        ///< effective cell, rows
  std::array<bool, 3> pbc{};
  std::array<std::int64_t, 3> nbins{1, 1, 1};
  std::array<std::int64_t, 3> reach{0, 0, 0};  ///< bins to scan on either side along each axis

  // Per atom, in the caller's order.
  std::vector<std::array<std::int32_t, 3>> wrap;  ///< n: wrapped position = r - n . lattice
  std::vector<std::array<std::int32_t, 3>> bin;   ///< bin coordinates

  // Per atom, sorted by bin (stable: ascending atom index within a bin).
  std::vector<std::int64_t> bin_start;  ///< nbins_total + 1 offsets into the sorted arrays
  std::array<std::vector<double>, 3> sorted_pos;  ///< wrapped Cartesian x, y, z
  std::vector<std::int32_t> sorted_atom;

  /// Wrapped Cartesian position of atom i (caller's order).
  Eigen::Vector3d wrapped_position(const Positions& pos, std::int64_t i) const {
    Eigen::Vector3d r = pos.row(i).transpose();
    for (int k = 0; k < 3; ++k) r -= static_cast<double>(wrap[i][k]) * lattice.row(k).transpose();
    return r;
  }

  std::int64_t linear_bin(std::int64_t b0, std::int64_t b1, std::int64_t b2) const {
    return (b0 * nbins[1] + b1) * nbins[2] + b2;
  }

  /// Volume of one bin, Angstrom^3, for density estimates: a non-periodic axis counts at least
  /// 4/3 `cutoff` thick, so that a flat or linear group of atoms is not taken for a dense solid
  /// (the sphere's volume over that thickness is the disc a sheet's atom sees).
  double bin_volume = 0.0;
};

/// The mean number of neighbours within `cutoff` per atom that the local densities of the bins
/// predict: sum over bins of n_b * (n_b / V_bin) * (4/3) pi cutoff^3, over the atoms. About the
/// true count for uniform matter, within a small factor for surfaces and sheets; costs O(bins).
double estimated_neighbors_per_atom(const CellGrid& grid, double cutoff);

/// Validates the input (see build_neighbor_list for the errors thrown) and builds the grid.
CellGrid make_cell_grid(const Structure& s, double cutoff);

}  // namespace matnn::neighbors_detail
