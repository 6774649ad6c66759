#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "matnn/neighbor_list.hpp"
#include "potentials/atom_graph.hpp"

namespace matnn::potentials {
namespace {

constexpr double rc = 3.2;

Structure skewed_alloy(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-0.2, 0.2);
  Structure s;
  s.cell << 3.6, 0.0, 0.0, 0.9, 3.4, 0.0, -0.5, 0.7, 3.8;
  s.pbc = {true, true, true};
  const double frac[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  s.positions.resize(4, 3);
  for (int a = 0; a < 4; ++a) {
    Eigen::RowVector3d f(frac[a][0], frac[a][1], frac[a][2]);
    s.positions.row(a) = f * s.cell + Eigen::RowVector3d(u(rng), u(rng), u(rng));
  }
  s.numbers = {29, 79, 29, 29};
  return s;
}

// A smooth pair energy written with the engine's ops: E = 1/2 sum_edges exp(-r) (rc - r)^2.
ad::Tensor pair_energy(const AtomGraph& g) {
  const ad::Tensor r = ad::norm(g.edge_vectors, -1);
  return ad::mul(ad::sum(ad::mul(ad::exp(ad::neg(r)), ad::square(ad::rsub(rc, r)))), 0.5);
}

double pair_energy_of(const Structure& s) {
  return pair_energy(build_graph(s, {29, 79}, rc, ad::DType::f64)).item();
}

// A host's list with a skin (every other atom: most are beyond the cutoff) gives the graph of
// matnn's own search: the same pairs within the cutoff and none beyond.
TEST(AtomGraph, HostNeighboursBeyondTheCutoffAreSkipped) {
  Structure s = skewed_alloy(4);
  s.pbc = {false, false, false};
  s.positions.conservativeResize(8, 3);
  s.positions.bottomRows(4) = s.positions.topRows(4).rowwise() + Eigen::RowVector3d(2.9, 0.3, -0.4);
  s.numbers = {29, 79, 29, 29, 79, 29, 79, 29};
  std::vector<int> offsets{0}, neighbors;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) {
      if (j != i) neighbors.push_back(j);
    }
    offsets.push_back(static_cast<int>(neighbors.size()));
  }
  const AtomGraph own = build_graph(s, {29, 79}, rc, ad::DType::f64);
  const AtomGraph hosted = build_graph(s, {29, 79}, rc, ad::DType::f64, {.neighbors = {offsets, neighbors}});
  ASSERT_LT(own.n_edges, static_cast<std::int64_t>(neighbors.size()));  // the skin holds pairs to skip
  EXPECT_EQ(hosted.n_edges, own.n_edges);
  EXPECT_EQ(*hosted.edge_center, *own.edge_center);
  EXPECT_EQ(*hosted.edge_neighbor, *own.edge_neighbor);
}

TEST(AtomGraph, EdgeVectorsMatchTheNeighbourList) {
  const Structure s = skewed_alloy(1);
  const AtomGraph g = build_graph(s, {29, 79}, rc, ad::DType::f64);
  const NeighborList list = build_neighbor_list(s, rc, NeighborListKind::full);
  const PairVectors expected = pair_vectors(s, list);
  ASSERT_EQ(g.n_edges, static_cast<std::int64_t>(list.size()));
  const std::vector<double> got = g.edge_vectors.to_vector();
  for (std::size_t e = 0; e < list.size(); ++e) {
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(got[3 * e + k], expected(static_cast<Eigen::Index>(e), k), 1e-12);
  }
  EXPECT_EQ(g.species, (std::vector<std::int32_t>{0, 1, 0, 0}));
  EXPECT_EQ(g.center_offsets.back(), g.n_edges);
  EXPECT_NEAR(g.volumes[0], s.volume(), 1e-12);
}

TEST(AtomGraph, ForcesAndStressFromOneReversePassMatchFiniteDifferences) {
  const Structure s = skewed_alloy(2);
  const AtomGraph g = build_graph(s, {29, 79}, rc, ad::DType::f64);
  const auto grads = ad::grad({pair_energy(g)}, {g.positions, g.strain});
  const std::vector<double> dE_dr = grads[0].to_vector(), dE_de = grads[1].to_vector();

  const double h = 1e-5;
  for (int a = 0; a < 4; ++a) {
    for (int k = 0; k < 3; ++k) {
      Structure plus = s, minus = s;
      plus.positions(a, k) += h;
      minus.positions(a, k) -= h;
      const double fd = (pair_energy_of(plus) - pair_energy_of(minus)) / (2 * h);
      EXPECT_NEAR(dE_dr[3 * a + k], fd, 1e-7) << "atom " << a << " axis " << k;
    }
  }
  // dE/d(strain)_ab: deform cell and positions by (I + h e_ab).
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      auto deformed = [&](double t) {
        Eigen::Matrix3d f = Eigen::Matrix3d::Identity();
        f(a, b) += t;
        Structure d = s;
        d.positions = s.positions * f;
        d.cell = s.cell * f;
        return pair_energy_of(d);
      };
      EXPECT_NEAR(dE_de[3 * a + b], (deformed(h) - deformed(-h)) / (2 * h), 1e-7) << a << b;
    }
  }
}

TEST(AtomGraph, SeveralStructuresConcatenate) {
  const Structure a = skewed_alloy(3), b = skewed_alloy(4);
  Structure molecule;
  molecule.numbers = {29, 29};
  molecule.positions.resize(2, 3);
  molecule.positions << 0, 0, 0, 2.3, 0, 0;
  const Structure* all[] = {&a, &molecule, &b};
  const AtomGraph g = build_graph(std::span<const Structure* const>(all, 3), {29, 79}, rc, ad::DType::f32);
  EXPECT_EQ(g.n_atoms, 10);
  EXPECT_EQ(g.atom_offsets, (std::vector<std::int64_t>{0, 4, 6, 10}));
  EXPECT_EQ(g.volumes[1], 0.0);
  EXPECT_EQ(g.dtype, ad::DType::f32);
  const double sum_alone = pair_energy_of(a) + pair_energy_of(molecule) + pair_energy_of(b);
  EXPECT_NEAR(pair_energy(g).item(), sum_alone, 1e-4);
}

TEST(AtomGraph, RejectsUnknownSpeciesAndOverlaps) {
  Structure s = skewed_alloy(5);
  auto status = [&](const std::vector<int>& species) {
    try {
      build_graph(s, species, rc, ad::DType::f64);
    } catch (const Error& e) {
      return e.status();
    }
    return MATNN_SUCCESS;
  };
  EXPECT_EQ(status({29}), MATNN_ERROR_UNKNOWN_ELEMENT);
  s.positions.row(1) = s.positions.row(0);
  EXPECT_EQ(status({29, 79}), MATNN_ERROR_GEOMETRY);
  s = skewed_alloy(5);
  s.positions(2, 1) = std::nan("");
  EXPECT_EQ(status({29, 79}), MATNN_ERROR_NON_FINITE);
  // A 0.3 Angstrom periodic cell sees ~6000 images of its atom within the cutoff: refused with a
  // status instead of exhausting memory further down (triplets grow as neighbours squared).
  Structure tiny;
  tiny.numbers = {29};
  tiny.positions = Positions::Zero(1, 3);
  tiny.cell = Cell::Identity() * 0.3;
  tiny.pbc = {true, true, true};
  s = tiny;
  EXPECT_EQ(status({29, 79}), MATNN_ERROR_GEOMETRY);
}

}  // namespace
}  // namespace matnn::potentials
