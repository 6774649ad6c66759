#include "workflows/job_common.hpp"

#include <exception>

#include <algorithm>
#include <set>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "data/prototype_label.hpp"
#include "features/composition_features.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn::workflows {

void write_on_root(const parallel::Communicator& comm, const std::string& what, const std::function<void()>& write) {
  if (comm.size() == 1) {
    write();
    return;
  }
  std::exception_ptr failure;
  if (comm.is_root()) {
    try {
      write();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  const bool ok = comm.all(!failure);
  if (failure) std::rethrow_exception(failure);
  if (!ok) fail(MATNN_ERROR_MPI, "rank 0 failed to write {} (its error is in rank 0's report)", what);
}

train::TrainerOptions trainer_options_from(const train::ConfigSection& root, const train::ConfigSection& training,
                                           const train::Json& config) {
  root.has("optimizer");
  root.has("schedule");
  return train::TrainerOptions::from_config(training, config.value("optimizer", train::Json::object()),
                                            config.value("schedule", train::Json::object()));
}

JobOutputs job_outputs(const train::ConfigSection& output) {
  JobOutputs o;
  o.model = output.required_string("model");
  o.checkpoint = output.string("checkpoint", o.model + ".checkpoint.h5");
  o.log = output.string("log", o.model + ".log.csv");
  output.finish();
  return o;
}

void check_job_outputs(const JobOutputs& outputs, const std::vector<NamedPath>& inputs) {
  check_output_paths(inputs, {{"output.model", outputs.model},
                              {"output.checkpoint", outputs.checkpoint},
                              {"output.log", outputs.log}});
}

train::EnsembleOptions ensemble_options(const train::TrainerOptions& trainer, std::uint64_t seed, const JobOutputs& outputs,
                                        const TrainJobOptions& job, bool print_progress) {
  train::EnsembleOptions e;
  e.trainer = trainer;
  e.trainer.seed = seed;
  e.checkpoint_path = outputs.checkpoint;
  e.log_path = outputs.log;
  e.resume = job.resume;
  e.print_progress = print_progress;
  e.on_epoch = job.on_epoch;
  e.members_over_ranks = job.ensemble_parallel;
  return e;
}

data::SplitOptions split_options_from(const train::ConfigSection& split, std::uint64_t seed) {
  data::SplitOptions o;
  o.kind = data::split_kind_from_name(split.string("kind", "random"));
  o.validation_fraction = split.number("validation", 0.1);
  o.test_fraction = split.number("test", 0.1);
  o.seed = static_cast<std::uint64_t>(split.integer("seed", static_cast<std::int64_t>(seed), 0));
  o.validation_grouped = split.boolean("validation_grouped", true);
  if (split.has("clusters") && o.kind != data::SplitKind::cluster)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "split.clusters is for kind cluster, not {}", data::split_kind_name(o.kind));
  o.clusters = static_cast<int>(split.integer("clusters", o.clusters, 2));
  split.finish();
  return o;
}

train::Json split_to_json(const data::SplitOptions& o) {
  train::Json out = {{"kind", data::split_kind_name(o.kind)}, {"validation", o.validation_fraction},
                     {"test", o.test_fraction}, {"seed", o.seed}, {"validation_grouped", o.validation_grouped}};
  if (o.kind == data::SplitKind::cluster) out["clusters"] = o.clusters;
  return out;
}

data::SplitKey split_key(const Record& record, data::SplitKind kind) {
  data::SplitKey key;
  if (kind == data::SplitKind::formula) key.group = record.structure.composition().reduced_formula();
  if (kind == data::SplitKind::chemical_system) {
    // Element symbols in alphabetical order, joined by dashes: "Au-Cu", whatever the ratio.
    std::vector<std::string> symbols;
    const Composition composition = record.structure.composition();  // amounts() refers into it
    for (const auto& [z, amount] : composition.amounts()) symbols.push_back(element(z).symbol);
    std::sort(symbols.begin(), symbols.end());
    for (const std::string& symbol : symbols) key.group += (key.group.empty() ? "" : "-") + symbol;
  }
  if (kind == data::SplitKind::prototype) {
    // The dataset's tag where there is one; otherwise the structure's own AFLOW-style label
    // (space group and occupied Wyckoff positions, from spglib).
    const auto tag = record.tags.find("prototype");
    if (tag != record.tags.end()) {
      key.group = tag->second;
    } else {
      try {
        key.group = data::prototype_label(record.structure);
      } catch (const Error& e) {
        fail(e.status(), "prototype split of a structure without a prototype tag: {}", e.what());
      }
    }
  }
  key.timestamp = record.timestamp;
  return key;
}

void assign_cluster_groups(std::vector<data::SplitKey>& keys, const std::vector<Composition>& compositions,
                           int clusters, std::uint64_t seed) {
  if (static_cast<std::size_t>(clusters) > compositions.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "split.clusters = {} exceeds the {} structures split", clusters, compositions.size());
  std::set<int> elements;
  for (const Composition& c : compositions) {
    for (const auto& [z, amount] : c.amounts()) elements.insert(z);
  }
  Eigen::MatrixXd x = features::CompositionFeaturizer({elements.begin(), elements.end()}).featurize(compositions);
  x = x.rowwise() - x.colwise().mean();
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const double norm = x.col(j).norm() / std::sqrt(static_cast<double>(x.rows()));
    if (norm > 1e-12) x.col(j) /= norm;
  }
  const std::vector<int> labels = data::kmeans_labels(x, clusters, seed);
  for (std::size_t i = 0; i < labels.size(); ++i) keys[i].group = fmt::format("cluster {}", labels[i]);
}

