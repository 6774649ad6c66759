// End-to-end jobs for interatomic potentials: train an ensemble on energies, forces and stresses
// of an HDF5 dataset (docs/training-config.md), and measure a potential's errors on a dataset.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "matnn/record.hpp"
#include "potentials/potential.hpp"
#include "train/config.hpp"
#include "workflows/composition_job.hpp"

namespace matnn::workflows {

/// Error sums of a potential against reference labels; metrics() reports energy MAE/RMSE in
/// meV/atom, force MAE/RMSE in meV/Angstrom (per component) and stress MAE in GPa, each over
/// the structures that carry that label.
class PotentialErrors {
 public:
  void add_energy(double predicted, double reference, std::size_t n_atoms);
  void add_forces(const Positions& predicted, const AtomValues& reference);
  void add_stress(const std::array<double, 6>& predicted, const std::vector<double>& reference);
  std::map<std::string, double> metrics() const;

 private:
  double energy_abs_ = 0, energy_sq_ = 0, force_abs_ = 0, force_sq_ = 0, stress_abs_ = 0;
  std::size_t energies_ = 0, force_components_ = 0, stress_components_ = 0;
};

/// Errors of the ensemble mean (Potential::compute) on `records` (all when `rows` is empty).
std::map<std::string, double> potential_errors(const potentials::Potential& potential, std::span<const Record> records,
                                               const std::vector<std::size_t>& rows = {});

/// Trains a potential from a config whose model.kind is behler_parrinello or nequip.
TrainJobResult train_potential(const train::Json& config, const TrainJobOptions& options = {});

/// Evaluates a potential on a dataset: subset "all", or "train"/"validation"/"test" of the split
/// recorded in the model file.
std::map<std::string, double> evaluate_potential(const std::string& model_path, const std::string& dataset_path,
                                                 const std::string& subset);

/// Per-structure predictions as CSV: index, id, atoms, energy (eV), energy_sigma, the maximum
/// force deviation over atoms (eV/Angstrom; the model deviation that flags structures for DFT),
/// and the reference energy where the dataset has one. Atomic.
void write_potential_predictions(const std::string& model_path, const std::string& dataset_path,
                                 const std::string& csv_path);

}  // namespace matnn::workflows
