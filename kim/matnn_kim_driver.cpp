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
// The ensemble's model deviation has no KIM argument: the driver writes it to a file when the
// settings ask for one (model_deviation.hpp, kim/README.md).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "KIM_LogMacros.hpp"
#include "KIM_ModelDriverHeaders.hpp"
#include "driver_settings.hpp"
#include "matnn/matnn.h"
#include "model_deviation.hpp"
#include "neighbor_hops.hpp"

namespace {

struct Driver {
  matnn_model* model = nullptr;
  std::vector<int> atomic_numbers;  // KIM species code -> atomic number
  double influence_distance = 0.0;
  double cutoff = 0.0;
  int layers = 1;                            // interaction range / cutoff
  int will_not_request_ghost_neighbors = 1;  // local models need no ghost environments
  matnn::kim::DriverSettings settings;
  matnn::kim::DeviationLog deviation_log;    // open when settings.deviation_file is set
  long calls = 0;
  // No Refresh routine: KIM allows one only for models with published parameters, and nothing
  // here changes after creation.
  // Scratch reused between calls.
  std::vector<int> numbers;
  std::vector<double> forces;
  matnn::kim::HopLists lists;
  std::vector<int> counted;  // the model deviation's counted particles
  std::vector<double> deviation;
};

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

// The model deviation of the contributing particles from their complete forces: every particle
// within L hops of one counts its energy (lists 2L - 1 hops deep; the influence distance is
// doubled for this), so each contributing particle's force has every term. Empty, or what failed.
std::string log_deviation(Driver& driver, const matnn::kim::NeighborSource& source, int n, int const* contributing,
                          double const* positions, double energy_sigma) {
  if (driver.lists.gather(source, n, contributing, positions, driver.cutoff, 2 * driver.layers)) {
    return "cannot get the simulator's neighbour list";
  }
  driver.counted.resize(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < driver.counted.size(); ++i) driver.counted[i] = driver.lists.hops[i] <= driver.layers;
  driver.deviation.resize(static_cast<std::size_t>(n));
  matnn_potential_results results;
  matnn_potential_results_init2(&results, sizeof results);
  results.force_deviation = driver.deviation.data();
  if (matnn_potential_compute_local2(driver.model, n, 0, driver.numbers.data(), positions, driver.counted.data(),
                                     driver.lists.neighbor_offsets.data(), driver.lists.neighbors.data(),
                                     &results) != MATNN_SUCCESS) {
    return matnn_last_error();
  }
  int owned = 0;
  double largest = 0.0, sum = 0.0;
  for (int i = 0; i < n; ++i) {
    if (!contributing[i]) continue;
    ++owned;
    largest = std::max(largest, driver.deviation[static_cast<std::size_t>(i)]);
    sum += driver.deviation[static_cast<std::size_t>(i)];
  }
  driver.deviation_log.write(driver.calls - 1, owned, energy_sigma, largest, owned > 0 ? sum / owned : 0.0);
  return {};
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
  const matnn::kim::NeighborSource source = [arguments](int i, int* size, int const** list) {
    return arguments->GetNeighborList(0, i, size, list) != 0;
  };
  if (driver->lists.gather(source, n, contributing, positions, driver->cutoff, driver->layers)) {
    LOG_ERROR("matnn: cannot get the simulator's neighbour list");
    return true;
  }
  double total = 0.0, sigma = 0.0;
  matnn_potential_results results;
  matnn_potential_results_init2(&results, sizeof results);
  results.energy = &total;
  results.forces = force_out;
  results.energies = particle_energy;
  results.virials = particle_virial;  // KIM's sign and Voigt order are matnn's
  if (driver->deviation_log.is_open()) results.energy_sigma = &sigma;
  if (matnn_potential_compute_local2(driver->model, n, 0, driver->numbers.data(), positions, contributing,
                                     driver->lists.neighbor_offsets.data(), driver->lists.neighbors.data(),
                                     &results) != MATNN_SUCCESS) {
    LOG_ERROR(std::string("matnn: ") + matnn_last_error());
    return true;
  }
  if (driver->deviation_log.is_open() && driver->calls++ % driver->settings.deviation_every == 0) {
    const std::string problem = log_deviation(*driver, source, n, contributing, positions, sigma);
    if (!problem.empty()) {
      LOG_ERROR("matnn: model deviation: " + problem);
      return true;
    }
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
  matnn::kim::DriverSettings settings;
  if (files == 2) {
    if (create->GetParameterFileBasename(1, &basename)) return fail_create(create, "cannot get the settings file name");
    std::string problem;
    if (!matnn::kim::read_settings(*directory + "/" + *basename, &settings, &problem)) return fail_create(create, problem);
  }

  KIM::LengthUnit length;
  KIM::EnergyUnit energy;
  matnn_load_options options;
  matnn_load_options_init(&options);
  options.units = units_for(requested_length, requested_energy, &length, &energy);
  options.precision = settings.precision;

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
  driver->settings = settings;
  if (!settings.deviation_file.empty()) {
    int members = 0;
    matnn_model_ensemble_size(driver->model, &members);
    std::string problem = path + " has " + std::to_string(members) + " member: a model deviation needs an ensemble";
    if (members < 2 || !driver->deviation_log.open(settings.deviation_file, &problem)) {
      matnn_model_destroy(driver->model);
      delete driver;
      return fail_create(create, problem);
    }
    // Complete forces of the contributing particles need environments twice as far out.
    driver->influence_distance *= 2;
    driver->will_not_request_ghost_neighbors = 0;
  }

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
