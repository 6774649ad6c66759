// A minimal KIM simulator: it asks a matnn portable model for everything the driver provides
// (energy, forces, per-particle energies, virial, per-particle virials) on a rattled Cu/Ni
// cluster and checks them against finite differences of the model's own energy. LAMMPS computes
// its virial from forces, so this is the test of the driver's partialVirial.
//
// Usage: kim_virial MODEL_NAME   (the model and driver found through KIM's collections)
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "KIM_SimulatorHeaders.hpp"

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what.c_str());
    ++failures;
  }
}

struct Simulator;
int neighbor_list(void* const data, int const, double const* const, int const, int const particle, int* const count,
                  int const** const neighbors);

struct Simulator {
  KIM::Model* model = nullptr;
  KIM::ComputeArguments* arguments = nullptr;
  int n = 0;
  std::vector<int> species, contributing;
  std::vector<double> positions, forces, particle_energy, particle_virial;
  double energy = 0.0;
  double virial[6] = {};
  std::vector<std::vector<int>> everyone_else;  // a brute-force full list: the driver skips the far ones

  double energy_at(const std::vector<double>& at) {
    const std::vector<double> saved = positions;
    positions = at;
    if (model->Compute(arguments)) check(false, "compute");
    positions = saved;
    const double e = energy;
    if (model->Compute(arguments)) check(false, "compute");
    return e;
  }
};

