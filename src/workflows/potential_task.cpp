#include "workflows/potential_task.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/losses.hpp"
#include "nn/seed_mix.hpp"
#include "parallel/deal.hpp"
#include "workflows/potential_errors.hpp"

namespace matnn::workflows {
// How many labelled entries a set of structures holds per loss term: the denominators of the
// term means. A rank of a data-parallel run divides by those of the whole mini-batch.
struct PotentialTask::LabelCounts {
  double energy = 0, forces = 0, stress = 0;

  LabelCounts(const DatasetRows& data, const std::vector<std::size_t>& rows) {
    for (std::size_t row : rows) {
      const RowSummary& s = data.summary(row);
      energy += s.energy ? 1.0 : 0.0;
      forces += s.forces ? 3.0 * static_cast<double>(s.atoms) : 0.0;
      stress += s.stress ? 6.0 : 0.0;
    }
  }
};

// Reference labels of a batch as tensors. A weight is c_s where the label exists and 0 where it
// is missing; the mask sums count the labelled entries, so that config_type weights scale a
// structure's share of the loss instead of cancelling in a weighted mean.
struct PotentialTask::Targets {
  ad::Tensor energy_per_atom, energy_weight, atoms_per_structure;  // (S)
  ad::Tensor forces, forces_weight;                                // (N, 3), (N, 1)
  ad::Tensor stress, stress_weight;                                // (S, 6), (S, 1)
  double energy_mask = 0, forces_mask = 0, stress_mask = 0;

  Targets(const std::vector<const Record*>& records, const LabelCounts& counts, const PotentialRecipe& recipe,
          ad::DType dtype) {
    energy_mask = counts.energy;
    forces_mask = counts.forces;
    stress_mask = counts.stress;
    std::vector<double> e, ew, n, f, fw, s, sw;
    for (const Record* r : records) {
      const double c = recipe.structure_weight(*r);
      const auto atoms = static_cast<double>(r->structure.size());
      const auto energy = r->energy();
      e.push_back(energy ? *energy / atoms : 0.0);
      ew.push_back(energy ? c : 0.0);
      n.push_back(atoms);
      const AtomValues* reference_forces = r->forces();
      for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(r->structure.size()); ++i) {
        for (int k = 0; k < 3; ++k) f.push_back(reference_forces ? (*reference_forces)(i, k) : 0.0);
        fw.push_back(reference_forces ? c : 0.0);
      }
      const std::vector<double>* reference_stress = r->stress();
      const bool use_stress = reference_stress && r->structure.fully_periodic();
      for (std::size_t k = 0; k < 6; ++k) s.push_back(use_stress ? (*reference_stress)[k] : 0.0);
      sw.push_back(use_stress ? c : 0.0);
    }
    const auto ns = static_cast<std::int64_t>(records.size());
    const auto na = static_cast<std::int64_t>(fw.size());
    energy_per_atom = ad::to(ad::from_vector(e, {ns}), dtype);
    energy_weight = ad::to(ad::from_vector(ew, {ns}), dtype);
    atoms_per_structure = ad::to(ad::from_vector(n, {ns}), dtype);
    forces = ad::to(ad::from_vector(f, {na, 3}), dtype);
    forces_weight = ad::to(ad::from_vector(fw, {na, 1}), dtype);
    stress = ad::to(ad::from_vector(s, {ns, 6}), dtype);
    stress_weight = ad::to(ad::from_vector(sw, {ns, 1}), dtype);
  }
};

ad::Tensor voigt_stress(const ad::Tensor& virial, const std::vector<double>& volumes, ad::DType dtype) {
  std::vector<double> inverse_volume;
  for (double v : volumes) inverse_volume.push_back(v > 0 ? 1.0 / v : 0.0);
  const auto ns = static_cast<std::int64_t>(volumes.size());
  const ad::Tensor flat = ad::reshape(virial, {ns, 9});
  auto column = [&](int a, int b) {
    return ad::mul(ad::add(ad::slice(flat, 1, 3 * a + b, 3 * a + b + 1), ad::slice(flat, 1, 3 * b + a, 3 * b + a + 1)), 0.5);
  };
  const ad::Tensor voigt = ad::concat({column(0, 0), column(1, 1), column(2, 2), column(1, 2), column(0, 2), column(0, 1)}, 1);
  return ad::mul(voigt, ad::to(ad::from_vector(inverse_volume, {ns, 1}), dtype));
}

