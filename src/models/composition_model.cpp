#include "models/composition_model.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "models/state_file.hpp"
#include "nn/dropout.hpp"
#include "nn/losses.hpp"

namespace matnn::models {
namespace {

using nlohmann::json;

ad::Tensor tensor_from(const Eigen::VectorXd& v) {
  return ad::from_vector(std::vector<double>(v.data(), v.data() + v.size()), {v.size()});
}

Eigen::VectorXd vector_from(const ad::Tensor& t) {
  const std::vector<double> values = t.to_vector();
  return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

}  // namespace

json CompositionModelConfig::to_json() const {
  return {{"task", task_name(task)}, {"target", target},       {"target_unit", target_unit},
          {"n_classes", n_classes},  {"elements", elements},   {"hidden", hidden},
          {"activation", activation}, {"dropout", dropout},    {"norm", norm},
          {"ensemble", ensemble},    {"seed", seed},           {"ood_threshold", ood_threshold}};
}

CompositionModelConfig CompositionModelConfig::from_json(const json& j) {
  CompositionModelConfig c;
  try {
    c.task = task_from_name(j.at("task").get<std::string>());
    c.target = j.at("target").get<std::string>();
    c.target_unit = j.at("target_unit").get<std::string>();
    c.n_classes = j.at("n_classes").get<int>();
    c.elements = j.at("elements").get<std::vector<int>>();
    c.hidden = j.at("hidden").get<std::vector<std::int64_t>>();
    c.activation = j.at("activation").get<std::string>();
    c.dropout = j.at("dropout").get<double>();
    c.norm = j.at("norm").get<std::string>();
    c.ensemble = j.at("ensemble").get<int>();
    c.seed = j.at("seed").get<std::uint64_t>();
    c.ood_threshold = j.at("ood_threshold").get<double>();
  } catch (const json::exception& e) {
    fail(MATNN_ERROR_MODEL, "composition model config is incomplete or malformed: {}", e.what());
  } catch (const Error& e) {
    throw Error(MATNN_ERROR_MODEL, e.what());
  }
  return c;
}

CompositionModel::CompositionModel(CompositionModelConfig config)
    : config_(std::move(config)),
      target_{config_.task, config_.target, config_.target_unit, config_.n_classes},
      featurizer_(config_.elements) {
  if (config_.ensemble < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "ensemble size must be >= 1, got {}", config_.ensemble);
  if (config_.task == TaskKind::classification && config_.n_classes < 2) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "classification needs at least 2 classes, got {}", config_.n_classes);
  }
  if (config_.dropout < 0 || config_.dropout >= 1) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "dropout must be in [0, 1), got {}", config_.dropout);
  }
  for (int k = 0; k < config_.ensemble; ++k) {
    nn::MlpConfig mlp;
    mlp.input = static_cast<std::int64_t>(featurizer_.size());
    mlp.hidden = config_.hidden;
    mlp.output = output_size();
    mlp.activation = nn::activation_from_name(config_.activation);
    mlp.dropout = config_.dropout;
    mlp.norm = nn::norm_from_name(config_.norm);
    mlp.seed = config_.seed + static_cast<std::uint64_t>(k) * 1000003ULL;  // members differ from the start
    members_.push_back(nn::make_mlp(mlp));
  }
  feature_mean_ = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(featurizer_.size()));
  feature_std_ = Eigen::VectorXd::Ones(feature_mean_.size());
}

std::int64_t CompositionModel::output_size() const noexcept {
  return config_.task == TaskKind::regression ? 1 : config_.n_classes;
}

void CompositionModel::fit_normalization(const Eigen::MatrixXd& features, const Eigen::VectorXd& targets) {
  if (features.rows() < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "cannot fit the normalisation on no data");
  feature_mean_ = features.colwise().mean().transpose();
  const Eigen::MatrixXd centred = features.rowwise() - feature_mean_.transpose();
  feature_std_ = (centred.cwiseAbs2().colwise().mean()).cwiseSqrt().transpose();
  // A constant feature carries no information; a std of 1 leaves it at zero after centring.
  for (Eigen::Index i = 0; i < feature_std_.size(); ++i) {
    if (feature_std_[i] < 1e-12) feature_std_[i] = 1.0;
  }
  if (config_.task == TaskKind::regression) {
    target_mean_ = targets.mean();
    target_std_ = std::sqrt((targets.array() - target_mean_).square().mean());
    if (target_std_ < 1e-12) target_std_ = 1.0;
  }
}

ad::Tensor CompositionModel::standardize(const Eigen::MatrixXd& features) const {
  const Eigen::MatrixXd z =
      (features.rowwise() - feature_mean_.transpose()).array().rowwise() / feature_std_.transpose().array();
  std::vector<float> values(static_cast<std::size_t>(z.size()));
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    for (Eigen::Index j = 0; j < z.cols(); ++j) values[static_cast<std::size_t>(i * z.cols() + j)] = static_cast<float>(z(i, j));
  }
  return ad::from_vector(values, {z.rows(), z.cols()});
}

ad::Tensor CompositionModel::standardize_targets(const Eigen::VectorXd& targets) const {
  std::vector<float> values(static_cast<std::size_t>(targets.size()));
  for (Eigen::Index i = 0; i < targets.size(); ++i) {
    values[static_cast<std::size_t>(i)] = static_cast<float>((targets[i] - target_mean_) / target_std_);
  }
  return ad::from_vector(values, {targets.size(), 1});
}

