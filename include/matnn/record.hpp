// One structure with its labels, as a dataset stores it and as extended XYZ carries it.
//
// Labels are named. A few names have a fixed meaning, shape and unit (the ASE names):
//   per structure: "energy" (1 value, eV), "free_energy" (1, eV),
//                  "stress" (6 values, Voigt xx yy zz yz xz xy, eV/Angstrom^3, ASE sign:
//                  positive under tension, i.e. stress = (1/V) dE/d(strain))
//   per atom:      "forces" (3 per atom, eV/Angstrom), "energies" (1 per atom, eV),
//                  "charges" (1 per atom, e), "magmoms" (1 per atom, Bohr magneton)
// Any other name is a user property (formation_energy, band_gap, is_metal, ...) whose unit the
// dataset records as given by the user. A label that a structure lacks is simply absent from
// its maps; the dataset stores that as a mask.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "matnn/signal.hpp"
#include "matnn/structure.hpp"

namespace matnn {

/// Per-atom label values: natoms x width, row-major.
using AtomValues = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Record {
  Structure structure;
  /// Per-structure labels: name -> values (a scalar is a vector of length 1).
  std::map<std::string, std::vector<double>> properties;
  /// Per-atom labels: name -> natoms x width values.
  std::map<std::string, AtomValues> atom_properties;
  /// Array-valued samples: name -> spectrum or image (matnn/signal.hpp). A row may hold signals
  /// and no atoms (a measured pattern) or both (a pattern with the structure that made it).
  std::map<std::string, Signal> signals;
  /// String tags: "id", "config_type", "prototype", or any other name.
  std::map<std::string, std::string> tags;
  /// Time the structure was made or measured, seconds since 1970-01-01T00:00:00Z (for time splits).
  std::optional<std::int64_t> timestamp;

  /// Convenience accessors for the reserved labels; nullopt / nullptr when absent.
  std::optional<double> energy() const;
  const AtomValues* forces() const;
  const std::vector<double>* stress() const;

  /// Structure::validate() plus label checks: per-atom label rows == natoms, all values finite,
  /// reserved labels of the right width, and Signal::validate() of every signal. Throws matnn::Error
  /// naming the label or signal.
  void validate() const;
};

/// Width of a reserved label ("energy" -> 1, "stress" -> 6, "forces" -> 3), or 0 for a user label.
int reserved_label_width(const std::string& name) noexcept;
/// Unit of a reserved label in ASE units ("energy" -> "eV"), or "" for a user label.
const char* reserved_label_unit(const std::string& name) noexcept;
/// True for the names that are per-atom labels when reserved ("forces", "energies", ...).
bool is_reserved_atom_label(const std::string& name) noexcept;

}  // namespace matnn
