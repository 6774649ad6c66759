// matnn train CONFIG [--resume] [--cv K] [--ensemble-parallel]: train a model from a YAML/JSON
// config (docs/training-config.md), or cross-validate a property model over K folds.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/error.hpp"
#include "parallel/communicator.hpp"
#include "train/config.hpp"
#include "workflows/cross_validation.hpp"
#include "workflows/job_common.hpp"

namespace matnn::cli {
namespace {

struct TrainOptions {
  std::string config;
  bool resume = false;
  bool quiet = false;
  bool ensemble_parallel = false;
  std::size_t cv = 0;
};

void print_metrics(const std::map<std::string, double>& metrics) {
  for (const auto& [name, value] : metrics) {
    if (name.starts_with("cm_")) continue;
    fmt::print("  {:<26} {:.6g}\n", name, value);
  }
}

void run_train(const TrainOptions& o) {
  const train::Json config = train::load_config_file(o.config);
  workflows::TrainJobOptions job;
  job.resume = o.resume;
  job.print_progress = !o.quiet;
  job.config_path = o.config;
  job.communicator = parallel::Communicator::world();
  job.ensemble_parallel = o.ensemble_parallel;
  if (o.ensemble_parallel && job.communicator.size() == 1) {
    fmt::print(stderr, "matnn: warning: --ensemble-parallel on one rank: the members train one after another\n");
  }
  if (o.cv > 0 && o.ensemble_parallel) fail(MATNN_ERROR_INVALID_ARGUMENT, "--cv and --ensemble-parallel do not go together");
  if (o.cv > 0) {
    const workflows::CrossValidationResult cv = workflows::cross_validate_property_model(config, o.cv, job);
    if (!job.communicator.is_root()) return;  // rank 0 reports for the job
    fmt::print("cross-validation over {} folds ({} split):\n", o.cv, cv.split_kind);
    for (std::size_t f = 0; f < cv.models.size(); ++f) {
      const auto mae = cv.fold_metrics[f].find("mae"), accuracy = cv.fold_metrics[f].find("accuracy");
      const bool regression = mae != cv.fold_metrics[f].end();
      fmt::print("  fold {:<3} {:>6} test structures  {} {:.6g}  {}\n", f + 1, cv.test_sizes[f], regression ? "mae" : "accuracy",
                 regression ? mae->second : accuracy->second, cv.models[f]);
    }
    fmt::print("mean and standard deviation over the folds:\n");
    for (const auto& [name, stats] : cv.summary) {
      if (name.starts_with("cm_")) continue;
      fmt::print("  {:<26} {:.6g} +- {:.2g}\n", name, stats.first, stats.second);
    }
    return;
  }
  const workflows::TrainJobResult result = workflows::train_model(config, job);
  if (!job.communicator.is_root()) return;  // rank 0 reports for the job
  fmt::print("wrote {}\n", result.model_path);
  if (!result.test_metrics.empty()) {
    fmt::print("held-out test set ({} structures):\n", result.n_test);
    print_metrics(result.test_metrics);
  }
}

}  // namespace

void print_metric_table(const std::map<std::string, double>& metrics) { print_metrics(metrics); }

void add_train_command(CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model from a YAML or JSON config");
  cmd->add_option("config", options->config, "Training config (.yaml, .yml or .json)")->required();
  cmd->add_flag("--resume", options->resume, "Continue from the checkpoint of an interrupted run");
  cmd->add_flag("--quiet", options->quiet, "Do not print per-epoch progress");
  cmd->add_flag("--ensemble-parallel", options->ensemble_parallel,
                "Under mpirun: each rank trains whole ensemble members (rank r: members r, r + N, ...) "
                "instead of a share of every batch");
  cmd->add_option("--cv", options->cv,
                  "Cross-validate a property model over K folds of the config's split kind (one model per fold; "
                  "under mpirun each rank trains whole folds)")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1000}));
  cmd->callback([options] { run_train(*options); });
}

}  // namespace matnn::cli
