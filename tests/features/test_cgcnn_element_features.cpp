// CGCNN's element encoding: layout, one-hot blocks, and bins of elements worked out by hand from
// the table's values (so that an off-by-one bin, a wrong range or a wrong unit shows).
#include <cmath>
#include <iterator>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "features/cgcnn_element_features.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn::features {
namespace {

// Offsets and widths written out as documented, independently of the implementation's table.
enum Block { group, period, electronegativity, covalent_radius, valence, ionization, affinity,
             orbital_block, volume };
struct Layout {
  int offset, width;
};
constexpr Layout layout[] = {{0, 18}, {18, 7}, {25, 10}, {35, 10}, {45, 12},
                             {57, 10}, {67, 10}, {77, 4}, {81, 10}};
constexpr int s_block = 0, p_block = 1, d_block = 2, f_block = 3;

// Index of the 1 inside block b: -1 if the block is all zero, -2 if it holds more than one 1.
int hot(const std::vector<float>& f, Block b) {
  int found = -1;
  for (int i = 0; i < layout[b].width; ++i) {
    if (f.at(static_cast<std::size_t>(layout[b].offset + i)) != 0.0f) found = found == -1 ? i : -2;
  }
  return found;
}

int hot(int z, Block b) { return hot(cgcnn_element_features(z), b); }

TEST(CgcnnElementFeatures, WidthAndBlockLayoutFollowTableS2) {
  EXPECT_EQ(cgcnn_element_feature_width(), 91);
  const auto blocks = cgcnn_element_feature_blocks();
  ASSERT_EQ(blocks.size(), std::size(layout));
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    EXPECT_EQ(blocks[b].offset, layout[b].offset) << blocks[b].name;
    EXPECT_EQ(blocks[b].width, layout[b].width) << blocks[b].name;
  }
  EXPECT_STREQ(blocks[electronegativity].name, "electronegativity");
  EXPECT_STREQ(blocks[affinity].name, "electron_affinity");
  for (int z = 1; z <= max_atomic_number; ++z) {
    EXPECT_EQ(cgcnn_element_features(z).size(), 91u) << z;
  }
}

TEST(CgcnnElementFeatures, EachBlockIsOneHotWhenKnownAndZeroWhenMissing) {
  for (int z = 1; z <= max_atomic_number; ++z) {
    const ElementData& e = element(z);
    const auto f = cgcnn_element_features(z);
    for (float x : f) ASSERT_TRUE(x == 0.0f || x == 1.0f) << e.symbol;
    const bool known[] = {true,
                          true,
                          std::isfinite(e.electronegativity),
                          std::isfinite(e.covalent_radius),
                          true,
                          std::isfinite(e.first_ionization),
                          std::isfinite(e.electron_affinity),
                          true,
                          std::isfinite(e.mass / e.density)};
    int ones = 0;
    for (int b = group; b <= volume; ++b) {
      const int i = hot(f, static_cast<Block>(b));
      EXPECT_NE(i, -2) << e.symbol << " block " << b << " has more than one 1";
      EXPECT_EQ(i >= 0, known[b]) << e.symbol << " block " << b;
      ones += i >= 0;
    }
    int total = 0;
    for (float x : f) total += x != 0.0f;
    EXPECT_EQ(total, ones) << e.symbol;  // nothing set outside the blocks
  }
}

TEST(CgcnnElementFeatures, CopperLandsInItsBins) {
  const auto f = cgcnn_element_features(29);
  EXPECT_EQ(hot(f, group), 10);            // group 11
  EXPECT_EQ(hot(f, period), 3);            // period 4
  EXPECT_EQ(hot(f, electronegativity), 4); // 1.90: 1.4 / 0.35 = 4, on an edge: the upper bin
  EXPECT_EQ(hot(f, covalent_radius), 4);   // 132 pm: (132 - 25) / 22.5 = 4.76
  EXPECT_EQ(hot(f, valence), 10);          // 3d10 4s1: 11
  EXPECT_EQ(hot(f, ionization), 3);        // ln 7.726 = 2.045: (2.045 - 1.3) / 0.2 = 3.72
  EXPECT_EQ(hot(f, affinity), 6);          // 1.236 eV: 4.236 / 0.67 = 6.32
  EXPECT_EQ(hot(f, orbital_block), d_block);
  EXPECT_EQ(hot(f, volume), 1);            // ln(63.55 / 8.96) = 1.959: 0.459 / 0.28 = 1.64
}

TEST(CgcnnElementFeatures, AluminiumLandsInItsBins) {
  const auto f = cgcnn_element_features(13);
  EXPECT_EQ(hot(f, group), 12);            // group 13
  EXPECT_EQ(hot(f, period), 2);            // period 3
  EXPECT_EQ(hot(f, electronegativity), 3); // 1.61: 1.11 / 0.35 = 3.17
  EXPECT_EQ(hot(f, covalent_radius), 4);   // 121 pm: 96 / 22.5 = 4.27
  EXPECT_EQ(hot(f, valence), 2);           // 3s2 3p1: 3
  EXPECT_EQ(hot(f, ionization), 2);        // ln 5.986 = 1.789: 2.45
  EXPECT_EQ(hot(f, affinity), 5);          // 0.433 eV: 3.433 / 0.67 = 5.12
  EXPECT_EQ(hot(f, orbital_block), p_block);
  EXPECT_EQ(hot(f, volume), 2);            // ln(26.98 / 2.70) = 2.302: 0.802 / 0.28 = 2.86
}

