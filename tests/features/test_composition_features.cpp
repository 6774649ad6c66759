#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "features/composition_features.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn::features {
namespace {

double feature(const CompositionFeaturizer& f, const Eigen::VectorXd& x, const std::string& name) {
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f.names()[i] == name) return x[static_cast<Eigen::Index>(i)];
  }
  ADD_FAILURE() << "no feature " << name;
  return NAN;
}

TEST(CompositionFeatures, StatisticsOfABinary) {
  const CompositionFeaturizer f({26, 8});
  const auto x = f.featurize(Composition::from_formula("Fe2O3"));
  ASSERT_EQ(x.size(), static_cast<Eigen::Index>(f.size()));
  EXPECT_DOUBLE_EQ(feature(f, x, "frac_Fe"), 0.4);
  EXPECT_DOUBLE_EQ(feature(f, x, "frac_O"), 0.6);
  EXPECT_DOUBLE_EQ(feature(f, x, "mean_atomic_number"), 0.4 * 26 + 0.6 * 8);
  const double mean_z = 0.4 * 26 + 0.6 * 8;
  EXPECT_DOUBLE_EQ(feature(f, x, "avg_dev_atomic_number"), 0.4 * (26 - mean_z) + 0.6 * (mean_z - 8));
  EXPECT_DOUBLE_EQ(feature(f, x, "min_atomic_number"), 8);
  EXPECT_DOUBLE_EQ(feature(f, x, "max_atomic_number"), 26);
  EXPECT_DOUBLE_EQ(feature(f, x, "range_atomic_number"), 18);
  EXPECT_DOUBLE_EQ(feature(f, x, "mode_atomic_number"), 8);  // oxygen is the majority
  const double en_fe = element(26).electronegativity, en_o = element(8).electronegativity;
  EXPECT_DOUBLE_EQ(feature(f, x, "mean_electronegativity"), 0.4 * en_fe + 0.6 * en_o);
  EXPECT_DOUBLE_EQ(feature(f, x, "n_elements"), 2);
  EXPECT_NEAR(feature(f, x, "lp2_norm"), std::sqrt(0.16 + 0.36), 1e-15);
}

TEST(CompositionFeatures, ElementalSolidHasZeroSpread) {
  const CompositionFeaturizer f;
  const auto x = f.featurize(Composition::from_formula("Cu"));
  EXPECT_DOUBLE_EQ(feature(f, x, "avg_dev_covalent_radius"), 0.0);
  EXPECT_DOUBLE_EQ(feature(f, x, "range_melting_point"), 0.0);
  EXPECT_DOUBLE_EQ(feature(f, x, "mean_valence_d"), 10);
  EXPECT_DOUBLE_EQ(feature(f, x, "lp10_norm"), 1.0);
}

TEST(CompositionFeatures, EveryFeatureIsFiniteAcrossTheTable) {
  // Includes noble gases and superheavy elements, whose unknown properties are imputed.
  const CompositionFeaturizer f;
  for (int z = 1; z <= max_atomic_number; ++z) {
    const auto x = f.featurize(Composition({{z, 1.0}, {8, 2.0}}));
    ASSERT_TRUE(x.allFinite()) << element(z).symbol;
  }
}

TEST(CompositionFeatures, ScaleInvariantAndOrderIndependent) {
  const CompositionFeaturizer f({3, 26, 15, 8});
  const auto a = f.featurize(Composition::from_formula("LiFePO4"));
  const auto b = f.featurize(Composition::from_formula("O8P2Fe2Li2"));
  EXPECT_TRUE(a.isApprox(b, 1e-14));
}

TEST(CompositionFeatures, CoverageAndBadInput) {
  const CompositionFeaturizer f({26, 8});
  EXPECT_TRUE(f.covers(Composition::from_formula("FeO")));
  EXPECT_FALSE(f.covers(Composition::from_formula("NiO")));
  EXPECT_THROW(f.featurize(Composition()), Error);
  const auto batch = f.featurize(std::vector<Composition>{Composition::from_formula("FeO"), Composition::from_formula("Fe")});
  EXPECT_EQ(batch.rows(), 2);
  EXPECT_DOUBLE_EQ(batch(1, 0), 1.0);
}

}  // namespace
}  // namespace matnn::features
