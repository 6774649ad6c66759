#include "potentials/atom_blocks.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Geometry>
#include <Eigen/LU>

#include "matnn/error.hpp"

namespace matnn::potentials {
namespace {

long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

BlockPlan::BlockPlan(const Structure& structure, double range, std::size_t target_atoms) : structure_(structure) {
  const std::size_t n = structure.size();
  if (!structure.fully_periodic() || n <= target_atoms || target_atoms == 0) return;
  const Cell& cell = structure.cell;
  const double volume = structure.volume();
  // Distance between the lattice planes normal to each axis: a range of `range` Angstrom is
  // range / spacing in fractional units along that axis.
  std::array<double, 3> spacing{};
  for (int k = 0; k < 3; ++k) {
    const Vec3 a = cell.row((k + 1) % 3).transpose(), b = cell.row((k + 2) % 3).transpose();
    spacing[static_cast<std::size_t>(k)] = volume / a.cross(b).norm();
  }
  // Near-cubic blocks: the edge that holds target_atoms at the structure's mean density.
  const double edge = std::cbrt(volume * static_cast<double>(target_atoms) / static_cast<double>(n));
  for (std::size_t k = 0; k < 3; ++k) {
    grid_[k] = std::max(1L, std::lround(spacing[k] / edge));
    padding_[k] = range / spacing[k];
  }
  if (size() == 1) return;

  const Eigen::Matrix3d inverse = cell.inverse();
  wrapped_.resize(static_cast<Eigen::Index>(n), 3);
  shift_.resize(n);
  bins_.assign(size(), {});
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    const Eigen::RowVector3d f = structure.positions.row(row) * inverse;
    std::array<long, 3> bin{};
    for (std::size_t k = 0; k < 3; ++k) {
      const double whole = std::floor(f[static_cast<Eigen::Index>(k)]);
      double w = f[static_cast<Eigen::Index>(k)] - whole;
      if (w >= 1.0) w = 0.0;  // -1e-17 wraps to 1.0 in floating point
      wrapped_(row, static_cast<Eigen::Index>(k)) = w;
      shift_[i][k] = static_cast<long>(whole);
      bin[k] = std::min(grid_[k] - 1, static_cast<long>(w * static_cast<double>(grid_[k])));
    }
    bins_[static_cast<std::size_t>((bin[0] * grid_[1] + bin[1]) * grid_[2] + bin[2])].push_back(i);
  }
}

AtomBlock BlockPlan::block(std::size_t index) const {
  AtomBlock out;
  if (size() == 1) {
    out.cluster = structure_;
    out.owned = structure_.size();
    out.original.resize(structure_.size());
    for (std::size_t i = 0; i < out.original.size(); ++i) out.original[i] = i;
    return out;
  }
  const auto id = static_cast<long>(index);
  const std::array<long, 3> b{id / (grid_[1] * grid_[2]), (id / grid_[2]) % grid_[1], id % grid_[2]};
  std::array<double, 3> lo{}, hi{};
  std::array<long, 3> reach{};
  for (std::size_t k = 0; k < 3; ++k) {
    lo[k] = static_cast<double>(b[k]) / static_cast<double>(grid_[k]);
    hi[k] = static_cast<double>(b[k] + 1) / static_cast<double>(grid_[k]);
    reach[k] = static_cast<long>(std::ceil(padding_[k] * static_cast<double>(grid_[k])));
  }
  std::vector<Eigen::RowVector3d> positions;
  // Owned atoms first: their own wrapped images.
  auto add = [&](std::size_t atom, const std::array<long, 3>& image) {
    const auto row = static_cast<Eigen::Index>(atom);
    // Original position plus whole lattice vectors, in float64: exact enough for any cell.
    Eigen::RowVector3d r = structure_.positions.row(row);
    for (std::size_t k = 0; k < 3; ++k) {
      r += static_cast<double>(image[k] - shift_[atom][k]) * structure_.cell.row(static_cast<Eigen::Index>(k));
    }
    positions.push_back(r);
    out.original.push_back(atom);
    out.cluster.numbers.push_back(structure_.numbers[atom]);
  };
  for (std::size_t atom : bins_[index]) add(atom, {0, 0, 0});
  out.owned = out.original.size();
  // Ghosts: images of the atoms in the blocks around this one whose fractional coordinates fall
  // in the padded box, the owned atoms' own images excluded.
  for (long d0 = -reach[0]; d0 <= reach[0]; ++d0) {
    for (long d1 = -reach[1]; d1 <= reach[1]; ++d1) {
      for (long d2 = -reach[2]; d2 <= reach[2]; ++d2) {
        const std::array<long, 3> cell{b[0] + d0, b[1] + d1, b[2] + d2};
        std::array<long, 3> image{}, wrapped{};
        for (std::size_t k = 0; k < 3; ++k) {
          image[k] = floor_div(cell[k], grid_[k]);
          wrapped[k] = cell[k] - image[k] * grid_[k];
        }
        const bool home = d0 == 0 && d1 == 0 && d2 == 0;
        if (home) continue;
        const auto& atoms = bins_[static_cast<std::size_t>((wrapped[0] * grid_[1] + wrapped[1]) * grid_[2] + wrapped[2])];
        for (std::size_t atom : atoms) {
          bool inside = true;
          for (std::size_t k = 0; k < 3 && inside; ++k) {
            const double f = wrapped_(static_cast<Eigen::Index>(atom), static_cast<Eigen::Index>(k)) +
                             static_cast<double>(image[k]);
            inside = f >= lo[k] - padding_[k] && f < hi[k] + padding_[k];
          }
          if (inside) add(atom, image);
        }
      }
    }
  }
  out.cluster.positions.resize(static_cast<Eigen::Index>(positions.size()), 3);
  for (std::size_t i = 0; i < positions.size(); ++i) out.cluster.positions.row(static_cast<Eigen::Index>(i)) = positions[i];
  return out;
}

}  // namespace matnn::potentials