PotentialTask::PotentialTask(potentials::Potential& potential, std::size_t member, DatasetRows& data,
                             const data::Split& split, std::vector<std::size_t> train_rows, std::size_t batch_size,
                             const PotentialRecipe& recipe, double stress_scale, DescribedRows* described)
    : potential_(potential),
      member_(member),
      data_(data),
      split_(split),
      train_rows_(std::move(train_rows)),
      batch_size_(batch_size),
      recipe_(recipe),
      weights_(recipe.weights),
      stress_scale_(stress_scale),
      described_(described) {
  if (described_ && !dynamic_cast<potentials::BehlerParrinello*>(&potential_.member(member_))) {
    fail(MATNN_ERROR_INTERNAL, "cached descriptors given for a {} model", potential_.architecture());
  }
}

// Energies (S), forces (N, 3) and stress (S, 6) of some structures, differentiable in the weights.
struct PotentialTask::Predictions {
  ad::Tensor energies, forces, stress;
  std::vector<std::int64_t> atom_offsets;
};

PotentialTask::Predictions PotentialTask::predict(const std::vector<std::size_t>& rows,
                                                  const std::vector<const Record*>& records, bool derivatives,
                                                  bool create_graph) {
  const ad::DType dtype = potential_.dtype();
  const double scale = potential_.scale();
  Predictions p;
  if (described_) {
    const std::vector<const potentials::DescribedStructure*> batch = described_->get(rows, records);
    std::vector<double> shifts, volumes;
    for (const potentials::DescribedStructure* described : batch) {
      const potentials::DescribedStructure& d = *described;
      double shift = 0.0;
      for (std::int32_t s : d.species) shift += potential_.shift()[static_cast<std::size_t>(s)];
      shifts.push_back(shift);
      volumes.push_back(d.volume);
    }
    auto& model = static_cast<potentials::BehlerParrinello&>(potential_.member(member_));
    const potentials::DescribedOutputs out = potentials::evaluate_described(model, batch, derivatives, create_graph);
    const auto ns = static_cast<std::int64_t>(rows.size());
    p.energies = ad::add(ad::mul(out.structure, scale), ad::to(ad::from_vector(shifts, {ns}), dtype));
    p.atom_offsets = out.atom_offsets;
    if (derivatives) {
      p.forces = ad::mul(out.position_gradient, -scale);
      p.stress = voigt_stress(ad::mul(out.strain_gradient, scale), volumes, dtype);
    }
    if (potential_.core_repulsion().enabled()) {
      std::vector<const potentials::PairTotals*> cores;
      for (const auto* d : batch) cores.push_back(&d->core);
      add_core_repulsion(p, cores, volumes, derivatives);
    }
    return p;
  }
  std::vector<const Structure*> structures;
  for (const Record* r : records) structures.push_back(&r->structure);
  const potentials::AtomGraph g = potentials::build_graph(structures, potential_.species(), potential_.cutoff(), dtype);
  p.energies = potential_.structure_energies(member_, g);
  p.atom_offsets = g.atom_offsets;
  if (derivatives) {
    std::vector<ad::Tensor> inputs{g.positions, g.strain};
    const auto grads = ad::grad({ad::sum(p.energies)}, inputs, {}, create_graph, true);
    p.forces = ad::neg(grads[0]);
    p.stress = voigt_stress(grads[1], g.volumes, dtype);
  }
  if (potential_.core_repulsion().enabled()) {
    const potentials::PairTotals core = potential_.core_repulsion().totals(g, potential_.species());
    add_core_repulsion(p, {&core}, g.volumes, derivatives);
  }
  return p;
}

