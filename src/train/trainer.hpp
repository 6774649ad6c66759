// The training loop every model family shares: mini-batch gradient descent with an optimiser,
// a learning-rate schedule, optional gradient clipping, weight averaging and L2 penalty, early
// stopping on the validation loss, a checkpoint written atomically after every epoch, terminal
// progress with an estimate of the time left, and a CSV log.
//
// A model family plugs in through TrainingTask: it computes the loss of a mini-batch and
// validates; the trainer owns everything about the optimisation. Runs are deterministic: the
// mini-batch order of epoch e and every dropout mask stream are functions of (seed, e) only, so
// a run resumed from the checkpoint of epoch e continues exactly as the uninterrupted run would.
//
// Data-parallel training (TrainerOptions::communicator with several MPI ranks): every rank walks
// the same mini-batches; each batch is dealt to the ranks by sample_cost and sample_home, and a rank computes the
// loss share of its samples of the batch (shard_loss). The gradients and
// losses of all ranks are summed in one buffer per step, and every rank takes the same optimiser
// step, so the ranks keep bit-identical weights and the run equals the serial one up to the order
// of floating-point sums. Only rank 0 prints, logs and writes checkpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "models/state_file.hpp"
#include "nn/module.hpp"
#include "parallel/communicator.hpp"
#include "train/config.hpp"

namespace matnn::train {

/// Which measurements a task hands to one Kalman-filter update (optimizer.name kalman): as n2p2
/// does, every labelled energy of the batch and a few force and stress components per structure,
/// preferring components whose error is at least `threshold` times the structure's RMS error.
struct MeasurementSelection {
  std::size_t forces_per_structure = 4;
  std::size_t stress_per_structure = 1;
  double threshold = 1.0;
  std::uint64_t seed = 0;  ///< the random choice of components; set by the trainer per batch
};

/// Measurements for a Kalman-filter update.
struct Measurements {
  ad::Tensor residuals;  ///< (m) weighted, normalised prediction-minus-reference values, graph recorded
  double loss = 0.0;     ///< the batch's loss, as batch_loss() would give it, for the log
};

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  /// Number of training samples; mini-batches are index lists into 0..train_size()-1.
  virtual std::size_t train_size() const = 0;
  /// Loss of one mini-batch with the graph recorded (the module is in training mode).
  virtual ad::Tensor batch_loss(std::span<const std::size_t> batch) = 0;
  /// Validation metrics (the module is in evaluation mode, nothing recorded). Must contain
  /// "loss", the quantity early stopping and ReduceOnPlateau watch. Empty: no validation set.
  virtual std::map<std::string, double> validate() = 0;
  /// validate() on every rank of `comm` (the trainer calls this; one rank in a serial run),
  /// returning the same metrics on all. The default has every rank validate everything and keeps
  /// rank 0's numbers; a task
  /// that shares the validation samples among the ranks overrides it, and must give the serial
  /// metrics up to the order of sums.
  virtual std::map<std::string, double> validate_over(const parallel::Communicator& comm);
  /// The trained module.
  virtual nn::Module& module() = 0;
  /// Called before every epoch, also after a resume, so a task whose loss changes during the
  /// run (loss weights raised late, as in MACE's second stage) is a function of the epoch only.
  /// Returns true when the loss from this epoch on is another function than the previous
  /// epoch's: the trainer then restarts a gradient optimiser's running statistics, which
  /// describe the old loss (Adam's second moments, kept from a loss 100 times smaller, would
  /// otherwise make its first steps on the new one up to 100 times too long).
  virtual bool begin_epoch(int /*epoch*/) { return false; }
  /// Measurements of the samples `local` of mini-batch `batch` (local is a non-empty subset of
  /// batch; all of it in a serial run) for the Kalman filter, with the graph recorded. A
  /// sample's measurements and its random choice of components depend on the sample and its
  /// place in the batch only, so the ranks of a data-parallel run, each measuring its share,
  /// together make the serial update's measurements (in another order), and the loss shares
  /// sum to the batch's. A task that is not a least-squares fit (or does not support the
  /// filter) keeps this default, which fails with MATNN_ERROR_UNSUPPORTED.
  virtual Measurements measurements(std::span<const std::size_t> batch, std::span<const std::size_t> local,
                                    const MeasurementSelection& selection);
  /// Relative cost of training sample i (its atom count, for instance), by which each batch's
  /// samples are dealt to the ranks of a data-parallel run. Default: 1 (equal counts).
  virtual double sample_cost(std::size_t /*i*/) const { return 1.0; }
  /// The rank that holds training sample i in memory, where it costs no read: the dealing keeps
  /// samples there as far as even shares allow (parallel/deal.hpp). Default -1: every rank
  /// holds every sample.
  virtual int sample_home(std::size_t /*i*/) const { return -1; }
  /// One rank's share of the loss of mini-batch `batch`: the loss of its samples `local` (a
  /// non-empty subset of `batch`) normalised as the whole batch is, so that the shares of all
  /// ranks sum to batch_loss(batch). The default, batch_loss(local) * |local| / |batch|, is exact
  /// for a loss that is a mean over samples; a task whose loss is normalised otherwise (per atom,
  /// per force component) overrides it.
  virtual ad::Tensor shard_loss(std::span<const std::size_t> batch, std::span<const std::size_t> local);
};

