// The spectrum and image models' part of a property training job: their model keys, every
// labelled row's network input (put on the model's grid and normalised once), the members'
// forward pass, and the data augmentation of training batches.
//
// Augmentation respects what a measurement can change without changing the label: a spectrum
// may shift along its axis (sample displacement: model.augment.shift, in axis units), scale in
// intensity (augment.scale, a relative amount) and carry more noise (augment.noise, relative to
// the normalised maximum). A powder pattern on a 2theta axis may be strained (augment.strain: an
// isotropic strain that scales every d-spacing, Bragg's law moving each peak by its own amount);
// augment.strain_target says whether the label is a length that strains with it (a lattice
// parameter, scaled by 1 + strain) or a label the strain leaves fixed (a crystal system).
// An image may be flipped and, when square, turned by quarter turns (augment.flip), and cropped
// (augment.crop: a random window of at least that fraction of the edge, magnified back to the
// full size, its pixel-size input scaled alike, so a crop is the same sample seen at a higher
// magnification). Only training batches are augmented; validation, calibration and prediction
// see the data as measured.
#include <algorithm>
#include <cmath>
#include <random>

#include "matnn/error.hpp"
#include "models/cnn/signal_model.hpp"
#include "workflows/property_job.hpp"
#include "workflows/property_learner.hpp"
#include "workflows/signal_augment.hpp"