int neighbor_list(void* const data, int const, double const* const, int const, int const particle, int* const count,
                  int const** const neighbors) {
  const auto* sim = static_cast<const Simulator*>(data);
  if (particle < 0 || particle >= sim->n) return true;
  const std::vector<int>& list = sim->everyone_else[static_cast<std::size_t>(particle)];
  *count = static_cast<int>(list.size());
  *neighbors = list.data();
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  Simulator sim;
  int accepted = 0;
  if (KIM::Model::Create(KIM::NUMBERING::zeroBased, KIM::LENGTH_UNIT::A, KIM::ENERGY_UNIT::eV,
                         KIM::CHARGE_UNIT::unused, KIM::TEMPERATURE_UNIT::unused, KIM::TIME_UNIT::unused, argv[1],
                         &accepted, &sim.model)) {
    std::printf("FAILED: cannot create KIM model %s\n", argv[1]);
    return 1;
  }
  check(accepted, "the model accepts metal units");
  int cu = 0, ni = 0, supported = 0;
  sim.model->GetSpeciesSupportAndCode(KIM::SPECIES_NAME::Cu, &supported, &cu);
  check(supported, "Cu supported");
  sim.model->GetSpeciesSupportAndCode(KIM::SPECIES_NAME::Ni, &supported, &ni);
  check(supported, "Ni supported");

  // A rattled 2x2x2 fcc cluster, every third atom Ni; all particles contribute.
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.0, 0.05);
  const double a = 3.61, basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k)
        for (const auto& b : basis) {
          sim.positions.push_back(a * (i + b[0]) + noise(rng));
          sim.positions.push_back(a * (j + b[1]) + noise(rng));
          sim.positions.push_back(a * (k + b[2]) + noise(rng));
        }
  sim.n = static_cast<int>(sim.positions.size() / 3);
  for (int i = 0; i < sim.n; ++i) sim.species.push_back(i % 3 == 0 ? ni : cu);
  sim.contributing.assign(static_cast<std::size_t>(sim.n), 1);
  sim.forces.resize(sim.positions.size());
  sim.particle_energy.resize(static_cast<std::size_t>(sim.n));
  sim.particle_virial.resize(6 * static_cast<std::size_t>(sim.n));
  sim.everyone_else.resize(static_cast<std::size_t>(sim.n));
  for (int i = 0; i < sim.n; ++i)
    for (int j = 0; j < sim.n; ++j)
      if (j != i) sim.everyone_else[static_cast<std::size_t>(i)].push_back(j);

  using namespace KIM::COMPUTE_ARGUMENT_NAME;
  if (sim.model->ComputeArgumentsCreate(&sim.arguments) ||
      sim.arguments->SetArgumentPointer(numberOfParticles, &sim.n) ||
      sim.arguments->SetArgumentPointer(particleSpeciesCodes, sim.species.data()) ||
      sim.arguments->SetArgumentPointer(particleContributing, sim.contributing.data()) ||
      sim.arguments->SetArgumentPointer(coordinates, sim.positions.data()) ||
      sim.arguments->SetArgumentPointer(partialEnergy, &sim.energy) ||
      sim.arguments->SetArgumentPointer(partialForces, sim.forces.data()) ||
      sim.arguments->SetArgumentPointer(partialParticleEnergy, sim.particle_energy.data()) ||
      sim.arguments->SetArgumentPointer(partialVirial, sim.virial) ||
      sim.arguments->SetArgumentPointer(partialParticleVirial, sim.particle_virial.data()) ||
      sim.arguments->SetCallbackPointer(KIM::COMPUTE_CALLBACK_NAME::GetNeighborList, KIM::LANGUAGE_NAME::cpp,
                                        reinterpret_cast<KIM::Function*>(neighbor_list), &sim)) {
    std::printf("FAILED: cannot set up the compute arguments\n");
    return 1;
  }
  if (sim.model->Compute(sim.arguments)) check(false, "compute");
  double sum = 0.0;
  for (double e : sim.particle_energy) sum += e;
  check(std::abs(sum - sim.energy) < 1e-10 * (1 + std::abs(sim.energy)), "particle energies sum to the energy");
  for (int v = 0; v < 6; ++v) {
    double total = 0.0;
    for (int i = 0; i < sim.n; ++i) total += sim.particle_virial[6 * static_cast<std::size_t>(i) + static_cast<std::size_t>(v)];
    check(std::abs(total - sim.virial[v]) < 1e-10 * (1 + std::abs(sim.virial[v])),
          "particle virials sum to the virial, component " + std::to_string(v));
  }

  // Forces: -dE/dx by central differences, a few atoms.
  const double h = 1e-5;
  const std::vector<double> base = sim.positions, force = sim.forces;
  for (int atom : {0, 7, sim.n - 1}) {
    for (int c = 0; c < 3; ++c) {
      std::vector<double> plus = base, minus = base;
      plus[3 * atom + c] += h;
      minus[3 * atom + c] -= h;
      const double fd = -(sim.energy_at(plus) - sim.energy_at(minus)) / (2 * h);
      check(std::abs(fd - force[3 * atom + c]) < 1e-6 * (1 + std::abs(fd)),
            "force " + std::to_string(atom) + "," + std::to_string(c));
    }
  }
  // Virial: dE/d(strain) of x -> (1 + e) x, Voigt xx yy zz yz xz xy (KIM's order and sign).
  const double virial[6] = {sim.virial[0], sim.virial[1], sim.virial[2], sim.virial[3], sim.virial[4], sim.virial[5]};
  const int pairs[6][2] = {{0, 0}, {1, 1}, {2, 2}, {1, 2}, {0, 2}, {0, 1}};
  double largest = 0.0;
  for (double v : virial) largest = std::max(largest, std::abs(v));
  for (int v = 0; v < 6; ++v) {
    auto strained = [&](double s) {
      std::vector<double> x = base;
      const int p = pairs[v][0], q = pairs[v][1];
      for (int i = 0; i < sim.n; ++i) {
        const double xp = base[3 * i + p], xq = base[3 * i + q];
        if (p == q) {
          x[3 * i + p] += s * xp;
        } else {  // symmetric strain: e_pq = e_qp = s / 2
          x[3 * i + p] += 0.5 * s * xq;
          x[3 * i + q] += 0.5 * s * xp;
        }
      }
      return x;
    };
    const double fd = (sim.energy_at(strained(h)) - sim.energy_at(strained(-h))) / (2 * h);
    std::printf("virial %d: driver %.10g, finite difference %.10g\n", v, virial[v], fd);
    check(std::abs(fd - virial[v]) < 1e-6 * (1 + largest), "virial component " + std::to_string(v));
  }
  sim.model->ComputeArgumentsDestroy(&sim.arguments);
  KIM::Model::Destroy(&sim.model);
  std::printf("%d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
