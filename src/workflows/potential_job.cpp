#include "workflows/potential_job.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "nn/losses.hpp"
#include "train/ensemble.hpp"
#include "workflows/job_common.hpp"

namespace matnn::workflows {
namespace {

using potentials::AtomGraph;
using potentials::Potential;
using train::ConfigSection;
using train::Json;

struct LossWeights {
  double energy = 1.0, forces = 10.0, stress = 0.0;
  bool huber = false;
  double huber_delta = 0.01;
};

// Reference labels of a batch as tensors, with weights that are zero where a label is missing.
struct BatchTargets {
  ad::Tensor energy_per_atom, energy_weight, atoms_per_structure;  // (S)
  ad::Tensor forces, forces_weight;                                // (N, 3), (N)
  ad::Tensor stress, stress_weight;                                // (S, 6), (S)
  bool any_forces = false, any_stress = false;
};

ad::Tensor tensor(const std::vector<double>& v, const ad::Shape& shape, ad::DType dtype) {
  if (dtype == ad::DType::f64) return ad::from_vector(v, shape);
  return ad::from_vector(std::vector<float>(v.begin(), v.end()), shape);
}

BatchTargets batch_targets(const std::vector<const Record*>& records, ad::DType dtype) {
  std::vector<double> e, ew, n, f, fw, s, sw;
  BatchTargets t;
  for (const Record* r : records) {
    const auto atoms = static_cast<double>(r->structure.size());
    const auto energy = r->energy();
    e.push_back(energy ? *energy / atoms : 0.0);
    ew.push_back(energy ? 1.0 : 0.0);
    n.push_back(atoms);
    const AtomValues* forces = r->forces();
    for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(r->structure.size()); ++i) {
      for (int k = 0; k < 3; ++k) f.push_back(forces ? (*forces)(i, k) : 0.0);
      fw.push_back(forces ? 1.0 : 0.0);
    }
    t.any_forces = t.any_forces || forces;
    const std::vector<double>* stress = r->stress();
    const bool use_stress = stress && r->structure.fully_periodic();
    for (int k = 0; k < 6; ++k) s.push_back(use_stress ? (*stress)[static_cast<std::size_t>(k)] : 0.0);
    sw.push_back(use_stress ? 1.0 : 0.0);
    t.any_stress = t.any_stress || use_stress;
  }
  const auto ns = static_cast<std::int64_t>(records.size());
  const auto na = static_cast<std::int64_t>(fw.size());
  t.energy_per_atom = tensor(e, {ns}, dtype);
  t.energy_weight = tensor(ew, {ns}, dtype);
  t.atoms_per_structure = tensor(n, {ns}, dtype);
  t.forces = tensor(f, {na, 3}, dtype);
  t.forces_weight = tensor(fw, {na}, dtype);
  t.stress = tensor(s, {ns, 6}, dtype);
  t.stress_weight = tensor(sw, {ns}, dtype);
  return t;
}

// Stress (S, 6) in Voigt order from dE/d(strain) (S, 3, 3) and the volumes: (1/V) * symmetric part.
ad::Tensor voigt_stress(const ad::Tensor& virial, const std::vector<double>& volumes, ad::DType dtype) {
  std::vector<double> inverse_volume;
  for (double v : volumes) inverse_volume.push_back(v > 0 ? 1.0 / v : 0.0);
  const auto ns = static_cast<std::int64_t>(volumes.size());
  const ad::Tensor flat = ad::reshape(virial, {ns, 9});
  auto column = [&](int a, int b) {
    return ad::mul(ad::add(ad::slice(flat, 1, 3 * a + b, 3 * a + b + 1), ad::slice(flat, 1, 3 * b + a, 3 * b + a + 1)), 0.5);
  };
  const ad::Tensor voigt = ad::concat({column(0, 0), column(1, 1), column(2, 2), column(1, 2), column(0, 2), column(0, 1)}, 1);
  return ad::mul(voigt, tensor(inverse_volume, {ns, 1}, dtype));
}

// One ensemble member's view of the data for the shared trainer.
class PotentialTask : public train::TrainingTask {
 public:
  PotentialTask(Potential& potential, std::size_t member, const std::vector<Record>& records, const data::Split& split,
                std::size_t batch_size, const LossWeights& weights, double stress_scale)
      : potential_(potential), member_(member), records_(records), split_(split), batch_size_(batch_size),
        weights_(weights), stress_scale_(stress_scale) {}