/// Settings of a run; from_config() reads them from the "training", "optimizer" and "schedule"
/// sections of a config (see docs/training-config.md).
struct TrainerOptions {
  int epochs = 100;
  std::size_t batch_size = 32;
  int early_stopping = 0;      ///< stop after this many epochs without validation improvement; 0: never
  double clip_norm = 0.0;      ///< clip the gradient norm to this; 0: no clipping
  double ema_decay = 0.0;      ///< exponential moving average of weights; 0: none
  double l2 = 0.0;             ///< lambda of L = L_data + lambda ||W||^2 (weights only)
  std::uint64_t seed = 0;
  Json optimizer = Json::object();  ///< {"name": "adamw", "lr": 1e-3, "weight_decay": 1e-4, ...}
  Json schedule = Json::object();   ///< {"name": "plateau", "factor": 0.5, "patience": 10, ...}
  std::string checkpoint_path;      ///< written after every epoch; empty: no checkpoints
  std::string log_path;             ///< CSV log; empty: none
  bool print_progress = true;
  std::string label;                ///< prefix of progress lines, e.g. "member 2/5"
  /// Parameters whose dotted name starts with one of these are not trained (fine-tuning with
  /// frozen parts). A prefix that matches no parameter is an error.
  std::vector<std::string> frozen;
  /// The ranks that train together (see the top of this file); default: one rank.
  parallel::Communicator communicator;

  static TrainerOptions from_config(const ConfigSection& training, const Json& optimizer, const Json& schedule);
};

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0.0;
  std::map<std::string, double> validation;
  double learning_rate = 0.0;
  double seconds = 0.0;
};

struct TrainResult {
  std::vector<EpochRecord> history;
  int best_epoch = -1;       ///< epoch whose weights the module holds at the end (-1: last)
  double best_loss = 0.0;
  bool stopped_early = false;
};

/// Called after every epoch; return false to stop (the host's cancel button). The checkpoint of
/// that epoch is already written when it is called.
using EpochCallback = std::function<bool(const EpochRecord&)>;

class Trainer {
 public:
  explicit Trainer(TrainerOptions options);

  /// Trains `task`. With `resume` the run continues from options.checkpoint_path when that
  /// file exists (MATNN_ERROR_MODEL if it belongs to another run). Extra state a caller wants
  /// in every checkpoint (e.g. finished ensemble members) goes in `checkpoint_extra` (the caller
  /// reads it back from the checkpoint file, as train_ensemble does). At the end the module holds the weights of the best
  /// validation epoch (the weight average if EMA is on). Throws MATNN_ERROR_CANCELLED when the
  /// callback stopped the run.
  TrainResult run(TrainingTask& task, bool resume = false, const EpochCallback& on_epoch = {},
                  const models::StateFile& checkpoint_extra = {});

 private:
  TrainerOptions options_;
};

/// Deterministic permutation of 0..n-1 for (seed, epoch).
std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t seed, int epoch);

}  // namespace matnn::train
