// The ZBL core under a potential: the pair energy is the screened Coulomb energy (bare Coulomb
// as r -> 0) with a smooth switch, its derivative is exact, and through Potential::compute the
// forces and stress stay derivatives of the energy, a dimer gets exactly u(r) on top of the
// networks, energy weights count each pair once, and model files keep the core.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "matnn/error.hpp"
#include "potential_fixtures.hpp"
#include "potentials/core_repulsion.hpp"

namespace matnn::potentials {
namespace {

using matnn::testing::expect_forces_and_stress_are_energy_derivatives;
using matnn::testing::rattled_fcc;
using matnn::testing::small_potential;

double pair_energy(int z1, int z2, double r, double inner, double outer) {
  double u = 0.0, du = 0.0;
  CoreRepulsion::pair(z1, z2, r, inner, outer, &u, &du);
  return u;
}

TEST(CoreRepulsion, PairIsScreenedCoulombWithASmoothSwitch) {
  // phi(0) = 1: at very short range the energy is the bare Coulomb repulsion of the nuclei.
  const double r0 = 1e-5;
  EXPECT_NEAR(pair_energy(29, 79, r0, 1.0, 2.0) * r0, 14.399645 * 29 * 79, 1e-3 * 14.399645 * 29 * 79);
  // The derivative is exact, inside, across and beyond the switch.
  for (double r = 0.3; r < 2.6; r += 0.0713) {
    double u = 0.0, du = 0.0;
    CoreRepulsion::pair(14, 14, r, 1.2, 2.2, &u, &du);
    const double h = 1e-6;
    const double fd = (pair_energy(14, 14, r + h, 1.2, 2.2) - pair_energy(14, 14, r - h, 1.2, 2.2)) / (2 * h);
    EXPECT_NEAR(du, fd, 1e-6 * std::max(1.0, std::abs(fd))) << "r = " << r;
    EXPECT_GE(u, 0.0);
    if (r >= 2.2) {
      EXPECT_EQ(u, 0.0);
    }
  }
  // Continuous value and slope at both ends of the switch.
  const double e = 1e-9;
  EXPECT_NEAR(pair_energy(14, 14, 2.2 - e, 1.2, 2.2), 0.0, 1e-12);
  double below_u, below_du, above_u, above_du;
  CoreRepulsion::pair(14, 14, 1.2 - e, 1.2, 2.2, &below_u, &below_du);
  CoreRepulsion::pair(14, 14, 1.2 + e, 1.2, 2.2, &above_u, &above_du);
  EXPECT_NEAR(below_u, above_u, 1e-6);
  EXPECT_NEAR(below_du, above_du, 1e-5 * std::abs(below_du));
  // Repulsive and steeply rising inside the switch.
  EXPECT_GT(pair_energy(29, 29, 1.0, 1.4, 1.9), 10 * pair_energy(29, 29, 1.7, 1.4, 1.9));
}

TEST(CoreRepulsion, ADimerGetsExactlyThePairEnergyOnTopOfTheNetworks) {
  Potential p = small_potential("behler_parrinello");
  Structure dimer;
  dimer.cell = Cell::Identity() * 30.0;
  dimer.pbc = {false, false, false};
  dimer.numbers = {29, 79};
  dimer.positions.resize(2, 3);
  dimer.positions << 5.0, 5.0, 5.0, 6.3, 5.4, 5.2;
  const double r = (dimer.positions.row(1) - dimer.positions.row(0)).norm();
  const PotentialResult without = p.compute(dimer);
  p.set_core_repulsion({.inner = 1.0, .outer = 2.0});
  const PotentialResult with = p.compute(dimer);
  double u = 0.0, du = 0.0;
  CoreRepulsion::pair(29, 79, r, 1.0, 2.0, &u, &du);
  ASSERT_GT(u, 1.0);
  EXPECT_NEAR(with.energy - without.energy, u, 1e-9 * u);
  EXPECT_NEAR(with.energies[0] - without.energies[0], 0.5 * u, 1e-9 * u);
  const Eigen::RowVector3d direction = (dimer.positions.row(1) - dimer.positions.row(0)) / r;
  EXPECT_LT((with.forces.row(1) - without.forces.row(1) + du * direction).norm(), 1e-9 * std::abs(du));
  // A host that owns only atom 0 (atom 1 a ghost) counts half the pair: the other half is the other rank's.
  const double weights[] = {1.0, 0.0};
  const double own = p.compute(dimer, {.energy_weights = weights}).energy;
  const double own_without = without.energies[0];
  EXPECT_NEAR(own - own_without, 0.5 * u, 1e-9 * u);
}

TEST(CoreRepulsion, ForcesAndStressStayDerivativesOfTheEnergy) {
  for (const std::string kind : {"behler_parrinello", "nequip"}) {
    Potential p = small_potential(kind);
    p.set_core_repulsion({.inner = 1.9, .outer = 2.9});  // most neighbours inside the switch
    Structure s = rattled_fcc(5, 0.2);
    expect_forces_and_stress_are_energy_derivatives(p, s, p.compute(s), kind);
  }
}

TEST(CoreRepulsion, ModelFilesKeepTheCore) {
  Potential p = small_potential("behler_parrinello");
  p.set_core_repulsion({.inner = 1.9, .outer = 2.9});
  const std::string path = ::testing::TempDir() + "/matnn_core_repulsion.model.h5";
  p.save(path);
  const Potential loaded = Potential::load(path);
  EXPECT_EQ(loaded.core_repulsion().inner, 1.9);
  EXPECT_EQ(loaded.core_repulsion().outer, 2.9);
  // Files hold float32 weights: the energies agree to float32 precision, far closer than the
  // core's share of the energy, which a file without the core would lose.
  const Structure s = rattled_fcc(5, 0.2);
  const double energy = p.compute(s).energy;
  Potential without = small_potential("behler_parrinello");
  ASSERT_GT(std::abs(energy - without.compute(s).energy), 1e-2);
  EXPECT_NEAR(loaded.compute(s).energy, energy, 1e-5 * std::abs(energy));
  std::filesystem::remove(path);
  EXPECT_THROW(CoreRepulsion::from_json({{"kind", "zbl"}, {"inner", 2.0}, {"outer", 1.0}}), Error);
}

}  // namespace
}  // namespace matnn::potentials
