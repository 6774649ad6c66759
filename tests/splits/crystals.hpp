// Small crystals and the operations that must not change their prototype label or their
// identity as a crystal (rotation, translation, atom order, supercell), for the symmetry and
// duplicate tests.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include <Eigen/Geometry>

#include "matnn/structure.hpp"

namespace matnn::test_crystals {

// Atoms at fractional positions of a cell (rows are lattice vectors).
inline Structure crystal(const Cell& cell, const std::vector<std::pair<int, Vec3>>& sites) {
  Structure s;
  s.cell = cell;
  s.pbc = {true, true, true};
  s.positions.resize(static_cast<Eigen::Index>(sites.size()), 3);
  for (std::size_t a = 0; a < sites.size(); ++a) {
    s.numbers.push_back(sites[a].first);
    s.positions.row(static_cast<Eigen::Index>(a)) = (sites[a].second.transpose() * cell);
  }
  return s;
}

inline Cell cubic(double a) { return Cell(Eigen::Matrix3d::Identity() * a); }

inline constexpr int Cu = 29, Au = 79, Zn = 30, Mg = 12, Al = 13, Ni = 28, Na = 11, Cl = 17, Fe = 26;

inline Structure fcc_primitive(int z, double a) {
  Cell cell;
  cell << 0, a / 2, a / 2, a / 2, 0, a / 2, a / 2, a / 2, 0;
  return crystal(cell, {{z, Vec3(0, 0, 0)}});
}

inline Structure fcc_conventional(int z, double a) {
  return crystal(cubic(a), {{z, Vec3(0, 0, 0)}, {z, Vec3(0, 0.5, 0.5)}, {z, Vec3(0.5, 0, 0.5)}, {z, Vec3(0.5, 0.5, 0)}});
}

inline Structure bcc(int z, double a) { return crystal(cubic(a), {{z, Vec3(0, 0, 0)}, {z, Vec3(0.5, 0.5, 0.5)}}); }

/// L1_2: the minority species at the corner, the majority at the face centres (Cu3Au).
inline Structure l12(int minority, int majority, double a) {
  return crystal(cubic(a), {{minority, Vec3(0, 0, 0)},
                            {majority, Vec3(0, 0.5, 0.5)},
                            {majority, Vec3(0.5, 0, 0.5)},
                            {majority, Vec3(0.5, 0.5, 0)}});
}

/// B2 (CsCl).
inline Structure b2(int z1, int z2, double a) { return crystal(cubic(a), {{z1, Vec3(0, 0, 0)}, {z2, Vec3(0.5, 0.5, 0.5)}}); }

/// B1 (NaCl), conventional cell.
inline Structure b1(int z1, int z2, double a) {
  std::vector<std::pair<int, Vec3>> sites;
  for (const Vec3& f : {Vec3(0, 0, 0), Vec3(0, 0.5, 0.5), Vec3(0.5, 0, 0.5), Vec3(0.5, 0.5, 0)}) {
    sites.push_back({z1, f});
    sites.push_back({z2, (f + Vec3(0.5, 0, 0)).unaryExpr([](double x) { return x - std::floor(x); })});
  }
  return crystal(cubic(a), sites);
}

/// L1_0 (CuAu): layers of each species along c, in the cubic cell (a tetragonal crystal).
inline Structure l10(int z1, int z2, double a, double c) {
  Cell cell = cubic(a);
  cell(2, 2) = c;
  return crystal(cell, {{z1, Vec3(0, 0, 0)}, {z1, Vec3(0.5, 0.5, 0)}, {z2, Vec3(0, 0.5, 0.5)}, {z2, Vec3(0.5, 0, 0.5)}});
}

inline Structure hcp(int z, double a, double c) {
  Cell cell;
  cell << a, 0, 0, -a / 2, a * std::sqrt(3.0) / 2, 0, 0, 0, c;
  return crystal(cell, {{z, Vec3(1.0 / 3, 2.0 / 3, 0.25)}, {z, Vec3(2.0 / 3, 1.0 / 3, 0.75)}});
}

/// A random substitutional alloy on a 2x2x2 fcc supercell (32 sites), reproducible by seed.
inline Structure random_alloy(std::uint64_t seed, int z1 = Cu, int z2 = Au, std::size_t n2 = 11) {
  Structure s = make_supercell(fcc_conventional(z1, 3.8), {2, 2, 2});
  std::vector<std::size_t> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  for (std::size_t k = 0; k < n2; ++k) s.numbers[order[k]] = z2;
  return s;
}

/// The cell deformed by (1 + strain) (cell rows and positions alike).
inline Structure strained(const Structure& s, const Eigen::Matrix3d& strain) {
  Structure out = s;
  const Eigen::Matrix3d f = Eigen::Matrix3d::Identity() + strain;
  out.cell = s.cell * f.transpose();
  out.positions = s.positions * f.transpose();
  return out;
}

inline Eigen::Matrix3d rotation(double angle, const Vec3& axis) {
  return Eigen::AngleAxisd(angle, axis.normalized()).toRotationMatrix();
}

/// Rotated rigidly: positions and cell rows alike.
inline Structure rotated(const Structure& s, const Eigen::Matrix3d& r) {
  Structure out = s;
  out.cell = s.cell * r.transpose();
  out.positions = s.positions * r.transpose();
  return out;
}

inline Structure translated(const Structure& s, const Vec3& t) {
  Structure out = s;
  out.positions.rowwise() += t.transpose();
  return out;
}

inline Structure permuted(const Structure& s, std::uint64_t seed) {
  std::vector<std::size_t> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  Structure out = s;
  for (std::size_t a = 0; a < s.size(); ++a) {
    out.numbers[a] = s.numbers[order[a]];
    out.positions.row(static_cast<Eigen::Index>(a)) = s.positions.row(static_cast<Eigen::Index>(order[a]));
  }
  return out;
}

/// Every position moved by a uniform random vector of at most `relative` times the shortest
/// cell edge in each component, and the cell by a random strain of at most `relative`.
inline Structure noisy(const Structure& s, double relative, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Eigen::Matrix3d strain;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) strain(i, j) = relative * u(rng);
  Structure out = strained(s, 0.5 * (strain + strain.transpose()));
  const double edge = std::min({s.cell.row(0).norm(), s.cell.row(1).norm(), s.cell.row(2).norm()});
  for (Eigen::Index a = 0; a < out.positions.rows(); ++a)
    for (int k = 0; k < 3; ++k) out.positions(a, k) += relative * edge * u(rng);
  return out;
}

/// Rotated, translated, renumbered and repeated 2x1x3 at once.
inline Structure disguised(const Structure& s, std::uint64_t seed) {
  const Structure big = make_supercell(s, {2, 1, 3});
  return permuted(translated(rotated(big, rotation(0.3 + 0.1 * static_cast<double>(seed), Vec3(1, 2, 3))), Vec3(0.37, -1.2, 2.9)),
                  seed);
}

}  // namespace matnn::test_crystals