JobSplit job_split_from(const train::ConfigSection& split, std::uint64_t seed) {
  JobSplit out;
  const bool listed = split.has("train");
  if (!split.has("file") && !listed) {
    out.options = split_options_from(split, seed);
    return out;
  }
  train::Json lists;
  std::string where = "split";
  if (listed) {
    for (const char* key : {"train", "validation", "test"}) lists[key] = *split.raw(key);
    (void)split.string("kind", "given");
  } else {
    where = split.required_string("file");
    std::ifstream in(where);
    if (!in) fail(MATNN_ERROR_IO, "{}: cannot read the split file (split.file)", where);
    try {
      lists = train::Json::parse(in);
    } catch (const train::Json::exception& e) {
      fail(MATNN_ERROR_FORMAT, "{}: not a JSON split file: {}", where, e.what());
    }
  }
  split.finish();
  data::Split given;
  for (auto [key, rows] : {std::pair{"train", &given.train}, {"validation", &given.validation}, {"test", &given.test}}) {
    if (!lists.is_object() || !lists.contains(key) || !lists[key].is_array())
      fail(MATNN_ERROR_FORMAT, "{}: needs a list \"{}\" of structure indices", where, key);
    for (const auto& v : lists[key]) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        fail(MATNN_ERROR_FORMAT, "{}: \"{}\" holds {}, not a structure index >= 0", where, key, v.dump());
      rows->push_back(v.get<std::size_t>());
    }
  }
  out.given = std::move(given);
  return out;
}

train::Json split_to_json(const JobSplit& split) {
  if (!split.given) return split_to_json(split.options);
  return {{"kind", "given"}, {"train", split.given->train}, {"validation", split.given->validation}, {"test", split.given->test}};
}

data::Split resolve_split(const JobSplit& split, const std::vector<data::SplitKey>& keys,
                          const std::vector<std::size_t>& dataset_index, std::size_t n_records,
                          const std::string& dataset_path) {
  if (!split.given) return data::make_split(keys, split.options);
  std::vector<std::int64_t> row_of(n_records, -1);
  for (std::size_t r = 0; r < dataset_index.size(); ++r) row_of[dataset_index[r]] = static_cast<std::int64_t>(r);
  std::vector<bool> used(dataset_index.size(), false);
  data::Split out;
  const auto map = [&](const std::vector<std::size_t>& indices, std::vector<std::size_t>& rows, const char* name) {
    for (std::size_t i : indices) {
      if (i >= n_records) fail(MATNN_ERROR_INVALID_ARGUMENT, "split {}: structure {} is beyond the {} of {}", name, i, n_records, dataset_path);
      const std::int64_t r = row_of[i];
      if (r < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "split {}: structure {} of {} has no target label", name, i, dataset_path);
      if (used[static_cast<std::size_t>(r)]) fail(MATNN_ERROR_INVALID_ARGUMENT, "split {}: structure {} is listed twice", name, i);
      used[static_cast<std::size_t>(r)] = true;
      rows.push_back(static_cast<std::size_t>(r));
    }
    std::sort(rows.begin(), rows.end());
  };
  map(split.given->train, out.train, "train");
  map(split.given->validation, out.validation, "validation");
  map(split.given->test, out.test, "test");
  const auto unused = static_cast<std::size_t>(std::count(used.begin(), used.end(), false));
  if (unused > 0)
    fmt::print(stderr, "warning: the given split leaves {} labelled structures of {} out of every subset\n", unused, dataset_path);
  return out;
}

data::Split recorded_split(const train::Json& provenance, const std::vector<data::SplitKey>& keys,
                           const std::vector<std::size_t>& dataset_index, std::size_t n_records,
                           const std::string& dataset_path) {
  if (!provenance.contains("split")) fail(MATNN_ERROR_MODEL, "the model records no training split; use --subset all");
  const auto trained_on = provenance.value("n_structures", std::size_t{0});
  if (trained_on != n_records) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "{} has {} structures, the model was trained on a dataset of {}: a train/validation/test subset needs that dataset",
         dataset_path, n_records, trained_on);
  }
  return resolve_split(job_split_from(train::ConfigSection(provenance.at("split"), "split"), 0), keys, dataset_index,
                       n_records, dataset_path);
}

Eigen::VectorXd pick(const Eigen::VectorXd& values, const std::vector<std::size_t>& rows) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) out[static_cast<Eigen::Index>(i)] = values[static_cast<Eigen::Index>(rows[i])];
  return out;
}

}  // namespace matnn::workflows
