// Spectrum (cnn1d) and image (cnn2d) property models: an ensemble of convolutional networks
// (signal_network.hpp) over one named signal of the dataset rows, for regression or
// classification, as every property model (models/property_model.hpp).
//
// Inputs. The model keeps the shape it was trained on and, for spectra, the axis grid. A
// spectrum on another grid is interpolated linearly onto the model's (it must cover the grid's
// range, or the call fails naming the sample); images must have the trained size in pixels.
// Each sample is then normalised: "max" divides every channel by its largest absolute value (a
// diffraction pattern's intensity scale says nothing about the crystal), "standardize" subtracts
// the training mean and divides by the training standard deviation of each channel.
//
// Images carry their pixel size into the head (log of its ratio to the training images'), so a
// label in physical units (a grain size in nm) is learnable from images at several
// magnifications.
//
// Uncertainty: the spread over ensemble members and Monte-Carlo dropout samples, as CGCNN. The
// ood_score is the embedding distance of the calibration reference (0 before calibration); an
// image is also flagged OOD when its pixel size lies more than 5 % outside the training images'
// range (another magnification shows features at another scale). The embedding is the first
// member's hidden layer.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/cnn/signal_network.hpp"
#include "models/network_ensemble.hpp"
#include "models/property_model.hpp"

namespace matnn::models::cnn {

enum class Normalization { max, standardize };
const char* normalization_name(Normalization n) noexcept;
/// "max" / "standardize"; anything else is MATNN_ERROR_INVALID_ARGUMENT.
Normalization normalization_from_name(const std::string& name);

struct SignalModelConfig {
  PropertyTarget target;
  std::string signal;                 ///< the dataset signal read, e.g. "xrd"
  SignalKind signal_kind = SignalKind::spectrum;
  std::vector<std::int64_t> shape;    ///< trained shape: (channels, points) or (channels, height, width)
  std::vector<double> axis;           ///< spectra: the trained grid
  std::string axis_name, axis_unit;
  /// images: the smallest and largest pixel size of the training images (axis_unit).
  double pixel_min = 0, pixel_max = 0;
  Normalization normalization = Normalization::max;
  std::vector<std::int64_t> channels{16, 32, 64, 64};
  std::int64_t kernel = 7;
  bool residual = false;
  bool flatten = true;                ///< head: flatten (cnn1d default) or mean over positions (cnn2d)
  std::int64_t hidden = 64;
  double dropout = 0.0;
  int ensemble = 1;
  std::uint64_t seed = 0;

  /// "cnn1d" for spectra, "cnn2d" for images.
  const char* kind() const noexcept;
  nlohmann::json to_json() const;
  /// MATNN_ERROR_MODEL on missing or invalid fields.
  static SignalModelConfig from_json(const nlohmann::json& json);
};

class SignalModel final : public PropertyModel {
 public:
  static constexpr const char* spectrum_kind = "cnn1d";
  static constexpr const char* image_kind = "cnn2d";
  /// Samples per network call in predict().
  static constexpr std::size_t prediction_batch = 64;

  explicit SignalModel(SignalModelConfig config);

  const char* kind() const noexcept override { return config_.kind(); }
  const PropertyTarget& target() const noexcept override { return config_.target; }
  const std::vector<int>& elements() const noexcept override { return no_elements_; }
  bool uses_geometry() const noexcept override { return false; }
  std::string input_signal() const override { return config_.signal; }
  bool supports_mc_dropout() const noexcept override { return config_.dropout > 0; }
  std::int64_t embedding_width() const noexcept override { return config_.hidden; }
  std::size_t ensemble_size() const noexcept override { return members_.size(); }

  const SignalModelConfig& config() const noexcept { return config_; }
  SignalNetwork& member(std::size_t k) { return *members_.at(k); }

  /// Per input channel, the sums over the training signals' values that "standardize" fits its
  /// mean and standard deviation to: summed by each rank over its own signals, then over the
  /// ranks (the sums of all of them, in any order, make the same normalisation).
  struct ChannelSums {
    std::vector<double> sum, squares;  ///< per channel
    double count = 0;                  ///< values per channel
    explicit ChannelSums(std::int64_t channels)
        : sum(static_cast<std::size_t>(channels), 0.0), squares(static_cast<std::size_t>(channels), 0.0) {}
    void add(const Signal& signal);
  };
  /// Fits what depends on the training data: the target standardisation (regression) and, for
  /// "standardize", each input channel's mean and standard deviation from `sums`.
  void fit_normalization(const ChannelSums& sums, const Eigen::VectorXd& training_targets);
  /// The same from the training signals themselves.
  void fit_normalization(std::span<const Signal> training_signals, const Eigen::VectorXd& training_targets);
  /// Regression targets in the networks' standardised units (n x 1, float32).
  ad::Tensor standardize_targets(const Eigen::VectorXd& targets) const;
  const TargetScaling& target_scaling() const noexcept { return scaling_; }
  /// The network input (n, channels, ...) of signals: checked, put on the model's grid and
  /// normalised (float32). Errors name the sample's index.
  ad::Tensor inputs(std::span<const Signal> signals) const;
  /// Images: each sample's log(pixel size / the training range's geometric mean), (n, 1), which
  /// the network's head reads beside the pooled features (undefined for spectra).
  ad::Tensor scales(std::span<const Signal> signals) const;

  PropertyPrediction predict(const Samples& samples, const PredictOptions& options = {}) const override;

  void save(const std::string& path) const override;
  /// Throws MATNN_ERROR_MODEL for another kind, a newer format, or inconsistent content.
  static SignalModel load(const std::string& path);

 private:
  SignalModelConfig config_;
  std::vector<std::shared_ptr<SignalNetwork>> members_;
  std::vector<int> no_elements_;
  TargetScaling scaling_;
  std::vector<double> channel_mean_, channel_std_;  ///< "standardize" only
};

}  // namespace matnn::models::cnn
