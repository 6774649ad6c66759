// Structures as hosts pass them: checked and converted to the engine's units.
#include <cmath>

#include "internal.hpp"

namespace matnn::capi {

void check_finite(const double* values, std::size_t count, const char* name) {
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) {
      fail(MATNN_ERROR_NON_FINITE, "{}[{}] (row {}, column {}) is {}", name, i, i / 3, i % 3, values[i]);
    }
  }
}

matnn::Structure make_structure(std::size_t natoms, const int* atomic_numbers, const double* positions,
                                const double* cell, const int* pbc, double length) {
  matnn::Structure s;
  s.numbers.assign(atomic_numbers, atomic_numbers + natoms);
  s.positions = Eigen::Map<const matnn::Positions>(positions, static_cast<Eigen::Index>(natoms), 3) * length;
  if (cell != nullptr) s.cell = Eigen::Map<const matnn::Cell>(cell) * length;
  if (pbc != nullptr) {
    for (int a = 0; a < 3; ++a) s.pbc[static_cast<std::size_t>(a)] = pbc[a] != 0;
  }
  return s;
}

}  // namespace matnn::capi
