// Energy, forces and stress through the C interface: input checks, unit conversion, and the
// domain-decomposed variant whose forces are those of a partial energy sum.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "internal.hpp"
#include "potentials/atom_graph.hpp"

namespace {

using matnn::fail;
using matnn::capi::guarded;
using matnn::capi::require;
using matnn::capi::require_model;
using matnn::capi::check_finite;
using matnn::capi::make_structure;
using matnn::capi::UnitFactors;
using matnn::potentials::Potential;
using matnn::potentials::PotentialResult;

constexpr std::size_t abi1_results_size =
    offsetof(matnn_potential_results, max_force_deviation) + sizeof(double*);

// A field a host compiled against an older header does not have reads as NULL.
double* virials_of(const matnn_potential_results* r) {
  return r->struct_size >= offsetof(matnn_potential_results, virials) + sizeof(double*) ? r->virials : nullptr;
}

const Potential& require_potential(const matnn_model& model) {
  if (model.kind != MATNN_MODEL_POTENTIAL) {
    fail(MATNN_ERROR_MODEL, "the model is a property model, not a potential (wrong kind for this call)");
  }
  return *model.potential;
}

void check_results(const matnn_potential_results* results) {
  require(results, "results");
  if (results->struct_size < abi1_results_size) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "results->struct_size = {} is smaller than ABI 1's {} (call matnn_potential_results_init)",
         results->struct_size, abi1_results_size);
  }
}

void check_species(const Potential& potential, const int* atomic_numbers, std::size_t natoms) {
  const std::vector<int>& species = potential.species();
  for (std::size_t i = 0; i < natoms; ++i) {
    if (std::find(species.begin(), species.end(), atomic_numbers[i]) == species.end()) {
      fail(MATNN_ERROR_UNKNOWN_ELEMENT, "atom {} has atomic number {}, which the potential was not trained on (its species: {})",
           i, atomic_numbers[i], fmt::join(species, " "));
    }
  }
}

// Writes the wanted outputs, converted to the host's units. Called only after success, so a
// failed call leaves every output untouched.
void write_results(const PotentialResult& r, const UnitFactors& u, matnn_potential_results* out) {
  const auto n = static_cast<std::size_t>(r.energies.size());
  if (out->energy) *out->energy = r.energy / u.energy;
  if (out->energy_sigma) *out->energy_sigma = r.energy_sigma / u.energy;
  if (out->energies) {
    for (std::size_t i = 0; i < n; ++i) out->energies[i] = r.energies[static_cast<Eigen::Index>(i)] / u.energy;
  }
  if (out->forces) {
    for (std::size_t i = 0; i < n; ++i) {
      for (int a = 0; a < 3; ++a) out->forces[3 * i + static_cast<std::size_t>(a)] = r.forces(static_cast<Eigen::Index>(i), a) / u.force();
    }
  }
  if (out->stress) {
    for (std::size_t k = 0; k < 6; ++k) out->stress[k] = r.stress[k] / u.stress();
  }
  if (out->force_deviation) {
    for (std::size_t i = 0; i < n; ++i) out->force_deviation[i] = r.force_deviation[static_cast<Eigen::Index>(i)] / u.force();
  }
  if (out->max_force_deviation) *out->max_force_deviation = r.max_force_deviation / u.force();
  if (double* virials = virials_of(out)) {
    for (std::size_t i = 0; i < n; ++i) {
      for (int k = 0; k < 6; ++k) {
        virials[6 * i + static_cast<std::size_t>(k)] = r.atom_virials(static_cast<Eigen::Index>(i), k) / u.energy;
      }
    }
  }
}

bool wants_forces(const matnn_potential_results* r) {
  return r->forces != nullptr || r->force_deviation != nullptr || r->max_force_deviation != nullptr;
}

