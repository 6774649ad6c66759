// Structures and potentials shared by the potential tests.
#pragma once

#include <cmath>
#include <random>
#include <string>

#include <Eigen/Geometry>

#include "potentials/potential.hpp"

namespace matnn::testing {

/// A rattled fcc Cu3Au-like cell with a skewed (triclinic) lattice.
inline Structure rattled_fcc(std::uint64_t seed, double rattle = 0.12) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, rattle);
  Structure s;
  const double a = 3.7;
  s.cell << a, 0.0, 0.0, 0.15 * a, a, 0.0, -0.1 * a, 0.2 * a, a;
  s.pbc = {true, true, true};
  const double frac[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  s.positions.resize(4, 3);
  for (int i = 0; i < 4; ++i) {
    const Eigen::RowVector3d f(frac[i][0], frac[i][1], frac[i][2]);
    s.positions.row(i) = f * s.cell + Eigen::RowVector3d(noise(rng), noise(rng), noise(rng));
  }
  s.numbers = {29, 29, 79, 29};
  return s;
}

/// A random proper rotation.
inline Eigen::Matrix3d random_rotation(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::Quaterniond q(n(rng), n(rng), n(rng), n(rng));
  q.normalize();
  return q.toRotationMatrix();
}

/// A float64 potential of `kind` with non-trivial shift and scale, small enough for fast tests.
inline potentials::Potential small_potential(const std::string& kind, int ensemble = 1, std::uint64_t seed = 3) {
  nlohmann::json config = kind == "nequip"
                              ? nlohmann::json{{"cutoff", 4.0}, {"channels", 8}, {"num_layers", 2}, {"l_max", 2}}
                              : nlohmann::json{{"cutoff", 4.5}};
  potentials::Potential p(kind, config, {29, 79}, ensemble, seed);
  p.set_energy_scaling({-3.5, -4.2}, 0.7);
  p.to(ad::DType::f64);
  return p;
}

}  // namespace matnn::testing
