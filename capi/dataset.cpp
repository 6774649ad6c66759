// Training data from a host: labelled structures appended to an HDF5 dataset that matnn_train()
// then trains on, the retraining loop of a DFT or MD code that has computed new references.
#include <filesystem>
#include <string>
#include <vector>

#include "internal.hpp"
#include "matnn/dataset.hpp"

namespace {

using matnn::fail;

// Structure s of a host's flat arrays, with its labels in eV, Angstrom.
matnn::Record host_record(std::size_t s, std::size_t first_atom, std::size_t natoms, const int* atomic_numbers,
                          const double* positions, const double* cells, const int* pbc, const double* energies,
                          const double* forces, const double* stresses, const char* config_type,
                          const matnn::capi::UnitFactors& units) {
  const double* p = positions + 3 * first_atom;
  matnn::capi::check_finite(p, 3 * natoms, fmt::format("positions of structure {}", s).c_str());
  const double* cell = cells ? cells + 9 * s : nullptr;
  if (cell) matnn::capi::check_finite(cell, 9, fmt::format("cell of structure {}", s).c_str());
  const int all_periodic[3] = {1, 1, 1};
  const int* flags = pbc ? pbc + 3 * s : cell ? all_periodic : nullptr;
  if (flags && !cell && (flags[0] || flags[1] || flags[2]))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "structure {} is periodic but cells is NULL", s);
  matnn::Record r;
  r.structure = matnn::capi::make_structure(natoms, atomic_numbers + first_atom, p, cell, flags, units.length);
  if (energies) {
    matnn::capi::check_finite(energies + s, 1, "energies");
    r.properties["energy"] = {energies[s] * units.energy};
  }
  if (forces) {
    const double* f = forces + 3 * first_atom;
    matnn::capi::check_finite(f, 3 * natoms, fmt::format("forces of structure {}", s).c_str());
    r.atom_properties["forces"] =
        Eigen::Map<const matnn::AtomValues>(f, static_cast<Eigen::Index>(natoms), 3) * units.force();
  }
  if (stresses) {
    matnn::capi::check_finite(stresses + 6 * s, 6, fmt::format("stress of structure {}", s).c_str());
    std::vector<double>& stress = r.properties["stress"];
    for (int k = 0; k < 6; ++k) stress.push_back(stresses[6 * s + static_cast<std::size_t>(k)] * units.stress());
  }
  if (config_type) r.tags["config_type"] = config_type;
  return r;
}

}  // namespace

extern "C" {

MATNN_API matnn_status matnn_dataset_append(const char* path, matnn_units units, int nstructures, const int* natoms,
                                            const int* atomic_numbers, const double* positions, const double* cells,
                                            const int* pbc, const double* energies, const double* forces,
                                            const double* stresses, const char* config_type) {
  return matnn::capi::guarded(__func__, nullptr, [&] {
    matnn::capi::require(path, "path");
    matnn::capi::require(natoms, "natoms");
    matnn::capi::require(atomic_numbers, "atomic_numbers");
    matnn::capi::require(positions, "positions");
    if (nstructures <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "nstructures = {}: nothing to append", nstructures);
    const int unit_system = matnn::capi::enum_value(units);
    if (unit_system < MATNN_UNITS_METAL || unit_system > MATNN_UNITS_REAL)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "units = {} is not a matnn_units value (0 metal, 1 atomic, 2 real)", unit_system);
    const matnn::capi::UnitFactors factors = matnn::capi::unit_factors(static_cast<matnn_units>(unit_system));
    if (config_type && *config_type == '\0') fail(MATNN_ERROR_INVALID_ARGUMENT, "config_type is empty (pass NULL for none)");
    std::vector<matnn::Record> records;
    std::size_t first_atom = 0;
    for (int s = 0; s < nstructures; ++s) {
      if (natoms[s] <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "natoms[{}] = {}: a structure needs atoms", s, natoms[s]);
      const auto n = static_cast<std::size_t>(natoms[s]);
      records.push_back(host_record(static_cast<std::size_t>(s), first_atom, n, atomic_numbers, positions, cells, pbc,
                                    energies, forces, stresses, config_type, factors));
      first_atom += n;
    }
    // Both atomic: the file is complete with the new structures, or as it was.
    if (std::filesystem::exists(path)) {
      matnn::append_dataset(path, records);
    } else {
      matnn::write_dataset(path, records);
    }
  });
}

}  // extern "C"