// The core repulsion does not depend on the weights: its energies, forces and stress are
// constants added to the networks' (each PairTotals may cover several structures).
void PotentialTask::add_core_repulsion(Predictions& p, const std::vector<const potentials::PairTotals*>& cores,
                                       const std::vector<double>& volumes, bool derivatives) const {
  std::vector<double> energies, forces, virials;
  for (const potentials::PairTotals* core : cores) {
    energies.insert(energies.end(), core->energies.begin(), core->energies.end());
    forces.insert(forces.end(), core->forces.data(), core->forces.data() + core->forces.size());
    for (const Eigen::Matrix3d& v : core->virials) {
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) virials.push_back(v(a, b));
      }
    }
  }
  const ad::DType dtype = potential_.dtype();
  const auto ns = static_cast<std::int64_t>(energies.size());
  p.energies = ad::add(p.energies, ad::to(ad::from_vector(energies, {ns}), dtype));
  if (!derivatives) return;
  const auto na = static_cast<std::int64_t>(forces.size() / 3);
  p.forces = ad::add(p.forces, ad::to(ad::from_vector(forces, {na, 3}), dtype));
  p.stress = ad::add(p.stress, voigt_stress(ad::to(ad::from_vector(virials, {ns, 3, 3}), dtype), volumes, dtype));
}

ad::Tensor PotentialTask::batch_loss(std::span<const std::size_t> batch) {
  std::vector<std::size_t> rows;
  for (std::size_t b : batch) rows.push_back(train_rows_[b]);
  return loss(rows, weights_, true, nullptr);
}

ad::Tensor PotentialTask::shard_loss(std::span<const std::size_t> batch, std::span<const std::size_t> local) {
  std::vector<std::size_t> whole;
  for (std::size_t b : batch) whole.push_back(train_rows_[b]);
  const LabelCounts counts(data_, whole);
  std::vector<std::size_t> rows;
  for (std::size_t b : local) rows.push_back(train_rows_[b]);
  return loss(rows, weights_, true, nullptr, &counts);
}

double PotentialTask::sample_cost(std::size_t i) const { return static_cast<double>(data_.summary(train_rows_[i]).atoms); }

int PotentialTask::sample_home(std::size_t i) const { return data_.home(train_rows_[i]); }

std::map<std::string, double> PotentialTask::validate() { return validate_over(parallel::Communicator()); }

std::map<std::string, double> PotentialTask::validate_over(const parallel::Communicator& comm) {
  if (split_.validation.empty()) return {};
  ad::GradModeGuard record(true);  // forces need the forward graph even when not training
  PotentialErrors errors;
  double loss_sum = 0.0;
  for (std::size_t begin = 0; begin < split_.validation.size(); begin += batch_size_) {
    const std::size_t end = std::min(split_.validation.size(), begin + batch_size_);
    const std::vector<std::size_t> rows(split_.validation.begin() + static_cast<std::ptrdiff_t>(begin),
                                        split_.validation.begin() + static_cast<std::ptrdiff_t>(end));
    std::vector<double> atoms;
    std::vector<int> homes;
    for (std::size_t r : rows) {
      atoms.push_back(static_cast<double>(data_.summary(r).atoms));
      homes.push_back(data_.home(r));
    }
    std::vector<std::size_t> mine;
    for (std::size_t k : parallel::dealt_to(atoms, homes, comm.size(), comm.rank())) mine.push_back(rows[k]);
    if (mine.empty()) continue;
    const LabelCounts counts(data_, rows);
    loss_sum += loss(mine, recipe_.final_weights(), false, &errors, &counts).item() * static_cast<double>(rows.size());
  }
  std::array<double, 1> total{loss_sum};
  comm.sum(total);
  errors.sum_over(comm);
  std::map<std::string, double> out = errors.metrics();
  out["loss"] = total[0] / static_cast<double>(split_.validation.size());
  return out;
}

ad::Tensor PotentialTask::loss(const std::vector<std::size_t>& rows, const LossWeights& weights, bool create_graph,
                               PotentialErrors* errors, const LabelCounts* normalisers) {
  const std::vector<const Record*> records = data_.records(rows);
  const Targets t(records, normalisers ? *normalisers : LabelCounts(data_, rows), recipe_, potential_.dtype());
  const bool want_forces = weights.forces > 0 && t.forces_mask > 0;
  const bool want_stress = weights.stress > 0 && t.stress_mask > 0;
  const Predictions p = predict(rows, records, want_forces || want_stress || errors, create_graph);
  if (errors) errors->add_batch(records, p.energies, p.forces, p.stress, p.atom_offsets);
  return loss_of(p, t, weights);
}

