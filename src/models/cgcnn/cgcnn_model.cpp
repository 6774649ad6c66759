#include "models/cgcnn/cgcnn_model.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "features/cgcnn_element_features.hpp"
#include "matnn/error.hpp"
#include "models/state_file.hpp"
#include "nn/losses.hpp"

namespace matnn::models::cgcnn {
namespace {

using nlohmann::json;

CgcnnArchitecture architecture_of(const CgcnnConfig& c) {
  CgcnnArchitecture a;
  a.element_features = features::cgcnn_element_feature_width();
  a.edge_features = c.graph.gaussian_count();
  a.atom_features = c.atom_features;
  a.hidden = c.hidden;
  a.n_conv = c.n_conv;
  a.n_hidden = c.n_hidden;
  a.dropout = c.dropout;
  a.outputs = c.target.task == TaskKind::regression ? 1 : c.target.n_classes;
  return a;
}

}  // namespace

json CgcnnConfig::to_json() const {
  return {{"task", task_name(target.task)}, {"target", target.name},   {"target_unit", target.unit},
          {"n_classes", target.n_classes},  {"elements", elements},    {"graph", graph.to_json()},
          {"atom_features", atom_features}, {"hidden", hidden},        {"n_conv", n_conv},
          {"n_hidden", n_hidden},           {"dropout", dropout},      {"ensemble", ensemble},
          {"seed", seed}};
}

CgcnnConfig CgcnnConfig::from_json(const json& j) {
  CgcnnConfig c;
  try {
    c.target.task = task_from_name(j.at("task").get<std::string>());
    c.target.name = j.at("target").get<std::string>();
    c.target.unit = j.at("target_unit").get<std::string>();
    c.target.n_classes = j.at("n_classes").get<int>();
    c.elements = j.at("elements").get<std::vector<int>>();
    c.graph = CrystalGraphOptions::from_json(j.at("graph"));
    c.atom_features = j.at("atom_features").get<std::int64_t>();
    c.hidden = j.at("hidden").get<std::int64_t>();
    c.n_conv = j.at("n_conv").get<int>();
    c.n_hidden = j.at("n_hidden").get<int>();
    c.dropout = j.at("dropout").get<double>();
    c.ensemble = j.at("ensemble").get<int>();
    c.seed = j.at("seed").get<std::uint64_t>();
  } catch (const json::exception& e) {
    fail(MATNN_ERROR_MODEL, "cgcnn model config is incomplete or malformed: {}", e.what());
  } catch (const Error& e) {
    throw Error(MATNN_ERROR_MODEL, e.what());
  }
  return c;
}

CgcnnModel::CgcnnModel(CgcnnConfig config) : config_(std::move(config)) {
  config_.graph.check();
  if (config_.ensemble < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: ensemble size must be >= 1, got {}", config_.ensemble);
  if (config_.target.task == TaskKind::classification && config_.target.n_classes < 2)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: classification needs at least 2 classes, got {}", config_.target.n_classes);
  const CgcnnArchitecture architecture = architecture_of(config_);
  for (int k = 0; k < config_.ensemble; ++k)  // members differ from the start
    members_.push_back(std::make_shared<CgcnnNetwork>(architecture, config_.seed + static_cast<std::uint64_t>(k) * 1000003ULL));
}

void CgcnnModel::fit_normalization(const Eigen::VectorXd& targets) {
  if (targets.size() < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: cannot fit the normalisation on no data");
  if (config_.target.task == TaskKind::regression) scaling_.fit(targets);
}

ad::Tensor CgcnnModel::standardize_targets(const Eigen::VectorXd& targets) const {
  return scaling_.standardize(targets);
}

PropertyPrediction CgcnnModel::predict(const Samples& samples, const PredictOptions& options) const {
  return predict_graphs(build_crystal_graphs(structures_of(samples), config_.graph), options);
}

PropertyPrediction CgcnnModel::predict_graphs(std::span<const CrystalGraph> graphs, const PredictOptions& options) const {
  const int mc_samples = options.mc_samples;
  if (mc_samples < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "mc_samples must be >= 0, got {}", mc_samples);
  if (mc_samples > 0 && !supports_mc_dropout())
    fail(MATNN_ERROR_UNSUPPORTED, "Monte-Carlo dropout needs a model trained with dropout > 0");
  PropertyPrediction out;
  const auto n = static_cast<Eigen::Index>(graphs.size());
  if (n == 0) return out;

  // OOD: the share of atoms of elements absent from the training data.
  const std::set<int> known(config_.elements.begin(), config_.elements.end());
  out.ood_score.resize(n);
  out.ood.resize(graphs.size());
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::vector<int>& numbers = graphs[static_cast<std::size_t>(i)].numbers;
    const auto unseen = std::count_if(numbers.begin(), numbers.end(), [&](int z) { return known.count(z) == 0; });
    out.ood_score[i] = numbers.empty() ? 0.0 : static_cast<double>(unseen) / static_cast<double>(numbers.size());
    out.ood[static_cast<std::size_t>(i)] = unseen > 0;
  }

  predict_with_members(
      members_, graphs.size(), prediction_batch, config_.target, scaling_, options, wants_embeddings(options),
      config_.hidden,
      [&](std::size_t first, std::size_t count) {
        std::vector<const CrystalGraph*> batch(count);
        for (std::size_t k = 0; k < count; ++k) batch[k] = &graphs[first + k];
        return make_batch(batch, config_.graph);
      },
      [](CgcnnNetwork& net, const GraphBatch& batch) {
        CgcnnNetwork::Output o = net.forward(batch);
        return std::pair{o.value, o.embedding};
      },
      out);
  finish_prediction(out, options);
  return out;
}

void CgcnnModel::save(const std::string& path) const {
  StateFile file = model_file(config_.to_json(), modules_of(members_));
  scaling_.write(file.scalars["normalization"]);
  write_state_file(path, file);
}

CgcnnModel CgcnnModel::load(const std::string& path) {
  const StateFile file = read_state_file(path, model_format, file_kind);
  CgcnnConfig config;
  try {
    config = CgcnnConfig::from_json(file.config);
  } catch (const Error& e) {
    fail(MATNN_ERROR_MODEL, "{}: {}", path, e.what());
  }
  CgcnnModel model(std::move(config));
  model.load_common(file, path);
  try {
    for (std::size_t k = 0; k < model.members_.size(); ++k)
      model.members_[k]->load_state(file.tensors.at("member." + std::to_string(k)));
    model.scaling_.read(file.scalars.at("normalization"), path);
  } catch (const std::out_of_range&) {
    fail(MATNN_ERROR_MODEL, "{}: model file lacks a member or the target normalisation", path);
  } catch (const Error& e) {
    fail(MATNN_ERROR_MODEL, "{}: {}", path, e.what());
  }
  return model;
}

}  // namespace matnn::models::cgcnn
