// Near-duplicate matching: planted copies (rotated, translated, renumbered, repeated, noisy) are
// found, and distinct crystals, including strains of one prototype beyond the tolerance and
// polymorphs at the same density, are not confused.
#include <string>

#include <gtest/gtest.h>

#include "crystals.hpp"
#include "data/structure_match.hpp"
#include "matnn/error.hpp"

namespace matnn::data {
namespace {

using namespace matnn::test_crystals;

Eigen::Matrix3d uniaxial(double e) {
  Eigen::Matrix3d m = Eigen::Matrix3d::Zero();
  m(0, 0) = e;
  return m;
}

Eigen::Matrix3d shear(double e) {
  Eigen::Matrix3d m = Eigen::Matrix3d::Zero();
  m(0, 1) = m(1, 0) = e;
  return m;
}

// Distinct crystals: no two of them are the same within the default tolerances.
std::vector<Structure> clean_set() {
  // hcp with the ideal c/a at fcc's volume per atom: the first 18 neighbours of both are at the
  // same distances; only the 19th and later tell them apart.
  const double a_fcc = 3.61, d = a_fcc / std::sqrt(2.0);
  return {fcc_primitive(Cu, a_fcc),
          hcp(Cu, d, d * std::sqrt(8.0 / 3.0)),
          bcc(Cu, 2.87),
          l12(Au, Cu, 3.75),
          l12(Cu, Au, 3.95),  // Au3Cu: another formula
          b2(Cu, Zn, 2.95),
          b1(Na, Cl, 5.64),
          l10(Cu, Au, 3.96, 3.67),
          random_alloy(1),
          random_alloy(2),  // the same composition and lattice, another decoration
          strained(fcc_primitive(Cu, a_fcc), uniaxial(0.02)),
          strained(fcc_primitive(Cu, a_fcc), uniaxial(-0.02)),
          strained(l12(Au, Cu, 3.75), shear(0.03))};  // volume kept: only the distances tell
}

TEST(StructureMatch, FindsRotatedTranslatedPermutedSupercellAndNoisyCopies) {
  for (const Structure& s : clean_set()) {
    SCOPED_TRACE(fingerprint(s).formula);
    EXPECT_TRUE(same_crystal(s, rotated(s, rotation(1.1, Vec3(0.3, -1, 2)))));
    EXPECT_TRUE(same_crystal(s, translated(s, Vec3(4.1, -0.3, 0.77))));
    EXPECT_TRUE(same_crystal(s, permuted(s, 5)));
    EXPECT_TRUE(same_crystal(s, make_supercell(s, {3, 1, 2})));
    EXPECT_TRUE(same_crystal(s, disguised(s, 2)));
    EXPECT_TRUE(same_crystal(s, noisy(s, 0.001, 9)));
    EXPECT_TRUE(same_crystal(disguised(s, 4), noisy(s, 0.001, 3)));
    // A representation change is an exact duplicate; noise is not.
    EXPECT_TRUE(same_crystal(s, disguised(s, 3), exact_tolerances));
    EXPECT_FALSE(same_crystal(s, noisy(s, 0.001, 9), exact_tolerances));
  }
  // fcc as its 1-atom primitive cell and as the 4-atom cubic cell (not a diagonal supercell).
  EXPECT_TRUE(same_crystal(fcc_primitive(Cu, 3.61), fcc_conventional(Cu, 3.61), exact_tolerances));
}

TEST(StructureMatch, NoFalsePositiveOnACleanSet) {
  const std::vector<Structure> set = clean_set();
  std::vector<Fingerprint> prints;
  for (const Structure& s : set) prints.push_back(fingerprint(s));
  for (std::size_t i = 0; i < set.size(); ++i)
    for (std::size_t j = i + 1; j < set.size(); ++j)
      EXPECT_FALSE(fingerprints_match(prints[i], prints[j], MatchTolerances{})) << i << " and " << j;
  EXPECT_TRUE(duplicate_groups(prints, MatchTolerances{}).empty());
}

TEST(StructureMatch, StrainsBeyondTheToleranceAreDistinctWithinItTheSame) {
  const Structure base = l12(Au, Cu, 3.75);
  EXPECT_FALSE(same_crystal(base, strained(base, uniaxial(0.01))));
  EXPECT_TRUE(same_crystal(base, strained(base, uniaxial(0.001))));
  EXPECT_FALSE(same_crystal(base, strained(base, uniaxial(0.001)), exact_tolerances));
  // Looser tolerances accept the 1 % strain.
  EXPECT_TRUE(same_crystal(base, strained(base, uniaxial(0.01)), MatchTolerances{0.2, 0.02}));
}

TEST(StructureMatch, GroupsArePlantedCopiesOnly) {
  std::vector<Structure> set = clean_set();
  const std::size_t n = set.size();
  set.push_back(disguised(set[3], 1));           // n:     copy of L1_2
  set.push_back(noisy(set[8], 0.001, 4));        // n + 1: copy of random alloy 1
  set.push_back(make_supercell(set[3], {2, 2, 1}));  // n + 2: another copy of L1_2
  std::vector<Fingerprint> prints;
  for (const Structure& s : set) prints.push_back(fingerprint(s));
  prints.push_back(Fingerprint{});  // not fingerprinted: in no group
  const auto groups = duplicate_groups(prints, MatchTolerances{});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<std::size_t>{3, n, n + 2}));
  EXPECT_EQ(groups[1], (std::vector<std::size_t>{8, n + 1}));
  const auto exact = duplicate_groups(prints, exact_tolerances);
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_EQ(exact[0], (std::vector<std::size_t>{3, n, n + 2}));
}

TEST(StructureMatch, RefusesNonPeriodicStructuresAndBadTolerances) {
  Structure wire = fcc_conventional(Cu, 3.61);
  wire.pbc = {false, false, true};
  try {
    fingerprint(wire);
    FAIL() << "a wire was fingerprinted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT);
  }
  EXPECT_THROW(same_crystal(bcc(Fe, 2.87), bcc(Fe, 2.87), MatchTolerances{-1, 0.01}), Error);
  EXPECT_THROW(duplicate_groups({}, MatchTolerances{0.1, std::nan("")}), Error);
}

}  // namespace
}  // namespace matnn::data
