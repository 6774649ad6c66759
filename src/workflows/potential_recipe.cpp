#include "workflows/potential_recipe.hpp"

#include <cmath>

#include "matnn/error.hpp"

namespace matnn::workflows {
namespace {

// A positive weight for a term the data cannot feed is a config error, not a silent zero.
void require_data(const train::ConfigSection& section, const char* key, double weight, std::size_t available,
                  const char* label, const std::string& dataset_path) {
  if (section.has(key) && weight > 0 && available == 0) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "{}.{} is {} but no training structure of {} has {}{}: the term would train nothing (remove it or set it to 0)",
         section.path(), key, weight, dataset_path, label,
         std::string(label) == "stress" ? " (stress needs a fully periodic cell)" : "");
  }
}

LossWeights read_weights(const train::ConfigSection& section, const LossWeights& defaults, const LabelCounts& labels,
                         const std::string& dataset_path) {
  LossWeights w;
  w.energy = section.positive("energy_weight", defaults.energy, true);
  w.forces = section.positive("forces_weight", defaults.forces, true);
  w.stress = section.positive("stress_weight", defaults.stress, true);
  require_data(section, "energy_weight", w.energy, labels.energies, "an energy", dataset_path);
  require_data(section, "forces_weight", w.forces, labels.forces, "forces", dataset_path);
  require_data(section, "stress_weight", w.stress, labels.stresses, "stress", dataset_path);
  if (labels.energies == 0) w.energy = 0;
  if (labels.forces == 0) w.forces = 0;
  if (labels.stresses == 0) w.stress = 0;
  if (w.energy + w.forces + w.stress == 0) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: every loss weight is 0 for the labels of {}: nothing to train on",
         section.path(), dataset_path);
  }
  return w;
}

}  // namespace

double PotentialRecipe::structure_weight(const Record& record) const {
  if (config_type_weights.empty()) return 1.0;
  const auto tag = record.tags.find("config_type");
  if (tag == record.tags.end()) return 1.0;
  const auto w = config_type_weights.find(tag->second);
  return w == config_type_weights.end() ? 1.0 : w->second;
}

LabelCounts count_labels(const DatasetRows& data, const std::vector<std::size_t>& rows) {
  LabelCounts c;
  for (std::size_t r : rows) {
    const RowSummary& s = data.summary(r);
    if (s.energy) ++c.energies;
    if (s.forces) ++c.forces;
    if (s.stress) ++c.stresses;
    if (!s.config_type.empty()) ++c.config_types[s.config_type];
  }
  return c;
}

PotentialRecipe recipe_from(const train::ConfigSection& training, int epochs, const LabelCounts& labels,
                            const std::string& dataset_path) {
  PotentialRecipe recipe;
  LossWeights defaults;
  defaults.stress = labels.stresses > 0 ? 1.0 : 0.0;
  recipe.weights = read_weights(training, defaults, labels, dataset_path);

  const std::string loss = training.string("loss", "mse");
  if (loss != "mse" && loss != "huber") {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.loss must be mse or huber, got \"{}\"", training.path(), loss);
  }
  recipe.huber = loss == "huber";
  recipe.huber_delta = training.positive("huber_delta", recipe.huber_delta);
  if (training.has("huber_delta") && !recipe.huber) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.huber_delta is set but {}.loss is mse", training.path(), training.path());
  }

  recipe.config_type_weights = training.number_map("config_type_weights");
  for (const auto& [type, weight] : recipe.config_type_weights) {
    if (weight < 0) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.config_type_weights.{} must be >= 0, got {}", training.path(), type, weight);
    }
    if (!labels.config_types.count(type)) {
      std::string known;
      for (const auto& [name, n] : labels.config_types) known += (known.empty() ? "" : ", ") + name;
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.config_type_weights.{}: no training structure of {} has config_type {} (they have: {})",
           training.path(), type, dataset_path, type, known.empty() ? "none" : known);
    }
  }

  if (training.has("stage_two")) {
    const train::ConfigSection stage = training.section("stage_two");
    const double start = stage.number("start", 0.75);
    if (!(start > 0 && start < 1)) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.start must be a fraction of the epochs in (0, 1), got {}", stage.path(), start);
    }
    recipe.stage_two_epoch = static_cast<int>(std::lround(start * epochs));
    recipe.stage_two = read_weights(stage, recipe.weights, labels, dataset_path);
    stage.finish();
  }
  return recipe;
}

train::Json recipe_to_json(const PotentialRecipe& recipe) {
  auto weights = [](const LossWeights& w) {
    return train::Json{{"energy_weight", w.energy}, {"forces_weight", w.forces}, {"stress_weight", w.stress}};
  };
  train::Json out = weights(recipe.weights);
  out["loss"] = recipe.huber ? "huber" : "mse";
  if (recipe.huber) out["huber_delta"] = recipe.huber_delta;
  if (!recipe.config_type_weights.empty()) out["config_type_weights"] = recipe.config_type_weights;
  if (recipe.stage_two) {
    out["stage_two"] = weights(*recipe.stage_two);
    out["stage_two"]["start_epoch"] = recipe.stage_two_epoch;
  }
  return out;
}

}  // namespace matnn::workflows
