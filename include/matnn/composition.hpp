// Chemical composition: amounts of each element, independent of structure. The input of
// composition-feature models and of composition-based dataset splits.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace matnn {

class Composition {
 public:
  Composition() = default;
  /// From atomic number -> amount (amounts > 0, may be fractional as in "Fe0.5Ni0.5").
  explicit Composition(std::map<int, double> amounts);
  /// Parses a formula such as "Fe2O3", "LiFePO4", "Ca(OH)2", "Fe0.7Ni0.3";
  /// throws matnn::Error (MATNN_ERROR_FORMAT or MATNN_ERROR_UNKNOWN_ELEMENT).
  static Composition from_formula(std::string_view formula);

  const std::map<int, double>& amounts() const noexcept { return amounts_; }
  bool empty() const noexcept { return amounts_.empty(); }
  double total() const noexcept;
  /// Atomic fractions summing to 1.
  std::map<int, double> fractions() const;
  /// Formula in Hill order (C, H, then alphabetical; alphabetical without carbon), amounts as given:
  /// "O3Fe2" is written "Fe2O3".
  std::string formula() const;
  /// Formula with integer amounts divided by their greatest common divisor ("Fe4O6" -> "Fe2O3");
  /// non-integer amounts are normalised to the smallest amount being 1.
  std::string reduced_formula() const;
  /// Elements joined by '-' in alphabetical order ("Fe-O"): the chemical system.
  std::string chemical_system() const;

  bool operator==(const Composition&) const = default;

 private:
  std::map<int, double> amounts_;
};

}  // namespace matnn
