#include "matnn/structure.hpp"

#include <cmath>

#include <Eigen/Dense>

#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn {

double Structure::volume() const noexcept { return std::abs(cell.determinant()); }

Positions Structure::scaled_positions() const {
  // Solve s * cell = r for each row s: s = r * cell^-1.
  const Eigen::Matrix3d inverse = cell.inverse();
  return positions * inverse;
}

void Structure::validate() const {
  if (positions.rows() != static_cast<Eigen::Index>(numbers.size())) {
    fail(MATNN_ERROR_FORMAT, "structure has {} atomic numbers but {} positions", numbers.size(),
         positions.rows());
  }
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (!is_known_atomic_number(numbers[i])) {
      fail(MATNN_ERROR_UNKNOWN_ELEMENT, "atom {} has unknown atomic number {}", i, numbers[i]);
    }
    if (!positions.row(static_cast<Eigen::Index>(i)).allFinite()) {
      fail(MATNN_ERROR_NON_FINITE, "atom {} has a non-finite position", i);
    }
  }
  if (!cell.allFinite()) fail(MATNN_ERROR_NON_FINITE, "cell has non-finite entries");

  // Periodic axes need lattice vectors that span a non-degenerate lattice. The test is relative
  // to the vectors' lengths so that it does not depend on the unit of length.
  const char* axis_name = "abc";
  double scale = 1.0;
  int n_periodic = 0;
  for (int k = 0; k < 3; ++k) {
    if (!pbc[k]) continue;
    ++n_periodic;
    const double length = cell.row(k).norm();
    if (length == 0.0) {
      fail(MATNN_ERROR_SINGULAR_CELL, "cell vector {} is zero but the structure is periodic along it",
           axis_name[k]);
    }
    scale *= length;
  }
  if (n_periodic == 0) return;
  constexpr double tolerance = 1e-10;
  if (n_periodic == 3 && std::abs(cell.determinant()) <= tolerance * scale) {
    fail(MATNN_ERROR_SINGULAR_CELL, "cell is singular (volume {:.3g} A^3): lattice vectors are linearly dependent",
         cell.determinant());
  }
  if (n_periodic == 2) {
    int a = -1, b = -1;
    for (int k = 0; k < 3; ++k) {
      if (pbc[k]) (a < 0 ? a : b) = k;
    }
    const Vec3 va = cell.row(a).transpose();
    const Vec3 vb = cell.row(b).transpose();
    if (va.cross(vb).norm() <= tolerance * scale) {
      fail(MATNN_ERROR_SINGULAR_CELL, "periodic cell vectors {} and {} are parallel", axis_name[a], axis_name[b]);
    }
  }
}

Composition Structure::composition() const {
  std::map<int, double> counts;
  for (int z : numbers) counts[z] += 1.0;
  return Composition(std::move(counts));
}

Structure make_supercell(const Structure& s, const std::array<int, 3>& n) {
  for (int k = 0; k < 3; ++k) {
    if (n[k] < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "supercell repetition {} along axis {} must be >= 1", n[k], k);
  }
  const std::size_t copies = static_cast<std::size_t>(n[0]) * n[1] * n[2];
  Structure out;
  out.pbc = s.pbc;
  out.numbers.reserve(s.size() * copies);
  out.positions.resize(static_cast<Eigen::Index>(s.size() * copies), 3);
  Eigen::Index row = 0;
  // Same atom order as ASE's Atoms.repeat: the image index varies slowest, atoms fastest.
  for (int i = 0; i < n[0]; ++i) {
    for (int j = 0; j < n[1]; ++j) {
      for (int k = 0; k < n[2]; ++k) {
        const Eigen::RowVector3d shift = i * s.cell.row(0) + j * s.cell.row(1) + k * s.cell.row(2);
        for (std::size_t a = 0; a < s.size(); ++a, ++row) {
          out.numbers.push_back(s.numbers[a]);
          out.positions.row(row) = s.positions.row(static_cast<Eigen::Index>(a)) + shift;
        }
      }
    }
  }
  for (int k = 0; k < 3; ++k) out.cell.row(k) = s.cell.row(k) * n[k];
  return out;
}

}  // namespace matnn
