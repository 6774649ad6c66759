#include "workflows/potential_job.hpp"

#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <span>

#include <fmt/format.h>

#include "autodiff/graph.hpp"
#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"
#include "models/state_file.hpp"
#include "potentials/descriptor_cache.hpp"
#include "train/ensemble.hpp"
#include "train/optimizer_factory.hpp"
#include "workflows/described_rows.hpp"
#include "workflows/job_common.hpp"
#include "workflows/potential_on_ranks.hpp"
#include "workflows/potential_recipe.hpp"
#include "workflows/potential_task.hpp"
#include "workflows/reference_energies.hpp"

namespace matnn::workflows {
namespace {

using potentials::AtomGraph;
using potentials::Potential;
using train::ConfigSection;
using train::Json;

// The recommended recipe (docs/training-config.md), filled in where a config is silent, so the
// model file records every setting the run used.
Json with_potential_defaults(Json config) {
  // Behler-Parrinello networks are small enough for the Kalman filter, which fits them far
  // better than Adam (docs/results-potentials.md). The equivariant model keeps Adam: at its
  // default three layers the filter's covariance takes 1.1 GB, and the filter has been shown
  // better only on Cu's EAM data, with two layers (cu_nequip.yaml).
  const Json* model = config.contains("model") ? &config["model"] : nullptr;
  const bool small_networks = model && model->is_object() && model->value("kind", Json()) == "behler_parrinello";
  Json& optimizer = config["optimizer"];
  if (optimizer.is_null()) optimizer = Json::object();
  // A config that sets a learning rate or a schedule means a gradient optimiser.
  const bool gradient_settings = (optimizer.is_object() && !optimizer.empty()) ||
                                 (config.contains("schedule") && !config["schedule"].is_null());
  if (optimizer.is_object() && !optimizer.contains("name")) {
    optimizer["name"] = small_networks && !gradient_settings ? "kalman" : "adam";
  }
  // The Kalman filter updates after every structure, as n2p2 does, and has no learning rate.
  const bool kalman = train::is_kalman(optimizer);
  Json& training = config["training"];
  if (training.is_null()) training = Json::object();
  if (training.is_object()) {
    if (!training.contains("batch_size")) training["batch_size"] = kalman ? 1 : 4;
    if (!training.contains("ema_decay")) training["ema_decay"] = kalman ? 0.0 : 0.99;
  }
  if (kalman) return config;
  if (optimizer.is_object() && !optimizer.contains("lr")) optimizer["lr"] = 5e-3;
  Json& schedule = config["schedule"];
  if (schedule.is_null()) {
    // One warm-up epoch lets Adam's moment estimates settle before the full rate.
    const bool long_run = !training.is_object() || !training.contains("epochs") || !training["epochs"].is_number_integer() ||
                          training["epochs"].get<std::int64_t>() >= 4;
    schedule = {{"name", "cosine"}, {"min_lr", 1e-5}, {"warmup", long_run ? 1 : 0}};
  }
  return config;
}

// model.core_repulsion: zbl (the default), none, {inner, outer} in Angstrom, or {fraction,
// width}: off from `fraction` times the shortest distance of the training structures, full
// strength `width` Angstrom below that. zbl is {fraction: 0.9, width: 0.5}. A fraction of at
// most 1 keeps every training structure out of its reach; 1 trusts the networks only as close
// as the data go (below that, Behler-Parrinello and NequIP models alike bent into spurious
// wells; docs/results-potentials.md, session 23).
// `training` holds this rank's training structures; the shortest distance is over all ranks'.
potentials::CoreRepulsion core_repulsion_from(const Json* spec, const AtomGraph& training, const parallel::Communicator& comm) {
  potentials::CoreRepulsion core;
  if (spec && spec->is_string() && *spec == "none") return core;
  const auto has_numbers = [&](const char* a, const char* b) {
    return spec->is_object() && spec->size() == 2 && spec->contains(a) && spec->contains(b) && (*spec)[a].is_number() &&
           (*spec)[b].is_number();
  };
  const bool by_default = !spec || (spec->is_string() && *spec == "zbl");
  if (by_default || has_numbers("fraction", "width")) {
    const double fraction = by_default ? 0.9 : (*spec)["fraction"].get<double>();
    const double width = by_default ? 0.5 : (*spec)["width"].get<double>();
    if (!(fraction > 0 && fraction <= 1 && width > 0)) {
      fail(MATNN_ERROR_INVALID_ARGUMENT,
           "model.core_repulsion: fraction must be in (0, 1] (of the shortest training distance) and width > 0, got {}",
           spec->dump());
    }
    double shortest = std::numeric_limits<double>::infinity();
    const std::vector<double> v = training.edge_vectors.to_vector();
    for (std::size_t e = 0; e + 2 < v.size(); e += 3) shortest = std::min(shortest, std::hypot(v[e], v[e + 1], v[e + 2]));
    const double mine[1] = {shortest};
    for (const std::vector<double>& theirs : comm.all_gather(std::span<const double>(mine))) shortest = std::min(shortest, theirs.at(0));
    if (!std::isfinite(shortest)) return core;  // no pair within the cutoff: nothing to place it by
    core.outer = fraction * shortest;
    core.inner = std::max(0.0, core.outer - width);
    return core;
  }
  const bool pair = has_numbers("inner", "outer");
  if (pair) {
    core.inner = (*spec)["inner"].get<double>();
    core.outer = (*spec)["outer"].get<double>();
  }
  if (!pair || !(core.inner >= 0 && core.outer > core.inner)) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "model.core_repulsion must be zbl, none, {{inner: A, outer: A}} with 0 <= inner < outer, or {{fraction: F, "
         "width: A}}, got {}",
         spec->dump());
  }
  return core;
}

