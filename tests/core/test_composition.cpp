#include <gtest/gtest.h>

#include "matnn/composition.hpp"
#include "matnn/error.hpp"
#include "matnn/structure.hpp"

namespace matnn {
namespace {

matnn_status status_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.status();
  }
  return MATNN_SUCCESS;
}

TEST(Composition, ParsesSimpleAndNestedFormulas) {
  const auto fe2o3 = Composition::from_formula("Fe2O3");
  EXPECT_EQ(fe2o3.amounts().at(26), 2.0);
  EXPECT_EQ(fe2o3.amounts().at(8), 3.0);
  const auto caoh2 = Composition::from_formula("Ca(OH)2");
  EXPECT_EQ(caoh2.amounts().at(20), 1.0);
  EXPECT_EQ(caoh2.amounts().at(8), 2.0);
  EXPECT_EQ(caoh2.amounts().at(1), 2.0);
  const auto prussian = Composition::from_formula("K4[Fe(CN)6]");
  EXPECT_EQ(prussian.amounts().at(19), 4.0);
  EXPECT_EQ(prussian.amounts().at(26), 1.0);
  EXPECT_EQ(prussian.amounts().at(6), 6.0);
  EXPECT_EQ(prussian.amounts().at(7), 6.0);
  const auto alloy = Composition::from_formula("Fe0.7Ni0.3");
  EXPECT_DOUBLE_EQ(alloy.fractions().at(26), 0.7);
  EXPECT_DOUBLE_EQ(alloy.total(), 1.0);
}

TEST(Composition, FormulasInHillOrderAndReduced) {
  EXPECT_EQ(Composition::from_formula("O3Fe2").formula(), "Fe2O3");
  EXPECT_EQ(Composition::from_formula("Fe4O6").reduced_formula(), "Fe2O3");
  EXPECT_EQ(Composition::from_formula("OHHC2H3").formula(), "C2H5O");  // carbon first, then hydrogen
  EXPECT_EQ(Composition::from_formula("Fe0.5Ni0.25").reduced_formula(), "Fe2Ni");
  EXPECT_EQ(Composition::from_formula("SiO2").chemical_system(), "O-Si");
  EXPECT_EQ(Composition::from_formula("LiFePO4").chemical_system(), "Fe-Li-O-P");
}

TEST(Composition, FractionsSumToOne) {
  const auto c = Composition::from_formula("LiFePO4");
  double sum = 0;
  for (const auto& [z, f] : c.fractions()) sum += f;
  EXPECT_NEAR(sum, 1.0, 1e-15);
  EXPECT_DOUBLE_EQ(c.fractions().at(8), 4.0 / 7.0);
}

TEST(Composition, RejectsBadFormulas) {
  EXPECT_EQ(status_of([] { Composition::from_formula("Xx2"); }), MATNN_ERROR_UNKNOWN_ELEMENT);
  EXPECT_EQ(status_of([] { Composition::from_formula("Fe2O3)"); }), MATNN_ERROR_FORMAT);
  EXPECT_EQ(status_of([] { Composition::from_formula("Ca(OH2"); }), MATNN_ERROR_FORMAT);
  EXPECT_EQ(status_of([] { Composition::from_formula("fe"); }), MATNN_ERROR_FORMAT);
  EXPECT_EQ(status_of([] { Composition::from_formula(""); }), MATNN_ERROR_FORMAT);
  EXPECT_EQ(status_of([] { Composition::from_formula("Fe0"); }), MATNN_ERROR_FORMAT);
  EXPECT_EQ(status_of([] { Composition(std::map<int, double>{{26, -1.0}}); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(Composition, FromStructureCountsAtoms) {
  Structure s;
  s.numbers = {8, 26, 8, 26, 8};
  s.positions = Positions::Random(5, 3);
  EXPECT_EQ(s.composition().formula(), "Fe2O3");
}

}  // namespace
}  // namespace matnn
