// Private to the C interface: the model handle, the exception boundary and unit conversion.
// Nothing here is installed; the public contract is include/matnn/matnn.h.
#pragma once

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "matnn/error.hpp"
#include "matnn/matnn.h"
#include "matnn/structure.hpp"
#include "models/property_model.hpp"
#include "potentials/potential.hpp"

// The opaque handle. Immutable after matnn_model_load() except for the two mutex-guarded
// members, so that const calls may share it across threads.
struct matnn_model {
  matnn_model_kind kind = MATNN_MODEL_POTENTIAL;
  matnn_units units = MATNN_UNITS_METAL;
  matnn_precision precision = MATNN_PRECISION_FLOAT32;
  std::unique_ptr<matnn::potentials::Potential> potential;      // kind == POTENTIAL
  std::unique_ptr<matnn::models::PropertyModel> property;       // kind == PROPERTY
  double interaction_range = 0.0;  // Angstrom

  mutable std::mutex error_mutex;
  mutable std::string last_error;  // guarded by error_mutex
};

namespace matnn::capi {

/// Records a failure of `function` for matnn_last_error() and, when `model` is not NULL, for
/// matnn_model_last_error(). Never throws (a message that cannot be stored is dropped).
void record_error(const char* function, const matnn_model* model, const char* message) noexcept;

/// Runs `body` and turns every exception into a status, so that none crosses the C boundary:
/// matnn::Error keeps its status, std::bad_alloc is OUT_OF_MEMORY, anything else INTERNAL.
template <typename Body>
matnn_status guarded(const char* function, const matnn_model* model, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
    return MATNN_SUCCESS;
  } catch (const Error& e) {
    record_error(function, model, e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    record_error(function, model, "out of memory");
    return MATNN_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    record_error(function, model, e.what());
    return MATNN_ERROR_INTERNAL;
  } catch (...) {
    record_error(function, model, "unknown exception");
    return MATNN_ERROR_INTERNAL;
  }
}

/// MATNN_ERROR_INVALID_ARGUMENT naming `name` when `pointer` is NULL.
inline void require(const void* pointer, const char* name) {
  if (pointer == nullptr) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} is NULL", name);
}

/// The handle, checked for NULL.
inline const matnn_model& require_model(const matnn_model* model) {
  require(model, "model");
  return *model;
}

/// The number a C host stored in an enum field or argument, read without loading it as the C++
/// enum type: a C host may pass any int (say 7 for matnn_units), and loading an out-of-range
/// value as the C++ enum is undefined behaviour (UBSan's -fsanitize=enum flags it).
template <typename Enum>
int enum_value(const Enum& value) noexcept {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized on every supported ABI");
  int v = 0;
  std::memcpy(&v, &value, sizeof v);
  return v;
}

/// Factors from the host's unit system to the engine's (eV, Angstrom).
struct UnitFactors {
  double length;  ///< Angstrom per host length unit
  double energy;  ///< eV per host energy unit

  double force() const noexcept { return energy / length; }
  double stress() const noexcept { return energy / (length * length * length); }
};

/// MATNN_ERROR_INVALID_ARGUMENT for a value outside the enum.
UnitFactors unit_factors(matnn_units units);

/// MATNN_ERROR_NON_FINITE naming `name`, the index and its (row, column) of 3 for NaN or inf.
void check_finite(const double* values, std::size_t count, const char* name);

/// A host's structure in the engine's units (Angstrom): positions (natoms x 3, row-major) and the
/// cell (3 x 3, rows the lattice vectors; NULL: none) times `length`; pbc NULL: no periodicity.
matnn::Structure make_structure(std::size_t natoms, const int* atomic_numbers, const double* positions,
                                const double* cell, const int* pbc, double length);

}  // namespace matnn::capi
