// KIM API 2 model driver for matnn potentials: any simulator that speaks KIM (LAMMPS'
// `pair_style kim`, ASE's KIM calculator, ...) runs a trained matnn model unchanged.
//
// The portable model's one parameter file is a matnn model file. The driver talks to matnn only
// through its stable C ABI (include/matnn/matnn.h), evaluating the simulator's particles with
// matnn_potential_compute_local2 and the simulator's own neighbour list: contributing particles
// count their energy, the others are ghosts that supply environments and receive forces and
// virial shares (the simulator adds those to their owners), which is exactly KIM's
// particleContributing contract.
//
// Ranges. The influence distance is the model's interaction range, cutoff x L for L
// message-passing layers (L = 1 for Behler-Parrinello), so a simulator's ghost shell covers every
// environment a contributing particle's energy depends on, on one rank or many. A contributing
// particle's energy reads the layer-(L-1) features of its neighbours, which read those of theirs,
// down to the plain species L hops away: only particles fewer than L hops (edges shorter than the
// cutoff) from a contributing one need their neighbours listed. The driver lists exactly those
// and leaves the rest without an environment; for a local model (L = 1) that is the contributing
// particles alone, so it tells the simulator it will not ask for the others' neighbours.
//
// Units: metal (eV, Angstrom), real (kcal/mol, Angstrom) and atomic (Hartree, Bohr) are served as
// requested; any other request gets the model's native metal units, which the simulator either
// converts or refuses. Precision: the optional second parameter file, settings.txt, written by
// `matnn kim-install --precision`, says float32 (the default, as matnn's C ABI) or float64 (the
// results of matnn's own float64 evaluation to round-off).
//
// Not provided: the ensemble's uncertainty, for which KIM has no argument (see kim/README.md).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "KIM_LogMacros.hpp"
#include "KIM_ModelDriverHeaders.hpp"
#include "matnn/matnn.h"