ad::Tensor PotentialTask::loss_of(const Predictions& p, const Targets& t, const LossWeights& weights) const {
  const double scale = potential_.scale();
  const bool want_forces = weights.forces > 0 && t.forces_mask > 0;
  const bool want_stress = weights.stress > 0 && t.stress_mask > 0;
  const ad::Tensor per_atom = ad::div(p.energies, t.atoms_per_structure);
  ad::Tensor total = ad::mul(term(per_atom, t.energy_per_atom, t.energy_weight, t.energy_mask, scale), weights.energy);
  if (want_forces) {
    total = ad::add(total, ad::mul(term(p.forces, t.forces, t.forces_weight, t.forces_mask, scale), weights.forces));
  }
  if (want_stress) {
    total = ad::add(total, ad::mul(term(p.stress, t.stress, t.stress_weight, t.stress_mask, scale * stress_scale_),
                                   weights.stress));
  }
  return total;
}

namespace {

// Up to `count` of the entries [begin, end) of `errors`, in a random order that prefers those
// whose magnitude is at least `threshold` times the RMS of the range (n2p2's threshold selection).
std::vector<std::int32_t> choose_components(const std::vector<double>& errors, std::size_t begin, std::size_t end,
                                            std::size_t count, double threshold, std::mt19937_64& rng) {
  std::vector<std::int32_t> order;
  double sum_sq = 0.0;
  for (std::size_t i = begin; i < end; ++i) {
    order.push_back(static_cast<std::int32_t>(i));
    sum_sq += errors[i] * errors[i];
  }
  std::shuffle(order.begin(), order.end(), rng);
  const double bar = threshold * std::sqrt(sum_sq / static_cast<double>(std::max<std::size_t>(end - begin, 1)));
  std::stable_partition(order.begin(), order.end(), [&](std::int32_t i) { return std::abs(errors[static_cast<std::size_t>(i)]) >= bar; });
  order.resize(std::min(count, order.size()));
  return order;
}

}  // namespace

