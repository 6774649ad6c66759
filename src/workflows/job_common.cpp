#include "workflows/job_common.hpp"

#include "matnn/error.hpp"

namespace matnn::workflows {

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
                                        bool resume, bool print_progress, const train::EpochCallback& on_epoch) {
  train::EnsembleOptions e;
  e.trainer = trainer;
  e.trainer.seed = seed;
  e.checkpoint_path = outputs.checkpoint;
  e.log_path = outputs.log;
  e.resume = resume;
  e.print_progress = print_progress;
  e.on_epoch = on_epoch;
  return e;
}

data::SplitOptions split_options_from(const train::ConfigSection& split, std::uint64_t seed) {
  data::SplitOptions o;
  o.kind = data::split_kind_from_name(split.string("kind", "random"));
  o.validation_fraction = split.number("validation", 0.1);
  o.test_fraction = split.number("test", 0.1);
  o.seed = static_cast<std::uint64_t>(split.integer("seed", static_cast<std::int64_t>(seed), 0));
  split.finish();
  return o;
}

train::Json split_to_json(const data::SplitOptions& o) {
  return {{"kind", data::split_kind_name(o.kind)}, {"validation", o.validation_fraction}, {"test", o.test_fraction},
          {"seed", o.seed}};
}

data::SplitKey split_key(const Record& record, data::SplitKind kind) {
  data::SplitKey key;
  if (kind == data::SplitKind::composition) key.group = record.structure.composition().reduced_formula();
  if (kind == data::SplitKind::prototype) {
    const auto tag = record.tags.find("prototype");
    if (tag != record.tags.end()) key.group = tag->second;
  }
  key.timestamp = record.timestamp;
  return key;
}

data::Split recorded_split(const train::Json& provenance, const std::vector<data::SplitKey>& keys,
                           std::size_t n_records, const std::string& dataset_path) {
  if (!provenance.contains("split")) fail(MATNN_ERROR_MODEL, "the model records no training split; use --subset all");
  const auto trained_on = provenance.value("n_structures", std::size_t{0});
  if (trained_on != n_records) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "{} has {} structures, the model was trained on a dataset of {}: a train/validation/test subset needs that dataset",
         dataset_path, n_records, trained_on);
  }
  return data::make_split(keys, split_options_from(train::ConfigSection(provenance.at("split"), "split"), 0));
}

Eigen::VectorXd pick(const Eigen::VectorXd& values, const std::vector<std::size_t>& rows) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) out[static_cast<Eigen::Index>(i)] = values[static_cast<Eigen::Index>(rows[i])];
  return out;
}

}  // namespace matnn::workflows
