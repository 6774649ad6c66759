// CGCNN's part of a property training job: its model keys, the crystal graph of every
// labelled structure (built once, batched per step), and the members' forward pass.
#include "matnn/error.hpp"
#include "models/cgcnn/cgcnn_model.hpp"
#include "workflows/property_job.hpp"
#include "workflows/property_learner.hpp"

namespace matnn::workflows {
namespace {

using models::cgcnn::CgcnnModel;

class CgcnnLearner final : public PropertyLearner {
 public:
  explicit CgcnnLearner(const train::ConfigSection& m) {
    config_.graph = models::cgcnn::CrystalGraphOptions::from_config(m);
    config_.atom_features = m.integer("atom_features", config_.atom_features, 1);
    config_.hidden = m.integer("hidden", config_.hidden, 1);
    config_.n_conv = static_cast<int>(m.integer("n_conv", config_.n_conv, 1));
    config_.n_hidden = static_cast<int>(m.integer("n_hidden", config_.n_hidden, 1));
    config_.dropout = m.positive("dropout", config_.dropout, true);
    if (config_.dropout >= 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.dropout must be in [0, 1), got {}", config_.dropout);
    config_.ensemble = static_cast<int>(m.integer("ensemble", config_.ensemble, 1));
    m.finish();
  }

  void prepare(const models::PropertyTarget& target, const PropertyData& data, std::span<const std::size_t> train,
               std::uint64_t seed) override {
    config_.target = target;
    config_.elements = elements_of(data, train);
    config_.seed = seed;
    model_ = std::make_unique<CgcnnModel>(config_);
    graphs_ = models::cgcnn::build_crystal_graphs(data.samples.structures, config_.graph);
    Eigen::VectorXd train_targets(static_cast<Eigen::Index>(train.size()));
    for (std::size_t i = 0; i < train.size(); ++i)
      train_targets[static_cast<Eigen::Index>(i)] = data.target[static_cast<Eigen::Index>(train[i])];
    model_->fit_normalization(train_targets);
  }

  models::PropertyModel& model() override { return *model_; }
  nn::Module& member(std::size_t k) override { return model_->member(k); }

  ad::Tensor forward(std::size_t k, std::span<const std::size_t> rows) override {
    return model_->member(k).forward(models::cgcnn::make_batch(graphs_, rows, config_.graph)).value;
  }

  ad::Tensor standardized_targets(const Eigen::VectorXd& targets) const override {
    return model_->standardize_targets(targets);
  }

 private:
  models::cgcnn::CgcnnConfig config_;
  std::unique_ptr<CgcnnModel> model_;
  std::vector<models::cgcnn::CrystalGraph> graphs_;
};

}  // namespace

std::unique_ptr<PropertyLearner> make_cgcnn_learner(const train::ConfigSection& model) {
  return std::make_unique<CgcnnLearner>(model);
}

}  // namespace matnn::workflows
