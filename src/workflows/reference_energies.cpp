#include "workflows/reference_energies.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn::workflows {
namespace {

std::size_t species_index(const std::vector<int>& species, int z) {
  return static_cast<std::size_t>(std::find(species.begin(), species.end(), z) - species.begin());
}

std::vector<double> fitted(const DatasetRows& data, const std::vector<std::size_t>& rows, const std::vector<int>& species) {
  std::vector<const RowSummary*> labelled;
  for (std::size_t r : rows) {
    if (data.summary(r).energy) labelled.push_back(&data.summary(r));
  }
  std::vector<double> e0(species.size(), 0.0);
  if (labelled.empty()) return e0;
  Eigen::MatrixXd counts =
      Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(labelled.size()), static_cast<Eigen::Index>(species.size()));
  Eigen::VectorXd energies(static_cast<Eigen::Index>(labelled.size()));
  for (std::size_t i = 0; i < labelled.size(); ++i) {
    for (const auto& [z, n] : labelled[i]->composition) {
      counts(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(species_index(species, z))) += static_cast<double>(n);
    }
    energies[static_cast<Eigen::Index>(i)] = *labelled[i]->energy;
  }
  const Eigen::VectorXd solution = counts.completeOrthogonalDecomposition().solve(energies);
  for (std::size_t k = 0; k < species.size(); ++k) e0[k] = solution[static_cast<Eigen::Index>(k)];
  return e0;
}

std::vector<double> from_isolated_atoms(const DatasetRows& data, const std::vector<int>& species,
                                        const std::string& dataset_path) {
  std::vector<double> e0(species.size(), std::nan(""));
  for (std::size_t i = 0; i < data.size(); ++i) {
    const RowSummary& s = data.summary(i);
    if (!s.isolated_atom) continue;
    const int z = s.composition.front().first;
    if (!s.energy) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: isolated-atom frame of {} has no energy", data.origin(i), element(z).symbol);
    }
    const std::size_t k = species_index(species, z);
    if (k == species.size()) continue;  // an element the training structures do not contain
    if (!std::isnan(e0[k]) && e0[k] != *s.energy) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: a second isolated-atom frame of {} with another energy ({} and {} eV)",
           data.origin(i), element(z).symbol, e0[k], *s.energy);
    }
    e0[k] = *s.energy;
  }
  for (std::size_t k = 0; k < species.size(); ++k) {
    if (std::isnan(e0[k])) {
      fail(MATNN_ERROR_INVALID_ARGUMENT,
           "{}: model.reference_energies is isolated_atoms, but there is no isolated-atom frame of {} (one atom, "
           "config_type isolated_atom, with an energy)",
           dataset_path, element(species[k]).symbol);
    }
  }
  return e0;
}

std::vector<double> given(const train::Json& spec, const std::vector<int>& species) {
  std::vector<double> e0(species.size(), std::nan(""));
  for (const auto& [symbol, value] : spec.items()) {
    int z = 0;
    try {
      z = atomic_number(symbol);
    } catch (const Error&) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.reference_energies: \"{}\" is not an element symbol", symbol);
    }
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.reference_energies.{} must be a finite number (eV), got {}", symbol,
           value.dump());
    }
    const std::size_t k = species_index(species, z);
    if (k == species.size()) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.reference_energies.{}: the training data contain no {}", symbol, symbol);
    }
    e0[k] = value.get<double>();
  }
  for (std::size_t k = 0; k < species.size(); ++k) {
    if (std::isnan(e0[k])) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.reference_energies gives no energy for {}", element(species[k]).symbol);
    }
  }
  return e0;
}

}  // namespace

bool is_isolated_atom(const Record& record) {
  if (record.structure.size() != 1) return false;
  const auto tag = record.tags.find("config_type");
  return tag != record.tags.end() && (tag->second == "isolated_atom" || tag->second == "IsolatedAtom");
}

ReferenceEnergies reference_energies(const train::Json* spec, const DatasetRows& data, const std::vector<std::size_t>& rows,
                                     const std::vector<int>& species, const std::string& dataset_path) {
  if (spec == nullptr || (spec->is_string() && spec->get<std::string>() == "fit")) {
    return {fitted(data, rows, species), "fit"};
  }
  if (spec->is_string() && spec->get<std::string>() == "isolated_atoms") {
    return {from_isolated_atoms(data, species, dataset_path), "isolated_atoms"};
  }
  if (spec->is_object()) return {given(*spec, species), "given"};
  fail(MATNN_ERROR_INVALID_ARGUMENT,
       "model.reference_energies must be fit, isolated_atoms or a mapping of element symbols to eV, got {}",
       spec->dump());
}

}  // namespace matnn::workflows