train::Measurements PotentialTask::measurements(std::span<const std::size_t> batch, std::span<const std::size_t> local,
                                                const train::MeasurementSelection& selection) {
  std::vector<std::size_t> whole, rows, places;  // places: each local sample's position in the batch
  for (std::size_t b : batch) whole.push_back(train_rows_[b]);
  for (std::size_t l : local) {
    const auto at = std::find(batch.begin(), batch.end(), l);
    if (at == batch.end()) fail(MATNN_ERROR_INTERNAL, "measurements: sample {} is not in the batch", l);
    places.push_back(static_cast<std::size_t>(at - batch.begin()));
    rows.push_back(train_rows_[l]);
  }
  const std::vector<const Record*> records = data_.records(rows);
  const ad::DType dtype = potential_.dtype();
  // Normalised as the whole batch is (its label counts), so the ranks' loss shares sum to it.
  const Targets t(records, LabelCounts(data_, whole), recipe_, dtype);
  const double scale = potential_.scale();
  const bool want_forces = weights_.forces > 0 && t.forces_mask > 0;
  const bool want_stress = weights_.stress > 0 && t.stress_mask > 0;
  const bool use_forces = want_forces && selection.forces_per_structure > 0;
  const bool use_stress = want_stress && selection.stress_per_structure > 0;
  const Predictions p = predict(rows, records, want_forces || want_stress, true);
  // Each structure's components from a generator of its own (the batch's seed and its place).
  const auto generator = [&](std::size_t s, std::uint64_t kind) {
    using nn::splitmix64;
    return std::mt19937_64(splitmix64(splitmix64(splitmix64(selection.seed) ^ places[s]) ^ kind));
  };

  // A measurement is sqrt(loss weight x structure weight) x (prediction - reference) / unit, so
  // that a loss weight acts as an inverse measurement noise.
  std::vector<ad::Tensor> parts;
  auto add_part = [&](const ad::Tensor& difference, std::vector<std::int32_t> chosen, const std::vector<double>& root_weight) {
    if (chosen.empty()) return;
    const auto m = static_cast<std::int64_t>(chosen.size());
    const ad::Tensor flat = ad::reshape(difference, {difference.numel(), 1});
    const ad::Tensor picked = ad::reshape(ad::gather_rows(flat, ad::make_index(std::move(chosen))), {m});
    parts.push_back(ad::mul(picked, ad::to(ad::from_vector(root_weight, {m}), dtype)));
  };

  const auto ns = static_cast<std::int64_t>(rows.size());
  const ad::Tensor energy_difference =
      ad::div(ad::sub(ad::div(p.energies, t.atoms_per_structure), t.energy_per_atom), scale);
  const std::vector<double> energy_weight = t.energy_weight.to_vector();
  std::vector<std::int32_t> chosen;
  std::vector<double> root_weight;
  for (std::int64_t s = 0; s < ns; ++s) {
    if (energy_weight[static_cast<std::size_t>(s)] <= 0 || weights_.energy <= 0) continue;
    chosen.push_back(static_cast<std::int32_t>(s));
    root_weight.push_back(std::sqrt(weights_.energy * energy_weight[static_cast<std::size_t>(s)]));
  }
  add_part(energy_difference, chosen, root_weight);

  // A few components of each structure's block [first, last) of `difference`, with the
  // structure's weight (taken at the block's first entry of `weight`).
  auto add_components = [&](const ad::Tensor& difference, const ad::Tensor& weight_tensor, double loss_weight,
                            std::size_t count, std::uint64_t kind, auto block) {
    const std::vector<double> errors = difference.to_vector(), weight = weight_tensor.to_vector();
    chosen.clear();
    root_weight.clear();
    for (std::int64_t s = 0; s < ns; ++s) {
      const auto [first, last, weight_row] = block(static_cast<std::size_t>(s));
      if (first == last || weight[weight_row] <= 0) continue;
      std::mt19937_64 rng = generator(static_cast<std::size_t>(s), kind);
      for (std::int32_t i : choose_components(errors, first, last, count, selection.threshold, rng)) {
        chosen.push_back(i);
        root_weight.push_back(std::sqrt(loss_weight * weight[weight_row]));
      }
    }
    add_part(difference, chosen, root_weight);
  };
  if (use_forces) {
    add_components(ad::div(ad::sub(p.forces, t.forces), scale), t.forces_weight, weights_.forces,
                   selection.forces_per_structure, 0, [&](std::size_t s) {
                     const auto first = static_cast<std::size_t>(p.atom_offsets[s]);
                     const auto last = static_cast<std::size_t>(p.atom_offsets[s + 1]);
                     return std::tuple{3 * first, 3 * last, first};  // forces_weight is per atom
                   });
  }
  if (use_stress) {
    add_components(ad::div(ad::sub(p.stress, t.stress), scale * stress_scale_), t.stress_weight, weights_.stress,
                   selection.stress_per_structure, 1, [](std::size_t s) { return std::tuple{6 * s, 6 * s + 6, s}; });
  }

  train::Measurements out;
  out.residuals = parts.empty() ? ad::zeros({0}, dtype) : ad::concat(parts, 0);
  out.loss = loss_of(p, t, weights_).item();
  return out;
}

ad::Tensor PotentialTask::term(const ad::Tensor& predicted, const ad::Tensor& target, const ad::Tensor& weight,
                               double mask_sum, double unit) const {
  const ad::Tensor p = ad::div(predicted, unit), y = ad::div(target, unit);
  const ad::Tensor w = ad::broadcast_to(weight, predicted.shape());
  const ad::Tensor mean = recipe_.huber ? nn::huber_loss(p, y, recipe_.huber_delta, w) : nn::mse_loss(p, y, w);
  // The losses divide by sum(w); rescale so that the mean is over the labelled entries instead.
  const std::vector<double> wv = weight.to_vector();
  double weight_sum = 0.0;
  for (double x : wv) weight_sum += x;
  weight_sum *= static_cast<double>(predicted.numel()) / static_cast<double>(std::max<std::size_t>(wv.size(), 1));
  if (mask_sum <= 0 || weight_sum <= 0) return mean;
  return ad::mul(mean, weight_sum / mask_sum);
}

}  // namespace matnn::workflows
