// matnn predict MODEL DATASET -o OUT.csv: predictions with uncertainty for every structure.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/output_paths.hpp"
#include "models/property_model.hpp"
#include "models/state_file.hpp"
#include "parallel/communicator.hpp"
#include "workflows/property_job.hpp"
#include "workflows/potential_job.hpp"

namespace matnn::cli {
namespace {

struct PredictOptions {
  std::string model, dataset, output;
  int mc_samples = 0;
};

void run_predict(const PredictOptions& o) {
  check_output_paths({{"model", o.model}, {"dataset", o.dataset}}, {{"-o", o.output}});
  // Under mpirun the structures of the dataset are shared among the ranks.
  const parallel::Communicator comm = parallel::Communicator::world();
  if (models::read_model_kind(o.model) == potentials::Potential::file_kind) {
    workflows::write_potential_predictions(o.model, o.dataset, o.output, comm);
    if (comm.is_root()) fmt::print("wrote energies and model deviations to {}\n", o.output);
    return;
  }
  const std::unique_ptr<models::PropertyModel> model = models::load_property_model(o.model);
  workflows::write_property_predictions(*model, o.dataset, o.output, o.mc_samples, comm);
  if (comm.is_root()) fmt::print("wrote predictions of \"{}\" to {}\n", model->target().name, o.output);
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto options = std::make_shared<PredictOptions>();
  CLI::App* cmd = app.add_subcommand("predict", "Predict a property for every structure of a dataset (CSV)");
  cmd->add_option("model", options->model, "Model file written by matnn train")->required();
  cmd->add_option("dataset", options->dataset, "matnn HDF5 dataset")->required();
  cmd->add_option("-o,--output", options->output, "CSV file to write (atomically)")->required();
  cmd->add_option("--mc-samples", options->mc_samples, "Monte-Carlo dropout passes per ensemble member (0: off)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([options] { run_predict(*options); });
}

}  // namespace matnn::cli
