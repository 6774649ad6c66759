// The composition MLP's part of a property training job: its model keys, the standardised
// composition features of every labelled structure, and the members' forward pass.
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

  void prepare(const models::PropertyTarget& target, const PropertyData& data, std::span<const std::size_t> train,
               std::uint64_t seed) override {
    config_.task = target.task;
    config_.target = target.name;
    config_.target_unit = target.unit;
    config_.n_classes = target.n_classes;
    config_.elements = elements_of(data, train);
    config_.seed = seed;
    model_ = std::make_unique<models::CompositionModel>(config_);
    std::vector<Composition> compositions;
    compositions.reserve(data.samples.structures.size());
    for (const Structure& s : data.samples.structures) compositions.push_back(s.composition());
    const Eigen::MatrixXd features = model_->featurizer().featurize(compositions);
    Eigen::MatrixXd train_features(static_cast<Eigen::Index>(train.size()), features.cols());
    Eigen::VectorXd train_targets(static_cast<Eigen::Index>(train.size()));
    for (std::size_t i = 0; i < train.size(); ++i) {
      train_features.row(static_cast<Eigen::Index>(i)) = features.row(static_cast<Eigen::Index>(train[i]));
      train_targets[static_cast<Eigen::Index>(i)] = data.target[static_cast<Eigen::Index>(train[i])];
    }
    model_->fit_normalization(train_features, train_targets);
    x_ = model_->standardize(features);
  }

  models::PropertyModel& model() override { return *model_; }
  nn::Module& member(std::size_t k) override { return model_->member(k); }

  ad::Tensor forward(std::size_t k, std::span<const std::size_t> rows) override {
    std::vector<int32_t> index(rows.begin(), rows.end());
    return model_->member(k).forward(ad::gather_rows(x_, ad::make_index(std::move(index))));
  }

  ad::Tensor standardized_targets(const Eigen::VectorXd& targets) const override {
    return model_->standardize_targets(targets);
  }

 private:
  models::CompositionModelConfig config_;
  std::unique_ptr<models::CompositionModel> model_;
  ad::Tensor x_;
};

}  // namespace

std::unique_ptr<PropertyLearner> make_composition_learner(const train::ConfigSection& model) {
  return std::make_unique<CompositionLearner>(model);
}

}  // namespace matnn::workflows
