// CGCNN as a property model: an ensemble of crystal-graph networks (cgcnn_network.hpp) over
// the graphs of crystal_graph.hpp, with the regression target standardised on the training
// set, as the reference code's Normalizer does.
//
// Uncertainty: regression returns the standard deviation over ensemble members and, when
// asked, over Monte-Carlo dropout samples; classification the spread of the predicted class's
// probability. ood_score is the fraction of a structure's atoms whose element the training
// data did not contain, and ood flags any such atom.
// The embedding is the first member's crystal vector h (architecture `hidden` wide).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/cgcnn/cgcnn_network.hpp"
#include "models/cgcnn/crystal_graph.hpp"
#include "models/network_ensemble.hpp"
#include "models/property_model.hpp"

namespace matnn::models::cgcnn {

struct CgcnnConfig {
  PropertyTarget target;
  std::vector<int> elements;  ///< elements of the training data (OOD check)
  CrystalGraphOptions graph;
  std::int64_t atom_features = 64;
  std::int64_t hidden = 128;
  int n_conv = 3;
  int n_hidden = 1;
  double dropout = 0.0;
  int ensemble = 1;
  std::uint64_t seed = 0;

  nlohmann::json to_json() const;
  /// MATNN_ERROR_MODEL on missing or invalid fields.
  static CgcnnConfig from_json(const nlohmann::json& json);
};

class CgcnnModel final : public PropertyModel {
 public:
  static constexpr const char* file_kind = "cgcnn";
  /// Structures per network call in predict(): the training batch size of the published recipe
  /// (32) times two. Larger batches are no faster per structure but raise the peak memory of the
  /// calibration after training (which predicts every training structure) by the batch's edge
  /// intermediates.
  static constexpr std::size_t prediction_batch = 64;

  explicit CgcnnModel(CgcnnConfig config);

  const char* kind() const noexcept override { return file_kind; }
  const std::vector<int>& elements() const noexcept override { return config_.elements; }
  const PropertyTarget& target() const noexcept override { return config_.target; }
  bool uses_geometry() const noexcept override { return true; }
  bool supports_mc_dropout() const noexcept override { return config_.dropout > 0; }
  std::int64_t embedding_width() const noexcept override { return config_.hidden; }
  std::size_t ensemble_size() const noexcept override { return members_.size(); }

  const CgcnnConfig& config() const noexcept { return config_; }
  CgcnnNetwork& member(std::size_t k) { return *members_.at(k); }

  /// Standardisation of regression targets, fitted on the training set.
  void fit_normalization(const Eigen::VectorXd& training_targets);
  /// Regression targets in the networks' standardised units (n x 1, float32).
  ad::Tensor standardize_targets(const Eigen::VectorXd& targets) const;

  PropertyPrediction predict(const Samples& samples, const PredictOptions& options = {}) const override;
  /// The same for graphs already built with config().graph.
  PropertyPrediction predict_graphs(std::span<const CrystalGraph> graphs, const PredictOptions& options = {}) const;

  void save(const std::string& path) const override;
  /// Throws MATNN_ERROR_MODEL for another kind, a newer format, or inconsistent content.
  static CgcnnModel load(const std::string& path);

 private:
  CgcnnConfig config_;
  std::vector<std::shared_ptr<CgcnnNetwork>> members_;
  TargetScaling scaling_;
};

}  // namespace matnn::models::cgcnn
