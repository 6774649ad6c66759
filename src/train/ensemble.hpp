// Training an ensemble: members one after another with seeds seed, seed+1, ..., each through the
// shared Trainer. The checkpoint carries the finished members, so a resumed job keeps them and
// continues the member that was interrupted.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "train/trainer.hpp"

namespace matnn::train {

struct EnsembleOptions {
  TrainerOptions trainer;          ///< seed and paths apply to the whole ensemble
  std::string checkpoint_path;
  std::string log_path;            ///< one log per member ("<log>.memberK.csv") when there are several
  bool resume = false;
  bool print_progress = true;
  EpochCallback on_epoch;
};

/// Trains `n_members` modules. `task_for(k)` gives member k's task (whose module() is the member).
void train_ensemble(std::size_t n_members, const std::function<std::unique_ptr<TrainingTask>(std::size_t)>& task_for,
                    const EnsembleOptions& options);

}  // namespace matnn::train
