// matnn eval MODEL DATASET [--subset all|train|validation|test]: metrics of a model on a dataset.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/error.hpp"
#include "models/property_model.hpp"
#include "models/state_file.hpp"
#include "parallel/communicator.hpp"
#include "workflows/property_job.hpp"
#include "workflows/potential_job.hpp"

namespace matnn::cli {
namespace {

// One row per config_type: structures, energy MAE/RMSE, force MAE/RMSE, stress MAE.
void print_config_type_table(const std::map<std::string, std::map<std::string, double>>& by_type) {
  if (by_type.empty()) return;
  fmt::print("  by config_type:\n  {:<18} {:>5} {:>11} {:>12} {:>10} {:>11} {:>11}\n", "config_type", "n", "E MAE",
             "E RMSE", "F MAE", "F RMSE", "S MAE");
  fmt::print("  {:<18} {:>5} {:>11} {:>12} {:>10} {:>11} {:>11}\n", "", "", "meV/atom", "meV/atom", "meV/A", "meV/A", "GPa");
  for (const auto& [type, metrics] : by_type) {
    const auto& m = metrics;  // a structured binding cannot be captured by a lambda (clang 14)
    auto cell = [&](const char* key, int width) {
      const auto it = m.find(key);
      return it == m.end() ? fmt::format("{:>{}}", "-", width) : fmt::format("{:>{}.4g}", it->second, width);
    };
    fmt::print("  {:<18} {:>5} {} {} {} {} {}\n", type, m.at("n"), cell("energy_mae_meV_atom", 11),
               cell("energy_rmse_meV_atom", 12), cell("force_mae_meV_A", 10), cell("force_rmse_meV_A", 11),
               cell("stress_mae_GPa", 11));
  }
}

struct EvalOptions {
  std::string model, dataset, subset = "all", ood;
};

// Under mpirun (comm: the job's ranks) the structures of the dataset are shared among the ranks,
// and rank 0 prints.
void run_eval(const EvalOptions& o, const parallel::Communicator& comm) {
  if (models::read_model_kind(o.model) == potentials::Potential::file_kind) {
    const workflows::PotentialEvaluation evaluation = workflows::evaluate_potential(o.model, o.dataset, o.subset, comm);
    const workflows::PotentialEvaluation ood =
        o.ood.empty() ? workflows::PotentialEvaluation{} : workflows::evaluate_potential(o.model, o.ood, "all", comm);
    if (!comm.is_root()) return;
    fmt::print("potential {} on {} ({} subset):\n", o.model, o.dataset, o.subset);
    print_metric_table(evaluation.overall);
    print_config_type_table(evaluation.by_config_type);
    if (!evaluation.uncertainty.empty()) {
      fmt::print("  ensemble uncertainty against the error (Spearman rank correlation per structure):\n");
      print_metric_table(evaluation.uncertainty);
    }
    if (!o.ood.empty()) {
      fmt::print("  out-of-distribution structures of {} ({}) against the {} subset: ROC-AUC of the uncertainty\n",
                 o.ood, ood.overall.at("n"), o.subset);
      print_metric_table(workflows::ood_separation(evaluation, ood));
    }
    return;
  }
  const std::unique_ptr<models::PropertyModel> model = models::load_property_model(o.model);
  const auto metrics = workflows::evaluate_property_model(*model, o.dataset, o.subset, comm);
  if (!comm.is_root()) return;
  fmt::print("{} of \"{}\" on {} ({} subset):\n", model->kind(), model->target().name, o.dataset, o.subset);
  print_metric_table(metrics);
  const int classes = model->target().n_classes;
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
  cmd->add_option("--ood", options->ood,
                  "Potentials: a dataset of out-of-distribution structures; prints how well the ensemble's "
                  "uncertainty separates them (ROC-AUC)");
  cmd->callback([options] {
    if (!options->ood.empty() && models::read_model_kind(options->model) != potentials::Potential::file_kind) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "--ood is for potentials; {} is a property model", options->model);
    }
    run_eval(*options, parallel::Communicator::world());
  });
}

}  // namespace matnn::cli
