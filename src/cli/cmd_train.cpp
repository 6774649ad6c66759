// matnn train CONFIG [--resume]: train a model from a YAML/JSON config (docs/training-config.md).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "train/config.hpp"
#include "workflows/job_common.hpp"

namespace matnn::cli {
namespace {

struct TrainOptions {
  std::string config;
  bool resume = false;
  bool quiet = false;
};

void print_metrics(const std::map<std::string, double>& metrics) {
  for (const auto& [name, value] : metrics) {
    if (name.starts_with("cm_")) continue;
    fmt::print("  {:<14} {:.6g}\n", name, value);
  }
}

void run_train(const TrainOptions& o) {
  const train::Json config = train::load_config_file(o.config);
  workflows::TrainJobOptions job;
  job.resume = o.resume;
  job.print_progress = !o.quiet;
  job.config_path = o.config;
  const workflows::TrainJobResult result = workflows::train_model(config, job);
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
  cmd->callback([options] { run_train(*options); });
}

}  // namespace matnn::cli
