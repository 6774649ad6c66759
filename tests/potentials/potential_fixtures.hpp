// Structures and potentials shared by the potential tests.
#pragma once

#include <cmath>
#include <random>
#include <string>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

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

/// Every component of `forces` (atoms x 3) against the central difference -dE/dr of `energy`
/// (a callable Structure -> eV) at `s`, 1e-5 Angstrom each way, within abs_tol + rel_tol |fd|.
template <typename Energy>
void expect_forces_are_central_differences(const Structure& s, const Eigen::MatrixXd& forces, Energy&& energy,
                                           double abs_tol, double rel_tol = 0.0, const std::string& label = "") {
  const double h = 1e-5;
  for (Eigen::Index a = 0; a < static_cast<Eigen::Index>(s.size()); ++a) {
    for (int k = 0; k < 3; ++k) {
      Structure plus = s, minus = s;
      plus.positions(a, k) += h;
      minus.positions(a, k) -= h;
      const double fd = -(energy(plus) - energy(minus)) / (2 * h);
      EXPECT_NEAR(forces(a, k), fd, abs_tol + rel_tol * std::abs(fd)) << label << " atom " << a << " axis " << k;
    }
  }
}

/// Forces of `r` (compute() of `s`) against central differences of the energy for every atom,
/// and stress against the strain derivative (1/V) dE/d(strain) for all six Voigt components.
inline void expect_forces_and_stress_are_energy_derivatives(const potentials::Potential& p, const Structure& s,
                                                            const potentials::PotentialResult& r,
                                                            const std::string& label = "") {
  const double h = 1e-5;
  expect_forces_are_central_differences(
      s, r.forces, [&](const Structure& x) { return p.compute(x, {false, false}).energy; }, 1e-6, 1e-6, label);
  // ASE's stress: (1/V) dE/d(strain) under a symmetric strain of cell and positions.
  const int voigt[6][2] = {{0, 0}, {1, 1}, {2, 2}, {1, 2}, {0, 2}, {0, 1}};
  for (int v = 0; v < 6; ++v) {
    auto strained = [&](double t) {
      Eigen::Matrix3d eps = Eigen::Matrix3d::Zero();
      eps(voigt[v][0], voigt[v][1]) += 0.5 * t;
      eps(voigt[v][1], voigt[v][0]) += 0.5 * t;
      const Eigen::Matrix3d f = Eigen::Matrix3d::Identity() + eps;
      Structure d = s;
      d.positions = s.positions * f;
      d.cell = s.cell * f;
      return p.compute(d, {false, false}).energy;
    };
    const double fd = (strained(h) - strained(-h)) / (2 * h) / s.volume();
    EXPECT_NEAR(r.stress[static_cast<std::size_t>(v)], fd, 1e-7 + 1e-6 * std::abs(fd)) << label << " Voigt " << v;
  }
}

}  // namespace matnn::testing