namespace matnn::workflows {
namespace {

using models::cnn::SignalModel;

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
    shift_ = a.positive("shift", 0.0, true);
    augment_.scale = a.positive("scale", 0.0, true);
    if (augment_.scale >= 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.scale must be below 1, got {}", augment_.scale);
    augment_.noise = a.positive("noise", 0.0, true);
    augment_.flip = a.boolean("flip", false);
    augment_.crop = a.positive("crop", 0.0, true);
    if (augment_.crop >= 1)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.crop (the smallest window, as a fraction of the image edge) "
           "must be below 1, got {}", augment_.crop);
    if (config_.signal_kind == SignalKind::spectrum && (augment_.flip || augment_.crop > 0))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.{} is for images; a spectrum has a direction and an axis",
           augment_.flip ? "flip" : "crop");
    augment_.strain = a.positive("strain", 0.0, true);
    strain_target_ = a.string("strain_target", "");
    augment_.strain_length = strain_target_ == "length";
    if (augment_.strain >= 0.2)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.strain {} is not a small strain (use less than 0.2)",
           augment_.strain);
    if (!strain_target_.empty() && strain_target_ != "length" && strain_target_ != "fixed")
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.strain_target \"{}\" is unknown (use length or fixed)",
           strain_target_);
    if (!strain_target_.empty() && augment_.strain == 0)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.strain_target is given without augment.strain");
    if (config_.signal_kind == SignalKind::image && (shift_ > 0 || augment_.strain > 0))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.{} is for spectra; use flip or crop for images",
           shift_ > 0 ? "shift" : "strain");
    a.finish();
    m.finish();
  }

  std::string signal() const override { return config_.signal; }

  void prepare(const models::PropertyTarget& target, LabelledRows& data, std::span<const std::size_t> train,
               std::uint64_t seed, const parallel::Communicator& comm) override {
    const std::size_t first_row[1] = {train.front()};
    const Signal first = data.samples(first_row).signals.at(0);
    if (first.kind != config_.signal_kind)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.kind {} reads {}s, but signal \"{}\" holds {}s", kind_,
           signal_kind_name(config_.signal_kind), config_.signal, signal_kind_name(first.kind));
    config_.target = target;
    config_.shape = first.shape;
    if (first.kind == SignalKind::spectrum) config_.axis = *first.axis;
    config_.axis_name = first.axis_name;
    config_.axis_unit = first.axis_unit;
    config_.seed = seed;
    // What the normalisation needs of the training signals, each rank over its own, then summed
    // (and the pixel sizes' range taken) over the ranks.
    std::vector<std::size_t> own;
    for (std::size_t r : train)
      if (std::max(data.home(r), 0) == comm.rank()) own.push_back(r);
    const SampleSet training = data.samples(own);
    SignalModel::ChannelSums sums(config_.shape.at(0));
    double pixel_min = first.pixel_size, pixel_max = first.pixel_size;
    for (const Signal& s : training.signals) {
      sums.add(s);
      pixel_min = std::min(pixel_min, s.pixel_size);
      pixel_max = std::max(pixel_max, s.pixel_size);
    }
    std::vector<double> summed = sums.sum;
    summed.insert(summed.end(), sums.squares.begin(), sums.squares.end());
    summed.push_back(sums.count);
    comm.sum(summed);
    std::copy(summed.begin(), summed.begin() + static_cast<std::ptrdiff_t>(sums.sum.size()), sums.sum.begin());
    std::copy(summed.begin() + static_cast<std::ptrdiff_t>(sums.sum.size()), summed.end() - 1, sums.squares.begin());
    sums.count = summed.back();
    if (first.kind == SignalKind::image) {
      config_.pixel_min = pixel_min;
      config_.pixel_max = pixel_max;
      for (const std::vector<double>& range : comm.all_gather(std::vector<double>{pixel_min, pixel_max})) {
        config_.pixel_min = std::min(config_.pixel_min, range.at(0));
        config_.pixel_max = std::max(config_.pixel_max, range.at(1));
      }
    }
    model_ = std::make_unique<SignalModel>(config_);
    Eigen::VectorXd targets(static_cast<Eigen::Index>(train.size()));
    for (std::size_t i = 0; i < train.size(); ++i)
      targets[static_cast<Eigen::Index>(i)] = data.target()[static_cast<Eigen::Index>(train[i])];
    model_->fit_normalization(sums, targets);
    data_ = &data;
    if (shift_ > 0) {
      const std::vector<double>& axis = config_.axis;
      const double step = (axis.back() - axis.front()) / static_cast<double>(std::max<std::size_t>(1, axis.size() - 1));
      augment_.shift_points = static_cast<std::int64_t>(std::floor(shift_ / step));
      if (augment_.shift_points == 0)  // a shift below one grid step would silently do nothing
        fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.shift {} is below the grid step {} of signal \"{}\"",
             shift_, step, config_.signal);
    }
    if (augment_.strain > 0) check_strain(target);
    rng_.seed(seed ^ 0x6175676d656e74ULL);
  }

  models::PropertyModel& model() override { return *model_; }
  nn::Module& member(std::size_t k) override { return model_->member(k); }

  ad::Tensor forward(std::size_t k, std::span<const std::size_t> rows) override {
    const SampleSet samples = data_->samples(rows);  // a rank's own rows are in memory already
    ad::Tensor x = model_->inputs(samples.signals);
    ad::Tensor scales = model_->scales(samples.signals);
    target_factors_.clear();
    if (model_->member(k).is_training() && augment_.any()) {
      const bool image = x.rank() == 4;
      target_factors_ = augment_batch(x.data<float>(), x.dim(0), x.dim(1), image ? x.dim(2) : 1,
                                      x.dim(x.rank() - 1), config_.axis, augment_, rng_,
                                      scales.defined() ? scales.data<float>() : nullptr);
    }
    return model_->member(k).forward_all(x, scales).value;
  }

  ad::Tensor standardized_targets(const Eigen::VectorXd& targets) const override {
    return model_->standardize_targets(targets);
  }

  // y = mean + std * z, so the standardised value of (f y) is f z + (f - 1) mean / std.
  ad::Tensor augmented_targets(const ad::Tensor& standardized) const override {
    if (target_factors_.empty()) return standardized;
    if (static_cast<std::size_t>(standardized.numel()) != target_factors_.size())
      fail(MATNN_ERROR_INTERNAL, "augmented_targets: {} targets for a batch of {}", standardized.numel(),
           target_factors_.size());
    const models::TargetScaling& scaling = model_->target_scaling();
    ad::Tensor out = standardized.detach().clone_data();
    float* z = out.data<float>();
    for (std::size_t i = 0; i < target_factors_.size(); ++i) {
      const double f = target_factors_[i];
      z[i] = static_cast<float>(f * z[i] + (f - 1) * scaling.mean / scaling.std);
    }
    return out;
  }

 private:
  /// Strain needs a diffraction angle, and a choice for a regression label.
  void check_strain(const models::PropertyTarget& target) const {
    if (config_.axis_name != "2theta" || config_.axis_unit != "degree")
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.strain moves powder diffraction peaks on a 2theta axis in "
           "degrees; signal \"{}\" is on {} ({})", config_.signal, config_.axis_name, config_.axis_unit);
    if (target.task == models::TaskKind::regression && strain_target_.empty())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.strain with a regression target: set augment.strain_target "
           "to length (a lattice parameter, which strains with the pattern) or fixed (a label strain does not "
           "change)");
    if (target.task == models::TaskKind::classification && augment_.strain_length)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "model.augment.strain_target length is for a regression target");
  }

  std::string kind_;
  models::cnn::SignalModelConfig config_;
  AugmentOptions augment_;
  double shift_ = 0;            ///< model.augment.shift, in axis units (augment_ holds it in points)
  std::string strain_target_;  ///< model.augment.strain_target: "length", "fixed" or "" (unset)
  std::vector<double> target_factors_;  ///< 1 + strain of each row of the last training pass
  std::unique_ptr<SignalModel> model_;
  LabelledRows* data_ = nullptr;
  std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<PropertyLearner> make_signal_learner(const std::string& kind, const train::ConfigSection& model) {
  return std::make_unique<SignalLearner>(kind, model);
}

}  // namespace matnn::workflows