// Keeps the isolated-atom frames out of the split: they only define reference energies.
data::Split potential_split(const DatasetRows& rows, std::size_t first, std::size_t last, const data::SplitOptions& options) {
  std::vector<std::size_t> usable;
  std::vector<data::SplitKey> keys;
  for (std::size_t i = first; i < last; ++i) {
    if (rows.summary(i).isolated_atom) continue;
    usable.push_back(i);
    keys.push_back(rows.summary(i).key);
  }
  if (options.kind == data::SplitKind::cluster) {
    std::vector<Composition> compositions;
    for (std::size_t i : usable) {
      std::map<int, double> amounts;
      for (const auto& [z, n] : rows.summary(i).composition) amounts[z] = static_cast<double>(n);
      compositions.emplace_back(std::move(amounts));
    }
    assign_cluster_groups(keys, compositions, options.clusters, options.seed);
  }
  data::Split split = data::make_split(keys, options);
  for (auto* part : {&split.train, &split.validation, &split.test}) {
    for (std::size_t& r : *part) r = usable[r];
  }
  return split;
}

// Every usable row of [first, last), as a validation or test set from its own file.
std::vector<std::size_t> all_usable(const DatasetRows& rows, std::size_t first, std::size_t last) {
  std::vector<std::size_t> usable;
  for (std::size_t i = first; i < last; ++i) {
    if (!rows.summary(i).isolated_atom) usable.push_back(i);
  }
  return usable;
}

// The output scale: the RMS force component of the training data (as NequIP does), else the
// spread of per-atom energies after the reference energies, else 1 eV.
double fit_scale(const DatasetRows& data, const std::vector<std::size_t>& rows, const std::vector<int>& species,
                 const std::vector<double>& e0) {
  double sum_sq = 0.0, residual_sq = 0.0;
  std::size_t components = 0, energies = 0;
  for (std::size_t r : rows) {
    const RowSummary& s = data.summary(r);
    if (s.forces) {
      sum_sq += s.force_sum_sq;
      components += 3 * static_cast<std::size_t>(s.atoms);
    }
    if (s.energy) {
      double reference = 0.0;
      for (const auto& [z, n] : s.composition) {
        reference += static_cast<double>(n) * e0[static_cast<std::size_t>(std::find(species.begin(), species.end(), z) - species.begin())];
      }
      residual_sq += std::pow((*s.energy - reference) / static_cast<double>(s.atoms), 2);
      ++energies;
    }
  }
  if (components > 0 && sum_sq > 0) return std::sqrt(sum_sq / static_cast<double>(components));
  if (energies > 0 && residual_sq > 0) return std::sqrt(residual_sq / static_cast<double>(energies));
  return 1.0;
}

std::vector<int> species_of(const DatasetRows& data, const std::vector<std::size_t>& rows) {
  std::set<int> z;
  for (std::size_t r : rows)
    for (const auto& [element, n] : data.summary(r).composition) z.insert(element);
  return {z.begin(), z.end()};
}

