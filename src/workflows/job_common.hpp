// Pieces every training job shares: what a job returns, the dispatch on model.kind, reading the
// split section of a config, the split keys of dataset records, and picking rows.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "data/splits.hpp"
#include "matnn/output_paths.hpp"
#include "matnn/record.hpp"
#include "parallel/communicator.hpp"
#include "train/config.hpp"
#include "train/ensemble.hpp"
#include "train/trainer.hpp"

namespace matnn::workflows {

struct TrainJobResult {
  std::string model_path;
  std::size_t n_train = 0, n_validation = 0, n_test = 0;
  std::map<std::string, double> test_metrics;
  /// Structures this rank read from the dataset files: its share of them on several ranks (data
  /// parallel), every one in a serial run.
  std::size_t structures_read = 0;
};

struct TrainJobOptions {
  bool resume = false;
  bool print_progress = true;
  train::EpochCallback on_epoch;  ///< return false to cancel (MATNN_ERROR_CANCELLED)
  std::string config_path;        ///< the config's file, when it came from one: no output may replace it
  /// The ranks that train together (data-parallel); every rank must call with the same config.
  /// Only rank 0 prints and writes files.
  parallel::Communicator communicator;
  /// Spread the ensemble's members over the ranks instead (train/ensemble.hpp): each rank
  /// trains whole members, writing their own checkpoints and logs.
  bool ensemble_parallel = false;
};

/// Trains the model a config describes, whatever its model.kind (property models, potentials):
/// the one dispatch that `matnn train` and matnn_train() share.
TrainJobResult train_model(const train::Json& config, const TrainJobOptions& options = {});

/// The training, optimizer and schedule sections of a job config as trainer options (the two
/// latter are checked by the optimiser and schedule factories, so they are only marked as read).
train::TrainerOptions trainer_options_from(const train::ConfigSection& root, const train::ConfigSection& training,
                                           const train::Json& config);

/// Runs `write` (a model file, say) on rank 0 only, then tells every rank whether it succeeded, so
/// that no rank returns before the file exists and all return the same status: rank 0 rethrows
/// its error, the others fail with MATNN_ERROR_MPI naming `what`.
void write_on_root(const parallel::Communicator& comm, const std::string& what, const std::function<void()>& write);

/// output: {model (required), checkpoint (default <model>.checkpoint.h5), log (default <model>.log.csv)}.
struct JobOutputs {
  std::string model, checkpoint, log;
};
JobOutputs job_outputs(const train::ConfigSection& output);
/// Refuses, before any work, outputs that would replace one of `inputs` (the config file, the
/// datasets, a model to start from) or each other, and outputs in a folder that does not exist.
void check_job_outputs(const JobOutputs& outputs, const std::vector<NamedPath>& inputs);

/// How a job trains its ensemble: the trainer options with the job's seed, paths, host hooks and
/// ensemble_parallel; `print_progress` on this rank.
train::EnsembleOptions ensemble_options(const train::TrainerOptions& trainer, std::uint64_t seed, const JobOutputs& outputs,
                                        const TrainJobOptions& job, bool print_progress);

/// split: {kind, validation, test, seed (default: `seed`)}; rejects unknown keys.
data::SplitOptions split_options_from(const train::ConfigSection& split, std::uint64_t seed);
train::Json split_to_json(const data::SplitOptions& options);

/// The key a split of `kind` groups or orders this record by: the reduced formula
/// (composition), the "prototype" tag (prototype), and always the timestamp.
data::SplitKey split_key(const Record& record, data::SplitKind kind);
/// The groups of a cluster split: k-means (data::kmeans_labels) on the compositions' features
/// (fractions of their elements and the Magpie statistics), each column standardised so that no
/// feature's unit decides; keys[i].group becomes "cluster K". MATNN_ERROR_INVALID_ARGUMENT for
/// more clusters than compositions.
void assign_cluster_groups(std::vector<data::SplitKey>& keys, const std::vector<Composition>& compositions,
                           int clusters, std::uint64_t seed);

/// The split of a property job: computed from options, or given as lists of dataset indices
/// (split: {file: PATH}, a JSON file {"train": [...], "validation": [...], "test": [...]} of
/// 0-based structure indices), so that another code's split can be reproduced exactly.
struct JobSplit {
  data::SplitOptions options;
  std::optional<data::Split> given;  ///< dataset indices
};
/// split: {kind, validation, test, seed} or {file}, or a recorded split (with the lists).
JobSplit job_split_from(const train::ConfigSection& split, std::uint64_t seed);
/// What a model records: the options, or the given lists themselves (not the file's path).
train::Json split_to_json(const JobSplit& split);
/// The split over the labelled rows of a dataset: `dataset_index[row]` is the dataset index of
/// `keys[row]`. A given split must name labelled structures of the dataset, each at most once.
data::Split resolve_split(const JobSplit& split, const std::vector<data::SplitKey>& keys,
                          const std::vector<std::size_t>& dataset_index, std::size_t n_records,
                          const std::string& dataset_path);

/// The split recorded in a model's provenance, rebuilt for the labelled rows of a dataset
/// (which must be the training dataset: the structure count is checked).
data::Split recorded_split(const train::Json& provenance, const std::vector<data::SplitKey>& keys,
                           const std::vector<std::size_t>& dataset_index, std::size_t n_records,
                           const std::string& dataset_path);

template <typename T>
std::vector<T> pick(const std::vector<T>& values, const std::vector<std::size_t>& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (std::size_t r : rows) out.push_back(values[r]);
  return out;
}

Eigen::VectorXd pick(const Eigen::VectorXd& values, const std::vector<std::size_t>& rows);

}  // namespace matnn::workflows
