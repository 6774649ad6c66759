#include "models/cnn/signal_model.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "models/cnn/resample.hpp"
#include "models/state_file.hpp"
#include "nn/losses.hpp"

namespace matnn::models::cnn {
namespace {

using nlohmann::json;

SignalArchitecture architecture_of(const SignalModelConfig& c) {
  SignalArchitecture a;
  a.spatial_rank = c.signal_kind == SignalKind::spectrum ? 1 : 2;
  a.in_channels = c.shape.empty() ? 1 : c.shape[0];
  a.channels = c.channels;
  a.kernel = c.kernel;
  a.residual = c.residual;
  a.input_size.assign(c.shape.size() > 1 ? c.shape.begin() + 1 : c.shape.end(), c.shape.end());
  a.flatten = c.flatten;
  a.scale_input = c.signal_kind == SignalKind::image;
  a.hidden = c.hidden;
  a.dropout = c.dropout;
  a.outputs = c.target.task == TaskKind::regression ? 1 : c.target.n_classes;
  return a;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text;
  for (std::int64_t extent : shape) text += (text.empty() ? "" : " x ") + std::to_string(extent);
  return text;
}

}  // namespace

const char* normalization_name(Normalization n) noexcept { return n == Normalization::max ? "max" : "standardize"; }

Normalization normalization_from_name(const std::string& name) {
  if (name == "max") return Normalization::max;
  if (name == "standardize") return Normalization::standardize;
  fail(MATNN_ERROR_INVALID_ARGUMENT, "model.normalize \"{}\" is unknown (use max or standardize)", name);
}

const char* SignalModelConfig::kind() const noexcept {
  return signal_kind == SignalKind::spectrum ? SignalModel::spectrum_kind : SignalModel::image_kind;
}

json SignalModelConfig::to_json() const {
  return {{"task", task_name(target.task)}, {"target", target.name},   {"target_unit", target.unit},
          {"n_classes", target.n_classes},  {"signal", signal},        {"signal_kind", signal_kind_name(signal_kind)},
          {"shape", shape},                 {"axis", axis},            {"axis_name", axis_name},
          {"axis_unit", axis_unit},         {"pixel_size_range", {pixel_min, pixel_max}},
          {"normalize", normalization_name(normalization)},
          {"channels", channels},           {"kernel", kernel},        {"residual", residual},
          {"head", flatten ? "flatten" : "average"},
          {"hidden", hidden},               {"dropout", dropout},      {"ensemble", ensemble},
          {"seed", seed}};
}

SignalModelConfig SignalModelConfig::from_json(const json& j) {
  SignalModelConfig c;
  try {
    c.target.task = task_from_name(j.at("task").get<std::string>());
    c.target.name = j.at("target").get<std::string>();
    c.target.unit = j.at("target_unit").get<std::string>();
    c.target.n_classes = j.at("n_classes").get<int>();
    c.signal = j.at("signal").get<std::string>();
    c.signal_kind = signal_kind_from_name(j.at("signal_kind").get<std::string>());
    c.shape = j.at("shape").get<std::vector<std::int64_t>>();
    c.axis = j.at("axis").get<std::vector<double>>();
    c.axis_name = j.at("axis_name").get<std::string>();
    c.axis_unit = j.at("axis_unit").get<std::string>();
    const auto range = j.at("pixel_size_range").get<std::vector<double>>();
    if (range.size() != 2) fail(MATNN_ERROR_MODEL, "pixel_size_range needs two numbers");
    c.pixel_min = range[0];
    c.pixel_max = range[1];
    c.normalization = normalization_from_name(j.at("normalize").get<std::string>());
    c.channels = j.at("channels").get<std::vector<std::int64_t>>();
    c.kernel = j.at("kernel").get<std::int64_t>();
    c.residual = j.at("residual").get<bool>();
    const std::string head = j.at("head").get<std::string>();
    if (head != "flatten" && head != "average") fail(MATNN_ERROR_MODEL, "head \"{}\" is neither flatten nor average", head);
    c.flatten = head == "flatten";
    c.hidden = j.at("hidden").get<std::int64_t>();
    c.dropout = j.at("dropout").get<double>();
    c.ensemble = j.at("ensemble").get<int>();
    c.seed = j.at("seed").get<std::uint64_t>();
  } catch (const json::exception& e) {
    fail(MATNN_ERROR_MODEL, "signal model config is incomplete or malformed: {}", e.what());
  } catch (const Error& e) {
    throw Error(MATNN_ERROR_MODEL, e.what());
  }
  return c;
}

SignalModel::SignalModel(SignalModelConfig config) : config_(std::move(config)) {
  const std::size_t rank = config_.signal_kind == SignalKind::spectrum ? 2 : 3;
  if (config_.shape.size() != rank || std::any_of(config_.shape.begin(), config_.shape.end(), [](auto e) { return e < 1; }))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: the input shape {} is not that of a {}", config_.kind(),
         shape_text(config_.shape), signal_kind_name(config_.signal_kind));
  if (config_.signal_kind == SignalKind::spectrum && static_cast<std::int64_t>(config_.axis.size()) != config_.shape[1])
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: the axis has {} positions for {} points", config_.kind(), config_.axis.size(),
         config_.shape[1]);
  if (config_.ensemble < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: ensemble size must be >= 1", config_.kind());
  if (config_.target.task == TaskKind::classification && config_.target.n_classes < 2)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: classification needs at least 2 classes, got {}", config_.kind(),
         config_.target.n_classes);
  const SignalArchitecture architecture = architecture_of(config_);
  for (int k = 0; k < config_.ensemble; ++k)  // members differ from the start
    members_.push_back(std::make_shared<SignalNetwork>(architecture, config_.seed + static_cast<std::uint64_t>(k) * 1000003ULL));
  channel_mean_.assign(static_cast<std::size_t>(config_.shape[0]), 0.0);
  channel_std_.assign(static_cast<std::size_t>(config_.shape[0]), 1.0);
}