  std::size_t train_size() const override { return split_.train.size(); }
  nn::Module& module() override { return potential_.member(member_); }

  ad::Tensor batch_loss(std::span<const std::size_t> batch) override {
    std::vector<std::size_t> rows;
    for (std::size_t b : batch) rows.push_back(split_.train[b]);
    return evaluate(rows, true, nullptr);
  }

  std::map<std::string, double> validate() override {
    if (split_.validation.empty()) return {};
    ad::GradModeGuard record(true);  // forces need the forward graph even when not training
    PotentialErrors errors;
    double loss_sum = 0.0;
    for (std::size_t begin = 0; begin < split_.validation.size(); begin += batch_size_) {
      const std::size_t end = std::min(split_.validation.size(), begin + batch_size_);
      const std::vector<std::size_t> rows(split_.validation.begin() + static_cast<std::ptrdiff_t>(begin),
                                          split_.validation.begin() + static_cast<std::ptrdiff_t>(end));
      loss_sum += evaluate(rows, false, &errors).item() * static_cast<double>(rows.size());
    }
    std::map<std::string, double> out = errors.metrics();
    out["loss"] = loss_sum / static_cast<double>(split_.validation.size());
    return out;
  }

 private:
  // The weighted loss of some structures; with `errors`, also accumulates their errors.
  ad::Tensor evaluate(const std::vector<std::size_t>& rows, bool create_graph, PotentialErrors* errors) {
    std::vector<const Structure*> structures;
    std::vector<const Record*> records;
    for (std::size_t r : rows) {
      structures.push_back(&records_[r].structure);
      records.push_back(&records_[r]);
    }
    const ad::DType dtype = potential_.dtype();
    const AtomGraph g = potentials::build_graph(structures, potential_.species(), potential_.cutoff(), dtype);
    const BatchTargets t = batch_targets(records, dtype);
    const ad::Tensor energies = potential_.structure_energies(member_, g);
    const double scale = potential_.scale();

    // Energy per atom, forces per component, stress per component, each in units of the scale.
    const ad::Tensor per_atom = ad::div(energies, t.atoms_per_structure);
    ad::Tensor loss = ad::mul(term(per_atom, t.energy_per_atom, t.energy_weight, scale), weights_.energy);
    const bool want_forces = weights_.forces > 0 && t.any_forces;
    const bool want_stress = weights_.stress > 0 && t.any_stress;
    ad::Tensor forces, stress;
    if (want_forces || want_stress || errors) {
      std::vector<ad::Tensor> inputs{g.positions, g.strain};
      const auto grads = ad::grad({ad::sum(energies)}, inputs, {}, create_graph, true);
      forces = ad::neg(grads[0]);
      stress = voigt_stress(grads[1], g.volumes, dtype);
      if (want_forces) loss = ad::add(loss, ad::mul(term(forces, t.forces, ad::reshape(t.forces_weight, {g.n_atoms, 1}), scale), weights_.forces));
      if (want_stress) {
        loss = ad::add(loss, ad::mul(term(stress, t.stress, ad::reshape(t.stress_weight, {g.n_structures, 1}),
                                          scale * stress_scale_), weights_.stress));
      }
    }
    if (errors) accumulate(*errors, records, energies, forces, stress, g);
    return loss;
  }

  ad::Tensor term(const ad::Tensor& predicted, const ad::Tensor& target, const ad::Tensor& weight, double unit) {
    const ad::Tensor p = ad::div(predicted, unit), y = ad::div(target, unit);
    const ad::Tensor w = ad::broadcast_to(weight, predicted.shape());
    return weights_.huber ? nn::huber_loss(p, y, weights_.huber_delta, w) : nn::mse_loss(p, y, w);
  }

  static void accumulate(PotentialErrors& errors, const std::vector<const Record*>& records, const ad::Tensor& energies,
                         const ad::Tensor& forces, const ad::Tensor& stress, const AtomGraph& g) {
    const std::vector<double> e = energies.to_vector(), f = forces.to_vector(), s = stress.to_vector();
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Record& r = *records[i];
      if (const auto energy = r.energy()) errors.add_energy(e[i], *energy, r.structure.size());
      if (const AtomValues* reference = r.forces()) {
        const auto first = static_cast<std::size_t>(g.atom_offsets[i]);
        errors.add_forces(Eigen::Map<const Positions>(f.data() + 3 * first, reference->rows(), 3), *reference);
      }
      if (const std::vector<double>* reference = r.stress(); reference && r.structure.fully_periodic()) {
        std::array<double, 6> predicted{};
        for (int k = 0; k < 6; ++k) predicted[static_cast<std::size_t>(k)] = s[6 * i + static_cast<std::size_t>(k)];
        errors.add_stress(predicted, *reference);
      }
    }
  }

