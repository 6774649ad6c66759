#include "features/composition_features.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn::features {
namespace {

struct ElementProperty {
  const char* name;
  double (*get)(const ElementData&);
};

// The element properties that enter the statistics, in feature order.
const std::array<ElementProperty, 16> element_properties{{
    {"atomic_number", [](const ElementData& e) { return double(e.z); }},
    {"mendeleev_number", [](const ElementData& e) { return e.mendeleev_number < 0 ? NAN : double(e.mendeleev_number); }},
    {"atomic_mass", [](const ElementData& e) { return e.mass; }},
    {"group", [](const ElementData& e) { return e.group < 0 ? NAN : double(e.group); }},
    {"period", [](const ElementData& e) { return double(e.period); }},
    {"electronegativity", [](const ElementData& e) { return e.electronegativity; }},
    {"covalent_radius", [](const ElementData& e) { return e.covalent_radius; }},
    {"melting_point", [](const ElementData& e) { return e.melting_point; }},
    {"boiling_point", [](const ElementData& e) { return e.boiling_point; }},
    {"density", [](const ElementData& e) { return e.density; }},
    {"first_ionization", [](const ElementData& e) { return e.first_ionization; }},
    {"valence_s", [](const ElementData& e) { return e.valence_s < 0 ? NAN : double(e.valence_s); }},
    {"valence_p", [](const ElementData& e) { return e.valence_p < 0 ? NAN : double(e.valence_p); }},
    {"valence_d", [](const ElementData& e) { return e.valence_d < 0 ? NAN : double(e.valence_d); }},
    {"valence_f", [](const ElementData& e) { return e.valence_f < 0 ? NAN : double(e.valence_f); }},
    {"valence_total",
     [](const ElementData& e) {
       if (e.valence_s < 0 || e.valence_p < 0 || e.valence_d < 0 || e.valence_f < 0) return double(NAN);
       return double(e.valence_s + e.valence_p + e.valence_d + e.valence_f);
     }},
}};

constexpr std::array<const char*, 6> statistic_names{"mean", "avg_dev", "min", "max", "range", "mode"};
constexpr std::array<int, 5> norm_orders{2, 3, 5, 7, 10};

// Property values for every element with unknowns imputed by the table mean; built once.
const std::vector<std::array<double, element_properties.size()>>& imputed_table() {
  static const auto table = [] {
    const auto elements = periodic_table();
    std::vector<std::array<double, element_properties.size()>> values(elements.size());
    for (std::size_t p = 0; p < element_properties.size(); ++p) {
      double sum = 0.0;
      int known = 0;
      for (const auto& e : elements) {
        const double v = element_properties[p].get(e);
        if (std::isfinite(v)) {
          sum += v;
          ++known;
        }
      }
      const double mean = known > 0 ? sum / known : 0.0;
      for (std::size_t i = 0; i < elements.size(); ++i) {
        const double v = element_properties[p].get(elements[i]);
        values[i][p] = std::isfinite(v) ? v : mean;
      }
    }
    return values;
  }();
  return table;
}

}  // namespace

CompositionFeaturizer::CompositionFeaturizer(std::vector<int> fraction_elements)
    : fraction_elements_(std::move(fraction_elements)) {
  for (int z : fraction_elements_) names_.push_back(std::string("frac_") + element(z).symbol);
  for (const auto& property : element_properties) {
    for (const char* statistic : statistic_names) names_.push_back(std::string(statistic) + "_" + property.name);
  }
  names_.emplace_back("n_elements");
  for (int p : norm_orders) names_.push_back("lp" + std::to_string(p) + "_norm");
}

bool CompositionFeaturizer::covers(const Composition& c) const {
  if (fraction_elements_.empty()) return true;
  for (const auto& entry : c.amounts()) {
    if (std::find(fraction_elements_.begin(), fraction_elements_.end(), entry.first) == fraction_elements_.end()) {
      return false;
    }
  }
  return true;
}

Eigen::VectorXd CompositionFeaturizer::featurize(const Composition& c) const {
  if (c.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "cannot featurise an empty composition");
  const auto fractions = c.fractions();
  const auto& table = imputed_table();
  Eigen::VectorXd out(static_cast<Eigen::Index>(size()));
  Eigen::Index k = 0;

  for (int z : fraction_elements_) {
    const auto it = fractions.find(z);
    out[k++] = it == fractions.end() ? 0.0 : it->second;
  }

  // The element with the largest fraction, for the mode statistic.
  double largest_fraction = 0.0;
  for (const auto& entry : fractions) largest_fraction = std::max(largest_fraction, entry.second);

  for (std::size_t p = 0; p < element_properties.size(); ++p) {
    double mean = 0.0, low = INFINITY, high = -INFINITY, mode = INFINITY;
    for (const auto& [z, f] : fractions) {
      const double x = table[static_cast<std::size_t>(z - 1)][p];
      mean += f * x;
      low = std::min(low, x);
      high = std::max(high, x);
      if (f == largest_fraction) mode = std::min(mode, x);
    }
    double deviation = 0.0;
    for (const auto& [z, f] : fractions) deviation += f * std::abs(table[static_cast<std::size_t>(z - 1)][p] - mean);
    for (double v : {mean, deviation, low, high, high - low, mode}) out[k++] = v;
  }

  out[k++] = static_cast<double>(fractions.size());
  for (int p : norm_orders) {
    double sum = 0.0;
    for (const auto& entry : fractions) sum += std::pow(entry.second, p);
    out[k++] = std::pow(sum, 1.0 / p);
  }
  return out;
}

Eigen::MatrixXd CompositionFeaturizer::featurize(const std::vector<Composition>& compositions) const {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(compositions.size()), static_cast<Eigen::Index>(size()));
  for (std::size_t i = 0; i < compositions.size(); ++i) {
    out.row(static_cast<Eigen::Index>(i)) = featurize(compositions[i]).transpose();
  }
  return out;
}

}  // namespace matnn::features
