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
#include "workflows/job_common.hpp"
#include "workflows/potential_errors.hpp"

namespace matnn::workflows {

/// Trains a potential from a config whose model.kind is behler_parrinello or nequip.
TrainJobResult train_potential(const train::Json& config, const TrainJobOptions& options = {});

/// Evaluates a potential on a dataset: subset "all", or "train"/"validation"/"test" of the split
/// recorded in the model file. The structures are shared among the ranks of `comm`; every rank
/// returns the serial evaluation.
PotentialEvaluation evaluate_potential(const std::string& model_path, const std::string& dataset_path,
                                       const std::string& subset, const parallel::Communicator& comm = {});

/// Predictions for every structure. To a .xyz/.extxyz path: extended XYZ as ASE reads it, with
/// the predicted energy, forces, stress (fully periodic cells), per-atom energies, the ensemble's
/// energy_sigma, max_force_deviation and per-atom force_deviation, and the dataset's labels
/// under REF_<name>. Any other path: CSV with index, id, config_type, atoms, energy (eV),
/// energy_sigma, the maximum force deviation over atoms (eV/Angstrom; the model deviation that
/// flags structures for DFT) and the reference energy where the dataset has one. Atomic.
/// The structures are shared among the ranks of `comm`; rank 0 writes the file, the same bytes as
/// a serial run's, and every rank returns once it is in place (or throws its error).
void write_potential_predictions(const std::string& model_path, const std::string& dataset_path,
                                 const std::string& output_path, const parallel::Communicator& comm = {});

}  // namespace matnn::workflows