  Potential& potential_;
  std::size_t member_;
  const std::vector<Record>& records_;
  const data::Split& split_;
  std::size_t batch_size_;
  LossWeights weights_;
  double stress_scale_;
};

// Per-species reference energies: least squares of E_s = sum_z n_sz e_z over structures with an
// energy (minimum-norm where species never vary independently).
std::vector<double> fit_reference_energies(const std::vector<Record>& records, const std::vector<std::size_t>& rows,
                                           const std::vector<int>& species) {
  std::vector<const Record*> labelled;
  for (std::size_t r : rows) {
    if (records[r].energy()) labelled.push_back(&records[r]);
  }
  std::vector<double> shift(species.size(), 0.0);
  if (labelled.empty()) return shift;
  Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(labelled.size()), static_cast<Eigen::Index>(species.size()));
  Eigen::VectorXd energies(static_cast<Eigen::Index>(labelled.size()));
  for (std::size_t i = 0; i < labelled.size(); ++i) {
    for (int z : labelled[i]->structure.numbers) {
      const auto k = std::find(species.begin(), species.end(), z) - species.begin();
      counts(static_cast<Eigen::Index>(i), k) += 1.0;
    }
    energies[static_cast<Eigen::Index>(i)] = *labelled[i]->energy();
  }
  const Eigen::VectorXd solution = counts.completeOrthogonalDecomposition().solve(energies);
  for (std::size_t k = 0; k < species.size(); ++k) shift[k] = solution[static_cast<Eigen::Index>(k)];
  return shift;
}

// The output scale: the RMS force component of the training data (as NequIP does), else the
// spread of per-atom energies after the reference energies, else 1 eV.
double fit_scale(const std::vector<Record>& records, const std::vector<std::size_t>& rows, const std::vector<int>& species,
                 const std::vector<double>& shift) {
  double sum_sq = 0.0, residual_sq = 0.0;
  std::size_t components = 0, energies = 0;
  for (std::size_t r : rows) {
    if (const AtomValues* f = records[r].forces()) {
      sum_sq += f->squaredNorm();
      components += static_cast<std::size_t>(f->size());
    }
    if (const auto e = records[r].energy()) {
      double reference = 0.0;
      for (int z : records[r].structure.numbers) reference += shift[static_cast<std::size_t>(std::find(species.begin(), species.end(), z) - species.begin())];
      residual_sq += std::pow((*e - reference) / static_cast<double>(records[r].structure.size()), 2);
      ++energies;
    }
  }
  if (components > 0 && sum_sq > 0) return std::sqrt(sum_sq / static_cast<double>(components));
  if (energies > 0 && residual_sq > 0) return std::sqrt(residual_sq / static_cast<double>(energies));
  return 1.0;
}

std::vector<int> species_of(const std::vector<Record>& records) {
  std::set<int> z;
  for (const Record& r : records) z.insert(r.structure.numbers.begin(), r.structure.numbers.end());
  return {z.begin(), z.end()};
}

}  // namespace

void PotentialErrors::add_energy(double predicted, double reference, std::size_t n_atoms) {
  const double d = (predicted - reference) / static_cast<double>(n_atoms);
  energy_abs_ += std::abs(d);
  energy_sq_ += d * d;
  ++energies_;
}

void PotentialErrors::add_forces(const Positions& predicted, const AtomValues& reference) {
  const Eigen::MatrixXd d = predicted - reference;
  force_abs_ += d.cwiseAbs().sum();
  force_sq_ += d.squaredNorm();
  force_components_ += static_cast<std::size_t>(d.size());
}

void PotentialErrors::add_stress(const std::array<double, 6>& predicted, const std::vector<double>& reference) {
  for (std::size_t k = 0; k < 6; ++k) stress_abs_ += std::abs(predicted[k] - reference[k]);
  stress_components_ += 6;
}

