// The periodic table: the one place where matnn keeps element facts. Symbols and masses serve
// file I/O; the other properties feed composition features (Magpie-style statistics) and the
// CGCNN element encoding (src/features/cgcnn_element_features.hpp).
// Unknown values are NaN (floating point) or -1 (integers); the source of each column is noted
// in src/core/element_data.cpp.
#pragma once

#include <span>
#include <string_view>

namespace matnn {

/// Highest atomic number in the table (oganesson).
inline constexpr int max_atomic_number = 118;

struct ElementData {
  int z;                      ///< atomic number
  const char* symbol;         ///< "Fe"
  const char* name;           ///< "Iron"
  double mass;                ///< standard atomic weight, u (mass number of the longest-lived isotope where none)
  int group;                  ///< 1..18; lanthanides and actinides: 3
  int period;                 ///< 1..7
  int mendeleev_number;       ///< Pettifor's chemical scale (Mendeleev number), -1 if undefined
  double electronegativity;   ///< Pauling scale, NaN if unknown (noble gases He, Ne, Ar)
  double covalent_radius;     ///< Angstrom
  double melting_point;       ///< K, NaN if unknown
  double boiling_point;       ///< K, NaN if unknown
  double density;             ///< g/cm^3 at room temperature (solid or liquid), NaN if unknown
  double first_ionization;    ///< first ionization energy, eV, NaN if unknown
  double electron_affinity;   ///< eV, NaN if unknown; negative: estimate for an unbound anion
  int valence_s;              ///< electrons in the outermost s shell of the ground-state configuration
  int valence_p;              ///< electrons in the outermost p shell
  int valence_d;              ///< electrons in the unfilled or outermost d shell
  int valence_f;              ///< electrons in the unfilled or outermost f shell
};

/// All elements, index z-1 holds atomic number z.
std::span<const ElementData> periodic_table() noexcept;

/// The element with atomic number z; throws matnn::Error(MATNN_ERROR_UNKNOWN_ELEMENT) outside 1..118.
const ElementData& element(int z);

/// Atomic number of a symbol ("Fe" -> 26). Case-sensitive as in ASE;
/// throws matnn::Error(MATNN_ERROR_UNKNOWN_ELEMENT) for anything else.
int atomic_number(std::string_view symbol);

/// True if 1 <= z <= max_atomic_number.
constexpr bool is_known_atomic_number(int z) noexcept { return z >= 1 && z <= max_atomic_number; }

}  // namespace matnn
