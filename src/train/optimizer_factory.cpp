#include "train/optimizer_factory.hpp"

#include "matnn/error.hpp"

namespace matnn::train {

bool is_kalman(const Json& config) {
  return config.is_object() && config.contains("name") && config["name"] == "kalman";
}

KalmanSettings kalman_settings(const Json& config) {
  const ConfigSection c(config, "optimizer");
  c.string("name", "kalman");
  KalmanSettings s;
  nn::KalmanOptions& f = s.filter;
  f.epsilon = c.positive("epsilon", f.epsilon);
  f.q0 = c.positive("q0", f.q0, true);
  f.q_min = c.positive("q_min", f.q_min, true);
  f.q_decay = c.positive("q_decay", f.q_decay);
  f.eta0 = c.positive("eta0", f.eta0);
  f.eta_max = c.positive("eta_max", f.eta_max);
  f.eta_growth = c.positive("eta_growth", f.eta_growth);
  f.block_size = static_cast<std::size_t>(c.integer("block_size", static_cast<std::int64_t>(f.block_size), 1));
  MeasurementSelection& m = s.selection;
  m.forces_per_structure = static_cast<std::size_t>(
      c.integer("forces_per_structure", static_cast<std::int64_t>(m.forces_per_structure), 0));
  m.stress_per_structure = static_cast<std::size_t>(
      c.integer("stress_per_structure", static_cast<std::int64_t>(m.stress_per_structure), 0));
  if (m.stress_per_structure > 6) fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer.stress_per_structure must be at most 6");
  m.threshold = c.positive("threshold", m.threshold, true);
  c.finish();
  return s;
}

std::unique_ptr<nn::Optimizer> make_optimizer(const Json& config, const nn::NamedTensors& params) {
  const ConfigSection c(config, "optimizer");
  const std::string name = c.string("name", "adamw");
  std::unique_ptr<nn::Optimizer> optimizer;
  if (name == "sgd") {
    nn::SgdOptions o;
    o.lr = c.positive("lr", 1e-2);
    o.momentum = c.number("momentum", 0.9);
    o.nesterov = c.boolean("nesterov", false);
    o.weight_decay = c.positive("weight_decay", 0.0, true);
    optimizer = std::make_unique<nn::Sgd>(params, o);
  } else if (name == "adam" || name == "adamw") {
    nn::AdamOptions o;
    o.lr = c.positive("lr", 1e-3);
    o.beta1 = c.number("beta1", 0.9);
    o.beta2 = c.number("beta2", 0.999);
    o.eps = c.positive("eps", 1e-8);
    o.weight_decay = c.positive("weight_decay", name == "adamw" ? 1e-2 : 0.0, true);
    if (name == "adam") {
      optimizer = std::make_unique<nn::Adam>(params, o);
    } else {
      optimizer = std::make_unique<nn::AdamW>(params, o);
    }
  } else {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "optimizer.name \"{}\" is unknown (use sgd, adam, adamw or kalman)", name);
  }
  c.finish();
  return optimizer;
}

std::unique_ptr<nn::LrSchedule> make_schedule(const Json& config, double base_lr, int epochs) {
  const ConfigSection c(config, "schedule");
  const std::string name = c.string("name", "constant");
  std::unique_ptr<nn::LrSchedule> schedule;
  if (name == "constant") {
    schedule = std::make_unique<nn::StepLR>(base_lr, 1, 1.0);
  } else if (name == "step") {
    schedule = std::make_unique<nn::StepLR>(base_lr, static_cast<int>(c.integer("step_size", 30, 1)),
                                            c.positive("gamma", 0.1));
  } else if (name == "cosine") {
    schedule = std::make_unique<nn::CosineLR>(base_lr, epochs, c.positive("min_lr", 0.0, true),
                                              static_cast<int>(c.integer("warmup", 0, 0)));
  } else if (name == "plateau") {
    schedule = std::make_unique<nn::ReduceOnPlateau>(
        base_lr, c.positive("factor", 0.5), static_cast<int>(c.integer("patience", 10, 0)),
        c.positive("threshold", 1e-4, true), c.positive("min_lr", 0.0, true),
        static_cast<int>(c.integer("cooldown", 0, 0)));
  } else {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "schedule.name \"{}\" is unknown (use constant, step, cosine or plateau)", name);
  }
  c.finish();
  return schedule;
}

}  // namespace matnn::train