TEST(CgcnnElementFeatures, ElectronegativityAndAffinityBins) {
  EXPECT_EQ(hot(8, electronegativity), 8);  // O 3.44: 2.94 / 0.35 = 8.4
  EXPECT_EQ(hot(9, electronegativity), 9);  // F 3.98: 9.94
  EXPECT_EQ(hot(55, electronegativity), 0); // Cs 0.79
  EXPECT_EQ(hot(8, affinity), 6);           // O 1.461: 6.66
  EXPECT_EQ(hot(9, affinity), 9);           // F 3.401: 9.55, the last bin
  EXPECT_EQ(hot(17, affinity), 9);          // Cl 3.613: 9.87
  EXPECT_EQ(hot(10, affinity), 2);          // Ne, unbound, estimate -1.22: 2.66
  EXPECT_EQ(hot(1, ionization), 6);         // H: ln 13.598 = 2.610: 6.55
  EXPECT_EQ(hot(2, ionization), 9);         // He: ln 24.587 = 3.202: 9.51
  EXPECT_EQ(hot(64, electronegativity), 2); // Gd 1.20: 0.7 / 0.35 = 2, on an edge
  EXPECT_EQ(hot(102, affinity), 1);         // No -2.33 eV: 0.67 / 0.67 = 1, on an edge
  EXPECT_EQ(hot(6, volume), 0);             // C: ln(12.01 / 2.267) = 1.667: 0.60
}

TEST(CgcnnElementFeatures, OutOfRangeValuesClampIntoTheEndBins) {
  EXPECT_EQ(hot(87, covalent_radius), 9);  // Fr 260 pm > 250 pm
  EXPECT_EQ(hot(18, volume), 9);           // Ar: the table's gas density, ~24,500 cm^3/mol
}

TEST(CgcnnElementFeatures, MissingPropertiesLeaveTheirBlockEmpty) {
  for (int z : {2, 10, 18}) EXPECT_EQ(hot(z, electronegativity), -1) << z;  // He, Ne, Ar
  EXPECT_EQ(hot(36, electronegativity), 7);                                   // Kr 3.00 is known
  for (Block b : {electronegativity, ionization, affinity, volume}) {
    EXPECT_EQ(hot(110, b), -1) << b;  // Ds: none of these is known
  }
  EXPECT_EQ(hot(110, group), 9);
  EXPECT_EQ(hot(110, period), 6);
}

TEST(CgcnnElementFeatures, BlockAndValenceDerivedFromTheShells) {
  struct Case {
    int z, block, valence;
  };
  for (const Case& c : {Case{1, s_block, 1}, Case{2, s_block, 2}, Case{11, s_block, 1},
                        Case{8, p_block, 6}, Case{10, p_block, 8}, Case{31, p_block, 3},
                        Case{30, d_block, 12}, Case{46, d_block, 10}, Case{78, d_block, 10},
                        Case{24, d_block, 6}, Case{57, f_block, 3}, Case{59, f_block, 2},
                        Case{70, f_block, 2}, Case{71, d_block, 3}, Case{90, f_block, 4},
                        Case{92, f_block, 3}, Case{103, d_block, 3}}) {
    const auto f = cgcnn_element_features(c.z);
    EXPECT_EQ(hot(f, orbital_block), c.block) << element(c.z).symbol;
    EXPECT_EQ(hot(f, valence), c.valence - 1) << element(c.z).symbol;
  }
  EXPECT_EQ(hot(57, group), 2);  // lanthanides sit in group 3, as in the table
}

TEST(CgcnnElementFeatures, UnknownAtomicNumberThrows) {
  for (int z : {0, -1, 119}) {
    try {
      cgcnn_element_features(z);
      ADD_FAILURE() << "no exception for z = " << z;
    } catch (const Error& error) {
      EXPECT_EQ(error.status(), MATNN_ERROR_UNKNOWN_ELEMENT) << z;
    }
  }
}

// The column the encoding reads, against the reference values of well-known elements.
TEST(CgcnnElementFeatures, ElectronAffinityColumnSpotChecks) {
  const std::pair<int, double> reference[] = {
      {1, 0.754},  {6, 1.262},  {8, 1.461},  {9, 3.401},  {17, 3.613}, {11, 0.548},
      {29, 1.236}, {47, 1.304}, {79, 2.309}, {78, 2.125}, {46, 0.562}, {28, 1.157},
      {13, 0.433}, {14, 1.390}, {35, 3.364}, {53, 3.059}, {16, 2.077}};
  for (const auto& [z, ea] : reference) {
    EXPECT_NEAR(element(z).electron_affinity, ea, 1.5e-3) << element(z).symbol;
  }
  for (int z : {2, 4, 7, 10, 12, 18, 30, 48, 80}) {  // anions that are not bound
    EXPECT_LT(element(z).electron_affinity, 0.0) << element(z).symbol;
  }
  for (int z = 104; z <= max_atomic_number; ++z) {
    EXPECT_TRUE(std::isnan(element(z).electron_affinity)) << element(z).symbol;
  }
  for (int z = 1; z <= 103; ++z) {  // inside CGCNN's range -3..3.7 eV
    EXPECT_GT(element(z).electron_affinity, -3.0) << element(z).symbol;
    EXPECT_LT(element(z).electron_affinity, 3.7) << element(z).symbol;
  }
}

}  // namespace
}  // namespace matnn::features
