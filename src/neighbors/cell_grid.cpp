// Validation of the input, the effective cell, and the sorting of atoms into bins.
//
// Bin widths are measured perpendicular to the cell faces: along axis k the layer spacing is
// d_k = V / |a_i x a_j| = 1 / |column k of the inverse cell|. A periodic axis gets
// floor(d_k / cutoff) bins (at least 1); a non-periodic axis covers the extent of the atoms with
// floor(extent / cutoff) bins (at least 1). A bin is then at least `cutoff` wide unless the axis
// has a single bin, and the scan reaches ceil(cutoff / width) bins on either side, which on a
// periodic axis may be more than the number of bins: those are periodic images.

#include "cell_grid.hpp"

#include <algorithm>
#include <numbers>
#include <cmath>
#include <limits>

#include <Eigen/Geometry>
#include <Eigen/LU>

#include "matnn/error.hpp"

namespace matnn::neighbors_detail {
namespace {

constexpr const char* kAxis = "abc";

/// A unit vector orthogonal to the unit vector u.
Eigen::Vector3d orthogonal_unit(const Eigen::Vector3d& u) {
  // The Cartesian axis least aligned with u, made orthogonal to it.
  int k = 0;
  for (int m = 1; m < 3; ++m)
    if (std::abs(u[m]) < std::abs(u[k])) k = m;
  Eigen::Vector3d e = Eigen::Vector3d::Unit(k);
  e -= e.dot(u) * u;
  return e.normalized();
}

/// Rows on periodic axes: the caller's lattice vectors; rows on non-periodic axes: unit vectors
/// orthogonal to the periodic rows and to each other. Throws MATNN_ERROR_SINGULAR_CELL.
Eigen::Matrix3d effective_lattice(const Cell& cell, const std::array<bool, 3>& pbc) {
  // Relative tolerance for linear dependence: |det| / (|a| |b| |c|) is the sine-like volume ratio.
  constexpr double kTol = 1e-12;
  std::array<int, 3> periodic{}, open{};
  int np = 0, no = 0;
  for (int k = 0; k < 3; ++k) (pbc[k] ? periodic[np++] : open[no++]) = k;

  Eigen::Matrix3d L;
  for (int m = 0; m < np; ++m) {
    const int k = periodic[m];
    L.row(k) = cell.row(k);
    if (!(L.row(k).norm() > 0.0))
      fail(MATNN_ERROR_SINGULAR_CELL, "neighbour list: lattice vector {} of a periodic axis is zero",
           kAxis[k]);
  }
  if (np == 3) {
    const double scale = L.row(0).norm() * L.row(1).norm() * L.row(2).norm();
    if (!(std::abs(L.determinant()) > kTol * scale))
      fail(MATNN_ERROR_SINGULAR_CELL,
           "neighbour list: the lattice vectors of a fully periodic cell are linearly dependent");
  } else if (np == 2) {
    const Eigen::Vector3d a = L.row(periodic[0]), b = L.row(periodic[1]);
    const Eigen::Vector3d n = a.cross(b);
    if (!(n.norm() > kTol * a.norm() * b.norm()))
      fail(MATNN_ERROR_SINGULAR_CELL,
           "neighbour list: the lattice vectors {} and {} of the periodic axes are parallel",
           kAxis[periodic[0]], kAxis[periodic[1]]);
    L.row(open[0]) = n.normalized();
  } else if (np == 1) {
    const Eigen::Vector3d a = L.row(periodic[0]).normalized();
    const Eigen::Vector3d u = orthogonal_unit(a);
    L.row(open[0]) = u;
    L.row(open[1]) = a.cross(u);
  } else {
    L.setIdentity();
  }
  return L;
}

}  // namespace

CellGrid make_cell_grid(const Structure& s, double cutoff) {
  if (!std::isfinite(cutoff) || !(cutoff > 0.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbour list: the cutoff must be positive and finite, got {}",
         cutoff);
  const Positions& pos = s.positions;
  const std::int64_t n = pos.rows();
  if (static_cast<std::size_t>(n) != s.numbers.size())
    fail(MATNN_ERROR_FORMAT, "neighbour list: {} positions for {} atomic numbers", n,
         s.numbers.size());
  if (n > std::numeric_limits<std::int32_t>::max())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbour list: {} atoms exceed the 32-bit index range", n);
  if (!s.cell.allFinite())
    fail(MATNN_ERROR_NON_FINITE, "neighbour list: the cell contains NaN or infinity");
  for (std::int64_t i = 0; i < n; ++i)
    if (!pos.row(i).allFinite())
      fail(MATNN_ERROR_NON_FINITE, "neighbour list: the position of atom {} is not finite", i);

  CellGrid g;
  g.pbc = s.pbc;
  g.lattice = effective_lattice(s.cell, s.pbc);
  const Eigen::Matrix3d inv = g.lattice.inverse();
  std::array<double, 3> spacing{};
  for (int k = 0; k < 3; ++k) spacing[k] = 1.0 / inv.col(k).norm();

  // Fractional coordinates; wrap along periodic axes.
  std::vector<std::array<double, 3>> frac(static_cast<std::size_t>(n));
  g.wrap.assign(static_cast<std::size_t>(n), {0, 0, 0});
  std::array<double, 3> lo{0.0, 0.0, 0.0}, hi{1.0, 1.0, 1.0};
  for (int k = 0; k < 3; ++k)
    if (!g.pbc[k]) {
      lo[k] = std::numeric_limits<double>::infinity();
      hi[k] = -lo[k];
    }
  constexpr double kMaxWrap = 1 << 29;  // so that shifts t + n_i - n_j fit in 32 bits
  for (std::int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k) {
      double f = pos(i, 0) * inv(0, k) + pos(i, 1) * inv(1, k) + pos(i, 2) * inv(2, k);
      if (g.pbc[k]) {
        const double w = std::floor(f);
        if (!(std::abs(w) < kMaxWrap))
          fail(MATNN_ERROR_GEOMETRY, "neighbour list: atom {} lies {} cells outside the cell along {}",
               i, w, kAxis[k]);
        g.wrap[i][k] = static_cast<std::int32_t>(w);
        f -= w;
      } else {
        lo[k] = std::min(lo[k], f);
        hi[k] = std::max(hi[k], f);
      }
      frac[i][k] = f;
    }
  }
  if (n == 0) {
    lo = {0.0, 0.0, 0.0};
    hi = {0.0, 0.0, 0.0};
  }

  // Bins per axis, then fewer if the total would exceed a multiple of the number of atoms
  // (a dilute molecule spread over a large region, a tiny cutoff in a large cell).
  std::array<double, 3> span{};
  for (int k = 0; k < 3; ++k) {
    span[k] = hi[k] - lo[k];
    double ideal = std::floor(span[k] * spacing[k] / cutoff);
    if (!(ideal >= 1.0)) ideal = 1.0;
    g.nbins[k] = static_cast<std::int64_t>(std::min(ideal, double(1 << 20)));
  }
  const std::int64_t max_bins = std::max<std::int64_t>(64, 2 * n);
  while (g.nbins[0] * g.nbins[1] * g.nbins[2] > max_bins) {
    auto largest = std::max_element(g.nbins.begin(), g.nbins.end());
    *largest = std::max<std::int64_t>(1, *largest / 2);
  }

  std::array<double, 3> width{};  // of a bin in fractional units along each axis
  double scanned = 1.0;
  for (int k = 0; k < 3; ++k) {
    width[k] = span[k] > 0.0 ? span[k] / static_cast<double>(g.nbins[k]) : 1.0;
    double reach = std::ceil(cutoff / (width[k] * spacing[k]));
    if (!g.pbc[k]) reach = std::min(reach, static_cast<double>(g.nbins[k] - 1));
    scanned *= 2.0 * reach + 1.0;
    if (!(scanned <= 1e8))
      fail(MATNN_ERROR_GEOMETRY,
           "neighbour list: the cutoff {} is too large for the cell (layer spacing {} along {}): "
           "more than 10^8 periodic images to scan",
           cutoff, spacing[k], kAxis[k]);
    g.reach[k] = static_cast<std::int64_t>(reach);
  }

  g.bin_volume = std::abs(g.lattice.determinant());
  for (int k = 0; k < 3; ++k) {
    const double thickness = width[k] * spacing[k];  // Angstrom, perpendicular to the faces
    g.bin_volume *= (g.pbc[k] ? thickness : std::max(thickness, 4.0 / 3.0 * cutoff)) / spacing[k];
  }

  // Bin of every atom, then a stable counting sort by bin.
  const std::int64_t total_bins = g.nbins[0] * g.nbins[1] * g.nbins[2];
  g.bin.resize(static_cast<std::size_t>(n));
  std::vector<std::int64_t> linear(static_cast<std::size_t>(n));
  g.bin_start.assign(static_cast<std::size_t>(total_bins) + 1, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k) {
      double b = std::floor((frac[i][k] - lo[k]) / width[k]);
      b = std::clamp(b, 0.0, static_cast<double>(g.nbins[k] - 1));
      g.bin[i][k] = static_cast<std::int32_t>(b);
    }
    linear[i] = g.linear_bin(g.bin[i][0], g.bin[i][1], g.bin[i][2]);
    ++g.bin_start[linear[i] + 1];
  }
  for (std::int64_t b = 0; b < total_bins; ++b) g.bin_start[b + 1] += g.bin_start[b];
  std::vector<std::int64_t> next(g.bin_start.begin(), g.bin_start.end() - 1);
  for (auto& x : g.sorted_pos) x.resize(static_cast<std::size_t>(n));
  g.sorted_atom.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t slot = next[linear[i]]++;
    const Eigen::Vector3d r = g.wrapped_position(pos, i);
    for (int k = 0; k < 3; ++k) g.sorted_pos[k][slot] = r[k];
    g.sorted_atom[slot] = static_cast<std::int32_t>(i);
  }
  return g;
}

double estimated_neighbors_per_atom(const CellGrid& grid, double cutoff) {
  const auto n = static_cast<double>(grid.sorted_atom.size());
  if (n == 0.0 || !(grid.bin_volume > 0.0)) return 0.0;
  double sum_squares = 0.0;
  for (std::size_t b = 0; b + 1 < grid.bin_start.size(); ++b) {
    const auto count = static_cast<double>(grid.bin_start[b + 1] - grid.bin_start[b]);
    sum_squares += count * count;
  }
  return sum_squares / grid.bin_volume * (4.0 / 3.0) * std::numbers::pi * cutoff * cutoff * cutoff / n;
}

}  // namespace matnn::neighbors_detail
