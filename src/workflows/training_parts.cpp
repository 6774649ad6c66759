#include "workflows/training_parts.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "matnn/error.hpp"
#include "workflows/potential_job.hpp"

namespace matnn::workflows {
namespace {

using train::Json;

// What a part may set: how it trains. The model, data, split and seed are part 1's, because a
// part continues that model on those data.
constexpr std::array<const char*, 3> kPartSections{"training", "optimizer", "schedule"};

bool is_part_section(const std::string& key) {
  for (const char* s : kPartSections)
    if (key == s) return true;
  return false;
}

std::string part_model_path(const std::string& model, std::size_t part) {
  return fmt::format("{}.part{}.h5", model, part);
}

// The configs of the parts, in order.
std::vector<Json> part_configs(const Json& config) {
  const Json& list = config.at("continue_with");
  if (!list.is_array() || list.empty()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "continue_with must be a non-empty list of trainings (each a mapping with "
                                       "training and optimizer sections, and optionally schedule)");
  }
  // The last part's outputs, checked as any job checks them; the others' go beside its model.
  const std::string model_path = job_outputs(train::ConfigSection(config.value("output", Json::object()), "output")).model;

  Json first = config;
  first.erase("continue_with");
  std::vector<Json> parts{first};
  for (std::size_t k = 0; k < list.size(); ++k) {
    const Json& entry = list[k];
    if (!entry.is_object()) fail(MATNN_ERROR_INVALID_ARGUMENT, "continue_with[{}] must be a mapping", k + 1);
    for (const auto& [key, value] : entry.items()) {
      if (!is_part_section(key)) {
        fail(MATNN_ERROR_INVALID_ARGUMENT,
             "continue_with[{}]: unknown key '{}' (a part sets training, optimizer and schedule; the model, data, "
             "split and seed are the first part's)",
             k + 1, key);
      }
    }
    for (const char* required : {"training", "optimizer"}) {
      if (!entry.contains(required)) {
        fail(MATNN_ERROR_INVALID_ARGUMENT,
             "continue_with[{}] has no {} section: each part states how it trains (nothing is inherited from the "
             "part before)",
             k + 1, required);
      }
    }
    Json next = first;
    for (const char* s : kPartSections) next.erase(s);
    for (const auto& [key, value] : entry.items()) next[key] = value;
    // The reference energies, energy scale and core repulsion come with the model it starts from.
    Json& model = next["model"];
    model.erase("reference_energies");
    model.erase("core_repulsion");
    model["init_from"] = part_model_path(model_path, k + 1);
    parts.push_back(std::move(next));
  }
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    parts[k]["output"] = Json::object({{"model", part_model_path(model_path, k + 1)}});
  }
  return parts;
}

// Whether a part finished in an earlier run: its model exists and its checkpoint is gone. Rank 0
// looks and tells the others, so every rank takes the same path.
bool finished_before(const JobOutputs& part, const parallel::Communicator& comm) {
  std::vector<std::uint8_t> finished{0};
  if (comm.is_root()) {
    finished[0] = std::filesystem::exists(part.model) && !std::filesystem::exists(part.checkpoint) ? 1 : 0;
  }
  comm.broadcast(finished);
  return finished[0] != 0;
}

}  // namespace

TrainJobResult train_in_parts(const Json& config, const TrainJobOptions& options) {
  const std::vector<Json> parts = part_configs(config);
  const bool print = options.print_progress && options.communicator.is_root();
  TrainJobResult result;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const bool last = k + 1 == parts.size();
    const JobOutputs outputs = job_outputs(train::ConfigSection(parts[k]["output"], "output"));
    if (!last && options.resume && finished_before(outputs, options.communicator)) {
      if (print) fmt::print("part {} of {}: kept {} (finished before)\n", k + 1, parts.size(), outputs.model);
      continue;
    }
    if (print) fmt::print("part {} of {}: training {}\n", k + 1, parts.size(), outputs.model);
    result = train_potential(parts[k], options);
  }
  return result;
}

}  // namespace matnn::workflows
