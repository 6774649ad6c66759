#include "workflows/cross_validation.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <span>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "models/property_model.hpp"
#include "parallel/communicator.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/labelled_rows.hpp"
#include "workflows/property_job.hpp"

namespace matnn::workflows {

std::string fold_path(const std::string& path, std::size_t fold) {
  const std::filesystem::path p(path);
  const std::string suffix = fmt::format(".fold{}", fold);
  if (!p.has_extension()) return path + suffix;
  return (p.parent_path() / (p.stem().string() + suffix + p.extension().string())).string();
}

CrossValidationResult cross_validate_property_model(const train::Json& config, std::size_t folds,
                                                    const TrainJobOptions& options) {
  const train::ConfigSection root(config, "");
  const std::string kind = root.section("model").string("kind", "composition_mlp");
  if (!models::is_property_model_kind(kind))
    fail(MATNN_ERROR_UNSUPPORTED, "--cv cross-validates property models; model.kind {} is not one", kind);
  const train::Json split_json = config.value("split", train::Json::object());
  if (split_json.contains("file") || split_json.contains("train"))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "--cv makes its own folds: remove the given split (split.file or lists)");
  if (split_json.contains("validation_grouped"))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "split.validation_grouped has no meaning with --cv: validation is drawn at random from the other folds");
  if (split_json.contains("test"))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "split.test has no meaning with --cv: each fold is the test set in turn");
  const std::uint64_t seed = static_cast<std::uint64_t>(root.integer("seed", 0, 0));
  const data::SplitOptions split = split_options_from(train::ConfigSection(split_json, "split"), seed);
  const std::string dataset_path = root.required_string("dataset");
  const std::string target = root.section("model").required_string("target");
  const models::TaskKind task = models::task_from_name(root.section("model").string("task", "regression"));

  // The folds need every labelled row's key, not its record: each rank reads its share.
  const parallel::Communicator& comm = options.communicator;
  ShardedRows rows({dataset_path}, split.kind, comm);
  const LabelledRows data(rows, dataset_path, target, task, "", comm);
  const std::vector<std::vector<std::size_t>> fold_rows = data::make_folds(data.keys(split), split.kind, folds, split.seed);

  // The folds over the ranks: rank r trains folds r, r + N, ... alone (a serial run each, so
  // every fold's model is the serial one bit for bit), one round of N folds at a time; after
  // each round a failure on any rank stops every rank with its message.
  TrainJobOptions fold_options = options;
  fold_options.communicator = parallel::Communicator();
  fold_options.ensemble_parallel = false;
  const auto train_fold = [&](std::size_t f) {
    std::vector<std::size_t> rest;
    for (std::size_t g = 0; g < folds; ++g) {
      if (g != f) rest.insert(rest.end(), fold_rows[g].begin(), fold_rows[g].end());
    }
    const auto n_validation = std::min(
        rest.size() - 1, static_cast<std::size_t>(std::llround(split.validation_fraction * static_cast<double>(data.size()))));
    const data::RandomPick validation = data::pick_at_random(std::move(rest), n_validation, split.seed + 0x9E3779B97F4A7C15ULL * (f + 1));
    // Dataset indices, as a given split names them.
    auto dataset_indices = [&](const std::vector<std::size_t>& positions) {
      std::vector<std::size_t> out;
      for (std::size_t r : positions) out.push_back(data.index()[r]);
      return out;  // data.index is ascending, so sorted rows give sorted indices
    };
    train::Json fold_config = config;
    fold_config["split"] = {{"train", dataset_indices(validation.rest)},
                            {"validation", dataset_indices(validation.picked)},
                            {"test", dataset_indices(fold_rows[f])}};
    for (const char* key : {"model", "checkpoint", "log"}) {
      if (config.contains("output") && config["output"].contains(key) && config["output"][key].is_string())
        fold_config["output"][key] = fold_path(config["output"][key].get<std::string>(), f + 1);
    }
    if (options.print_progress)
      fmt::print("== fold {}/{} ({} split): {} test structures{}\n", f + 1, folds, data::split_kind_name(split.kind),
                 fold_rows[f].size(), comm.size() > 1 ? fmt::format(", rank {}", comm.rank()) : "");
    const TrainJobResult fold = train_property_model(fold_config, fold_options);
    return nlohmann::json{{"fold", f}, {"model", fold.model_path}, {"metrics", fold.test_metrics}};
  };
  CrossValidationResult result;
  result.split_kind = data::split_kind_name(split.kind);
  std::vector<nlohmann::json> mine;  // this rank's folds: {fold, model, metrics}
  const auto ranks = static_cast<std::size_t>(comm.size());
  for (std::size_t round = 0; round < folds; round += ranks) {
    std::exception_ptr failure;
    const std::size_t f = round + static_cast<std::size_t>(comm.rank());
    if (f < folds) {
      try {
        mine.push_back(train_fold(f));
      } catch (...) {
        failure = std::current_exception();
      }
    }
    comm.rethrow_first(failure);
  }
  const std::vector<std::uint8_t> packed = nlohmann::json::to_msgpack(nlohmann::json(mine));
  result.models.resize(folds);
  result.fold_metrics.resize(folds);
  for (const auto& bytes : comm.all_gather(std::span<const std::uint8_t>(packed))) {
    for (const auto& fold : nlohmann::json::from_msgpack(bytes)) {
      const auto f = fold.at("fold").get<std::size_t>();
      result.models[f] = fold.at("model").get<std::string>();
      result.fold_metrics[f] = fold.at("metrics").get<std::map<std::string, double>>();
    }
  }
  for (std::size_t f = 0; f < folds; ++f) result.test_sizes.push_back(fold_rows[f].size());

  for (const auto& [name, first] : result.fold_metrics.front()) {
    std::vector<double> values;
    for (const auto& m : result.fold_metrics) {
      const auto it = m.find(name);
      if (it != m.end() && std::isfinite(it->second)) values.push_back(it->second);
    }
    if (values.size() != folds) continue;
    double mean = 0.0;
    for (double v : values) mean += v / static_cast<double>(folds);
    double variance = 0.0;
    for (double v : values) variance += (v - mean) * (v - mean) / static_cast<double>(folds - 1);
    result.summary[name] = {mean, std::sqrt(variance)};
  }
  return result;
}

}  // namespace matnn::workflows
