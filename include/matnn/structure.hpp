// An atomic structure as ASE's Atoms holds it: atomic numbers, Cartesian positions in
// Angstrom, a 3x3 cell whose rows are the lattice vectors, and a periodic flag per axis.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include <Eigen/Core>

#include "matnn/composition.hpp"

namespace matnn {

/// natoms x 3, row-major: the same memory as ASE's positions array and as Fortran's (3, natoms).
using Positions = Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>;
/// Rows are lattice vectors a, b, c in Angstrom, as ASE's Atoms.cell.
using Cell = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
using Vec3 = Eigen::Vector3d;

struct Structure {
  std::vector<int> numbers;             ///< atomic numbers, one per atom
  Positions positions{0, 3};            ///< Angstrom
  Cell cell = Cell::Zero();             ///< rows are lattice vectors, Angstrom
  std::array<bool, 3> pbc{false, false, false};

  std::size_t size() const noexcept { return numbers.size(); }
  bool any_periodic() const noexcept { return pbc[0] || pbc[1] || pbc[2]; }
  bool fully_periodic() const noexcept { return pbc[0] && pbc[1] && pbc[2]; }

  /// |det(cell)| in Angstrom^3.
  double volume() const noexcept;
  /// Positions in units of the cell vectors (requires a non-singular cell).
  Positions scaled_positions() const;

  /// Throws matnn::Error naming the problem if the structure cannot be used:
  /// sizes that disagree (MATNN_ERROR_FORMAT), an unknown atomic number (MATNN_ERROR_UNKNOWN_ELEMENT),
  /// NaN/inf in positions or cell (MATNN_ERROR_NON_FINITE), periodic axes whose lattice vectors are
  /// zero or linearly dependent (MATNN_ERROR_SINGULAR_CELL).
  void validate() const;

  Composition composition() const;
};

/// A fully periodic structure built by repeating `s` n[0] x n[1] x n[2] times (as ASE's atoms * (n0, n1, n2)).
Structure make_supercell(const Structure& s, const std::array<int, 3>& n);

}  // namespace matnn