// Both compute_local entry points; `function` names the one the host called in messages.
matnn_status compute_local(const char* function, const matnn_model* model, int natoms_local, int natoms_ghost,
                           const int* atomic_numbers, const double* positions, const int* energy_counts,
                           const int* neighbor_offsets, const int* neighbors, matnn_potential_results* results) {
  return guarded(function, model, [&] {
    const matnn_model& m = require_model(model);
    require(atomic_numbers, "atomic_numbers");
    require(positions, "positions");
    check_results(results);
    if (natoms_local < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "natoms_local must be >= 0, got {}", natoms_local);
    if (natoms_ghost < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "natoms_ghost must be >= 0, got {}", natoms_ghost);
    const long long total = static_cast<long long>(natoms_local) + natoms_ghost;
    if (total <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "natoms_local + natoms_ghost must be > 0");
    if ((neighbor_offsets == nullptr) != (neighbors == nullptr)) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbor_offsets and neighbors must both be given or both be NULL");
    }
    const Potential& potential = require_potential(m);
    const auto n = static_cast<std::size_t>(total);
    check_finite(positions, 3 * n, "positions");
    check_species(potential, atomic_numbers, n);
    if (results->stress != nullptr) {
      fail(MATNN_ERROR_UNSUPPORTED, "stress is not available from {}; pass results->stress = NULL", function);
    }

    std::vector<double> mask(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      mask[i] = energy_counts != nullptr ? (energy_counts[i] != 0 ? 1.0 : 0.0) : (i < static_cast<std::size_t>(natoms_local) ? 1.0 : 0.0);
    }
    matnn::potentials::HostNeighbors host;
    if (neighbor_offsets != nullptr) {
      host.offsets = std::span<const int>(neighbor_offsets, n + 1);
      if (neighbor_offsets[n] < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbor_offsets[natoms] is {}", neighbor_offsets[n]);
      host.neighbors = std::span<const int>(neighbors, static_cast<std::size_t>(neighbor_offsets[n]));
    }
    const UnitFactors u = matnn::capi::unit_factors(m.units);
    const matnn::Structure s = make_structure(n, atomic_numbers, positions, nullptr, nullptr, u.length);
    // The ghosts' own energies are wrong (their environments are cut off): they carry weight 0.
    const PotentialResult r = potential.compute(s, {.forces = wants_forces(results),
                                                    .stress = false,
                                                    .energy_weights = mask,
                                                    .atom_virials = virials_of(results) != nullptr,
                                                    .neighbors = host});
    write_results(r, u, results);
  });
}

}  // namespace

extern "C" {

MATNN_API matnn_status matnn_potential_results_init2(matnn_potential_results* results, size_t struct_size) {
  return guarded(__func__, nullptr, [&] {
    require(results, "results");
    if (struct_size < abi1_results_size) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "struct_size = {} is smaller than ABI 1's {}", struct_size, abi1_results_size);
    }
    // The host's struct may be older (smaller) or newer (larger) than this library's: its bytes,
    // all of them and no more, are pointers to zero.
    std::memset(static_cast<void*>(results), 0, struct_size);
    results->struct_size = struct_size;
  });
}

MATNN_API matnn_status matnn_potential_results_init(matnn_potential_results* results) {
  return matnn_potential_results_init2(results, abi1_results_size);
}

MATNN_API matnn_status matnn_potential_compute(const matnn_model* model, int natoms, const int* atomic_numbers,
                                               const double* positions, const double* cell, const int* pbc,
                                               matnn_potential_results* results) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(atomic_numbers, "atomic_numbers");
    require(positions, "positions");
    check_results(results);
    if (natoms <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "natoms must be > 0, got {}", natoms);
    const bool any_periodic = pbc != nullptr && (pbc[0] != 0 || pbc[1] != 0 || pbc[2] != 0);
    if (any_periodic && cell == nullptr) fail(MATNN_ERROR_INVALID_ARGUMENT, "pbc has a periodic axis but cell is NULL");
    const Potential& potential = require_potential(m);
    const auto n = static_cast<std::size_t>(natoms);
    check_finite(positions, 3 * n, "positions");
    if (cell != nullptr) check_finite(cell, 9, "cell");
    check_species(potential, atomic_numbers, n);

    const UnitFactors u = matnn::capi::unit_factors(m.units);
    const matnn::Structure s = make_structure(n, atomic_numbers, positions, cell, pbc, u.length);
    s.validate();  // singular periodic cells
    if (results->stress != nullptr) {
      // Fully periodic cells and slabs (two periodic directions) have stress; see potential.hpp.
      const std::string why = matnn::potentials::stress_unavailable_reason(s);
      if (!why.empty()) fail(MATNN_ERROR_UNSUPPORTED, "{}; pass results->stress = NULL", why);
    }
    const PotentialResult r = potential.compute(s, {.forces = wants_forces(results),
                                                    .stress = results->stress != nullptr,
                                                    .atom_virials = virials_of(results) != nullptr});
    write_results(r, u, results);
  });
}

MATNN_API matnn_status matnn_potential_compute_local(const matnn_model* model, int natoms_local, int natoms_ghost,
                                                     const int* atomic_numbers, const double* positions,
                                                     const int* energy_counts, matnn_potential_results* results) {
  return compute_local(__func__, model, natoms_local, natoms_ghost, atomic_numbers, positions, energy_counts, nullptr,
                       nullptr, results);
}

MATNN_API matnn_status matnn_potential_compute_local2(const matnn_model* model, int natoms_local, int natoms_ghost,
                                                      const int* atomic_numbers, const double* positions,
                                                      const int* energy_counts, const int* neighbor_offsets,
                                                      const int* neighbors, matnn_potential_results* results) {
  return compute_local(__func__, model, natoms_local, natoms_ghost, atomic_numbers, positions, energy_counts,
                       neighbor_offsets, neighbors, results);
}

}  // extern "C"
