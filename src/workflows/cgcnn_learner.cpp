// CGCNN's part of a property training job: its model keys, the crystal graphs of the rows it
// is given, and the members' forward pass. A rank builds the graphs of its own training rows
// once, up front, and keeps those of rows dealt to it from elsewhere within a budget (as the
// records themselves are kept: kept_rows.hpp), so it holds about its share of the graphs.
#include <algorithm>

#include "matnn/error.hpp"
#include "models/cgcnn/cgcnn_model.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/kept_rows.hpp"
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

  void prepare(const models::PropertyTarget& target, LabelledRows& data, std::span<const std::size_t> train,
               std::uint64_t seed, const parallel::Communicator& comm) override {
    config_.target = target;
    config_.elements = data.elements(train);
    config_.seed = seed;
    model_ = std::make_unique<CgcnnModel>(config_);
    data_ = &data;
    Eigen::VectorXd train_targets(static_cast<Eigen::Index>(train.size()));
    for (std::size_t i = 0; i < train.size(); ++i)
      train_targets[static_cast<Eigen::Index>(i)] = data.target()[static_cast<Eigen::Index>(train[i])];
    model_->fit_normalization(train_targets);
    // The graphs of this rank's own training rows up front, all in one parallel pass.
    std::vector<std::size_t> own;
    double room = 0.0;
    for (std::size_t r : train) {
      if (data.home(r) != comm.rank() && data.home(r) >= 0) continue;
      own.push_back(r);
      room += kKeptShare * static_cast<double>(data.atoms(r));
    }
    std::sort(own.begin(), own.end());
    own.erase(std::unique(own.begin(), own.end()), own.end());
    graphs_.reset(room);
    std::vector<models::cgcnn::CrystalGraph> built = build(own);
    for (std::size_t k = 0; k < own.size(); ++k) graphs_.keep_always(own[k], std::move(built[k]));
  }

  models::PropertyModel& model() override { return *model_; }
  nn::Module& member(std::size_t k) override { return model_->member(k); }

  ad::Tensor forward(std::size_t k, std::span<const std::size_t> rows) override {
    const std::vector<const models::cgcnn::CrystalGraph*> graphs = graphs_.get(
        rows, [](std::size_t) -> const models::cgcnn::CrystalGraph* { return nullptr; },
        [&](const std::vector<std::size_t>& positions) {
          std::vector<std::size_t> missing;
          for (std::size_t k : positions) missing.push_back(rows[k]);
          return build(missing);
        },
        [&](std::size_t r) { return static_cast<double>(data_->atoms(r)); });
    return model_->member(k).forward(models::cgcnn::make_batch(graphs, config_.graph)).value;
  }

  ad::Tensor standardized_targets(const Eigen::VectorXd& targets) const override {
    return model_->standardize_targets(targets);
  }

 private:
  /// The graphs of labelled rows, built in parallel.
  std::vector<models::cgcnn::CrystalGraph> build(const std::vector<std::size_t>& rows) const {
    return models::cgcnn::build_crystal_graphs(data_->samples(rows).structures, config_.graph);
  }

  models::cgcnn::CgcnnConfig config_;
  std::unique_ptr<CgcnnModel> model_;
  LabelledRows* data_ = nullptr;
  KeptRows<models::cgcnn::CrystalGraph> graphs_;  // by labelled row
};

}  // namespace

std::unique_ptr<PropertyLearner> make_cgcnn_learner(const train::ConfigSection& model) {
  return std::make_unique<CgcnnLearner>(model);
}

}  // namespace matnn::workflows