void SignalModel::ChannelSums::add(const Signal& s) {
  const std::int64_t plane = s.plane();
  for (std::size_t c = 0; c < sum.size(); ++c)
    for (std::int64_t i = 0; i < plane; ++i) {
      const double v = s.values[c * static_cast<std::size_t>(plane) + static_cast<std::size_t>(i)];
      sum[c] += v;
      squares[c] += v * v;
    }
  count += static_cast<double>(plane);
}

void SignalModel::fit_normalization(std::span<const Signal> signals, const Eigen::VectorXd& targets) {
  ChannelSums sums(config_.shape[0]);
  for (const Signal& s : signals) sums.add(s);
  fit_normalization(sums, targets);
}

void SignalModel::fit_normalization(const ChannelSums& sums, const Eigen::VectorXd& targets) {
  if (targets.size() < 1 || sums.count <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: cannot fit the normalisation on no data", kind());
  if (config_.target.task == TaskKind::regression) scaling_.fit(targets);
  if (config_.normalization != Normalization::standardize) return;
  if (sums.sum.size() != channel_mean_.size())
    fail(MATNN_ERROR_INTERNAL, "{}: sums of {} channels for a model of {}", kind(), sums.sum.size(), channel_mean_.size());
  for (std::size_t c = 0; c < sums.sum.size(); ++c) {
    channel_mean_[c] = sums.sum[c] / sums.count;
    const double var = sums.squares[c] / sums.count - channel_mean_[c] * channel_mean_[c];
    channel_std_[c] = var > 1e-24 ? std::sqrt(var) : 1.0;
  }
}

ad::Tensor SignalModel::standardize_targets(const Eigen::VectorXd& targets) const {
  return scaling_.standardize(targets);
}

ad::Tensor SignalModel::inputs(std::span<const Signal> signals) const {
  const std::int64_t channels = config_.shape[0];
  std::int64_t plane = 1;
  for (std::size_t d = 1; d < config_.shape.size(); ++d) plane *= config_.shape[d];
  std::vector<float> data(signals.size() * static_cast<std::size_t>(channels * plane));
  for (std::size_t n = 0; n < signals.size(); ++n) {
    const Signal& s = signals[n];
    try {
      s.validate();
    } catch (const Error& e) {
      fail(e.status(), "sample {}: {}", n, e.what());
    }
    if (s.kind != config_.signal_kind || s.channels() != channels)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "sample {}: the model reads {}s of {} channel(s), got a {} of shape {}", n,
           signal_kind_name(config_.signal_kind), channels, signal_kind_name(s.kind), shape_text(s.shape));
    float* out = data.data() + n * static_cast<std::size_t>(channels * plane);
    if (s.kind == SignalKind::spectrum) {
      const std::vector<double>& grid = *s.axis;
      if (grid == config_.axis) {
        std::copy(s.values.begin(), s.values.end(), out);
      } else {
        if (grid.size() < 2 || grid.front() > config_.axis.front() || grid.back() < config_.axis.back())
          fail(MATNN_ERROR_INVALID_ARGUMENT, "sample {}: the spectrum covers {} {} to {} but the model reads {} to {}", n,
               s.axis_name, grid.front(), grid.back(), config_.axis.front(), config_.axis.back());
        for (std::int64_t c = 0; c < channels; ++c)
          resample_linear(s.values.data() + c * s.plane(), grid, config_.axis, out + c * plane);
      }
    } else {
      if (s.shape != config_.shape)
        fail(MATNN_ERROR_INVALID_ARGUMENT, "sample {}: the model reads images of {} pixels, got {}", n,
             shape_text(config_.shape), shape_text(s.shape));
      std::copy(s.values.begin(), s.values.end(), out);
    }
    for (std::int64_t c = 0; c < channels; ++c) {
      float* v = out + c * plane;
      if (config_.normalization == Normalization::max) {
        float largest = 0;
        for (std::int64_t i = 0; i < plane; ++i) largest = std::max(largest, std::abs(v[i]));
        if (largest > 0)
          for (std::int64_t i = 0; i < plane; ++i) v[i] /= largest;
      } else {
        const auto mean = static_cast<float>(channel_mean_[static_cast<std::size_t>(c)]);
        const auto scale = static_cast<float>(1.0 / channel_std_[static_cast<std::size_t>(c)]);
        for (std::int64_t i = 0; i < plane; ++i) v[i] = (v[i] - mean) * scale;
      }
    }
  }
  ad::Shape shape{static_cast<std::int64_t>(signals.size())};
  shape.insert(shape.end(), config_.shape.begin(), config_.shape.end());
  return ad::from_vector(data, shape);
}