namespace {

struct Driver {
  matnn_model* model = nullptr;
  std::vector<int> atomic_numbers;  // KIM species code -> atomic number
  double influence_distance = 0.0;
  double cutoff = 0.0;
  int layers = 1;                            // interaction range / cutoff
  int will_not_request_ghost_neighbors = 1;  // local models need no ghost environments
  // No Refresh routine: KIM allows one only for models with published parameters, and nothing
  // here changes after creation.
  // Scratch reused between calls.
  std::vector<int> numbers;
  std::vector<double> forces;
  std::vector<int> hops;              // per particle: edges to the nearest contributing one
  std::vector<int> neighbor_offsets;  // the CSR list handed to matnn
  std::vector<int> neighbors;
};

// The neighbour list matnn gets: for each particle fewer than driver.layers hops from a
// contributing one, its KIM neighbours (KIM's list may reach past the cutoff by a skin; matnn
// skips those, and so does the hop count here). Others get an empty list.
int gather_neighbors(Driver& driver, KIM::ModelComputeArguments const* const arguments, int n, int const* contributing,
                     double const* positions) {
  const double cutoff_squared = driver.cutoff * driver.cutoff;
  std::vector<int>& hops = driver.hops;
  hops.assign(static_cast<std::size_t>(n), driver.layers);  // `layers`: no list needed
  std::vector<int> frontier;
  for (int i = 0; i < n; ++i) {
    if (contributing[i]) {
      hops[static_cast<std::size_t>(i)] = 0;
      frontier.push_back(i);
    }
  }
  driver.neighbor_offsets.assign(static_cast<std::size_t>(n) + 1, 0);
  std::vector<std::vector<int>> lists(static_cast<std::size_t>(n));
  // Breadth first: particles at hop h < layers get their lists, which give those at hop h + 1.
  for (int hop = 0; hop < driver.layers && !frontier.empty(); ++hop) {
    std::vector<int> next;
    for (int i : frontier) {
      int count = 0;
      int const* list = nullptr;
      if (arguments->GetNeighborList(0, i, &count, &list)) return true;
      lists[static_cast<std::size_t>(i)].assign(list, list + count);
      for (int k = 0; k < count; ++k) {
        const int j = list[k];
        if (hops[static_cast<std::size_t>(j)] <= hop + 1) continue;
        double r2 = 0.0;
        for (int a = 0; a < 3; ++a) {
          const double d = positions[3 * j + a] - positions[3 * i + a];
          r2 += d * d;
        }
        if (r2 >= cutoff_squared) continue;
        hops[static_cast<std::size_t>(j)] = hop + 1;
        if (hop + 1 < driver.layers) next.push_back(j);
      }
    }
    frontier = std::move(next);
  }
  driver.neighbors.clear();
  for (int i = 0; i < n; ++i) {
    const std::vector<int>& list = lists[static_cast<std::size_t>(i)];
    driver.neighbors.insert(driver.neighbors.end(), list.begin(), list.end());
    driver.neighbor_offsets[static_cast<std::size_t>(i) + 1] = static_cast<int>(driver.neighbors.size());
  }
  return false;
}

#define KIM_LOGGER_OBJECT_NAME create
int fail_create(KIM::ModelDriverCreate* const create, const std::string& message) {
  LOG_ERROR("matnn: " + message);
  return true;
}
#undef KIM_LOGGER_OBJECT_NAME

int destroy(KIM::ModelDestroy* const destroy) {
  Driver* driver = nullptr;
  destroy->GetModelBufferPointer(reinterpret_cast<void**>(&driver));
  if (driver != nullptr) matnn_model_destroy(driver->model);
  delete driver;
  return false;
}

int compute_arguments_create(KIM::ModelCompute const* const, KIM::ModelComputeArgumentsCreate* const create) {
  using namespace KIM::COMPUTE_ARGUMENT_NAME;
  const KIM::SupportStatus optional = KIM::SUPPORT_STATUS::optional;
  return create->SetArgumentSupportStatus(partialEnergy, optional) ||
         create->SetArgumentSupportStatus(partialForces, optional) ||
         create->SetArgumentSupportStatus(partialParticleEnergy, optional) ||
         create->SetArgumentSupportStatus(partialVirial, optional) ||
         create->SetArgumentSupportStatus(partialParticleVirial, optional);
}

int compute_arguments_destroy(KIM::ModelCompute const* const, KIM::ModelComputeArgumentsDestroy* const) {
  return false;
}

#define KIM_LOGGER_OBJECT_NAME compute
int compute(KIM::ModelCompute const* const compute, KIM::ModelComputeArguments const* const arguments) {
  Driver* driver = nullptr;
  compute->GetModelBufferPointer(reinterpret_cast<void**>(&driver));
  using namespace KIM::COMPUTE_ARGUMENT_NAME;
  int const* count = nullptr;
  int const* species = nullptr;
  int const* contributing = nullptr;
  double const* positions = nullptr;
  double* energy = nullptr;
  double* forces = nullptr;
  double* particle_energy = nullptr;
  double* virial = nullptr;
  double* particle_virial = nullptr;
  if (arguments->GetArgumentPointer(numberOfParticles, &count) ||
      arguments->GetArgumentPointer(particleSpeciesCodes, &species) ||
      arguments->GetArgumentPointer(particleContributing, &contributing) ||
      arguments->GetArgumentPointer(coordinates, &positions) || arguments->GetArgumentPointer(partialEnergy, &energy) ||
      arguments->GetArgumentPointer(partialForces, &forces) ||
      arguments->GetArgumentPointer(partialParticleEnergy, &particle_energy) ||
      arguments->GetArgumentPointer(partialVirial, &virial) ||
      arguments->GetArgumentPointer(partialParticleVirial, &particle_virial)) {
    LOG_ERROR("matnn: cannot get the compute arguments");
    return true;
  }
  const int n = *count;
  if (n == 0) {
    if (energy != nullptr) *energy = 0.0;
    if (virial != nullptr) std::memset(virial, 0, 6 * sizeof(double));
    return false;
  }
  driver->numbers.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int code = species[i];
    if (code < 0 || code >= static_cast<int>(driver->atomic_numbers.size())) {
      LOG_ERROR("matnn: particle " + std::to_string(i) + " has species code " + std::to_string(code) +
                ", which this model did not declare");
      return true;
    }
    driver->numbers[static_cast<std::size_t>(i)] = driver->atomic_numbers[static_cast<std::size_t>(code)];
  }
  // The virial is -sum_j r_j (x) F_j over every particle, ghosts included: the contributing
  // particles' energy depends on relative positions only, so this is its strain derivative.
  double* force_out = forces;
  if (force_out == nullptr && virial != nullptr) {
    driver->forces.resize(3 * static_cast<std::size_t>(n));
    force_out = driver->forces.data();
  }
  if (gather_neighbors(*driver, arguments, n, contributing, positions)) {
    LOG_ERROR("matnn: cannot get the simulator's neighbour list");
    return true;
  }
  double total = 0.0;
  matnn_potential_results results;
  matnn_potential_results_init2(&results, sizeof results);
  results.energy = &total;
  results.forces = force_out;
  results.energies = particle_energy;
  results.virials = particle_virial;  // KIM's sign and Voigt order are matnn's
  const matnn_status status =
      matnn_potential_compute_local2(driver->model, n, 0, driver->numbers.data(), positions, contributing,
                                     driver->neighbor_offsets.data(), driver->neighbors.data(), &results);
  if (status != MATNN_SUCCESS) {
    LOG_ERROR(std::string("matnn: ") + matnn_last_error());
    return true;
  }
  if (energy != nullptr) *energy = total;
  if (particle_energy != nullptr) {
    // KIM: particles that do not contribute have no energy of their own here.
    for (int i = 0; i < n; ++i) {
      if (!contributing[i]) particle_energy[i] = 0.0;
    }
  }
  if (virial != nullptr) {
    double w[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < n; ++i) {
      const double* r = positions + 3 * i;
      const double* f = force_out + 3 * i;
      w[0] -= r[0] * f[0];
      w[1] -= r[1] * f[1];
      w[2] -= r[2] * f[2];
      w[3] -= 0.5 * (r[1] * f[2] + r[2] * f[1]);
      w[4] -= 0.5 * (r[0] * f[2] + r[2] * f[0]);
      w[5] -= 0.5 * (r[0] * f[1] + r[1] * f[0]);
    }
    std::memcpy(virial, w, sizeof w);
  }
  return false;
}
#undef KIM_LOGGER_OBJECT_NAME

