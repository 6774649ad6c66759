// Molecular dynamics with a Potential: velocity-Verlet NVE, the integrator that tests energy
// conservation (a potential whose forces are not the exact gradient of its energy, or whose
// energy jumps at the cutoff, drifts). Units: Angstrom, fs, amu, eV; velocities in Angstrom/fs.
#pragma once

#include <cstdint>
#include <vector>

#include "potentials/potential.hpp"

namespace matnn::potentials {

/// eV/(Angstrom amu) in Angstrom/fs^2.
inline constexpr double acceleration_unit = 9.648533212e-3;
/// Boltzmann constant, eV/K.
inline constexpr double boltzmann_ev = 8.617333262e-5;

struct MdSample {
  int step = 0;
  double potential = 0.0;  ///< eV
  double kinetic = 0.0;    ///< eV
  double total = 0.0;      ///< eV
  double temperature = 0.0;  ///< K, from the kinetic energy with 3N - 3 degrees of freedom
};

/// Atomic masses (amu) of a structure, from the periodic table.
std::vector<double> atomic_masses(const Structure& structure);

/// Maxwell-Boltzmann velocities at `temperature` K with zero total momentum, scaled to exactly
/// that temperature (deterministic for a seed).
Positions maxwell_boltzmann_velocities(const Structure& structure, double temperature, std::uint64_t seed);

/// Integrates `steps` steps of `dt` fs in place (positions and velocities), sampling energies
/// every `sample_every` steps (and at step 0).
std::vector<MdSample> run_nve(const Potential& potential, Structure& structure, Positions& velocities, double dt,
                              int steps, int sample_every);

}  // namespace matnn::potentials