std::map<std::string, double> PotentialErrors::metrics() const {
  std::map<std::string, double> out;
  if (energies_ > 0) {
    out["energy_mae_meV_atom"] = 1000.0 * energy_abs_ / static_cast<double>(energies_);
    out["energy_rmse_meV_atom"] = 1000.0 * std::sqrt(energy_sq_ / static_cast<double>(energies_));
  }
  if (force_components_ > 0) {
    out["force_mae_meV_A"] = 1000.0 * force_abs_ / static_cast<double>(force_components_);
    out["force_rmse_meV_A"] = 1000.0 * std::sqrt(force_sq_ / static_cast<double>(force_components_));
  }
  if (stress_components_ > 0) {
    out["stress_mae_GPa"] = potentials::ev_per_a3_in_gpa * stress_abs_ / static_cast<double>(stress_components_);
  }
  return out;
}

std::map<std::string, double> potential_errors(const Potential& potential, std::span<const Record> records,
                                               const std::vector<std::size_t>& rows) {
  PotentialErrors errors;
  auto add = [&](const Record& r) {
    const auto result = potential.compute(r.structure, {.forces = r.forces() != nullptr, .stress = r.stress() != nullptr});
    if (const auto e = r.energy()) errors.add_energy(result.energy, *e, r.structure.size());
    if (const AtomValues* f = r.forces()) errors.add_forces(result.forces, *f);
    if (const auto* s = r.stress(); s && result.has_stress) errors.add_stress(result.stress, *s);
  };
  if (rows.empty()) {
    for (const Record& r : records) add(r);
  } else {
    for (std::size_t i : rows) add(records[i]);
  }
  auto out = errors.metrics();
  out["n"] = static_cast<double>(rows.empty() ? records.size() : rows.size());
  return out;
}

TrainJobResult train_potential(const Json& config, const TrainJobOptions& job) {
  const ConfigSection root(config, "");
  const auto seed = static_cast<std::uint64_t>(root.integer("seed", 0, 0));
  const std::string dataset_path = root.required_string("dataset");

  // model: kind, ensemble, precision; every other key belongs to the architecture, which checks it.
  const ConfigSection m = root.section("model");
  const std::string kind = m.required_string("kind");
  const int ensemble_size = static_cast<int>(m.integer("ensemble", 1, 1));
  const std::string precision = m.string("precision", "float32");
  if (precision != "float32" && precision != "float64") {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "model.precision must be float32 or float64, got \"{}\"", precision);
  }
  Json architecture = config.at("model");
  for (const char* key : {"kind", "ensemble", "precision"}) architecture.erase(key);

  const data::SplitOptions split_options = split_options_from(root.section("split"), seed);
  const ConfigSection training = root.section("training");
  const train::TrainerOptions trainer_options = trainer_options_from(root, training, config);
  LossWeights weights;
  weights.energy = training.positive("energy_weight", weights.energy, true);
  weights.forces = training.positive("forces_weight", weights.forces, true);
  weights.stress = training.positive("stress_weight", weights.stress, true);
  const std::string loss = training.string("loss", "mse");
  if (loss != "mse" && loss != "huber") fail(MATNN_ERROR_INVALID_ARGUMENT, "training.loss must be mse or huber, got \"{}\"", loss);
  weights.huber = loss == "huber";
  weights.huber_delta = training.positive("huber_delta", weights.huber_delta);
  training.finish();
  const JobOutputs outputs = job_outputs(root.section("output"));
  root.finish();

  const auto start = std::chrono::steady_clock::now();
  const std::vector<Record> records = DatasetReader(dataset_path).read_all();
  if (records.size() < 2) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: a potential needs at least 2 structures", dataset_path);
  std::vector<data::SplitKey> keys;
  for (const Record& r : records) keys.push_back(split_key(r, split_options.kind));
  const data::Split split = data::make_split(keys, split_options);
  if (split.train.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "the split leaves no training data");

  const std::vector<int> species = species_of(records);
  Potential potential(kind, architecture, species, ensemble_size, seed);
  if (precision == "float64") potential.to(ad::DType::f64);
  const std::vector<double> shift = fit_reference_energies(records, split.train, species);
  potential.set_energy_scaling(shift, fit_scale(records, split.train, species, shift));

  // Input statistics (Behler-Parrinello symmetry functions) from the training structures.
  {
    std::vector<const Structure*> structures;
    for (std::size_t r : split.train) structures.push_back(&records[r].structure);
    const AtomGraph g = potentials::build_graph(structures, species, potential.cutoff(), potential.dtype());
    ad::NoGradGuard no_grad;
    for (std::size_t k = 0; k < potential.ensemble_size(); ++k) potential.member(k).fit_input_statistics(g);
  }
  // Stress is compared in units of scale / (volume per atom), so its weight is dimensionless.
  double volume_per_atom = 0.0;
  std::size_t periodic = 0;
  for (std::size_t r : split.train) {
    if (records[r].structure.fully_periodic()) {
      volume_per_atom += records[r].structure.volume() / static_cast<double>(records[r].structure.size());
      ++periodic;
    }
  }
  const double stress_scale = periodic > 0 ? static_cast<double>(periodic) / volume_per_atom : 1.0;

  if (job.print_progress) {
    std::string elements;
    for (int z : species) elements += std::string(elements.empty() ? "" : " ") + element(z).symbol;
    fmt::print("{} potential ({}) on {}: {} train, {} validation, {} test structures; scale {:.4g} eV; {} member(s)\n",
               kind, elements, dataset_path, split.train.size(), split.validation.size(), split.test.size(),
               potential.scale(), ensemble_size);
  }

  const train::EnsembleOptions ensemble =
      ensemble_options(trainer_options, seed, outputs, job.resume, job.print_progress, job.on_epoch);
  train::train_ensemble(
      potential.ensemble_size(),
      [&](std::size_t k) {
        return std::make_unique<PotentialTask>(potential, k, records, split, trainer_options.batch_size, weights,
                                               stress_scale);
      },
      ensemble);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  potential.save(outputs.model, {{"dataset", std::filesystem::absolute(dataset_path).string()},
                              {"n_structures", records.size()},
                              {"split", split_to_json(split_options)},
                              {"training_seconds", seconds}});
  std::filesystem::remove(outputs.checkpoint);

  TrainJobResult result;
  result.model_path = outputs.model;
  result.n_train = split.train.size();
  result.n_validation = split.validation.size();
  result.n_test = split.test.size();
  if (!split.test.empty()) result.test_metrics = potential_errors(potential, records, split.test);
  result.test_metrics["training_seconds"] = seconds;
  return result;
}