PropertyPrediction CompositionModel::predict(const Samples& samples, const PredictOptions& options) const {
  const std::span<const Structure> structures = structures_of(samples);
  std::vector<Composition> compositions;
  compositions.reserve(structures.size());
  for (std::size_t i = 0; i < structures.size(); ++i) {
    if (structures[i].size() == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "structure {} has no atoms", i);
    compositions.push_back(structures[i].composition());
  }
  return predict_compositions(compositions, options);
}

PropertyPrediction CompositionModel::predict_compositions(const std::vector<Composition>& compositions,
                                                          const PredictOptions& options) const {
  const int mc_samples = options.mc_samples;
  if (mc_samples < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "mc_samples must be >= 0, got {}", mc_samples);
  if (mc_samples > 0 && config_.dropout <= 0) {
    fail(MATNN_ERROR_UNSUPPORTED, "Monte-Carlo dropout needs a model trained with dropout > 0");
  }
  PropertyPrediction out;
  const auto n = static_cast<Eigen::Index>(compositions.size());
  if (n == 0) return out;
  const Eigen::MatrixXd raw = featurizer_.featurize(compositions);
  const ad::Tensor x = standardize(raw);

  // OOD: the largest standardised deviation of any feature, and elements never trained on.
  out.ood_score = ((raw.rowwise() - feature_mean_.transpose()).array().rowwise() / feature_std_.transpose().array())
                      .abs()
                      .rowwise()
                      .maxCoeff();
  out.ood.resize(compositions.size());
  for (Eigen::Index i = 0; i < n; ++i) {
    out.ood[static_cast<std::size_t>(i)] =
        out.ood_score[i] > config_.ood_threshold || !featurizer_.covers(compositions[static_cast<std::size_t>(i)]);
  }

  ad::NoGradGuard no_grad;
  // Evaluation mode (a no-op, so no write, unless the members come straight from training):
  // predictions never modify the model, so threads may share it.
  for (const auto& member : members_) {
    if (member->is_training()) member->eval();
  }
  // The embedding is the first member's last hidden layer (every layer but the output Linear,
  // dropout off). Without Monte-Carlo passes the member's deterministic pass goes through it, so
  // the OOD reference costs no second forward pass.
  const bool embeddings = wants_embeddings(options);
  auto keep_embedding = [&](const ad::Tensor& h) {
    const std::vector<double> v = h.to_vector();
    out.embedding = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        v.data(), n, embedding_width());
  };
  auto hidden_of = [](nn::Mlp& member, ad::Tensor h) {
    for (std::size_t k = 0; k + 1 < member.layers().size(); ++k) h = member.layers()[k].forward(h);
    return h;
  };
  if (embeddings && mc_samples > 0) keep_embedding(hidden_of(*members_.front(), x));
  const int passes = std::max(mc_samples, 1);
  std::vector<Eigen::MatrixXd> samples;  // each n x output_size, in target units or probabilities
  for (std::size_t k = 0; k < members_.size(); ++k) {
    nn::Mlp& member = *members_[k];
    for (int pass = 0; pass < passes; ++pass) {
      std::optional<nn::McDropoutStream> stream;
      if (mc_samples > 0) stream.emplace(mc_seed(options, k, pass), options.first_row);
      ad::Tensor y;
      if (embeddings && mc_samples == 0 && k == 0) {
        const ad::Tensor h = hidden_of(member, x);
        keep_embedding(h);
        y = member.layers()[member.layers().size() - 1].forward(h);
      } else {
        y = member.forward(x);
      }
      if (config_.task == TaskKind::classification) y = nn::softmax(y);
      const std::vector<double> v = y.to_vector();
      Eigen::MatrixXd m = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          v.data(), n, output_size());
      if (config_.task == TaskKind::regression) m = m.array() * target_std_ + target_mean_;
      samples.push_back(std::move(m));
    }
  }

  summarize_samples(samples, config_.task, out);
  finish_prediction(out, options);
  return out;
}

void CompositionModel::save(const std::string& path) const {
  StateFile file = model_file(config_.to_json(), modules_of(members_));
  file.tensors["normalization"] = {{"feature_mean", tensor_from(feature_mean_)}, {"feature_std", tensor_from(feature_std_)}};
  file.scalars["normalization"] = {{"target_mean", target_mean_}, {"target_std", target_std_}};
  write_state_file(path, file);
}

CompositionModel CompositionModel::load(const std::string& path) {
  const StateFile file = read_state_file(path, model_format, file_kind);
  CompositionModel model(CompositionModelConfig::from_json(file.config));
  model.load_common(file, path);
  try {
    for (std::size_t k = 0; k < model.members_.size(); ++k) {
      model.members_[k]->load_state(file.tensors.at("member." + std::to_string(k)));
    }
    const auto& normalization = file.tensors.at("normalization");
    model.feature_mean_ = vector_from(normalization.at("feature_mean"));
    model.feature_std_ = vector_from(normalization.at("feature_std"));
    model.target_mean_ = file.scalars.at("normalization").at("target_mean");
    model.target_std_ = file.scalars.at("normalization").at("target_std");
  } catch (const std::out_of_range&) {
    fail(MATNN_ERROR_MODEL, "{}: model file lacks a member or its normalisation", path);
  } catch (const Error& e) {
    fail(MATNN_ERROR_MODEL, "{}: {}", path, e.what());
  }
  if (model.feature_mean_.size() != static_cast<Eigen::Index>(model.featurizer_.size()) ||
      model.feature_std_.size() != model.feature_mean_.size()) {
    fail(MATNN_ERROR_MODEL, "{}: normalisation has {} features, the featurizer {}", path, model.feature_mean_.size(),
         model.featurizer_.size());
  }
  return model;
}

}  // namespace matnn::models