// The settings file (`key value` lines, # comments): precision float32|float64. Unknown keys and
// bad values are errors naming the line, never ignored.
bool read_settings(const std::string& path, matnn_precision* precision, std::string* problem) {
  std::ifstream in(path);
  if (!in) {
    *problem = path + ": cannot read the settings file";
    return false;
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string key, value, extra;
    if (!(words >> key)) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (!(words >> value) || (words >> extra)) {
      *problem = where + "expected `key value`, got \"" + line + "\"";
      return false;
    }
    if (key != "precision") {
      *problem = where + "unknown setting \"" + key + "\" (known: precision)";
      return false;
    }
    if (value != "float32" && value != "float64") {
      *problem = where + "precision must be float32 or float64, got \"" + value + "\"";
      return false;
    }
    *precision = value == "float32" ? MATNN_PRECISION_FLOAT32 : MATNN_PRECISION_FLOAT64;
  }
  return true;
}

// The matnn unit system for what the simulator asked for, or metal when matnn has no match.
matnn_units units_for(KIM::LengthUnit length, KIM::EnergyUnit energy, KIM::LengthUnit* model_length,
                      KIM::EnergyUnit* model_energy) {
  if (length == KIM::LENGTH_UNIT::A && energy == KIM::ENERGY_UNIT::kcal_mol) {
    *model_length = KIM::LENGTH_UNIT::A;
    *model_energy = KIM::ENERGY_UNIT::kcal_mol;
    return MATNN_UNITS_REAL;
  }
  if (length == KIM::LENGTH_UNIT::Bohr && energy == KIM::ENERGY_UNIT::Hartree) {
    *model_length = KIM::LENGTH_UNIT::Bohr;
    *model_energy = KIM::ENERGY_UNIT::Hartree;
    return MATNN_UNITS_ATOMIC;
  }
  *model_length = KIM::LENGTH_UNIT::A;
  *model_energy = KIM::ENERGY_UNIT::eV;
  return MATNN_UNITS_METAL;
}

}  // namespace

