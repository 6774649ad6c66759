// Composition features: the inputs of the composition MLP, the baseline of materials property
// prediction (Ward et al., npj Comput. Mater. 2, 16028 (2016), "Magpie").
//
// For a composition with atomic fractions f_i of elements with property values x_i, each element
// property contributes six statistics:
//   mean       sum f_i x_i
//   avg_dev    sum f_i |x_i - mean|
//   min, max   over the elements present
//   range      max - min
//   mode       x of the element with the largest fraction (ties: the smaller x)
// plus stoichiometric attributes (number of elements, L_p norms of the fractions for
// p = 2, 3, 5, 7, 10) and, optionally, the element-fraction vector over a fixed element list.
// Element properties come from the one periodic table (matnn/elements.hpp); a property unknown
// for an element (NaN in the table) is replaced by that property's mean over the elements of
// the table that have it, so every feature is finite.
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

#include "matnn/composition.hpp"

namespace matnn::features {

class CompositionFeaturizer {
 public:
  /// `fraction_elements`: atomic numbers whose fractions form the first block of features, in
  /// this order (empty: no fraction block). A composition with an element outside this list is
  /// still featurised (its Magpie statistics are valid); whether that is allowed is the model's
  /// decision, see covers().
  explicit CompositionFeaturizer(std::vector<int> fraction_elements = {});

  std::size_t size() const noexcept { return names_.size(); }
  /// Feature names, e.g. "frac_Fe", "mean_electronegativity", "lp2_norm".
  const std::vector<std::string>& names() const noexcept { return names_; }
  const std::vector<int>& fraction_elements() const noexcept { return fraction_elements_; }

  /// True if every element of `c` is in the fraction list (always true without a list).
  bool covers(const Composition& c) const;

  /// Features of one composition; throws matnn::Error(MATNN_ERROR_INVALID_ARGUMENT) if empty.
  Eigen::VectorXd featurize(const Composition& c) const;
  /// One row per composition.
  Eigen::MatrixXd featurize(const std::vector<Composition>& compositions) const;

 private:
  std::vector<int> fraction_elements_;
  std::vector<std::string> names_;
};

}  // namespace matnn::features