// The errors that building a batch's graph would raise later without knowing where a structure
// came from (an element the model lacks, overlapping atoms, an impossible density) are raised
// here, naming the file and the structure's index in it. Each rank checks the rows it holds;
// the first failing rank's message stops all.
void check_structures_for(const Potential& potential, DatasetRows& data, const parallel::Communicator& comm) {
  std::exception_ptr failure;
  try {
    const std::vector<std::size_t> local = data.local_rows();
    const std::vector<const Record*> records = data.records(local);
    for (std::size_t k = 0; k < local.size(); ++k) {
      try {
        potentials::check_structure(records[k]->structure, potential.species(), potential.cutoff());
      } catch (const Error& e) {
        fail(e.status(), "{}: {}", data.origin(local[k]), e.what());
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm.rethrow_first(failure);
}

// model.init_from: start from a trained model of the same kind and species (fine-tuning). Its
// reference energies and scale are kept, because its weights are in its units.
void initialise_from(Potential& potential, const std::string& path) {
  const Potential source = Potential::load(path);
  if (source.architecture() != potential.architecture()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.init_from: {} is a {} model, this config trains {}", path,
         source.architecture(), potential.architecture());
  }
  if (source.species() != potential.species()) {
    std::string have, want;
    for (int z : source.species()) have += std::string(have.empty() ? "" : " ") + element(z).symbol;
    for (int z : potential.species()) want += std::string(want.empty() ? "" : " ") + element(z).symbol;
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.init_from: {} knows the elements {}, the training data have {}", path, have,
         want);
  }
  Potential& mutable_source = const_cast<Potential&>(source);
  // Keys that shape no tensor (cutoff, activation, input scaling, ...) must agree too: the
  // weights mean something else under another one.
  const Json have = mutable_source.member(0).config(), want = potential.member(0).config();
  std::string differences;
  for (const auto& [key, value] : want.items()) {
    if (have.contains(key) && have.at(key) == value) continue;
    differences += fmt::format("{}model.{} = {}, this config has {}", differences.empty() ? "" : "; ", key,
                               have.contains(key) ? have.at(key).dump() : std::string("(none)"), value.dump());
  }
  if (!differences.empty())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.init_from: {} was trained with {}", path, differences);
  for (std::size_t k = 0; k < potential.ensemble_size(); ++k) {
    try {
      potential.member(k).load_state(mutable_source.member(k % source.ensemble_size()).state());
    } catch (const Error& e) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.init_from: {} has another architecture: {}", path, e.what());
    }
  }
  potential.set_energy_scaling(source.shift(), source.scale());
  potential.set_core_repulsion(source.core_repulsion());
}

}  // namespace

