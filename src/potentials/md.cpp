#include "potentials/md.hpp"

#include <cmath>
#include <random>

#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials {
namespace {

double kinetic_energy(const Positions& velocities, const std::vector<double>& masses) {
  double twice = 0.0;
  for (Eigen::Index i = 0; i < velocities.rows(); ++i) twice += masses[static_cast<std::size_t>(i)] * velocities.row(i).squaredNorm();
  return 0.5 * twice / acceleration_unit;
}

double temperature_of(double kinetic, std::size_t n_atoms) {
  const double dof = std::max(1.0, 3.0 * static_cast<double>(n_atoms) - 3.0);
  return 2.0 * kinetic / (dof * boltzmann_ev);
}

}  // namespace

std::vector<double> atomic_masses(const Structure& structure) {
  std::vector<double> masses;
  for (int z : structure.numbers) masses.push_back(element(z).mass);
  return masses;
}

Positions maxwell_boltzmann_velocities(const Structure& structure, double temperature, std::uint64_t seed) {
  const std::vector<double> masses = atomic_masses(structure);
  const auto n = static_cast<Eigen::Index>(structure.size());
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Positions v(n, 3);
  Eigen::RowVector3d momentum = Eigen::RowVector3d::Zero();
  double total_mass = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    // sigma_v = sqrt(kT/m) in Angstrom/fs.
    const double sigma = std::sqrt(boltzmann_ev * temperature * acceleration_unit / masses[static_cast<std::size_t>(i)]);
    for (int k = 0; k < 3; ++k) v(i, k) = sigma * normal(rng);
    momentum += masses[static_cast<std::size_t>(i)] * v.row(i);
    total_mass += masses[static_cast<std::size_t>(i)];
  }
  v.rowwise() -= momentum / total_mass;
  const double t = temperature_of(kinetic_energy(v, masses), structure.size());
  if (t > 0) v *= std::sqrt(temperature / t);
  return v;
}

std::vector<MdSample> run_nve(const Potential& potential, Structure& structure, Positions& velocities, double dt,
                              int steps, int sample_every) {
  if (!(dt > 0) || steps < 0 || sample_every < 1) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "run_nve: need dt > 0, steps >= 0, sample_every >= 1");
  }
  const std::vector<double> masses = atomic_masses(structure);
  Eigen::VectorXd inverse_mass(static_cast<Eigen::Index>(masses.size()));
  for (std::size_t i = 0; i < masses.size(); ++i) inverse_mass[static_cast<Eigen::Index>(i)] = acceleration_unit / masses[i];
  const ComputeRequest forces_only{.forces = true, .stress = false};

  PotentialResult now = potential.compute(structure, forces_only);
  std::vector<MdSample> samples;
  auto sample = [&](int step) {
    MdSample s;
    s.step = step;
    s.potential = now.energy;
    s.kinetic = kinetic_energy(velocities, masses);
    s.total = s.potential + s.kinetic;
    s.temperature = temperature_of(s.kinetic, structure.size());
    samples.push_back(s);
  };
  sample(0);
  for (int step = 1; step <= steps; ++step) {
    velocities += 0.5 * dt * (now.forces.array().colwise() * inverse_mass.array()).matrix();
    structure.positions += dt * velocities;
    now = potential.compute(structure, forces_only);
    velocities += 0.5 * dt * (now.forces.array().colwise() * inverse_mass.array()).matrix();
    if (step % sample_every == 0) sample(step);
  }
  return samples;
}

}  // namespace matnn::potentials
