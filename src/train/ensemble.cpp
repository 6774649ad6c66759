#include "train/ensemble.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "matnn/error.hpp"

namespace matnn::train {

void train_ensemble(std::size_t n_members, const std::function<std::unique_ptr<TrainingTask>(std::size_t)>& task_for,
                    const EnsembleOptions& options) {
  std::size_t first_member = 0;
  models::StateFile extra;
  if (options.resume && std::filesystem::exists(options.checkpoint_path)) {
    const models::StateFile cp = models::read_state_file(options.checkpoint_path, models::checkpoint_format, "training");
    const auto ensemble = cp.scalars.find("ensemble");
    if (ensemble == cp.scalars.end() || !ensemble->second.count("current")) {
      fail(MATNN_ERROR_MODEL, "{}: checkpoint does not belong to an ensemble run", options.checkpoint_path);
    }
    first_member = static_cast<std::size_t>(ensemble->second.at("current"));
    for (std::size_t k = 0; k < first_member; ++k) {
      const std::string group = "done.member." + std::to_string(k);
      const auto it = cp.tensors.find(group);
      if (it == cp.tensors.end()) fail(MATNN_ERROR_MODEL, "{}: finished member {} is missing", options.checkpoint_path, k);
      task_for(k)->module().load_state(it->second);
      extra.tensors[group] = it->second;
    }
  }
  for (std::size_t k = first_member; k < n_members; ++k) {
    TrainerOptions o = options.trainer;
    o.seed = options.trainer.seed + k;
    o.checkpoint_path = options.checkpoint_path;
    o.log_path = options.log_path.empty() || n_members == 1 ? options.log_path
                                                            : fmt::format("{}.member{}.csv", options.log_path, k);
    o.print_progress = options.print_progress;
    o.label = n_members == 1 ? "" : fmt::format("member {}/{}", k + 1, n_members);
    extra.scalars["ensemble"] = {{"current", static_cast<double>(k)}};
    const std::unique_ptr<TrainingTask> task = task_for(k);
    Trainer trainer(o);
    trainer.run(*task, options.resume && k == first_member, options.on_epoch, extra);
    extra.tensors["done.member." + std::to_string(k)] = task->module().state();
  }
}

}  // namespace matnn::train
