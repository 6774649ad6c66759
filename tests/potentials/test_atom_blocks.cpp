// Blocked evaluation of large periodic structures (atom_blocks.hpp): every atom is owned by one
// block, and energies, per-atom energies, forces, stress and the ensemble's spread equal one whole
// evaluation to round-off, also when the ghost shell is wider than the cell.
#include <cmath>
#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "autodiff/gemm.hpp"
#include "potential_fixtures.hpp"
#include "potentials/atom_blocks.hpp"

namespace matnn::potentials {
namespace {

using matnn::testing::rattled_fcc;
using matnn::testing::small_potential;

Structure rattled_supercell(int n, std::uint64_t seed) {
  Structure s = make_supercell(rattled_fcc(seed), {n, n, n});
  std::mt19937_64 rng(seed + 1);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (Eigen::Index i = 0; i < s.positions.size(); ++i) s.positions.data()[i] += noise(rng);
  return s;
}

TEST(BlockPlan, EveryAtomIsOwnedOnceAndGhostsAreImages) {
  const Structure s = rattled_supercell(4, 5);  // 256 atoms
  const BlockPlan plan(s, 6.0, 20);
  ASSERT_EQ(plan.size(), 8u);  // 2 x 2 x 2 blocks of about 32 atoms
  std::multiset<std::size_t> owned;
  for (std::size_t b = 0; b < plan.size(); ++b) {
    const AtomBlock block = plan.block(b);
    ASSERT_EQ(block.cluster.size(), block.original.size());
    EXPECT_GT(block.cluster.size(), block.owned);
    EXPECT_FALSE(block.cluster.any_periodic());
    for (std::size_t j = 0; j < block.cluster.size(); ++j) {
      if (j < block.owned) owned.insert(block.original[j]);
      // A ghost sits a whole number of lattice vectors away from its atom.
      const Eigen::RowVector3d d = block.cluster.positions.row(static_cast<Eigen::Index>(j)) -
                                   s.positions.row(static_cast<Eigen::Index>(block.original[j]));
      const Eigen::RowVector3d f = d * s.cell.inverse();
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(f[k], std::round(f[k]), 1e-9);
      EXPECT_EQ(block.cluster.numbers[j], s.numbers[block.original[j]]);
    }
  }
  ASSERT_EQ(owned.size(), s.size());
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(owned.count(i), 1u) << "atom " << i;
  EXPECT_EQ(BlockPlan(s, 6.0, 256).size(), 1u);  // small enough: one block, no copy made
}

// Per-atom energies are compared where they mean something: atoms of nonzero weight.
void expect_same_results(const PotentialResult& a, const PotentialResult& b, const std::vector<double>& weights = {}) {
  const double scale = 1.0 + std::abs(a.energy);
  EXPECT_NEAR(a.energy, b.energy, 1e-11 * scale);
  for (Eigen::Index i = 0; i < a.energies.size(); ++i) {
    if (!weights.empty() && weights[static_cast<std::size_t>(i)] == 0.0) continue;
    EXPECT_NEAR(a.energies[i], b.energies[i], 1e-10) << "atom " << i;
  }
  EXPECT_LT((a.forces - b.forces).cwiseAbs().maxCoeff(), 1e-10);
  ASSERT_EQ(a.has_stress, b.has_stress);
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(a.stress[k], b.stress[k], 1e-11) << "stress " << k;
  EXPECT_NEAR(a.energy_sigma, b.energy_sigma, 1e-10 * scale);
  EXPECT_LT((a.force_deviation - b.force_deviation).cwiseAbs().maxCoeff(), 1e-10);
}

class BlockedEvaluation : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockedEvaluation, EqualsOneWholeEvaluation) {
  const Potential p = small_potential(GetParam(), 2);
  const Structure s = rattled_supercell(3, 7);  // 108 atoms, cell edges about 11 A
  const PotentialResult whole = p.compute(s, {.block_atoms = 0});
  for (const std::size_t block_atoms : {std::size_t{12}, std::size_t{40}}) {
    SCOPED_TRACE(block_atoms);
    expect_same_results(p.compute(s, {.block_atoms = block_atoms}), whole);
  }
}

// A cell smaller than the ghost shell (NequIP: 2 layers x 4 A): ghosts include several images of
// the same atom, some of them images of owned atoms.
TEST_P(BlockedEvaluation, GhostShellWiderThanTheCell) {
  const Potential p = small_potential(GetParam(), 1);
  const Structure s = rattled_supercell(2, 9);  // 32 atoms, edges about 7.4 A
  expect_same_results(p.compute(s, {.block_atoms = 4}), p.compute(s, {.block_atoms = 0}));
}

TEST_P(BlockedEvaluation, EnergyWeightsReachTheOwners) {
  const Potential p = small_potential(GetParam(), 1);
  const Structure s = rattled_supercell(3, 11);
  std::vector<double> weights(s.size());
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = (i % 3 == 0) ? 0.0 : 1.0;
  expect_same_results(p.compute(s, {.energy_weights = weights, .block_atoms = 20}),
                      p.compute(s, {.energy_weights = weights, .block_atoms = 0}), weights);
}

// GraphOptions leaves out the environments of atoms too many hops from any weighted atom: the
// weighted energy and every force are those of the whole graph, and the far atoms lose their
// edges (a local model keeps only the weighted atoms' environments).
TEST_P(BlockedEvaluation, FarEnvironmentsAreLeftOutWithoutChangingTheResult) {
  const Potential p = small_potential(GetParam(), 1);
  const Structure s = rattled_supercell(3, 13);
  std::vector<double> weights(s.size(), 0.0);
  for (std::size_t i = 0; i < 4; ++i) weights[i] = 1.0;
  const std::vector<double> ones(s.size(), 1.0);
  const int layers = static_cast<int>(std::lround(p.interaction_range() / p.cutoff()));
  const AtomGraph pruned = build_graph(s, p.species(), p.cutoff(), ad::DType::f64,
                                       {.energy_weights = weights, .layers = layers});
  const AtomGraph whole = build_graph(s, p.species(), p.cutoff(), ad::DType::f64, {.energy_weights = ones});
  EXPECT_LT(pruned.n_edges, whole.n_edges / 2);
  // Against the same weights with every environment kept: a weight of 1e-300 is not 0, so
  // nothing is left out, and it adds nothing to the energy.
  std::vector<double> almost = weights;
  for (double& w : almost) w = w == 0.0 ? 1e-300 : w;
  expect_same_results(p.compute(s, {.energy_weights = weights, .block_atoms = 0}),
                      p.compute(s, {.energy_weights = almost, .block_atoms = 0}), weights);
}

// Each message-passing layer does its per-atom work (channel mixing, self-connection, gate) only
// on the atoms whose features a later layer or the weighted energy reads: with 4 atoms of 108
// weighted, the second of two layers runs on those 4 and the first on them and their neighbours.
// Dense work counts it: left on every atom, the weighted evaluation would cost what the whole
// cell's does.
TEST(HaloAtoms, NequipLayersComputeOnlyWhatTheWeightedEnergyReads) {
  Potential p = small_potential("nequip");
  p.to(ad::DType::f32);
  const Structure s = rattled_supercell(3, 13);
  std::vector<double> weights(s.size(), 0.0);
  for (std::size_t i = 0; i < 4; ++i) weights[i] = 1.0;
  const auto flops = [&](const std::vector<double>& w) {
    const std::uint64_t before = ad::gemm_flop_count();
    p.compute(s, {.energy_weights = w, .block_atoms = 0});
    return static_cast<double>(ad::gemm_flop_count() - before);
  };
  const double whole = flops(std::vector<double>(s.size(), 1.0)), some = flops(weights);
  EXPECT_LT(some, 0.5 * whole) << "dense work " << some << " with 4 atoms weighted, " << whole << " with all";
}

// A domain-decomposed rank may own no atom at all: every weight 0, so nothing is counted, and
// the energy and every force are 0 (no layer has a row left to work on).
TEST_P(BlockedEvaluation, NoWeightedAtomGivesZeroEnergyAndForces) {
  Potential p = small_potential(GetParam());
  const Structure s = rattled_supercell(2, 17);
  const std::vector<double> none(s.size(), 0.0);
  for (const ad::DType dtype : {ad::DType::f64, ad::DType::f32}) {
    p.to(dtype);
    const PotentialResult r = p.compute(s, {.energy_weights = none, .block_atoms = 0});
    EXPECT_EQ(r.energy, 0.0);
    EXPECT_EQ(r.forces.cwiseAbs().maxCoeff(), 0.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, BlockedEvaluation, ::testing::Values("behler_parrinello", "nequip"));

}  // namespace
}  // namespace matnn::potentials