TrainJobResult train_potential(const Json& user_config, const TrainJobOptions& job) {
  const Json config = with_potential_defaults(user_config);
  const ConfigSection root(config, "");
  const auto seed = static_cast<std::uint64_t>(root.integer("seed", 0, 0));
  const std::string dataset_path = root.required_string("dataset");
  const std::string validation_path = root.string("validation_dataset", "");
  const std::string test_path = root.string("test_dataset", "");

  // model: kind, ensemble, precision, reference energies, fine-tuning; every other key belongs
  // to the architecture, which checks it.
  const ConfigSection m = root.section("model");
  const std::string kind = m.required_string("kind");
  const int ensemble_size = static_cast<int>(m.integer("ensemble", 1, 1));
  const bool bootstrap = m.boolean("ensemble_bootstrap", false);
  if (bootstrap && ensemble_size < 2) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.ensemble_bootstrap resamples the training data per ensemble member: "
                                       "it needs model.ensemble of at least 2, got {}",
         ensemble_size);
  }
  const std::string precision = m.string("precision", "float32");
  if (precision != "float32" && precision != "float64") {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.precision must be float32 or float64, got \"{}\"", precision);
  }
  const std::string init_from = m.string("init_from", "");
  std::vector<std::string> frozen;
  if (const Json* f = m.raw("freeze")) {
    if (!f->is_array() || !std::all_of(f->begin(), f->end(), [](const Json& x) { return x.is_string(); })) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.freeze must be a list of parameter-name prefixes, got {}", f->dump());
    }
    frozen = f->get<std::vector<std::string>>();
    if (init_from.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.freeze needs model.init_from (a model to start from)");
  }
  const Json* reference_spec = m.raw("reference_energies");
  if (reference_spec && !init_from.empty()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.reference_energies and model.init_from exclude each other: a fine-tuned "
                                       "model keeps the reference energies of the model it starts from");
  }
  const Json* core_spec = m.raw("core_repulsion");
  if (core_spec && !init_from.empty()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.core_repulsion and model.init_from exclude each other: a fine-tuned "
                                       "model keeps the core repulsion of the model it starts from");
  }
  Json architecture = config.at("model");
  for (const char* key : {"kind", "ensemble", "ensemble_bootstrap", "precision", "init_from", "freeze",
                          "reference_energies", "core_repulsion"}) {
    architecture.erase(key);
  }

  // A separate validation or test file replaces that part of the split.
  (void)root.has("split");
  Json split_json = config.value("split", Json::object());
  for (const auto& [key, path] : {std::pair{"validation", validation_path}, std::pair{"test", test_path}}) {
    if (path.empty()) continue;
    if (split_json.contains(key) && split_json[key] != 0) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "split.{} is {} but {}_dataset gives a file: use one or the other", key,
           split_json[key].dump(), key);
    }
    split_json[key] = 0.0;
  }
  const data::SplitOptions split_options = split_options_from(ConfigSection(split_json, "split"), seed);
  const ConfigSection training = root.section("training");
  train::TrainerOptions trainer_options = trainer_options_from(root, training, config);
  trainer_options.frozen = frozen;
  trainer_options.communicator = job.communicator;
  const bool print = job.print_progress && job.communicator.is_root();
  const JobOutputs outputs = job_outputs(root.section("output"));
  check_job_outputs(outputs, {{"config", job.config_path},
                              {"dataset", dataset_path},
                              {"validation_dataset", validation_path},
                              {"test_dataset", test_path},
                              {"model.init_from", init_from}});

  // The architecture's keys are checked now, on a stand-in species list, so that a bad value is
  // refused before the data are read (the real model is built once the data give the species).
  (void)potentials::make_potential_model(kind, architecture, {1}, seed);

  const auto start = std::chrono::steady_clock::now();
  // Each rank reads its own share of the files (dataset_rows.hpp); all know every row's summary.
  // Ensemble members spread over the ranks each train on one rank, which then needs every row.
  std::vector<std::string> paths{dataset_path};
  for (const std::string& path : {validation_path, test_path})
    if (!path.empty()) paths.push_back(path);
  const parallel::Communicator data_comm = job.ensemble_parallel ? parallel::Communicator() : job.communicator;
  ShardedRows rows(paths, split_options.kind, data_comm);
  const std::size_t n_main = rows.first_row(1);
  const std::size_t test_first = test_path.empty() ? rows.size() : rows.first_row(paths.size() - 1);
  const double reading_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  data::Split split = potential_split(rows, 0, n_main, split_options);
  if (!validation_path.empty()) split.validation = all_usable(rows, n_main, rows.first_row(2));
  if (!test_path.empty()) split.test = all_usable(rows, test_first, rows.size());
  if (split.train.size() < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: the split leaves no training structure", dataset_path);
  // Each rank now holds an equal share of the training rows (and of the validation and test rows).
  rows.rehome({split.train, split.validation, split.test});

  const PotentialRecipe recipe = recipe_from(training, trainer_options.epochs, count_labels(rows, split.train), dataset_path);
  if (train::is_kalman(trainer_options.optimizer)) {
    if (recipe.huber) {
      fail(MATNN_ERROR_INVALID_ARGUMENT,
           "training.loss huber cannot be used with optimizer kalman, which fits squared errors; use mse");
    }
    // A measurement count for a loss term that is off in both stages would be silently unused.
    for (const auto& [key, term] : {std::pair{"forces_per_structure", "forces_weight"},
                                    std::pair{"stress_per_structure", "stress_weight"}}) {
      const Json& o = trainer_options.optimizer;
      const bool forces = std::string(key) == "forces_per_structure";
      auto weight = [&](const LossWeights& w) { return forces ? w.forces : w.stress; };
      if (o.contains(key) && o[key].is_number() && o[key].get<double>() > 0 && weight(recipe.weights) <= 0 &&
          weight(recipe.final_weights()) <= 0) {
        fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer.{} is set but training.{} is 0 (or the data have no {}): nothing "
             "to measure", key, term, forces ? "forces" : "stress");
      }
    }
  }
  const bool cache_descriptors = training.boolean("descriptor_cache", true);
  if (training.has("descriptor_cache") && kind != "behler_parrinello") {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "training.descriptor_cache is for behler_parrinello models; {} has no fixed descriptors",
         kind);
  }
  training.finish();
  root.finish();

  const std::vector<int> species = species_of(rows, split.train);
  for (const auto* part : {&split.validation, &split.test}) {
    for (int z : species_of(rows, *part)) {
      if (!std::binary_search(species.begin(), species.end(), z)) {
        fail(MATNN_ERROR_UNKNOWN_ELEMENT, "{} appears in the validation or test structures but in no training structure",
             element(z).symbol);
      }
    }
  }
  Potential potential(kind, architecture, species, ensemble_size, seed);
  check_structures_for(potential, rows, data_comm);
  if (precision == "float64") potential.to(ad::DType::f64);
  std::string e0_source = "init_from";
  if (init_from.empty()) {
    const ReferenceEnergies e0 = reference_energies(reference_spec, rows, split.train, species, dataset_path);
    e0_source = e0.source;
    potential.set_energy_scaling(e0.e0, fit_scale(rows, split.train, species, e0.e0));
    // Input statistics (Behler-Parrinello symmetry functions) and the core repulsion's range from
    // the training structures, each rank's share summed over the ranks.
    std::vector<std::size_t> local;
    for (std::size_t r : rows.local_rows())
      if (std::binary_search(split.train.begin(), split.train.end(), r)) local.push_back(r);
    std::vector<const Structure*> structures;
    for (const Record* r : rows.records(local)) structures.push_back(&r->structure);
    const AtomGraph g = potentials::build_graph(structures, species, potential.cutoff(), potential.dtype());
    potential.set_core_repulsion(core_repulsion_from(core_spec, g, data_comm));
    ad::NoGradGuard no_grad;
    for (std::size_t k = 0; k < potential.ensemble_size(); ++k) potential.member(k).fit_input_statistics(g, data_comm);
  } else {
    initialise_from(potential, init_from);
  }

  // Stress is compared in units of scale / (volume per atom), so its weight is dimensionless.
  double volume_per_atom = 0.0;
  std::size_t periodic = 0;
  for (std::size_t r : split.train) {
    if (rows.summary(r).volume_per_atom > 0) {
      volume_per_atom += rows.summary(r).volume_per_atom;
      ++periodic;
    }
  }
  const double stress_scale = periodic > 0 ? static_cast<double>(periodic) / volume_per_atom : 1.0;

  if (print) {
    std::string e0_text;
    for (std::size_t k = 0; k < species.size(); ++k) {
      e0_text += fmt::format("{}{} {:.6g} eV", k ? ", " : "", element(species[k]).symbol, potential.shift()[k]);
    }
    fmt::print("{} potential on {}: {} train, {} validation, {} test structures; {} member(s); read in {:.2f} s\n", kind,
               dataset_path, split.train.size(), split.validation.size(), split.test.size(), ensemble_size,
               reading_seconds);
    if (data_comm.size() > 1) {
      fmt::print("each rank reads and holds its share of the structures: rank 0 has {} of {}\n", rows.local_rows().size(),
                 rows.size());
    }
    fmt::print("reference energies ({}): {}; energy scale {:.4g} eV\n", e0_source, e0_text, potential.scale());
    const potentials::CoreRepulsion& core = potential.core_repulsion();
    if (core.enabled()) {
      fmt::print("core repulsion: ZBL below {:.3f} A, switched off from {:.3f} A\n", core.inner, core.outer);
    }
    fmt::print("loss: {}\n", recipe_to_json(recipe).dump());
  }

  // Behler-Parrinello descriptors do not depend on the weights: computed once, reused every epoch.
  std::optional<DescribedRows> described;
  if (cache_descriptors && kind == "behler_parrinello") {
    const auto begin = std::chrono::steady_clock::now();
    // This rank's training and validation rows up front; rows from other ranks when dealt here.
    std::vector<std::size_t> local;
    for (std::size_t r : rows.local_rows()) {
      if (std::binary_search(split.train.begin(), split.train.end(), r) ||
          std::binary_search(split.validation.begin(), split.validation.end(), r)) {
        local.push_back(r);
      }
    }
    described.emplace(dynamic_cast<const potentials::BehlerParrinello&>(potential.member(0)), potential.dtype(),
                      potential.core_repulsion(), local, rows.records(local));
    if (print) {
      fmt::print("cached symmetry functions and their derivatives of {} structures{}: {:.0f} MB in {:.1f} s\n",
                 local.size(), data_comm.size() > 1 ? " on rank 0" : "", static_cast<double>(described->bytes()) / 1e6,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    }
  }

  const train::EnsembleOptions ensemble =
      ensemble_options(trainer_options, seed, outputs, job, print);
  train::train_ensemble(
      potential.ensemble_size(),
      [&](std::size_t k) {
        return std::make_unique<PotentialTask>(potential, k, rows, split,
                                               bootstrap ? data::bootstrap_resample(split.train, seed, k) : split.train,
                                               trainer_options.batch_size, recipe, stress_scale,
                                               described ? &*described : nullptr);
      },
      ensemble);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (print && data_comm.size() > 1) {
    fmt::print("rank 0 read {} structures from the files ({} its own), and holds {}\n", rows.structures_read(),
               rows.local_rows().size(), rows.structures_held());
  }

  Json provenance = {{"dataset", std::filesystem::absolute(dataset_path).string()},
                     {"n_structures", n_main},
                     {"split", split_to_json(split_options)},
                     {"reference_energies", e0_source},
                     {"recipe", recipe_to_json(recipe)},
                     {"training_seconds", seconds}};
  if (!validation_path.empty()) provenance["validation_dataset"] = std::filesystem::absolute(validation_path).string();
  if (!test_path.empty()) provenance["test_dataset"] = std::filesystem::absolute(test_path).string();
  if (!init_from.empty()) provenance["init_from"] = std::filesystem::absolute(init_from).string();
  if (bootstrap) provenance["ensemble_bootstrap"] = true;
  write_on_root(job.communicator, outputs.model, [&] {
    potential.save(outputs.model, provenance);
    train::remove_checkpoints(outputs.checkpoint, potential.ensemble_size());
  });

  TrainJobResult result;
  result.model_path = outputs.model;
  result.n_train = split.train.size();
  result.n_validation = split.validation.size();
  result.n_test = split.test.size();
  if (!split.test.empty()) {
    const PotentialEvaluation test = evaluate_potential_on(potential, rows, split.test, job.communicator);
    result.test_metrics = test.overall;
    result.test_metrics.insert(test.uncertainty.begin(), test.uncertainty.end());
  }
  result.test_metrics["training_seconds"] = seconds;
  result.structures_read = rows.structures_read();
  return result;
}

