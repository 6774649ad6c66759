// matnn embed MODEL DATASET -o OUT.csv: every structure's learned embedding (a property model's
// structure vector: CGCNN's crystal vector, the composition MLP's last hidden layer).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/output_paths.hpp"
#include "models/property_model.hpp"
#include "parallel/communicator.hpp"
#include "workflows/property_job.hpp"

namespace matnn::cli {
namespace {

struct EmbedOptions {
  std::string model, dataset, output;
};

void run_embed(const EmbedOptions& o) {
  check_output_paths({{"model", o.model}, {"dataset", o.dataset}}, {{"-o", o.output}});
  const std::unique_ptr<models::PropertyModel> model = models::load_property_model(o.model);
  // Under mpirun each rank reads and embeds its own share of the dataset's structures.
  const parallel::Communicator comm = parallel::Communicator::world();
  workflows::write_property_embeddings(*model, o.dataset, o.output, comm);
  if (comm.is_root()) fmt::print("wrote {}-wide embeddings of {} to {}\n", model->embedding_width(), o.dataset, o.output);
}

}  // namespace

void add_embed_command(CLI::App& app) {
  auto options = std::make_shared<EmbedOptions>();
  CLI::App* cmd = app.add_subcommand("embed", "Write each structure's learned embedding (property models, CSV)");
  cmd->add_option("model", options->model, "Property model file written by matnn train")->required();
  cmd->add_option("dataset", options->dataset, "matnn HDF5 dataset")->required();
  cmd->add_option("-o,--output", options->output, "CSV file to write (atomically)")->required();
  cmd->callback([options] { run_embed(*options); });
}

}  // namespace matnn::cli
