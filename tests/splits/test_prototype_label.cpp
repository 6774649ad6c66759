// Prototype labels: the AFLOW-style labels of known prototypes, and their invariance under
// everything that describes the same crystal differently.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "crystals.hpp"
#include "data/prototype_label.hpp"
#include "matnn/error.hpp"

namespace matnn::data {
namespace {

using namespace matnn::test_crystals;

struct Named {
  const char* name;
  Structure structure;
};

std::vector<Named> prototypes() {
  Eigen::Matrix3d tetragonal = Eigen::Matrix3d::Zero();
  tetragonal(2, 2) = 0.05;
  Eigen::Matrix3d shear = Eigen::Matrix3d::Zero();
  shear(0, 1) = shear(1, 0) = 0.02;
  shear(2, 2) = -0.03;
  return {{"fcc Cu", fcc_primitive(Cu, 3.61)},
          {"L1_2 Cu3Au", l12(Au, Cu, 3.75)},
          {"B2 CuZn", b2(Cu, Zn, 2.95)},
          {"hcp Mg", hcp(Mg, 3.21, 5.21)},
          {"random alloy", random_alloy(3)},
          {"strained fcc", strained(fcc_conventional(Cu, 3.61), tetragonal)},
          {"sheared B2", strained(b2(Cu, Zn, 2.95), shear)},
          {"bcc Fe", bcc(Fe, 2.87)},
          {"B1 NaCl", b1(Na, Cl, 5.64)},
          {"L1_0 CuAu", l10(Cu, Au, 3.96, 3.67)}};
}

TEST(PrototypeLabel, KnownPrototypesGetTheirAflowLabels) {
  EXPECT_EQ(prototype_label(fcc_primitive(Cu, 3.61)), "A_cF4_225_a");
  EXPECT_EQ(prototype_label(fcc_conventional(Cu, 3.61)), "A_cF4_225_a");
  EXPECT_EQ(prototype_label(bcc(Fe, 2.87)), "A_cI2_229_a");
  EXPECT_EQ(prototype_label(hcp(Mg, 3.21, 5.21)), "A_hP2_194_c");
  EXPECT_EQ(prototype_label(l12(Au, Cu, 3.75)), "AB3_cP4_221_a_c");
  EXPECT_EQ(prototype_label(b2(Cu, Zn, 2.95)), "AB_cP2_221_a_b");
  EXPECT_EQ(prototype_label(b1(Na, Cl, 5.64)), "AB_cF8_225_a_b");
  EXPECT_EQ(prototype_label(l10(Cu, Au, 3.96, 3.67)), "AB_tP2_123_a_d");
  const PrototypeInfo info = prototype_info(l12(Au, Cu, 3.75));
  EXPECT_EQ(info.space_group, 221);
  EXPECT_EQ(info.international, "Pm-3m");
  EXPECT_EQ(info.pearson, "cP4");
  EXPECT_EQ(info.primitive_atoms, 4u);
}

TEST(PrototypeLabel, DoesNotDependOnTheElements) {
  // Cu3Au and Ni3Al are both L1_2: one label, whichever element sorts first.
  EXPECT_EQ(prototype_label(l12(Al, Ni, 3.57)), prototype_label(l12(Au, Cu, 3.75)));
  EXPECT_EQ(prototype_label(b2(Zn, Cu, 2.95)), prototype_label(b2(Cu, Zn, 2.95)));
}

TEST(PrototypeLabel, InvariantToRotationTranslationOrderAndSupercell) {
  for (const Named& p : prototypes()) {
    SCOPED_TRACE(p.name);
    const std::string label = prototype_label(p.structure);
    for (std::uint64_t seed = 0; seed < 4; ++seed) {
      EXPECT_EQ(prototype_label(rotated(p.structure, rotation(0.2 + seed, Vec3(1, -2, 0.5 + seed)))), label);
      EXPECT_EQ(prototype_label(translated(p.structure, Vec3(0.31 * seed + 0.1, -0.77, 1.9 * seed))), label);
      EXPECT_EQ(prototype_label(permuted(p.structure, seed)), label);
      EXPECT_EQ(prototype_label(disguised(p.structure, seed)), label);
    }
    EXPECT_EQ(prototype_label(make_supercell(p.structure, {1, 2, 2})), label);
    // Half a cell diagonal moves the origin onto another special position (L1_2: b_d instead of
    // a_c in spglib's own output); the label must not follow.
    EXPECT_EQ(prototype_label(translated(p.structure, 0.5 * (p.structure.cell.row(0) + p.structure.cell.row(1) +
                                                              p.structure.cell.row(2)).transpose())),
              label);
  }
}

TEST(PrototypeLabel, DistinctPrototypesGetDistinctLabels) {
  std::set<std::string> labels;
  for (const Named& p : prototypes()) labels.insert(prototype_label(p.structure));
  EXPECT_EQ(labels.size(), prototypes().size());
}

TEST(PrototypeLabel, SmallNoiseKeepsTheSymmetryLargeStrainBreaksIt) {
  const Structure base = l12(Au, Cu, 3.75);
  EXPECT_EQ(prototype_label(noisy(base, 0.0005, 1)), "AB3_cP4_221_a_c");
  Eigen::Matrix3d tetragonal = Eigen::Matrix3d::Zero();
  tetragonal(2, 2) = 0.02;
  EXPECT_EQ(prototype_label(strained(base, tetragonal)), "AB3_tP4_123_a_ce");
}

TEST(PrototypeLabel, RefusesWhatHasNoSpaceGroup) {
  Structure slab = fcc_conventional(Cu, 3.61);
  slab.pbc = {true, true, false};
  try {
    prototype_label(slab);
    FAIL() << "a slab got a label";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("periodic"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prototype_label(fcc_primitive(Cu, 3.61), 0.0), Error);
  EXPECT_THROW(prototype_label(Structure{}), Error);

  // Two atoms on top of each other: spglib fails, and its message is passed on.
  Structure overlap = fcc_conventional(Cu, 3.61);
  overlap.positions.row(1) = overlap.positions.row(0);
  overlap.positions(1, 0) += 1e-4;
  try {
    prototype_label(overlap);
    FAIL() << "overlapping atoms got a label";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_GEOMETRY);
    EXPECT_NE(std::string(e.what()).find("spglib"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace matnn::data