PotentialEvaluation evaluate_potential(const std::string& model_path, const std::string& dataset_path,
                                       const std::string& subset, const parallel::Communicator& comm) {
  const Potential potential = Potential::load(model_path);
  const models::StateFile file = models::read_state_file(model_path, models::model_format, Potential::file_kind);
  const Json provenance = file.config.value("provenance", Json::object());
  if (subset != "all" && !provenance.contains("split")) {
    fail(MATNN_ERROR_MODEL, "{} records no training split; use --subset all", model_path);
  }
  const data::SplitOptions split_options =
      subset == "all" ? data::SplitOptions{} : split_options_from(ConfigSection(provenance.at("split"), "split"), 0);
  // Each rank reads its share; rank 0 also reads, chunk by chunk, the labels of the others'.
  ShardedRows rows({dataset_path}, split_options.kind, comm);
  check_structures_for(potential, rows, comm);
  if (subset == "all") return evaluate_potential_on(potential, rows, {}, comm);
  const auto trained_on = provenance.value("n_structures", std::size_t{0});
  if (trained_on != rows.size()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "{} has {} structures, the model was trained on a dataset of {}: a train/validation/test subset needs that dataset",
         dataset_path, rows.size(), trained_on);
  }
  const data::Split split = potential_split(rows, 0, rows.size(), split_options);
  const std::vector<std::size_t>* part = subset == "train"        ? &split.train
                                         : subset == "validation" ? &split.validation
                                         : subset == "test"       ? &split.test
                                                                  : nullptr;
  if (!part) fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown subset \"{}\" (use all, train, validation or test)", subset);
  if (part->empty()) {
    const std::string file_key = subset + "_dataset";
    if (provenance.contains(file_key)) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "the {} structures came from their own file, {}: evaluate on it with --subset all",
           subset, provenance[file_key].get<std::string>());
    }
    fail(MATNN_ERROR_INVALID_ARGUMENT, "subset {} is empty", subset);
  }
  rows.rehome({*part});
  return evaluate_potential_on(potential, rows, *part, comm);
}

