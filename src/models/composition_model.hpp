// The composition MLP: the baseline property model of materials informatics. Composition
// features (features/composition_features.hpp) are standardised and fed to an ensemble of MLPs
// (one member by default) that regress a named property or classify into classes.
//
// Uncertainty: regression returns the standard deviation over ensemble members and, when
// asked, over Monte-Carlo dropout samples; classification returns the spread of the predicted
// class's probability. A prediction is flagged out of distribution when the composition holds
// an element absent from the training data, or when a standardised feature lies further than
// `ood_threshold` training standard deviations from the training mean.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "features/composition_features.hpp"
#include "matnn/composition.hpp"
#include "models/property_model.hpp"
#include "nn/mlp.hpp"

namespace matnn::models {

struct CompositionModelConfig {
  TaskKind task = TaskKind::regression;
  std::string target;            ///< dataset label the model predicts, e.g. "formation_energy"
  std::string target_unit;       ///< unit of that label (regression), as the dataset records it
  int n_classes = 0;             ///< classification: classes 0..n_classes-1
  std::vector<int> elements;     ///< elements of the training data (fraction block, OOD check)
  std::vector<std::int64_t> hidden{128, 64};
  std::string activation = "silu";
  double dropout = 0.0;
  std::string norm = "none";
  int ensemble = 1;
  std::uint64_t seed = 0;
  double ood_threshold = 5.0;

  nlohmann::json to_json() const;
  /// Throws MATNN_ERROR_MODEL on missing or invalid fields.
  static CompositionModelConfig from_json(const nlohmann::json& json);
};

/// PropertyModel for compositions: ood_score is the largest |standardised feature| of each
/// composition; ood flags an element absent from the training data or ood_score >
/// ood_threshold. The embedding is the last hidden layer of the first ensemble member.
class CompositionModel final : public PropertyModel {
 public:
  static constexpr const char* file_kind = "composition_mlp";

  explicit CompositionModel(CompositionModelConfig config);

  const char* kind() const noexcept override { return file_kind; }
  const std::vector<int>& elements() const noexcept override { return config_.elements; }
  const PropertyTarget& target() const noexcept override { return target_; }
  bool uses_geometry() const noexcept override { return false; }
  bool supports_mc_dropout() const noexcept override { return config_.dropout > 0; }
  std::int64_t embedding_width() const noexcept override { return config_.hidden.back(); }
  std::size_t ensemble_size() const noexcept override { return members_.size(); }

  const CompositionModelConfig& config() const noexcept { return config_; }
  const features::CompositionFeaturizer& featurizer() const noexcept { return featurizer_; }
  nn::Mlp& member(std::size_t k) { return *members_.at(k); }
  /// Width of the network output: 1 (regression) or n_classes.
  std::int64_t output_size() const noexcept;

  /// Standardisation fitted on the training set: feature and target (regression) mean and std.
  void fit_normalization(const Eigen::MatrixXd& features, const Eigen::VectorXd& targets);
  /// Standardised features as a float32 tensor (n x n_features), the members' input.
  ad::Tensor standardize(const Eigen::MatrixXd& features) const;
  /// Regression targets in the members' standardised units (n x 1).
  ad::Tensor standardize_targets(const Eigen::VectorXd& targets) const;

  /// Predictions for compositions. `mc_samples` > 0 keeps dropout active and averages that many
  /// stochastic passes per member (needs dropout > 0). Not safe to call from several threads on
  /// one model while mc_samples > 0 (the dropout streams are shared).
  PropertyPrediction predict_compositions(const std::vector<Composition>& compositions,
                                          const PredictOptions& options = {}) const;
  /// The structures' compositions through predict_compositions().
  PropertyPrediction predict(const Samples& samples, const PredictOptions& options = {}) const override;

  /// Atomic write of a model file (models/state_file.hpp layout, kind "composition_mlp").
  void save(const std::string& path) const override;
  /// Throws MATNN_ERROR_MODEL for another kind, a newer format, or inconsistent content.
  static CompositionModel load(const std::string& path);

 private:
  CompositionModelConfig config_;
  PropertyTarget target_;
  features::CompositionFeaturizer featurizer_;
  std::vector<std::shared_ptr<nn::Mlp>> members_;
  Eigen::VectorXd feature_mean_, feature_std_;
  double target_mean_ = 0.0, target_std_ = 1.0;
};

}  // namespace matnn::models
