// Neighbour lists against a brute-force reference on many random cells, plus known crystals,
// the list's invariants (order, symmetry, half = folded full) and bad input.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include <Eigen/Geometry>
#include <Eigen/LU>

#include "matnn/error.hpp"
#include "matnn/neighbor_list.hpp"
#include "neighbors/cell_grid.hpp"

namespace {

using matnn::NeighborList;
using matnn::NeighborListKind;
using matnn::Structure;
using Shift = std::array<std::int32_t, 3>;

struct Pair {
  std::int32_t i, j;
  Shift s;
  double distance;
  auto key() const { return std::tie(i, j, s[0], s[1], s[2]); }
  bool operator<(const Pair& o) const { return key() < o.key(); }
};

bool lex_positive(const Shift& s) {
  if (s[0] != 0) return s[0] > 0;
  if (s[1] != 0) return s[1] > 0;
  return s[2] > 0;
}

// Every pair and every lattice translation that can be within the cutoff. With P the periodic
// lattice vectors and D their duals (P_l . D_m = delta_lm), a translation v = sum S_m P_m within
// `cutoff` of -delta has S_m = v . D_m in -delta . D_m +- cutoff |D_m|; 1 / |D_m| is the layer
// spacing of the periodic lattice along m.
std::vector<Pair> brute_force(const Structure& st, double cutoff, NeighborListKind kind) {
  std::vector<int> periodic;
  for (int k = 0; k < 3; ++k)
    if (st.pbc[k]) periodic.push_back(k);
  const int np = static_cast<int>(periodic.size());
  Eigen::MatrixXd P(np, 3);
  for (int m = 0; m < np; ++m) P.row(m) = st.cell.row(periodic[m]);
  Eigen::MatrixXd D(3, np);
  if (np > 0) D = P.transpose() * (P * P.transpose()).inverse();

  // Plain arrays in the loops: this runs under the sanitizers in Debug builds too.
  std::vector<std::array<double, 3>> r(std::size_t(st.positions.rows()));
  for (std::size_t i = 0; i < r.size(); ++i)
    for (int k = 0; k < 3; ++k) r[i][k] = st.positions(Eigen::Index(i), k);
  double cell[3][3], dual[3][3] = {}, reach[3] = {};
  for (int a = 0; a < 3; ++a)
    for (int k = 0; k < 3; ++k) cell[a][k] = st.cell(a, k);
  for (int m = 0; m < np; ++m) {
    for (int k = 0; k < 3; ++k) dual[periodic[m]][k] = D(k, m);
    reach[periodic[m]] = cutoff * D.col(m).norm();
  }

  std::vector<Pair> out;
  const std::int32_t n = std::int32_t(r.size());
  for (std::int32_t i = 0; i < n; ++i) {
    for (std::int32_t j = 0; j < n; ++j) {
      const double delta[3] = {r[j][0] - r[i][0], r[j][1] - r[i][1], r[j][2] - r[i][2]};
      int lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
      for (int k = 0; k < 3; ++k) {
        if (!st.pbc[k]) continue;
        const double centre = -(delta[0] * dual[k][0] + delta[1] * dual[k][1] + delta[2] * dual[k][2]);
        lo[k] = static_cast<int>(std::floor(centre - reach[k]));
        hi[k] = static_cast<int>(std::ceil(centre + reach[k]));
      }
      for (int a = lo[0]; a <= hi[0]; ++a)
        for (int b = lo[1]; b <= hi[1]; ++b)
          for (int c = lo[2]; c <= hi[2]; ++c) {
            if (i == j && a == 0 && b == 0 && c == 0) continue;
            double d2 = 0.0;
            for (int k = 0; k < 3; ++k) {  // the documented formula, in its order
              const double shift = (double(a) * cell[0][k] + double(b) * cell[1][k]) + double(c) * cell[2][k];
              const double x = delta[k] + shift;
              d2 += x * x;
            }
            const Shift s{a, b, c};
            if (!(d2 < cutoff * cutoff)) continue;
            if (kind == NeighborListKind::half && (j < i || (i == j && !lex_positive(s)))) continue;
            out.push_back({i, j, s, std::sqrt(d2)});
          }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Pair> pairs_of(const Structure& st, const NeighborList& list) {
  EXPECT_EQ(list.second.size(), list.size());
  EXPECT_EQ(list.shifts.size(), list.size());
  const Eigen::VectorXd d = matnn::pair_distances(matnn::pair_vectors(st, list));
  std::vector<Pair> out;
  for (std::size_t p = 0; p < list.size(); ++p)
    out.push_back({list.first[p], list.second[p], list.shifts[p], d[Eigen::Index(p)]});
  return out;
}

// Compares the list with the reference; returns false (with one failure) at the first mismatch.
bool matches_reference(const Structure& st, double cutoff, NeighborListKind kind,
                       const std::string& what) {
  const NeighborList list = matnn::build_neighbor_list(st, cutoff, kind);
  const std::vector<Pair> got = pairs_of(st, list);
  const std::vector<Pair> want = brute_force(st, cutoff, kind);
  if (!std::is_sorted(got.begin(), got.end()) ||
      std::adjacent_find(got.begin(), got.end(), [](const Pair& x, const Pair& y) {
        return x.key() == y.key();
      }) != got.end()) {
    ADD_FAILURE() << what << ": list not strictly sorted by (i, j, S)";
    return false;
  }
  if (got.size() != want.size()) {
    ADD_FAILURE() << what << ": " << got.size() << " pairs, reference has " << want.size();
    return false;
  }
  for (std::size_t p = 0; p < got.size(); ++p) {
    if (got[p].key() != want[p].key() || std::abs(got[p].distance - want[p].distance) > 1e-9) {
      ADD_FAILURE() << what << ": pair " << p << " is (" << got[p].i << ", " << got[p].j << ", "
                    << got[p].s[0] << " " << got[p].s[1] << " " << got[p].s[2] << ") at "
                    << got[p].distance << ", reference (" << want[p].i << ", " << want[p].j
                    << ", " << want[p].s[0] << " " << want[p].s[1] << " " << want[p].s[2]
                    << ") at " << want[p].distance;
      return false;
    }
  }
  return true;
}

// Full list: (j, i, -S) for every (i, j, S); half list: the full list with only the pairs that
// satisfy the documented rule.
void check_full_and_half(const Structure& st, double cutoff, const std::string& what) {
  const NeighborList full = matnn::build_neighbor_list(st, cutoff, NeighborListKind::full);
  const NeighborList half = matnn::build_neighbor_list(st, cutoff, NeighborListKind::half);
  std::set<std::tuple<int, int, int, int, int>> all;
  for (std::size_t p = 0; p < full.size(); ++p)
    all.insert({full.first[p], full.second[p], full.shifts[p][0], full.shifts[p][1],
                full.shifts[p][2]});
  ASSERT_EQ(all.size(), full.size()) << what;
  std::size_t folded = 0;
  for (const auto& [i, j, a, b, c] : all) {
    ASSERT_TRUE(all.count({j, i, -a, -b, -c})) << what << ": (" << i << ", " << j << ") lacks its mirror";
    if (i < j || (i == j && lex_positive({a, b, c}))) ++folded;
  }
  ASSERT_EQ(half.size(), folded) << what;
  for (std::size_t p = 0; p < half.size(); ++p) {
    const int i = half.first[p], j = half.second[p];
    ASSERT_TRUE(i < j || (i == j && lex_positive(half.shifts[p]))) << what;
    ASSERT_TRUE(all.count({i, j, half.shifts[p][0], half.shifts[p][1], half.shifts[p][2]})) << what;
  }
  // CSR offsets of the full list.
  const auto offsets = matnn::neighbor_offsets(full, st.size());
  ASSERT_EQ(offsets.size(), st.size() + 1);
  ASSERT_EQ(offsets.back(), std::int64_t(full.size()));
  for (std::size_t i = 0; i < st.size(); ++i)
    for (std::int64_t p = offsets[i]; p < offsets[i + 1]; ++p) ASSERT_EQ(full.first[p], int(i));
}

// A cell from lengths and angles (degrees), rotated at random. Returns false if the angles
// give no cell or a nearly flat one.
bool random_cell(std::mt19937& rng, double min_len, double max_len, Structure& st) {
  std::uniform_real_distribution<double> len(min_len, max_len), ang(40.0, 140.0);
  const double a = len(rng), b = len(rng), c = len(rng);
  const double deg = M_PI / 180.0;
  const double al = ang(rng) * deg, be = ang(rng) * deg, ga = ang(rng) * deg;
  const double cx = std::cos(be), cy = (std::cos(al) - std::cos(be) * std::cos(ga)) / std::sin(ga);
  const double cz2 = 1.0 - cx * cx - cy * cy;
  if (cz2 < 0.02) return false;  // flat: volume ratio below ~0.14
  Eigen::Matrix3d cell;
  cell << a, 0, 0, b * std::cos(ga), b * std::sin(ga), 0, c * cx, c * cy, c * std::sqrt(cz2);
  std::normal_distribution<double> g;
  Eigen::Quaterniond q(g(rng), g(rng), g(rng), g(rng));
  q.normalize();
  st.cell = cell * q.toRotationMatrix().transpose();
  return true;
}

Structure random_structure(std::mt19937& rng, int natoms, std::array<bool, 3> pbc, double scale) {
  Structure st;
  st.pbc = pbc;
  while (!random_cell(rng, 0.5 * scale, 1.5 * scale, st)) {
  }
  std::uniform_int_distribution<int> pick(0, 2);
  // Non-periodic axes: keep the lattice vector, or make it zero.
  for (int k = 0; k < 3; ++k)
    if (!pbc[k] && pick(rng) == 0) st.cell.row(k).setZero();
  std::uniform_real_distribution<double> frac(-0.6, 1.6), noise(-1.0, 1.0);
  const bool spread = pick(rng) != 0;  // Cartesian offsets: atoms off the cell's span
  st.numbers.assign(std::size_t(natoms), 14);
  st.positions.resize(natoms, 3);
  for (int i = 0; i < natoms; ++i) {
    Eigen::RowVector3d f(frac(rng), frac(rng), frac(rng));
    st.positions.row(i) = f * st.cell;
    if (spread) st.positions.row(i) += scale * Eigen::RowVector3d(noise(rng), noise(rng), noise(rng));
  }
  return st;
}

double shortest_periodic_or_scale(const Structure& st, double scale) {
  double m = std::numeric_limits<double>::infinity();
  for (int k = 0; k < 3; ++k)
    if (st.pbc[k]) m = std::min(m, st.cell.row(k).norm());
  return std::isfinite(m) ? m : scale;
}

std::string describe(int seed, const Structure& st, double cutoff) {
  return "seed " + std::to_string(seed) + " pbc " + std::to_string(st.pbc[0]) +
         std::to_string(st.pbc[1]) + std::to_string(st.pbc[2]) + " natoms " +
         std::to_string(st.size()) + " cutoff " + std::to_string(cutoff);
}

TEST(NeighborList, RandomTriclinicCellsMatchBruteForce) {
  int cases = 0;
  for (int combo = 0; combo < 8; ++combo) {
    const std::array<bool, 3> pbc{bool(combo & 1), bool(combo & 2), bool(combo & 4)};
    for (int seed = 0; seed < 100; ++seed) {
      std::mt19937 rng(1000u * unsigned(combo) + unsigned(seed));
      std::uniform_int_distribution<int> count(1, 40);
      std::uniform_real_distribution<double> factor(0.3, 3.0);
      const Structure st = random_structure(rng, count(rng), pbc, 3.0);
      const double cutoff = factor(rng) * shortest_periodic_or_scale(st, 3.0);
      const std::string what = describe(seed, st, cutoff);
      ASSERT_TRUE(matches_reference(st, cutoff, NeighborListKind::full, what));
      ASSERT_TRUE(matches_reference(st, cutoff, NeighborListKind::half, what));
      ++cases;
    }
  }
  RecordProperty("random_cases", cases);
  EXPECT_EQ(cases, 800);
}

TEST(NeighborList, RandomFullListsAreSymmetricAndFoldToHalfLists) {
  for (int combo = 0; combo < 8; ++combo) {
    const std::array<bool, 3> pbc{bool(combo & 1), bool(combo & 2), bool(combo & 4)};
    for (int seed = 0; seed < 10; ++seed) {
      std::mt19937 rng(777u + 31u * unsigned(combo) + unsigned(seed));
      std::uniform_int_distribution<int> count(1, 30);
      std::uniform_real_distribution<double> factor(0.3, 2.5);
      const Structure st = random_structure(rng, count(rng), pbc, 3.0);
      const double cutoff = factor(rng) * shortest_periodic_or_scale(st, 3.0);
      check_full_and_half(st, cutoff, describe(seed, st, cutoff));
    }
  }
}

// Many atoms and a small cutoff, so that each axis has several bins (the random cases above
// mostly have one to three).
TEST(NeighborList, ManyBinsMatchBruteForce) {
  for (int combo = 0; combo < 8; ++combo) {
    const std::array<bool, 3> pbc{bool(combo & 1), bool(combo & 2), bool(combo & 4)};
    std::mt19937 rng(4242u + unsigned(combo));
    const Structure st = random_structure(rng, 300, pbc, 14.0);
    const double cutoff = 2.7;
    ASSERT_TRUE(matches_reference(st, cutoff, NeighborListKind::full, describe(combo, st, cutoff)));
    ASSERT_TRUE(matches_reference(st, cutoff, NeighborListKind::half, describe(combo, st, cutoff)));
  }
}

TEST(NeighborList, MoleculesWithZeroCell) {
  for (int seed = 0; seed < 40; ++seed) {
    std::mt19937 rng(9000u + unsigned(seed));
    std::uniform_int_distribution<int> count(1, 40);
    std::uniform_real_distribution<double> coord(-4.0, 4.0), factor(0.2, 3.0);
    Structure st;  // zero cell, no periodicity
    const int n = count(rng);
    st.numbers.assign(std::size_t(n), 6);
    st.positions.resize(n, 3);
    for (int i = 0; i < n; ++i) st.positions.row(i) << coord(rng), coord(rng), coord(rng);
    const double cutoff = factor(rng);
    ASSERT_TRUE(matches_reference(st, cutoff, NeighborListKind::full, describe(seed, st, cutoff)));
    ASSERT_TRUE(matches_reference(st, cutoff, NeighborListKind::half, describe(seed, st, cutoff)));
  }
}

// Atoms spread over 10^4 Angstrom with a 1.5 Angstrom cutoff: far more ideal bins than atoms,
// so the grid must coarsen.
TEST(NeighborList, DiluteMoleculeSpreadFarApart) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> coord(-5000.0, 5000.0), near(-1.0, 1.0);
  Structure st;
  st.numbers.assign(200, 1);
  st.positions.resize(200, 3);
  for (int i = 0; i < 200; ++i) {
    if (i % 2 == 0)
      st.positions.row(i) << coord(rng), coord(rng), coord(rng);
    else  // a partner close to the previous atom
      st.positions.row(i) = st.positions.row(i - 1) + Eigen::RowVector3d(near(rng), near(rng), near(rng));
  }
  st.cell = Eigen::Matrix3d::Identity() * 3.0;  // non-periodic: ignored
  ASSERT_TRUE(matches_reference(st, 1.5, NeighborListKind::full, "dilute"));
  ASSERT_TRUE(matches_reference(st, 1.5, NeighborListKind::half, "dilute"));
}

TEST(NeighborList, SingleAtomSeesManyImagesOfItself) {
  Structure st;
  st.numbers = {1};
  st.positions = matnn::Positions::Zero(1, 3);
  st.cell = Eigen::Matrix3d::Identity();
  st.pbc = {true, true, true};
  // Lattice points of the unit cubic lattice within 3.5 of the origin, origin excluded.
  std::int64_t expected = 0;
  for (int a = -4; a <= 4; ++a)
    for (int b = -4; b <= 4; ++b)
      for (int c = -4; c <= 4; ++c)
        if ((a || b || c) && a * a + b * b + c * c < 3.5 * 3.5) ++expected;
  const NeighborList full = matnn::build_neighbor_list(st, 3.5);
  EXPECT_EQ(std::int64_t(full.size()), expected);
  EXPECT_EQ(std::int64_t(matnn::build_neighbor_list(st, 3.5, NeighborListKind::half).size()),
            expected / 2);
  ASSERT_TRUE(matches_reference(st, 3.5, NeighborListKind::full, "cubic"));

  // A skewed cell, the atom outside it, a cutoff of several cell lengths.
  st.cell << 1.3, 0.0, 0.0, 1.1, 0.9, 0.0, -0.7, 0.4, 1.2;
  st.positions << 5.3, -2.1, 7.7;
  ASSERT_TRUE(matches_reference(st, 4.1, NeighborListKind::full, "skewed"));
  ASSERT_TRUE(matches_reference(st, 4.1, NeighborListKind::half, "skewed"));
  // A wire: periodic along a only, the other rows zero.
  st.cell.row(1).setZero();
  st.cell.row(2).setZero();
  st.pbc = {true, false, false};
  const NeighborList wire = matnn::build_neighbor_list(st, 4.0);
  EXPECT_EQ(wire.size(), 6u);  // images at +-1, +-2, +-3 of |a| = 1.3
}

Structure fcc_copper(int repeat) {
  const double a = 3.61;
  const double basis[4][3] = {{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
  Structure st;
  st.pbc = {true, true, true};
  st.cell = Eigen::Matrix3d::Identity() * (a * repeat);
  const int n = 4 * repeat * repeat * repeat;
  st.numbers.assign(std::size_t(n), 29);
  st.positions.resize(n, 3);
  int i = 0;
  for (int x = 0; x < repeat; ++x)
    for (int y = 0; y < repeat; ++y)
      for (int z = 0; z < repeat; ++z)
        for (const auto& b : basis) {
          st.positions.row(i++) << a * (x + b[0]), a * (y + b[1]), a * (z + b[2]);
        }
  return st;
}

void expect_neighbours_per_atom(const Structure& st, double cutoff, std::int64_t per_atom) {
  const NeighborList full = matnn::build_neighbor_list(st, cutoff);
  const auto offsets = matnn::neighbor_offsets(full, st.size());
  for (std::size_t i = 0; i < st.size(); ++i)
    ASSERT_EQ(offsets[i + 1] - offsets[i], per_atom) << "atom " << i << " cutoff " << cutoff;
  EXPECT_EQ(std::int64_t(matnn::build_neighbor_list(st, cutoff, NeighborListKind::half).size()),
            std::int64_t(st.size()) * per_atom / 2);
}

TEST(NeighborList, FccCopper) {
  for (int repeat : {1, 2, 3}) {  // the conventional cell is shorter than both cutoffs
    const Structure st = fcc_copper(repeat);
    expect_neighbours_per_atom(st, 3.0, 12);
    expect_neighbours_per_atom(st, 4.0, 18);
  }
  Structure primitive;  // one atom in the primitive rhombohedral cell
  primitive.numbers = {29};
  primitive.positions = matnn::Positions::Zero(1, 3);
  primitive.cell << 0, 1.805, 1.805, 1.805, 0, 1.805, 1.805, 1.805, 0;
  primitive.pbc = {true, true, true};
  expect_neighbours_per_atom(primitive, 3.0, 12);
  expect_neighbours_per_atom(primitive, 4.0, 18);

  const Eigen::VectorXd d =
      matnn::pair_distances(matnn::pair_vectors(primitive, matnn::build_neighbor_list(primitive, 3.0)));
  for (Eigen::Index p = 0; p < d.size(); ++p) EXPECT_NEAR(d[p], 3.61 / std::sqrt(2.0), 1e-12);
}

// More than one block of atoms (the builder works in blocks of 65536), a perturbed crystal.
TEST(NeighborList, LargeCrystalSymmetricAndComplete) {
  Structure st = fcc_copper(26);  // 70304 atoms
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> jitter(-0.05, 0.05);
  for (Eigen::Index i = 0; i < st.positions.rows(); ++i)
    for (int k = 0; k < 3; ++k) st.positions(i, k) += jitter(rng);
  const NeighborList full = matnn::build_neighbor_list(st, 3.0);
  const NeighborList half = matnn::build_neighbor_list(st, 3.0, NeighborListKind::half);
  ASSERT_EQ(full.size(), st.size() * 12);
  ASSERT_EQ(half.size(), st.size() * 6);
  for (std::size_t p = 0; p < half.size(); ++p) ASSERT_LT(half.first[p], half.second[p]);
  const auto offsets = matnn::neighbor_offsets(full, st.size());
  for (std::size_t p = 0; p < full.size(); ++p) {  // the mirror of every pair is in j's row
    const int i = full.first[p], j = full.second[p];
    const auto& s = full.shifts[p];
    bool found = false;
    for (std::int64_t q = offsets[j]; q < offsets[j + 1] && !found; ++q)
      found = full.second[q] == i && full.shifts[q][0] == -s[0] && full.shifts[q][1] == -s[1] &&
              full.shifts[q][2] == -s[2];
    ASSERT_TRUE(found) << "pair " << p;
  }
}

TEST(NeighborList, OverlappingAtomsAreReportedAtDistanceZero) {
  Structure st;
  st.numbers = {8, 8, 1};
  st.positions.resize(3, 3);
  st.positions << 1, 1, 1, 1, 1, 1, 5, 5, 5;
  st.cell = Eigen::Matrix3d::Identity() * 10.0;
  st.pbc = {true, true, true};
  const NeighborList full = matnn::build_neighbor_list(st, 1.0);
  ASSERT_EQ(full.size(), 2u);
  EXPECT_EQ(full.first[0], 0);
  EXPECT_EQ(full.second[0], 1);
  EXPECT_EQ(full.first[1], 1);
  EXPECT_EQ(full.second[1], 0);
  EXPECT_EQ(matnn::pair_distances(matnn::pair_vectors(st, full)).maxCoeff(), 0.0);
  EXPECT_EQ(matnn::build_neighbor_list(st, 1.0, NeighborListKind::half).size(), 1u);
}

TEST(NeighborList, ShiftsReferToTheGivenPositions) {
  Structure st;
  st.numbers = {1, 1};
  st.positions.resize(2, 3);
  st.positions << 0.5, 0.5, 0.5, 0.5 + 3 * 4.0, 0.5 - 7 * 4.0, 1.5;  // atom 1 far outside
  st.cell = Eigen::Matrix3d::Identity() * 4.0;
  st.pbc = {true, true, true};
  const NeighborList half = matnn::build_neighbor_list(st, 1.5, NeighborListKind::half);
  ASSERT_EQ(half.size(), 1u);
  EXPECT_EQ(half.shifts[0], (Shift{-3, 7, 0}));
  const auto v = matnn::pair_vectors(st, half);
  EXPECT_NEAR(v(0, 0), 0.0, 1e-12);
  EXPECT_NEAR(v(0, 1), 0.0, 1e-12);
  EXPECT_NEAR(v(0, 2), 1.0, 1e-12);
}

TEST(NeighborList, DensityEstimateIsCloseToTheCount) {
  // Bulk, slab (pbc T T F with vacuum) and a flat sheet with no periodicity: the estimate that
  // guards against absurd densities must be near the true mean, never far above it.
  Structure bulk = fcc_copper(6);
  Structure slab = bulk;
  slab.pbc = {true, true, false};
  slab.cell(2, 2) += 15.0;
  Structure sheet = fcc_copper(12);  // one (100) layer of 576 atoms, 43 Angstrom wide
  sheet.pbc = {false, false, false};
  std::vector<Eigen::Index> layer;
  for (Eigen::Index i = 0; i < sheet.positions.rows(); ++i)
    if (std::abs(sheet.positions(i, 2)) < 1e-9) layer.push_back(i);
  sheet.positions = matnn::Positions(sheet.positions(layer, Eigen::all));
  sheet.numbers.assign(layer.size(), 29);
  for (const auto& [name, st] : {std::pair{"bulk", bulk}, std::pair{"slab", slab}, std::pair{"sheet", sheet}}) {
    const double cutoff = 5.0;
    const double exact = static_cast<double>(matnn::build_neighbor_list(st, cutoff).size()) / static_cast<double>(st.size());
    const double estimate =
        matnn::neighbors_detail::estimated_neighbors_per_atom(matnn::neighbors_detail::make_cell_grid(st, cutoff), cutoff);
    EXPECT_GT(estimate, 0.5 * exact) << name << ": " << estimate << " vs " << exact;
    EXPECT_LT(estimate, 2.0 * exact) << name << ": " << estimate << " vs " << exact;
  }
}

TEST(NeighborList, ImpossibleDensityIsRefusedBeforeTheListIsBuilt) {
  // 200 atoms in a 2 Angstrom cube: about 13000 neighbours per atom within 5 Angstrom.
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.0, 2.0);
  Structure st;
  st.pbc = {true, true, true};
  st.cell = Eigen::Matrix3d::Identity() * 2.0;
  st.positions.resize(200, 3);
  for (Eigen::Index i = 0; i < 200; ++i) st.positions.row(i) << u(rng), u(rng), u(rng);
  st.numbers.assign(200, 29);
  try {
    matnn::build_neighbor_list(st, 5.0, NeighborListKind::full, 4096);
    ADD_FAILURE() << "no exception";
  } catch (const matnn::Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_GEOMETRY);
    EXPECT_NE(std::string(e.what()).find("estimated from the density"), std::string::npos) << e.what();
  }
  // A real crystal passes the same limit.
  EXPECT_FALSE(matnn::build_neighbor_list(fcc_copper(3), 5.0, NeighborListKind::full, 4096).empty());
}

TEST(NeighborList, EmptyStructure) {
  Structure st;
  EXPECT_TRUE(matnn::build_neighbor_list(st, 5.0).empty());
  EXPECT_EQ(matnn::neighbor_offsets(NeighborList{}, 0), std::vector<std::int64_t>{0});
}

template <typename F>
void expect_status(F&& f, matnn_status status, const char* what) {
  try {
    f();
    ADD_FAILURE() << what << ": no exception";
  } catch (const matnn::Error& e) {
    EXPECT_EQ(e.status(), status) << what << ": " << e.what();
  }
}

TEST(NeighborList, BadInputThrows) {
  Structure st = fcc_copper(1);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double cutoff : {0.0, -1.0, nan, inf})
    expect_status([&] { matnn::build_neighbor_list(st, cutoff); }, MATNN_ERROR_INVALID_ARGUMENT,
                  "cutoff");

  Structure bad = st;
  bad.positions(2, 1) = nan;
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_NON_FINITE, "NaN position");
  bad = st;
  bad.positions(0, 0) = inf;
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_NON_FINITE, "inf position");
  bad = st;
  bad.cell(1, 1) = nan;
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_NON_FINITE, "NaN cell");

  bad = st;
  bad.cell.row(2) = bad.cell.row(0) + bad.cell.row(1);
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_SINGULAR_CELL, "coplanar");
  bad = st;
  bad.cell.row(1).setZero();
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_SINGULAR_CELL, "zero row");
  bad = st;
  bad.pbc = {true, true, false};
  bad.cell.row(1) = 2.0 * bad.cell.row(0);
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_SINGULAR_CELL, "parallel slab");
  bad.pbc = {true, false, false};  // the same cell is fine when b is not periodic
  EXPECT_NO_THROW(matnn::build_neighbor_list(bad, 3.0));
  bad = st;
  bad.pbc = {false, false, true};
  bad.cell.row(2).setZero();
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_SINGULAR_CELL, "zero wire");

  bad = st;
  bad.numbers.pop_back();
  expect_status([&] { matnn::build_neighbor_list(bad, 3.0); }, MATNN_ERROR_FORMAT, "sizes");

  bad = st;  // a cutoff of 10^4 layer spacings: too many images
  expect_status([&] { matnn::build_neighbor_list(bad, 3.61e3); }, MATNN_ERROR_GEOMETRY, "huge cutoff");

  NeighborList list = matnn::build_neighbor_list(st, 3.0);
  list.second[0] = 99;
  expect_status([&] { matnn::pair_vectors(st, list); }, MATNN_ERROR_INVALID_ARGUMENT, "bad index");
  std::swap(list.first.front(), list.first.back());
  expect_status([&] { matnn::neighbor_offsets(list, st.size()); }, MATNN_ERROR_INVALID_ARGUMENT,
                "unsorted");
}

}  // namespace
