// matnn eval MODEL DATASET [--subset all|train|validation|test]: metrics of a model on a dataset.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "models/composition_model.hpp"
#include "models/state_file.hpp"
#include "workflows/composition_job.hpp"
#include "workflows/potential_job.hpp"

namespace matnn::cli {
namespace {

struct EvalOptions {
  std::string model, dataset, subset = "all";
};

void run_eval(const EvalOptions& o) {
  if (models::read_model_kind(o.model) == potentials::Potential::file_kind) {
    const auto metrics = workflows::evaluate_potential(o.model, o.dataset, o.subset);
    fmt::print("potential {} on {} ({} subset):\n", o.model, o.dataset, o.subset);
    print_metric_table(metrics);
    return;
  }
  const models::CompositionModel model = models::CompositionModel::load(o.model);
  const auto metrics = workflows::evaluate_composition_model(model, o.dataset, o.subset);
  fmt::print("{} of \"{}\" on {} ({} subset):\n", model.kind, model.config().target, o.dataset, o.subset);
  print_metric_table(metrics);
  const int classes = model.config().n_classes;
  if (classes > 0) {
    fmt::print("  confusion matrix (rows: true class, columns: predicted)\n");
    for (int i = 0; i < classes; ++i) {
      fmt::print("   ");
      for (int j = 0; j < classes; ++j) fmt::print(" {:>7}", metrics.at(fmt::format("cm_{}_{}", i, j)));
      fmt::print("\n");
    }
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Print a model's metrics on a dataset");
  cmd->add_option("model", options->model, "Model file written by matnn train")->required();
  cmd->add_option("dataset", options->dataset, "matnn HDF5 dataset with the target label")->required();
  cmd->add_option("--subset", options->subset, "all, or train/validation/test of the split the model was trained with")
      ->check(CLI::IsMember({"all", "train", "validation", "test"}))
      ->capture_default_str();
  cmd->callback([options] { run_eval(*options); });
}

}  // namespace matnn::cli
