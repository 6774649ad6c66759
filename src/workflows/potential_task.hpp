// One ensemble member of a potential as a training task for the shared Trainer: mini-batch
// losses of energies, forces and stresses (the recipe of potential_recipe.hpp), and validation
// errors measured with the recipe's final loss weights.
#pragma once

#include <span>
#include <vector>

#include "data/splits.hpp"
#include "matnn/record.hpp"
#include "potentials/descriptor_cache.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/described_rows.hpp"
#include "potentials/potential.hpp"
#include "train/trainer.hpp"
#include "workflows/potential_recipe.hpp"

namespace matnn::workflows {

class PotentialTask : public train::TrainingTask {
 public:
  /// `stress_scale` is the inverse volume per atom of the training data: stress is compared in
  /// units of scale / (volume per atom), so the stress weight is dimensionless.
  /// `described`, when given, holds Behler-Parrinello descriptors of the rows: the loss then
  /// runs from them instead of graphs.
  /// `train_rows`: the rows this member trains on (split.train, or a bootstrap resample of it).
  PotentialTask(potentials::Potential& potential, std::size_t member, DatasetRows& data, const data::Split& split,
                std::vector<std::size_t> train_rows, std::size_t batch_size, const PotentialRecipe& recipe,
                double stress_scale, DescribedRows* described = nullptr);

  std::size_t train_size() const override { return train_rows_.size(); }
  nn::Module& module() override { return potential_.member(member_); }
  bool begin_epoch(int epoch) override {
    weights_ = recipe_.weights_at(epoch);
    return recipe_.stage_two && epoch == recipe_.stage_two_epoch;
  }
  ad::Tensor batch_loss(std::span<const std::size_t> batch) override;
  /// Each term divided by the labelled entries of the whole batch, not of the rank's part.
  ad::Tensor shard_loss(std::span<const std::size_t> batch, std::span<const std::size_t> local) override;
  /// The structure's atom count: ranks get equal numbers of atoms.
  double sample_cost(std::size_t i) const override;
  /// The rank that holds the structure (dataset_rows.hpp).
  int sample_home(std::size_t i) const override;
  std::map<std::string, double> validate() override;
  /// The validation structures of each batch shared among the ranks by atoms, each share's loss
  /// normalised by the whole batch's label counts (as in training): the serial metrics and loss.
  std::map<std::string, double> validate_over(const parallel::Communicator& comm) override;
  train::Measurements measurements(std::span<const std::size_t> batch, std::span<const std::size_t> local,
                                         const train::MeasurementSelection& selection) override;

 private:
  struct LabelCounts;
  struct Targets;
  struct Predictions;
  Predictions predict(const std::vector<std::size_t>& rows, const std::vector<const Record*>& records, bool derivatives,
                      bool create_graph);
  void add_core_repulsion(Predictions& p, const std::vector<const potentials::PairTotals*>& cores,
                          const std::vector<double>& volumes, bool derivatives) const;
  /// `normalisers`: the label counts to divide each term by; null: those of `rows`.
  ad::Tensor loss(const std::vector<std::size_t>& rows, const LossWeights& weights, bool create_graph,
                  class PotentialErrors* errors, const LabelCounts* normalisers = nullptr);
  ad::Tensor loss_of(const Predictions& p, const Targets& t, const LossWeights& weights) const;
  ad::Tensor term(const ad::Tensor& predicted, const ad::Tensor& target, const ad::Tensor& weight,
                  double mask_sum, double unit) const;

  potentials::Potential& potential_;
  std::size_t member_;
  DatasetRows& data_;
  const data::Split& split_;
  std::vector<std::size_t> train_rows_;
  std::size_t batch_size_;
  const PotentialRecipe& recipe_;
  LossWeights weights_;
  double stress_scale_;
  DescribedRows* described_;
};

/// Stress (S, 6) in Voigt order from dE/d(strain) (S, 3, 3) and the volumes: (1/V) times the
/// symmetric part, ASE's sign.
ad::Tensor voigt_stress(const ad::Tensor& virial, const std::vector<double>& volumes, ad::DType dtype);

}  // namespace matnn::workflows
