#include "workflows/potential_errors.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include <nlohmann/json.hpp>

#include "metrics/metrics.hpp"
#include "workflows/potential_on_ranks.hpp"
#include "workflows/reference_energies.hpp"

namespace matnn::workflows {

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
  for (std::size_t k = 0; k < 6; ++k) {
    const double d = predicted[k] - reference[k];
    stress_abs_ += std::abs(d);
    stress_sq_ += d * d;
  }
  stress_components_ += 6;
}

void PotentialErrors::add_batch(const std::vector<const Record*>& records, const ad::Tensor& energies,
                                const ad::Tensor& forces, const ad::Tensor& stress,
                                const std::vector<std::int64_t>& atom_offsets) {
  const std::vector<double> e = energies.to_vector(), f = forces.to_vector(), s = stress.to_vector();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Record& r = *records[i];
    if (const auto energy = r.energy()) add_energy(e[i], *energy, r.structure.size());
    if (const AtomValues* reference = r.forces()) {
      const auto first = static_cast<std::size_t>(atom_offsets[i]);
      add_forces(Eigen::Map<const Positions>(f.data() + 3 * first, reference->rows(), 3), *reference);
    }
    if (const std::vector<double>* reference = r.stress(); reference && r.structure.fully_periodic()) {
      std::array<double, 6> predicted{};
      for (std::size_t k = 0; k < 6; ++k) predicted[k] = s[6 * i + k];
      add_stress(predicted, *reference);
    }
  }
}

void PotentialErrors::sum_over(const parallel::Communicator& comm) {
  std::array<double, 9> sums{energy_abs_,
                             energy_sq_,
                             force_abs_,
                             force_sq_,
                             stress_abs_,
                             stress_sq_,
                             static_cast<double>(energies_),
                             static_cast<double>(force_components_),
                             static_cast<double>(stress_components_)};
  comm.sum(sums);
  std::tie(energy_abs_, energy_sq_, force_abs_, force_sq_, stress_abs_, stress_sq_) =
      std::tuple{sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]};
  energies_ = static_cast<std::size_t>(sums[6]);
  force_components_ = static_cast<std::size_t>(sums[7]);
  stress_components_ = static_cast<std::size_t>(sums[8]);
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
    const double n = static_cast<double>(stress_components_);
    out["stress_mae_GPa"] = potentials::ev_per_a3_in_gpa * stress_abs_ / n;
    out["stress_rmse_GPa"] = potentials::ev_per_a3_in_gpa * std::sqrt(stress_sq_ / n);
  }
  return out;
}

namespace {

// Rank 0's evaluation on every rank (only rank 0 has seen the results), bit for bit.
PotentialEvaluation same_on_every_rank(PotentialEvaluation evaluation, const parallel::Communicator& comm) {
  if (comm.size() == 1) return evaluation;
  std::vector<std::uint8_t> bytes;
  if (comm.is_root()) {
    const nlohmann::json j = {{"overall", evaluation.overall},
                              {"by_config_type", evaluation.by_config_type},
                              {"uncertainty", evaluation.uncertainty},
                              {"energy_sigma_per_atom", evaluation.energy_sigma_per_atom},
                              {"max_force_deviation", evaluation.max_force_deviation}};
    bytes = nlohmann::json::to_msgpack(j);
  }
  const nlohmann::json j = nlohmann::json::from_msgpack(comm.all_gather(std::span<const std::uint8_t>(bytes)).front());
  PotentialEvaluation out;
  out.overall = j.at("overall").get<std::map<std::string, double>>();
  out.by_config_type = j.at("by_config_type").get<std::map<std::string, std::map<std::string, double>>>();
  out.uncertainty = j.at("uncertainty").get<std::map<std::string, double>>();
  out.energy_sigma_per_atom = j.at("energy_sigma_per_atom").get<std::vector<double>>();
  out.max_force_deviation = j.at("max_force_deviation").get<std::vector<double>>();
  return out;
}

}  // namespace