ad::Tensor SignalModel::scales(std::span<const Signal> signals) const {
  if (config_.signal_kind != SignalKind::image) return {};
  const double reference = config_.pixel_max > 0 ? std::sqrt(config_.pixel_min * config_.pixel_max) : 1.0;
  std::vector<float> values;
  values.reserve(signals.size());
  for (const Signal& s : signals) values.push_back(static_cast<float>(std::log(s.pixel_size / reference)));
  return ad::from_vector(values, {static_cast<std::int64_t>(signals.size()), 1});
}

PropertyPrediction SignalModel::predict(const Samples& samples, const PredictOptions& options) const {
  const std::span<const Signal> signals = signals_of(samples);
  const int mc_samples = options.mc_samples;
  if (mc_samples < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "mc_samples must be >= 0, got {}", mc_samples);
  if (mc_samples > 0 && !supports_mc_dropout())
    fail(MATNN_ERROR_UNSUPPORTED, "Monte-Carlo dropout needs a model trained with dropout > 0");
  PropertyPrediction out;
  const auto n = static_cast<Eigen::Index>(signals.size());
  if (n == 0) return out;
  out.ood_score = Eigen::VectorXd::Zero(n);
  out.ood.assign(signals.size(), false);
  if (config_.signal_kind == SignalKind::image && config_.pixel_max > 0)
    for (std::size_t i = 0; i < signals.size(); ++i)
      out.ood[i] = signals[i].pixel_size < 0.95 * config_.pixel_min || signals[i].pixel_size > 1.05 * config_.pixel_max;

  struct Input {
    ad::Tensor x, scale;
  };
  predict_with_members(
      members_, signals.size(), prediction_batch, config_.target, scaling_, options, wants_embeddings(options),
      config_.hidden,
      [&](std::size_t first, std::size_t count) {
        return Input{inputs(signals.subspan(first, count)), scales(signals.subspan(first, count))};
      },
      [](SignalNetwork& net, const Input& input) {
        SignalNetwork::Output o = net.forward_all(input.x, input.scale);
        return std::pair{o.value, o.embedding};
      },
      out);
  finish_prediction(out, options);
  return out;
}

void SignalModel::save(const std::string& path) const {
  StateFile file = model_file(config_.to_json(), modules_of(members_));
  auto& n = file.scalars["normalization"];
  scaling_.write(n);
  for (std::size_t c = 0; c < channel_mean_.size(); ++c) {
    n["channel_mean_" + std::to_string(c)] = channel_mean_[c];
    n["channel_std_" + std::to_string(c)] = channel_std_[c];
  }
  write_state_file(path, file);
}

SignalModel SignalModel::load(const std::string& path) {
  const StateFile file = read_state_file(path, model_format);
  if (file.kind != spectrum_kind && file.kind != image_kind)
    fail(MATNN_ERROR_MODEL, "{}: holds a {} model, not a spectrum or image model", path, file.kind);
  SignalModelConfig config;
  try {
    config = SignalModelConfig::from_json(file.config);
  } catch (const Error& e) {
    fail(MATNN_ERROR_MODEL, "{}: {}", path, e.what());
  }
  if (file.kind != config.kind()) fail(MATNN_ERROR_MODEL, "{}: a {} file holding a {} config", path, file.kind, config.kind());
  SignalModel model(std::move(config));
  model.load_common(file, path);
  try {
    for (std::size_t k = 0; k < model.members_.size(); ++k)
      model.members_[k]->load_state(file.tensors.at("member." + std::to_string(k)));
    const auto& n = file.scalars.at("normalization");
    model.scaling_.read(n, path);
    for (std::size_t c = 0; c < model.channel_mean_.size(); ++c) {
      model.channel_mean_[c] = n.at("channel_mean_" + std::to_string(c));
      model.channel_std_[c] = n.at("channel_std_" + std::to_string(c));
    }
  } catch (const std::exception& e) {
    fail(MATNN_ERROR_MODEL, "{}: model file lacks a member or the normalisation: {}", path, e.what());
  }
  const auto channels = static_cast<std::size_t>(model.config_.shape[0]);
  if (model.channel_mean_.size() != channels ||
      model.channel_std_.size() != channels ||
      std::any_of(model.channel_std_.begin(), model.channel_std_.end(), [](double s) { return !(s > 0); }))
    fail(MATNN_ERROR_MODEL, "{}: the normalisation is not finite and positive", path);
  return model;
}

}  // namespace matnn::models::cnn
