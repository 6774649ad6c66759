// The loss of a potential's training run, read from the `training` section of its config
// (docs/training-config.md) and checked against the data before any work:
//
//   L = w_E * mean_s c_s (e_s - e_s^ref)^2 / u^2                 e = E / atoms (energy per atom)
//     + w_F * mean_i,k c_s(i) (F_ik - F_ik^ref)^2 / u^2
//     + w_S * mean_s,k c_s (S_sk - S_sk^ref)^2 / (u / Omega)^2   Omega: volume per atom
//
// with u the model's energy scale (the RMS force component of the training data, in eV), c_s the
// weight of structure s's config_type (1 unless given), and the means over the labelled entries
// of the batch. Huber replaces the square beyond huber_delta (in units of u). Loss weights may
// change once during the run ("stage two", as in MACE): the energy weight is usually raised for
// the last part of the run, when forces have converged and the energy offset is what is left.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "matnn/record.hpp"
#include "train/config.hpp"
#include "workflows/dataset_rows.hpp"

namespace matnn::workflows {

struct LossWeights {
  double energy = 1.0, forces = 1.0, stress = 0.0;
};

struct PotentialRecipe {
  LossWeights weights;                     ///< from the first epoch
  std::optional<LossWeights> stage_two;    ///< from epoch stage_two_epoch on
  int stage_two_epoch = 0;
  bool huber = false;
  double huber_delta = 0.01;
  std::map<std::string, double> config_type_weights;  ///< config_type -> c_s

  /// The weights of epoch `epoch` (0-based).
  const LossWeights& weights_at(int epoch) const {
    return stage_two && epoch >= stage_two_epoch ? *stage_two : weights;
  }
  /// The weights of the last epoch: validation losses are measured with these at every epoch,
  /// so the best epoch is chosen by one fixed metric across the stages.
  const LossWeights& final_weights() const { return stage_two ? *stage_two : weights; }
  /// c_s of a record (1 when its config_type has no weight).
  double structure_weight(const Record& record) const;
};

/// Which labels the training rows carry.
struct LabelCounts {
  std::size_t energies = 0, forces = 0, stresses = 0;
  std::map<std::string, std::size_t> config_types;
};
LabelCounts count_labels(const DatasetRows& data, const std::vector<std::size_t>& rows);

/// Reads the loss keys of `training` (energy_weight, forces_weight, stress_weight, loss,
/// huber_delta, config_type_weights, stage_two). A loss term given a positive weight that no
/// training structure can feed, or a config_type weight that matches no structure, is an error
/// naming the key: it would otherwise train something other than what the config says. The
/// stress weight defaults to 1 when the training data carry stress and 0 when not.
PotentialRecipe recipe_from(const train::ConfigSection& training, int epochs, const LabelCounts& labels,
                            const std::string& dataset_path);

/// The recipe as recorded in the model file's provenance.
train::Json recipe_to_json(const PotentialRecipe& recipe);

}  // namespace matnn::workflows