extern "C" int matnn_kim_driver_create(KIM::ModelDriverCreate* const create,
                                       KIM::LengthUnit const requested_length, KIM::EnergyUnit const requested_energy,
                                       KIM::ChargeUnit const, KIM::TemperatureUnit const, KIM::TimeUnit const) {
  if (matnn_abi_version() < 2) {
    return fail_create(create, "libmatnn.so has ABI " + std::to_string(matnn_abi_version()) +
                                   "; this driver needs ABI 2 (compute_local2, per-atom virials, results_init2)");
  }
  int files = 0;
  create->GetNumberOfParameterFiles(&files);
  if (files != 1 && files != 2) {
    return fail_create(create, "expected a matnn model file and optionally a settings file, got " +
                                   std::to_string(files) + " parameter files");
  }
  std::string const* directory = nullptr;
  std::string const* basename = nullptr;
  create->GetParameterFileDirectoryName(&directory);
  if (create->GetParameterFileBasename(0, &basename)) return fail_create(create, "cannot get the parameter file name");
  const std::string path = *directory + "/" + *basename;
  matnn_precision precision = MATNN_PRECISION_FLOAT32;
  if (files == 2) {
    if (create->GetParameterFileBasename(1, &basename)) return fail_create(create, "cannot get the settings file name");
    std::string problem;
    if (!read_settings(*directory + "/" + *basename, &precision, &problem)) return fail_create(create, problem);
  }

  KIM::LengthUnit length;
  KIM::EnergyUnit energy;
  matnn_load_options options;
  matnn_load_options_init(&options);
  options.units = units_for(requested_length, requested_energy, &length, &energy);
  options.precision = precision;

  auto* driver = new Driver;
  if (matnn_model_load(path.c_str(), &options, &driver->model) != MATNN_SUCCESS) {
    const std::string message = matnn_last_error();
    delete driver;
    return fail_create(create, message);
  }
  matnn_model_kind kind{};
  int species = 0;
  if (matnn_model_kind_of(driver->model, &kind) != MATNN_SUCCESS || kind != MATNN_MODEL_POTENTIAL ||
      matnn_model_num_species(driver->model, &species) != MATNN_SUCCESS) {
    matnn_model_destroy(driver->model);
    delete driver;
    return fail_create(create, path + ": not a matnn potential (a property model cannot drive a simulation)");
  }
  driver->atomic_numbers.resize(static_cast<std::size_t>(species));
  matnn_model_species(driver->model, driver->atomic_numbers.data());
  matnn_model_interaction_range(driver->model, &driver->influence_distance);
  matnn_model_cutoff(driver->model, &driver->cutoff);
  driver->layers = std::max(1, static_cast<int>(std::lround(driver->influence_distance / driver->cutoff)));
  driver->will_not_request_ghost_neighbors = driver->layers == 1 ? 1 : 0;

  int error = create->SetModelNumbering(KIM::NUMBERING::zeroBased) ||
              create->SetUnits(length, energy, KIM::CHARGE_UNIT::unused, KIM::TEMPERATURE_UNIT::unused,
                               KIM::TIME_UNIT::unused);
  for (int code = 0; code < species && !error; ++code) {
    // KIM's species list is ordered like the periodic table after the electron: index Z is element Z.
    KIM::SpeciesName name;
    error = KIM::SPECIES_NAME::GetSpeciesName(driver->atomic_numbers[static_cast<std::size_t>(code)], &name) ||
            create->SetSpeciesCode(name, code);
  }
  using namespace KIM::MODEL_ROUTINE_NAME;
  const KIM::LanguageName cpp = KIM::LANGUAGE_NAME::cpp;
  error = error ||
          create->SetRoutinePointer(ComputeArgumentsCreate, cpp, true,
                                    reinterpret_cast<KIM::Function*>(compute_arguments_create)) ||
          create->SetRoutinePointer(Compute, cpp, true, reinterpret_cast<KIM::Function*>(compute)) ||
          create->SetRoutinePointer(ComputeArgumentsDestroy, cpp, true,
                                    reinterpret_cast<KIM::Function*>(compute_arguments_destroy)) ||
          create->SetRoutinePointer(Destroy, cpp, true, reinterpret_cast<KIM::Function*>(destroy));
  if (error) {
    matnn_model_destroy(driver->model);
    delete driver;
    return fail_create(create, "cannot register the model with the KIM API");
  }
  create->SetModelBufferPointer(driver);
  create->SetInfluenceDistancePointer(&driver->influence_distance);
  create->SetNeighborListPointers(1, &driver->cutoff, &driver->will_not_request_ghost_neighbors);
  return false;
}