std::map<std::string, double> evaluate_potential(const std::string& model_path, const std::string& dataset_path,
                                                 const std::string& subset) {
  const Potential potential = Potential::load(model_path);
  const std::vector<Record> records = DatasetReader(dataset_path).read_all();
  if (subset == "all") return potential_errors(potential, records);
  const models::StateFile file = models::read_state_file(model_path, models::model_format, Potential::file_kind);
  const Json provenance = file.config.value("provenance", Json::object());
  const auto kind = data::split_kind_from_name(provenance.contains("split") ? provenance["split"].value("kind", "random") : "random");
  std::vector<data::SplitKey> keys;
  for (const Record& r : records) keys.push_back(split_key(r, kind));
  const data::Split split = recorded_split(provenance, keys, records.size(), dataset_path);
  const std::vector<std::size_t>* rows = subset == "train" ? &split.train
                                         : subset == "validation" ? &split.validation
                                         : subset == "test"       ? &split.test
                                                                  : nullptr;
  if (!rows) fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown subset \"{}\" (use all, train, validation or test)", subset);
  if (rows->empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "subset {} is empty", subset);
  return potential_errors(potential, records, *rows);
}

void write_potential_predictions(const std::string& model_path, const std::string& dataset_path,
                                 const std::string& csv_path) {
  const Potential potential = Potential::load(model_path);
  const std::vector<Record> records = DatasetReader(dataset_path).read_all();
  AtomicFile file(csv_path);
  {
    std::ofstream out(file.temp_path());
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write predictions", csv_path);
    out << "index,id,atoms,energy_predicted,energy_sigma,max_force_deviation,energy\n";
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      const auto result = potential.compute(r.structure, {.forces = true, .stress = false});
      const auto id = r.tags.find("id");
      const auto reference = r.energy();
      out << fmt::format("{},{},{},{:.10g},{:.6g},{:.6g},{}\n", i, id == r.tags.end() ? "" : id->second, r.structure.size(),
                         result.energy, result.energy_sigma, result.max_force_deviation,
                         reference ? fmt::format("{:.10g}", *reference) : "");
    }
    out.flush();
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write predictions", csv_path);
  }
  file.commit();
}

}  // namespace matnn::workflows
