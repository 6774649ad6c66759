// The unit systems a host may choose, as factors to the engine's eV and Angstrom.
#include "internal.hpp"

namespace matnn::capi {
namespace {

// CODATA 2018, as ASE's units module.
constexpr double hartree_in_ev = 27.211386245988;
constexpr double bohr_in_angstrom = 0.529177210903;
constexpr double avogadro = 6.02214076e23;
constexpr double elementary_charge = 1.602176634e-19;       // C, so 1 eV = this many J
constexpr double kcal_per_mol_in_ev = 4184.0 / (avogadro * elementary_charge);

}  // namespace

UnitFactors unit_factors(matnn_units units) {
  switch (units) {
    case MATNN_UNITS_METAL: return {1.0, 1.0};
    case MATNN_UNITS_ATOMIC: return {bohr_in_angstrom, hartree_in_ev};
    case MATNN_UNITS_REAL: return {1.0, kcal_per_mol_in_ev};
  }
  fail(MATNN_ERROR_INVALID_ARGUMENT, "units = {} is not a matnn_units value (0 metal, 1 atomic, 2 real)",
       static_cast<int>(units));
}

}  // namespace matnn::capi