namespace {

// The dataset's order, all rows.
std::vector<std::size_t> all_rows(std::size_t n) {
  std::vector<std::size_t> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = i;
  return rows;
}

void write_csv(const Potential& potential, DatasetRows& rows, const std::string& path, const parallel::Communicator& comm) {
  std::optional<AtomicFile> file;
  std::ofstream out;
  // Rank 0 opens the file; if it cannot, every rank stops here rather than in the computation.
  std::exception_ptr failure;
  if (comm.is_root()) {
    try {
      file.emplace(path);
      out.open(file->temp_path());
      if (!out) fail(MATNN_ERROR_IO, "{}: cannot write predictions", path);
      out << "index,id,config_type,atoms,energy_predicted,energy_sigma,max_force_deviation,energy\n";
    } catch (...) {
      failure = std::current_exception();
    }
  }
  comm.rethrow_first(failure);
  const auto write = [&](std::size_t i, const Record& r, const potentials::PotentialResult& result) {
    if (!comm.is_root()) return;
    auto tag = [&](const char* name) {
      const auto it = r.tags.find(name);
      return it == r.tags.end() ? std::string() : it->second;
    };
    const auto reference = r.energy();
    out << fmt::format("{},{},{},{},{:.10g},{:.6g},{:.6g},{}\n", i, tag("id"), tag("config_type"), r.structure.size(),
                       result.energy, result.energy_sigma, result.max_force_deviation,
                       reference ? fmt::format("{:.10g}", *reference) : "");
  };
  for_each_result(potential, rows, all_rows(rows.size()), [](const Record&) {
    return potentials::ComputeRequest{.forces = true, .stress = false};
  }, write, comm);
  write_on_root(comm, path, [&] {
    out.flush();
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write predictions", path);
    out.close();
    file->commit();
  });
}

// Extended XYZ as ASE reads it: the predictions under the reserved names (energy, forces,
// stress, energies), the ensemble's energy_sigma and per-atom force_deviation, and the
// reference labels kept under REF_ names so a parity plot needs only this file.
void write_xyz(const Potential& potential, DatasetRows& rows, const std::string& path, const parallel::Communicator& comm) {
  std::vector<Record> predicted;
  const auto keep = [&](std::size_t, const Record& r, const potentials::PotentialResult& result) {
    if (!comm.is_root()) return;
    Record p;
    p.structure = r.structure;
    p.tags = r.tags;
    p.timestamp = r.timestamp;
    for (const auto& [name, values] : r.properties) p.properties["REF_" + name] = values;
    for (const auto& [name, values] : r.atom_properties) p.atom_properties["REF_" + name] = values;
    p.properties["energy"] = {result.energy};
    p.properties["energy_sigma"] = {result.energy_sigma};
    p.properties["max_force_deviation"] = {result.max_force_deviation};
    p.atom_properties["forces"] = result.forces;
    p.atom_properties["energies"] = result.energies;
    if (potential.ensemble_size() > 1) p.atom_properties["force_deviation"] = result.force_deviation;
    if (result.has_stress) p.properties["stress"] = {result.stress.begin(), result.stress.end()};
    predicted.push_back(std::move(p));
  };
  for_each_result(potential, rows, all_rows(rows.size()), [](const Record&) {
    return potentials::ComputeRequest{.forces = true, .stress = true};
  }, keep, comm);
  write_on_root(comm, path, [&] { write_extxyz(path, predicted); });
}

}  // namespace

void write_potential_predictions(const std::string& model_path, const std::string& dataset_path,
                                 const std::string& output_path, const parallel::Communicator& comm) {
  const Potential potential = Potential::load(model_path);
  ShardedRows rows({dataset_path}, data::SplitKind::random, comm);
  check_structures_for(potential, rows, comm);
  if (output_path.ends_with(".xyz") || output_path.ends_with(".extxyz")) {
    write_xyz(potential, rows, output_path, comm);
  } else {
    write_csv(potential, rows, output_path, comm);
  }
}

}  // namespace matnn::workflows
