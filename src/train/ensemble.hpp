// Training an ensemble: members one after another with seeds seed, seed+1, ..., each through the
// shared Trainer. The checkpoint carries the finished members, so a resumed job keeps them and
// continues the member that was interrupted.
//
// With members_over_ranks (`matnn train --ensemble-parallel` under mpirun), the members are
// instead spread over the ranks of the trainer's communicator: rank r trains members r, r + N,
// ... alone, each with its own checkpoint (<checkpoint>.member<k>) and log, so a resume at any
// rank count finds every member's state. At the end every rank receives every member's weights
// from the rank that trained it, so the job writes one model file as usual. An ensemble of M
// members on N ranks runs M / N members' time instead of the data-parallel run's M members at
// 1 / N each; the members are independent, so nothing is exchanged until the end.
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
  bool members_over_ranks = false;  ///< see the file comment; needs trainer.communicator with > 1 rank
};

/// Trains `n_members` modules. `task_for(k)` gives member k's task (whose module() is the member).
void train_ensemble(std::size_t n_members, const std::function<std::unique_ptr<TrainingTask>(std::size_t)>& task_for,
                    const EnsembleOptions& options);

/// Removes an ensemble run's checkpoints (the run's and, from members_over_ranks, each member's)
/// once the model file holds everything.
void remove_checkpoints(const std::string& checkpoint_path, std::size_t n_members);

}  // namespace matnn::train
