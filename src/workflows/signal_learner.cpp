// The spectrum and image models' part of a property training job: their model keys, every
// labelled row's network input (put on the model's grid and normalised once), the members'
// forward pass, and the data augmentation of training batches.
//
// Augmentation respects what a measurement can change without changing the label: a spectrum
// may shift along its axis (sample displacement, a small strain: model.augment.shift, in axis
// units), scale in intensity (augment.scale, a relative amount) and carry more noise
// (augment.noise, relative to the normalised maximum); an image may be flipped and, when
// square, turned by quarter turns (augment.flip). Only training batches are augmented;
// validation, calibration and prediction see the data as measured.
#include <random>

#include "matnn/error.hpp"
#include "models/cnn/signal_model.hpp"
#include "workflows/property_job.hpp"
#include "workflows/property_learner.hpp"

namespace matnn::workflows {
namespace {

using models::cnn::SignalModel;

struct Augmentation {
  double shift = 0;  ///< spectra: largest shift, in axis units
  double scale = 0;  ///< intensity factor drawn from [1 - scale, 1 + scale]
  double noise = 0;  ///< Gaussian noise sigma, in normalised units
  bool flip = false; ///< images: mirror and (square images) quarter turns

  bool any() const noexcept { return shift > 0 || scale > 0 || noise > 0 || flip; }
};

/// Uniform in [0, 1) from 53 bits, portably.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double normal(std::mt19937_64& rng) {
  const double u1 = std::max(uniform(rng), 1e-300), u2 = uniform(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

class SignalLearner final : public PropertyLearner {
 public:
  SignalLearner(const std::string& kind, const train::ConfigSection& m) : kind_(kind) {
    config_.signal = m.required_string("signal");
    config_.signal_kind = kind == SignalModel::spectrum_kind ? SignalKind::spectrum : SignalKind::image;
    config_.normalization = models::cnn::normalization_from_name(
        m.string("normalize", config_.signal_kind == SignalKind::spectrum ? "max" : "standardize"));
    config_.channels = m.integers("channels", config_.channels);
    config_.kernel = m.integer("kernel", config_.signal_kind == SignalKind::spectrum ? 7 : 3, 1);
    if (config_.kernel % 2 == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.kernel must be odd, got {}", config_.kernel);
    config_.residual = m.boolean("residual", config_.residual);
    const std::string head = m.string("head", config_.signal_kind == SignalKind::spectrum ? "flatten" : "average");
    if (head != "flatten" && head != "average")
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.head \"{}\" is unknown (use flatten or average)", head);
    config_.flatten = head == "flatten";
    config_.hidden = m.integer("hidden", config_.hidden, 1);
    config_.dropout = m.positive("dropout", config_.dropout, true);
    if (config_.dropout >= 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.dropout must be in [0, 1), got {}", config_.dropout);
    config_.ensemble = static_cast<int>(m.integer("ensemble", config_.ensemble, 1));
    const train::ConfigSection a = m.section("augment");
    augment_.shift = a.positive("shift", 0.0, true);
    augment_.scale = a.positive("scale", 0.0, true);
    if (augment_.scale >= 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.scale must be below 1, got {}", augment_.scale);
    augment_.noise = a.positive("noise", 0.0, true);
    augment_.flip = a.boolean("flip", false);
    if (config_.signal_kind == SignalKind::spectrum && augment_.flip)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.flip is for images; a spectrum has a direction");
    if (config_.signal_kind == SignalKind::image && augment_.shift > 0)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.shift is for spectra; use flip for images");
    a.finish();
    m.finish();
  }

  std::string signal() const override { return config_.signal; }

  void prepare(const models::PropertyTarget& target, const PropertyData& data, std::span<const std::size_t> train,
               std::uint64_t seed) override {
    const std::vector<Signal>& signals = data.samples.signals;
    const Signal& first = signals.at(train.front());
    if (first.kind != config_.signal_kind)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.kind {} reads {}s, but signal \"{}\" holds {}s", kind_,
           signal_kind_name(config_.signal_kind), config_.signal, signal_kind_name(first.kind));
    config_.target = target;
    config_.shape = first.shape;
    if (first.kind == SignalKind::spectrum) config_.axis = *first.axis;
    config_.axis_name = first.axis_name;
    config_.axis_unit = first.axis_unit;
    config_.seed = seed;
    std::vector<Signal> training;
    Eigen::VectorXd targets(static_cast<Eigen::Index>(train.size()));
    if (first.kind == SignalKind::image) {
      config_.pixel_min = config_.pixel_max = first.pixel_size;
      for (std::size_t r : train) {
        config_.pixel_min = std::min(config_.pixel_min, signals[r].pixel_size);
        config_.pixel_max = std::max(config_.pixel_max, signals[r].pixel_size);
      }
    }
    model_ = std::make_unique<SignalModel>(config_);
    for (std::size_t i = 0; i < train.size(); ++i) {
      training.push_back(signals[train[i]]);
      targets[static_cast<Eigen::Index>(i)] = data.target[static_cast<Eigen::Index>(train[i])];
    }
    model_->fit_normalization(training, targets);
    inputs_ = model_->inputs(signals);
    scales_ = model_->scales(signals);
    if (augment_.shift > 0) {
      const std::vector<double>& axis = config_.axis;
      const double step = (axis.back() - axis.front()) / static_cast<double>(std::max<std::size_t>(1, axis.size() - 1));
      shift_points_ = static_cast<std::int64_t>(std::floor(augment_.shift / step));
      if (shift_points_ == 0)  // a shift below one grid step would silently do nothing
        fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.shift {} is below the grid step {} of signal \"{}\"",
             augment_.shift, step, config_.signal);
    }
    rng_.seed(seed ^ 0x6175676d656e74ULL);
  }

  models::PropertyModel& model() override { return *model_; }
  nn::Module& member(std::size_t k) override { return model_->member(k); }

  ad::Tensor forward(std::size_t k, std::span<const std::size_t> rows) override {
    const ad::Index index = ad::make_index(std::vector<int32_t>(rows.begin(), rows.end()));
    ad::Tensor x = ad::gather_rows(inputs_, index);
    if (model_->member(k).is_training() && augment_.any()) x = augmented(x);
    return model_->member(k).forward_all(x, scales_.defined() ? ad::gather_rows(scales_, index) : ad::Tensor()).value;
  }

  ad::Tensor standardized_targets(const Eigen::VectorXd& targets) const override {
    return model_->standardize_targets(targets);
  }

 private:
  /// A new tensor: each sample of x (a training batch) changed as the module comment says.
  ad::Tensor augmented(const ad::Tensor& x) {
    ad::Tensor out = x.detach().clone_data();
    float* v = out.data<float>();
    const std::int64_t n = out.dim(0), channels = out.dim(1), plane = out.numel() / (n * channels);
    std::vector<float> scratch(static_cast<std::size_t>(plane));
    for (std::int64_t s = 0; s < n; ++s) {
      const std::int64_t shift =
          shift_points_ > 0 ? static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(2 * shift_points_ + 1)) - shift_points_ : 0;
      const double factor = 1.0 + augment_.scale * (2.0 * uniform(rng_) - 1.0);
      const int flip = augment_.flip ? static_cast<int>(rng_() % 8) : 0;
      for (std::int64_t c = 0; c < channels; ++c) {
        float* p = v + (s * channels + c) * plane;
        if (shift != 0) {  // move the pattern, repeating the edge value into the gap
          for (std::int64_t i = 0; i < plane; ++i)
            scratch[static_cast<std::size_t>(i)] = p[std::clamp<std::int64_t>(i - shift, 0, plane - 1)];
          std::copy(scratch.begin(), scratch.end(), p);
        }
        if (flip != 0) flip_image(p, out.dim(2), out.dim(3), flip, scratch);
        for (std::int64_t i = 0; i < plane; ++i) {
          double value = p[i] * factor;
          if (augment_.noise > 0) value += augment_.noise * normal(rng_);
          p[i] = static_cast<float>(value);
        }
      }
    }
    return out;
  }

  /// One of the eight symmetries of a square (bit 0: mirror columns, bit 1: mirror rows, bit 2:
  /// transpose; the transposes only for square images).
  static void flip_image(float* p, std::int64_t height, std::int64_t width, int flip, std::vector<float>& scratch) {
    const bool transpose = (flip & 4) != 0 && height == width;
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t x = 0; x < width; ++x) {
        std::int64_t sy = (flip & 2) ? height - 1 - y : y, sx = (flip & 1) ? width - 1 - x : x;
        if (transpose) std::swap(sy, sx);
        scratch[static_cast<std::size_t>(y * width + x)] = p[sy * width + sx];
      }
    std::copy(scratch.begin(), scratch.begin() + height * width, p);
  }

  std::string kind_;
  models::cnn::SignalModelConfig config_;
  Augmentation augment_;
  std::int64_t shift_points_ = 0;
  std::unique_ptr<SignalModel> model_;
  ad::Tensor inputs_, scales_;
  std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<PropertyLearner> make_signal_learner(const std::string& kind, const train::ConfigSection& model) {
  return std::make_unique<SignalLearner>(kind, model);
}

}  // namespace matnn::workflows
