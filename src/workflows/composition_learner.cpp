// The composition MLP's part of a property training job: its model keys, the standardised
// composition features of the rows of each batch, and the members' forward pass. Compositions
// are in every rank's row summaries, so this kind reads no record at all.
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "models/composition_model.hpp"
#include "workflows/property_job.hpp"
#include "workflows/property_learner.hpp"

namespace matnn::workflows {
namespace {

class CompositionLearner final : public PropertyLearner {
 public:
  explicit CompositionLearner(const train::ConfigSection& m) {
    const auto hidden = m.integers("hidden", config_.hidden);
    if (hidden.empty())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.hidden must list at least one layer width (an empty list is a linear model)");
    config_.hidden.assign(hidden.begin(), hidden.end());
    config_.activation = m.string("activation", config_.activation);
    config_.dropout = m.positive("dropout", config_.dropout, true);
    config_.norm = m.string("norm", config_.norm);
    config_.ensemble = static_cast<int>(m.integer("ensemble", config_.ensemble, 1));
    config_.ood_threshold = m.positive("ood_threshold", config_.ood_threshold);
    m.finish();
  }

  void prepare(const models::PropertyTarget& target, LabelledRows& data, std::span<const std::size_t> train,
               std::uint64_t seed, const parallel::Communicator&) override {
    config_.task = target.task;
    config_.target = target.name;
    config_.target_unit = target.unit;
    config_.n_classes = target.n_classes;
    config_.elements = data.elements(train);
    config_.seed = seed;
    model_ = std::make_unique<models::CompositionModel>(config_);
    data_ = &data;
    Eigen::VectorXd train_targets(static_cast<Eigen::Index>(train.size()));
    for (std::size_t i = 0; i < train.size(); ++i)
      train_targets[static_cast<Eigen::Index>(i)] = data.target()[static_cast<Eigen::Index>(train[i])];
    model_->fit_normalization(features(train), train_targets);
  }

  models::PropertyModel& model() override { return *model_; }
  nn::Module& member(std::size_t k) override { return model_->member(k); }

  ad::Tensor forward(std::size_t k, std::span<const std::size_t> rows) override {
    return model_->member(k).forward(model_->standardize(features(rows)));
  }

  ad::Tensor standardized_targets(const Eigen::VectorXd& targets) const override {
    return model_->standardize_targets(targets);
  }

 private:
  /// The composition features of labelled rows, one row each (each row's features are its own:
  /// a batch's are those of the whole set).
  Eigen::MatrixXd features(std::span<const std::size_t> rows) const {
    std::vector<Composition> compositions;
    compositions.reserve(rows.size());
    for (std::size_t r : rows) compositions.push_back(data_->composition(r));
    return model_->featurizer().featurize(compositions);
  }

  models::CompositionModelConfig config_;
  std::unique_ptr<models::CompositionModel> model_;
  const LabelledRows* data_ = nullptr;
};

}  // namespace

std::unique_ptr<PropertyLearner> make_composition_learner(const train::ConfigSection& model) {
  return std::make_unique<CompositionLearner>(model);
}

}  // namespace matnn::workflows
