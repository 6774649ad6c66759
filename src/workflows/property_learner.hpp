// How a property-model kind plugs into train_property_model(): the job owns the config's
// shared sections, the data, the split, the loss and the ensemble loop; a learner owns its
// model section, builds the model for the training data and runs its members' networks. The
// data are read by shard (labelled_rows.hpp): a learner fetches the records of the rows it is
// asked for and derives its inputs from them, so on several ranks each rank reads and derives
// only its share.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "models/property_model.hpp"
#include "nn/module.hpp"
#include "parallel/communicator.hpp"
#include "train/config.hpp"
#include "workflows/labelled_rows.hpp"

namespace matnn::workflows {

class PropertyLearner {
 public:
  virtual ~PropertyLearner() = default;
  /// Builds the model for `data` (training rows `train`, positions in it), fitting what depends
  /// on the training data (normalisations) on those rows only. Collective over `comm`, the
  /// ranks `data` is shared over: what a normalisation sums is summed over their rows. `data`
  /// must outlive the learner, which fetches the rows forward() is given from it.
  virtual void prepare(const models::PropertyTarget& target, LabelledRows& data, std::span<const std::size_t> train,
                       std::uint64_t seed, const parallel::Communicator& comm) = 0;
  virtual models::PropertyModel& model() = 0;
  /// Ensemble member k as the trainer sees it.
  virtual nn::Module& member(std::size_t k) = 0;
  /// Member k's raw outputs for labelled rows: (rows, 1) standardised values or (rows, classes)
  /// logits.
  virtual ad::Tensor forward(std::size_t k, std::span<const std::size_t> rows) = 0;
  /// The dataset signal the kind reads ("" for the kinds that read structures): rows without it
  /// are left out of the data.
  virtual std::string signal() const { return {}; }
  /// Every row's regression target in the networks' standardised units, (n, 1).
  virtual ad::Tensor standardized_targets(const Eigen::VectorXd& targets) const = 0;
  /// The standardised regression targets of the rows of the last forward pass in training mode,
  /// as its augmentation changed them (a strained pattern's lattice parameter strains with it).
  /// The default leaves them unchanged.
  virtual ad::Tensor augmented_targets(const ad::Tensor& standardized) const { return standardized; }
};

/// The learner of model.kind, reading (and finishing) the kind's own keys of the model section;
/// the shared keys (kind, task, target) are read by the job. MATNN_ERROR_INVALID_ARGUMENT for a
/// kind that is not a property model.
std::unique_ptr<PropertyLearner> make_property_learner(const std::string& kind, const train::ConfigSection& model);

std::unique_ptr<PropertyLearner> make_composition_learner(const train::ConfigSection& model);
std::unique_ptr<PropertyLearner> make_cgcnn_learner(const train::ConfigSection& model);
/// model.kind cnn1d (spectra) or cnn2d (images).
std::unique_ptr<PropertyLearner> make_signal_learner(const std::string& kind, const train::ConfigSection& model);

}  // namespace matnn::workflows