PotentialEvaluation evaluate_potential_on(const potentials::Potential& potential, DatasetRows& data,
                                          const std::vector<std::size_t>& rows, const parallel::Communicator& comm) {
  PotentialErrors all;
  std::map<std::string, PotentialErrors> by_type;
  std::map<std::string, std::size_t> count_by_type;
  bool any_type = false;
  std::vector<double> energy_error, energy_sigma, force_mae, force_deviation;
  std::size_t n = 0;
  PotentialEvaluation out;
  auto add = [&](std::size_t, const Record& r, const potentials::PotentialResult& result) {
    ++n;
    const auto tag = r.tags.find("config_type");
    any_type = any_type || tag != r.tags.end();
    const std::string type = tag == r.tags.end() ? "-" : tag->second;
    PotentialErrors& group = by_type[type];
    ++count_by_type[type];
    const auto atoms = static_cast<double>(r.structure.size());
    out.energy_sigma_per_atom.push_back(result.energy_sigma / atoms);
    out.max_force_deviation.push_back(result.max_force_deviation);
    if (const auto e = r.energy()) {
      all.add_energy(result.energy, *e, r.structure.size());
      group.add_energy(result.energy, *e, r.structure.size());
      energy_error.push_back(std::abs(result.energy - *e) / atoms);
      energy_sigma.push_back(result.energy_sigma / atoms);
    }
    if (const AtomValues* f = r.forces()) {
      all.add_forces(result.forces, *f);
      group.add_forces(result.forces, *f);
      force_mae.push_back((result.forces - *f).cwiseAbs().mean());
      force_deviation.push_back(result.force_deviation.size() > 0 ? result.force_deviation.mean() : 0.0);
    }
    if (const auto* s = r.stress(); s && result.has_stress && r.structure.fully_periodic()) {
      all.add_stress(result.stress, *s);
      group.add_stress(result.stress, *s);
    }
  };
  std::vector<std::size_t> evaluated;
  const auto keep = [&](std::size_t row) {
    if (!data.summary(row).isolated_atom) evaluated.push_back(row);
  };
  if (rows.empty()) {
    for (std::size_t i = 0; i < data.size(); ++i) keep(i);
  } else {
    for (std::size_t i : rows) keep(i);
  }
  const auto request = [](const Record& r) {
    return potentials::ComputeRequest{.forces = r.forces() != nullptr, .stress = r.stress() != nullptr};
  };
  for_each_result(potential, data, evaluated, request, add, comm);
  out.overall = all.metrics();
  out.overall["n"] = static_cast<double>(n);
  if (any_type) {
    for (const auto& [type, errors] : by_type) {
      out.by_config_type[type] = errors.metrics();
      out.by_config_type[type]["n"] = static_cast<double>(count_by_type[type]);
    }
  }
  if (potential.ensemble_size() > 1) {
    auto mean = [](const std::vector<double>& v) {
      return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    };
    if (!energy_error.empty()) {
      out.uncertainty["energy_sigma_spearman"] = metrics::spearman(energy_sigma, energy_error);
      out.uncertainty["energy_sigma_mean_meV_atom"] = 1000.0 * mean(energy_sigma);
    }
    if (!force_mae.empty()) {
      out.uncertainty["force_deviation_spearman"] = metrics::spearman(force_deviation, force_mae);
      out.uncertainty["force_deviation_mean_meV_A"] = 1000.0 * mean(force_deviation);
    }
  }
  return same_on_every_rank(std::move(out), comm);
}

std::map<std::string, double> ood_separation(const PotentialEvaluation& in, const PotentialEvaluation& ood) {
  auto auroc = [&](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> score(a);
    score.insert(score.end(), b.begin(), b.end());
    std::vector<int> label(a.size(), 0);
    label.insert(label.end(), b.size(), 1);
    return metrics::roc_auc(score, label);
  };
  return {{"ood_auroc_energy_sigma", auroc(in.energy_sigma_per_atom, ood.energy_sigma_per_atom)},
          {"ood_auroc_force_deviation", auroc(in.max_force_deviation, ood.max_force_deviation)}};
}

}  // namespace matnn::workflows
