// Physics of the Potential wrapper for every architecture: forces and stress are derivatives of
// the energy, the energy is extensive and invariant, and uncertainty and files behave.
#include <cmath>

#include <gtest/gtest.h>

#include "matnn/error.hpp"
#include "autodiff/ops.hpp"
#include "potential_fixtures.hpp"

namespace matnn::potentials {
namespace {

using matnn::testing::expect_forces_and_stress_are_energy_derivatives;
using matnn::testing::random_rotation;
using matnn::testing::rattled_fcc;
using matnn::testing::small_potential;

class PotentialPhysics : public ::testing::TestWithParam<std::string> {};

TEST_P(PotentialPhysics, ForcesAndStressAreDerivativesOfTheEnergy) {
  const Potential p = small_potential(GetParam());
  const Structure s = rattled_fcc(1);
  const PotentialResult r = p.compute(s);
  ASSERT_TRUE(r.has_stress);
  EXPECT_NEAR(r.energies.sum(), r.energy, 1e-10 * std::abs(r.energy));
  expect_forces_and_stress_are_energy_derivatives(p, s, r);
}

TEST_P(PotentialPhysics, RotationsRotateForcesAndStress) {
  const Potential p = small_potential(GetParam());
  const Structure s = rattled_fcc(2);
  const Eigen::Matrix3d R = random_rotation(7);
  Structure turned = s;
  turned.positions = s.positions * R.transpose();
  turned.cell = s.cell * R.transpose();
  const PotentialResult a = p.compute(s), b = p.compute(turned);
  EXPECT_NEAR(a.energy, b.energy, 1e-10 * std::abs(a.energy));
  EXPECT_LT((a.forces * R.transpose() - b.forces).cwiseAbs().maxCoeff(), 1e-9);
  auto full = [](const std::array<double, 6>& v) {
    Eigen::Matrix3d m;
    m << v[0], v[5], v[4], v[5], v[1], v[3], v[4], v[3], v[2];
    return m;
  };
  EXPECT_LT((R * full(a.stress) * R.transpose() - full(b.stress)).cwiseAbs().maxCoeff(), 1e-9);
}

// Float32 models get edge vectors differenced in float64 and rounded once, so where the cell sits
// does not matter: a cell 100 Angstrom from the origin has the forces of the same cell at it.
TEST_P(PotentialPhysics, Float32ForcesDoNotDependOnWhereTheCellIs) {
  Potential p = small_potential(GetParam());
  p.to(ad::DType::f32);
  const Structure s = rattled_fcc(4);
  Structure far = s;
  far.positions.rowwise() += Eigen::RowVector3d(100.0, -100.0, 100.0);
  const PotentialResult a = p.compute(s), b = p.compute(far);
  const double scale = a.forces.cwiseAbs().maxCoeff();
  ASSERT_GT(scale, 1e-3);
  EXPECT_LT((a.forces - b.forces).cwiseAbs().maxCoeff(), 1e-5 * scale);
  EXPECT_NEAR(a.energy, b.energy, 1e-6 * std::abs(a.energy));
}

TEST_P(PotentialPhysics, SupercellIsExtensive) {
  const Potential p = small_potential(GetParam());
  const Structure s = rattled_fcc(3);
  const Structure big = make_supercell(s, {2, 2, 2});
  const PotentialResult a = p.compute(s), b = p.compute(big);
  EXPECT_NEAR(b.energy, 8 * a.energy, 1e-9 * std::abs(b.energy));
  for (Eigen::Index i = 0; i < big.positions.rows(); ++i) {
    EXPECT_LT((b.forces.row(i) - a.forces.row(i % 4)).cwiseAbs().maxCoeff(), 1e-9);
  }
  for (std::size_t v = 0; v < 6; ++v) EXPECT_NEAR(b.stress[v], a.stress[v], 1e-10);
}

// A slab (pbc T T F) gets stress = (1/V) dE/d(strain) for the in-plane components, V the volume
// of the whole cell (vacuum vector included), and 0 for the components along its free axis.
TEST_P(PotentialPhysics, SlabStressIsTheInPlaneStrainDerivative) {
  const Potential p = small_potential(GetParam());
  Structure slab = rattled_fcc(4);
  slab.pbc = {true, true, false};
  slab.cell.row(2) *= 3.0;  // vacuum above the atoms; a and b lie in the xy plane
  ASSERT_EQ(stress_unavailable_reason(slab), "");
  const PotentialResult r = p.compute(slab);
  ASSERT_TRUE(r.has_stress);
  EXPECT_LT(r.forces.colwise().sum().norm(), 1e-9);  // no external field: momentum is conserved
  auto strained_energy = [&](const Structure& s, int i, int j, double t) {
    Eigen::Matrix3d eps = Eigen::Matrix3d::Zero();
    eps(i, j) += 0.5 * t;
    eps(j, i) += 0.5 * t;
    const Eigen::Matrix3d f = Eigen::Matrix3d::Identity() + eps;
    Structure d = s;
    d.positions = s.positions * f;
    d.cell = s.cell * f;
    return p.compute(d, {false, false}).energy;
  };
  const double h = 1e-5;
  auto fd_stress = [&](const Structure& s, int i, int j) {
    return (strained_energy(s, i, j, h) - strained_energy(s, i, j, -h)) / (2 * h) / s.volume();
  };
  const int in_plane[3][3] = {{0, 0, 0}, {1, 1, 1}, {5, 0, 1}};  // Voigt index, axes
  for (const auto& c : in_plane) {
    const double fd = fd_stress(slab, c[1], c[2]);
    EXPECT_GT(std::abs(fd), 1e-5) << "Voigt " << c[0] << ": the strain changes nothing, the test proves little";
    EXPECT_NEAR(r.stress[static_cast<std::size_t>(c[0])], fd, 1e-7 + 1e-6 * std::abs(fd)) << "Voigt " << c[0];
  }
  // zz, yz, xz are 0 by convention, although straining along z does change the energy.
  EXPECT_EQ(r.stress[2], 0.0);
  EXPECT_EQ(r.stress[3], 0.0);
  EXPECT_EQ(r.stress[4], 0.0);
  EXPECT_GT(std::abs(fd_stress(slab, 2, 2)), 1e-5);

  // The same slab with its free axis along x (pbc F T T): a proper rotation (a cyclic permutation
  // of the axes, new axis i = old axis perm[i]) gives the permuted stress.
  const int perm[3] = {2, 0, 1};
  Structure turned = slab;
  turned.pbc = {false, true, true};
  for (int i = 0; i < 3; ++i) {
    turned.positions.col(i) = slab.positions.col(perm[i]);
    for (int v = 0; v < 3; ++v) turned.cell(v, i) = slab.cell(perm[v], perm[i]);
  }
  const PotentialResult t = p.compute(turned);
  ASSERT_TRUE(t.has_stress) << stress_unavailable_reason(turned);
  EXPECT_NEAR(t.energy, r.energy, 1e-10 * std::abs(r.energy));
  EXPECT_NEAR(t.stress[1], r.stress[0], 1e-10);  // yy = old xx
  EXPECT_NEAR(t.stress[2], r.stress[1], 1e-10);  // zz = old yy
  EXPECT_NEAR(t.stress[3], r.stress[5], 1e-10);  // yz = old xy
  EXPECT_EQ(t.stress[0], 0.0);
  EXPECT_EQ(t.stress[4], 0.0);
  EXPECT_EQ(t.stress[5], 0.0);
}

TEST_P(PotentialPhysics, WiresMoleculesAndUnsuitableSlabsHaveNoStress) {
  const Potential p = small_potential(GetParam());
  EXPECT_EQ(stress_unavailable_reason(rattled_fcc(5)), "");
  auto expect_none = [&](const Structure& s, const std::string& why) {
    const PotentialResult r = p.compute(s);
    EXPECT_FALSE(r.has_stress) << why;
    EXPECT_TRUE(std::isfinite(r.energy)) << why;
    const std::string reason = stress_unavailable_reason(s);
    EXPECT_NE(reason.find(why), std::string::npos) << reason;
  };
  Structure wire = rattled_fcc(5);
  wire.pbc = {false, false, true};
  expect_none(wire, "1 periodic direction");
  Structure molecule = rattled_fcc(5);
  molecule.pbc = {false, false, false};
  molecule.cell.setZero();
  expect_none(molecule, "0 periodic directions");
  Structure flat = rattled_fcc(5);
  flat.pbc = {true, true, false};
  flat.cell.row(2).setZero();
  expect_none(flat, "nonzero non-periodic cell vector c");
  Structure tilted = rattled_fcc(5);
  tilted.pbc = {true, false, true};  // b is free, but c has a y component
  expect_none(tilted, "vector c has y component");
}

TEST_P(PotentialPhysics, EnergyIsContinuousAtTheCutoff) {
  const Potential p = small_potential(GetParam());
  const double rc = p.cutoff();
  auto dimer = [&](double r) {
    Structure s;
    s.numbers = {29, 79};
    s.positions.resize(2, 3);
    s.positions << 0, 0, 0, r, 0, 0;
    return p.compute(s);
  };
  const PotentialResult inside = dimer(rc - 1e-7), outside = dimer(rc + 1e-7);
  EXPECT_NEAR(inside.energy, outside.energy, 1e-8);
  EXPECT_LT(inside.forces.cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_EQ(outside.forces.cwiseAbs().maxCoeff(), 0.0);
}

TEST_P(PotentialPhysics, EnsembleSpreadAndFileRoundTrip) {
  Potential p = small_potential(GetParam(), 3);
  // Weights that float32 cannot hold, as a float64 training run leaves them: the file keeps them
  // and loading gives them back unrounded, in a float64 model.
  for (std::size_t k = 0; k < p.ensemble_size(); ++k) {
    auto state = p.member(k).state();
    for (auto& entry : state) entry.second = ad::mul(entry.second, ad::scalar(1.0 + 1e-9, ad::DType::f64));
    p.member(k).load_state(state);
  }
  const Structure s = rattled_fcc(6);
  const PotentialResult r = p.compute(s);
  EXPECT_GT(r.energy_sigma, 0.0);
  EXPECT_GT(r.max_force_deviation, 0.0);
  EXPECT_EQ(r.max_force_deviation, r.force_deviation.maxCoeff());

  const std::string path = ::testing::TempDir() + "/potential_" + GetParam() + ".h5";
  p.save(path);
  const Potential loaded = Potential::load(path);
  EXPECT_EQ(loaded.dtype(), ad::DType::f64);
  const PotentialResult q = loaded.compute(s);
  EXPECT_EQ(q.energy, r.energy);
  EXPECT_EQ(q.forces, r.forces);
  EXPECT_EQ(loaded.shift(), p.shift());
  std::remove(path.c_str());
}

TEST_P(PotentialPhysics, UnknownSpeciesIsReported) {
  const Potential p = small_potential(GetParam());
  Structure s = rattled_fcc(7);
  s.numbers[0] = 14;
  try {
    p.compute(s);
    FAIL() << "silicon accepted by a Cu/Au model";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_UNKNOWN_ELEMENT);
    EXPECT_NE(std::string(e.what()).find("Si"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, PotentialPhysics, ::testing::Values("behler_parrinello", "nequip"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace matnn::potentials
