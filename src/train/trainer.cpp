#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/dropout.hpp"
#include "nn/losses.hpp"
#include "nn/norm.hpp"
#include "nn/optim.hpp"
#include "nn/seed_mix.hpp"
#include "parallel/deal.hpp"
#include "train/optimizer_factory.hpp"
#include "train/training_log.hpp"

namespace matnn::train {
namespace {

// Groups of the checkpoint that the trainer owns; a caller's extra state must use other names.
constexpr const char* group_model = "trainer.model";
constexpr const char* group_best = "trainer.best";
constexpr const char* group_optimizer = "trainer.optimizer";
constexpr const char* group_schedule = "trainer.schedule";
constexpr const char* group_ema = "trainer.ema";
constexpr const char* group_progress = "trainer.progress";

// Nearby (seed, epoch) pairs give unrelated streams.
std::uint64_t mix(std::uint64_t seed, std::uint64_t value) { return nn::splitmix64(seed + 0x9E3779B97F4A7C15ULL * value); }

// One Kalman update of a data-parallel run: each rank measures its samples `local` of the batch
// (none is allowed) and takes their Jacobian rows, the ranks' rows and residuals are gathered in
// rank order on every rank, and every rank makes the same update, so the weights and the
// covariance stay identical on all ranks. Returns the batch's loss (the ranks' shares summed).
// A failure on any rank stops every rank with its message before the exchange. Adds the time
// spent waiting for the slowest rank's measurements and exchanging them to `waiting` and
// `exchanging` (seconds).
double kalman_update_over_ranks(nn::KalmanFilter& filter, TrainingTask& task, std::span<const std::size_t> batch,
                                const std::vector<std::size_t>& local, const MeasurementSelection& selection,
                                const parallel::Communicator& comm, double& waiting, double& exchanging) {
  using clock = std::chrono::steady_clock;
  const auto seconds_since = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };
  // Packed as: loss share, then per measurement its residual and its Jacobian row.
  std::vector<double> mine{0.0};
  std::exception_ptr failure;
  try {
    if (!local.empty()) {
      const Measurements measured = task.measurements(batch, local, selection);
      const Eigen::MatrixXd h = filter.jacobian(measured.residuals);
      const std::vector<double> r = measured.residuals.to_vector();
      mine[0] = measured.loss;
      for (Eigen::Index i = 0; i < h.rows(); ++i) {
        mine.push_back(r[static_cast<std::size_t>(i)]);
        for (Eigen::Index j = 0; j < h.cols(); ++j) mine.push_back(h(i, j));
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  const auto waited = clock::now();
  comm.rethrow_first(failure);
  waiting += seconds_since(waited);
  const auto exchanged = clock::now();
  const std::vector<std::vector<double>> all = comm.all_gather(std::span<const double>(mine));
  exchanging += seconds_since(exchanged);
  const auto n = static_cast<Eigen::Index>(filter.n_weights());
  Eigen::Index m = 0;
  double loss = 0.0;
  for (const auto& part : all) {
    loss += part.front();
    m += static_cast<Eigen::Index>(part.size() - 1) / (n + 1);
  }
  Eigen::MatrixXd h(m, n);
  Eigen::VectorXd r(m);
  Eigen::Index row = 0;
  for (const auto& part : all) {
    for (std::size_t at = 1; at < part.size(); at += static_cast<std::size_t>(n) + 1, ++row) {
      r[row] = part[at];
      for (Eigen::Index j = 0; j < n; ++j) h(row, j) = part[at + 1 + static_cast<std::size_t>(j)];
    }
  }
  filter.update(h, r);
  return loss;
}

// Every dropout layer gets a mask stream that depends on (seed, epoch, layer) only.
void reseed_dropout(nn::Module& module, std::uint64_t seed, int epoch, std::uint64_t& counter) {
  if (auto* dropout = dynamic_cast<nn::Dropout*>(&module)) dropout->reseed(mix(mix(seed, static_cast<std::uint64_t>(epoch)), counter++));
  for (auto& [name, child] : module.children()) reseed_dropout(*child, seed, epoch, counter);
}

nn::TrainingState group_state(const models::StateFile& file, const std::string& group) {
  nn::TrainingState state;
  if (auto it = file.tensors.find(group); it != file.tensors.end()) state.tensors = it->second;
  if (auto it = file.scalars.find(group); it != file.scalars.end()) state.scalars = it->second;
  return state;
}

void put_group(models::StateFile& file, const std::string& group, const nn::TrainingState& state) {
  if (!state.tensors.empty()) file.tensors[group] = state.tensors;
  if (!state.scalars.empty()) file.scalars[group] = state.scalars;
}

Json options_signature(const TrainerOptions& o) {
  // What must match for a checkpoint to belong to this run. Epoch count and paths may change.
  return {{"batch_size", o.batch_size}, {"clip_norm", o.clip_norm}, {"ema_decay", o.ema_decay},
          {"l2", o.l2},                 {"seed", o.seed},           {"optimizer", o.optimizer},
          {"schedule", o.schedule},     {"frozen", o.frozen}};
}

nn::NamedTensors trained_parameters(const nn::NamedTensors& all, const std::vector<std::string>& frozen) {
  if (frozen.empty()) return all;
  nn::NamedTensors out;
  std::vector<bool> used(frozen.size(), false);
  for (const auto& [name, tensor] : all) {
    bool keep = true;
    for (std::size_t k = 0; k < frozen.size(); ++k) {
      if (name.starts_with(frozen[k])) {
        keep = false;
        used[k] = true;
      }
    }
    if (keep) out.emplace_back(name, tensor);
  }
  for (std::size_t k = 0; k < frozen.size(); ++k) {
    if (!used[k]) fail(MATNN_ERROR_INVALID_ARGUMENT, "frozen prefix \"{}\" matches no parameter of the model", frozen[k]);
  }
  if (out.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "every parameter is frozen: nothing to train");
  return out;
}

// The Kalman filter fits weights to measurements directly: settings that only make sense for a
// gradient step would be silently ignored, so they are refused.
void check_kalman_options(const TrainerOptions& o) {
  if (o.clip_norm > 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "training.clip_norm has no meaning with optimizer kalman");
  if (o.l2 > 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "training.l2 has no meaning with optimizer kalman");
  if (o.schedule.is_object() && !o.schedule.empty() &&
      !(o.schedule.size() == 1 && o.schedule.contains("name") && o.schedule["name"] == "constant")) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "a learning-rate schedule has no meaning with optimizer kalman (its step size is set by eta0, eta_max and "
         "eta_growth); remove the schedule section");
  }
}

using nn::BatchNorm1d;

void collect_batch_norms(nn::Module& module, std::vector<BatchNorm1d*>& out) {
  if (auto* norm = dynamic_cast<BatchNorm1d*>(&module)) out.push_back(norm);
  for (auto& [name, child] : module.children()) collect_batch_norms(*child, out);
}

// Batch normalisation over the rows of all ranks for the lifetime of a training run.
class SynchronisedNorms {
 public:
  SynchronisedNorms(const std::vector<BatchNorm1d*>& norms, const parallel::Communicator& comm) : norms_(norms) {
    for (BatchNorm1d* n : norms_) n->synchronise(&comm);
  }
  ~SynchronisedNorms() {
    for (BatchNorm1d* n : norms_) n->synchronise(nullptr);
  }
  SynchronisedNorms(const SynchronisedNorms&) = delete;
  SynchronisedNorms& operator=(const SynchronisedNorms&) = delete;

  void begin_step() const {
    for (BatchNorm1d* n : norms_) n->begin_step();
  }
  /// After this rank failed within a step: the one flagged collective the others may wait in
  /// (norm.hpp), so that they stop there with parallel::PeerFailure.
  void release_after_failure() const {
    for (BatchNorm1d* n : norms_) {
      if (!n->forward_made()) return n->join_failed_forward();
    }
    for (auto n = norms_.rbegin(); n != norms_.rend(); ++n) {
      if (!(*n)->backward_made()) return (*n)->join_failed_backward();
    }
  }

 private:
  std::vector<BatchNorm1d*> norms_;
};

// Sums the gradients of `params` and the batch loss over the ranks in one buffer: a gradient per
// parameter, then a flag per parameter (whether any rank has a gradient for it: one that none has
// stays undefined, so the optimiser skips it exactly as a serial step would), then the loss.
double sum_over_ranks(const nn::NamedTensors& params, double loss, const parallel::Communicator& comm) {
  std::vector<double> buffer;
  for (const auto& [name, p] : params) {
    const ad::Tensor g = p.grad();
    if (g.defined()) {
      const std::vector<double> values = g.to_vector();
      buffer.insert(buffer.end(), values.begin(), values.end());
    } else {
      buffer.insert(buffer.end(), static_cast<std::size_t>(p.numel()), 0.0);
    }
  }
  for (const auto& [name, p] : params) buffer.push_back(p.grad().defined() ? 1.0 : 0.0);
  buffer.push_back(loss);
  comm.sum(buffer);
  std::size_t offset = 0;
  const std::size_t flags = buffer.size() - 1 - params.size();
  for (std::size_t k = 0; k < params.size(); ++k) {
    const ad::Tensor& p = params[k].second;
    const auto n = static_cast<std::size_t>(p.numel());
    if (buffer[flags + k] > 0) {
      const std::vector<double> g(buffer.begin() + static_cast<std::ptrdiff_t>(offset),
                                  buffer.begin() + static_cast<std::ptrdiff_t>(offset + n));
      p.set_grad(ad::to(ad::from_vector(g, p.shape()), p.dtype()));
    }
    offset += n;
  }
  return buffer.back();
}

}  // namespace

// Rank 0's metrics on every rank, so that the best epoch, early stopping and the schedule decide
// the same everywhere (every rank validated the same weights on the same data).
std::map<std::string, double> TrainingTask::validate_over(const parallel::Communicator& comm) {
  std::map<std::string, double> metrics = validate();
  std::vector<double> values;
  for (const auto& [name, value] : metrics) values.push_back(value);
  comm.broadcast(values);
  std::size_t k = 0;
  for (auto& [name, value] : metrics) value = values[k++];
  return metrics;
}

ad::Tensor TrainingTask::shard_loss(std::span<const std::size_t> batch, std::span<const std::size_t> local) {
  return ad::mul(batch_loss(local), static_cast<double>(local.size()) / static_cast<double>(batch.size()));
}

Measurements TrainingTask::measurements(std::span<const std::size_t>, std::span<const std::size_t>,
                                        const MeasurementSelection&) {
  fail(MATNN_ERROR_UNSUPPORTED, "this model cannot be trained with optimizer kalman (use adam)");
}

std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t seed, int epoch) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(mix(seed, static_cast<std::uint64_t>(epoch)));
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(rng() % i)]);
  return order;
}

TrainerOptions TrainerOptions::from_config(const ConfigSection& training, const Json& optimizer, const Json& schedule) {
  TrainerOptions o;
  // A million epochs is years on any machine: a larger count is a typo, refused before any work.
  constexpr std::int64_t max_epochs = 1000000;
  const std::int64_t epochs = training.integer("epochs", o.epochs, 1);
  if (epochs > max_epochs)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.epochs must be at most {}, got {}", training.path(), max_epochs, epochs);
  o.epochs = static_cast<int>(epochs);
  o.batch_size = static_cast<std::size_t>(training.integer("batch_size", static_cast<std::int64_t>(o.batch_size), 1));
  o.early_stopping = static_cast<int>(training.integer("early_stopping", o.early_stopping, 0));
  o.clip_norm = training.positive("clip_norm", o.clip_norm, true);
  o.ema_decay = training.number("ema_decay", o.ema_decay);
  if (o.ema_decay < 0 || o.ema_decay >= 1) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.ema_decay must be in [0, 1), got {}", training.path(), o.ema_decay);
  }
  o.l2 = training.positive("l2", o.l2, true);
  o.optimizer = optimizer.is_null() ? Json::object() : optimizer;
  o.schedule = schedule.is_null() ? Json::object() : schedule;
  // The optimiser and schedule sections are checked now, with no parameters, so that a bad value
  // (a negative or NaN learning rate, an unknown name) is refused before the data are read.
  if (is_kalman(o.optimizer)) {
    check_kalman_options(o);
    (void)kalman_settings(o.optimizer);
  } else {
    const auto checked = make_optimizer(o.optimizer, {});
    (void)make_schedule(o.schedule, checked->learning_rate(), o.epochs);
  }
  return o;
}

Trainer::Trainer(TrainerOptions options) : options_(std::move(options)) {
  if (options_.epochs < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "training needs at least one epoch");
  if (options_.batch_size < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "batch_size must be at least 1");
}

TrainResult Trainer::run(TrainingTask& task, bool resume, const EpochCallback& on_epoch,
                         const models::StateFile& checkpoint_extra) {
  nn::Module& module = task.module();
  const nn::NamedTensors params = trained_parameters(module.named_parameters(), options_.frozen);
  const parallel::Communicator& comm = options_.communicator;
  const bool data_parallel = comm.size() > 1;
  const bool root = comm.is_root();
  // Each mini-batch is dealt to the ranks by cost, preferring the rank that holds each sample
  // (parallel/deal.hpp), so every rank's share of every step costs about the same: fixed owners of samples leave a random split per batch (with
  // 4 samples on 2 ranks, a quarter of each step spent waiting). Batch normalisation over all
  // ranks' rows makes every forward and backward pass a collective that every rank must join: a
  // rank left without a sample (a batch smaller than the rank count) joins with no rows.
  std::vector<BatchNorm1d*> norms;
  if (data_parallel) collect_batch_norms(module, norms);
  std::vector<double> costs;
  std::vector<int> homes;
  if (data_parallel) {
    costs.resize(task.train_size());
    homes.resize(task.train_size());
    for (std::size_t i = 0; i < costs.size(); ++i) {
      costs[i] = task.sample_cost(i);
      homes[i] = task.sample_home(i);
    }
  }
  const SynchronisedNorms synchronised(norms, comm);
  const bool print = options_.print_progress && root;
  // Either a gradient optimiser with a learning-rate schedule or the Kalman filter.
  std::unique_ptr<nn::Optimizer> optimizer;
  std::unique_ptr<nn::LrSchedule> schedule;
  std::unique_ptr<nn::KalmanFilter> filter;
  MeasurementSelection selection;
  if (is_kalman(options_.optimizer)) {
    check_kalman_options(options_);
    const KalmanSettings settings = kalman_settings(options_.optimizer);
    const std::size_t batches = (task.train_size() + options_.batch_size - 1) / options_.batch_size;
    filter = std::make_unique<nn::KalmanFilter>(params, settings.filter, batches);
    if (data_parallel) {
      filter->distribute(comm);  // each rank keeps a share of every covariance block
      if (root && options_.batch_size < static_cast<std::size_t>(comm.size())) {
        fmt::print(stderr,
                   "matnn: warning: optimizer kalman on {} ranks with training.batch_size {}: each update measures {} "
                   "structure(s), so {} rank(s) measure nothing and only share the covariance work; a batch_size of "
                   "at least {} keeps every rank measuring (n2p2's parallel mode)\n",
                   comm.size(), options_.batch_size, options_.batch_size,
                   static_cast<std::size_t>(comm.size()) - options_.batch_size, comm.size());
      }
    }
    selection = settings.selection;
  } else {
    optimizer = make_optimizer(options_.optimizer, params);
    schedule = make_schedule(options_.schedule, optimizer->learning_rate(), options_.epochs);
    optimizer->set_learning_rate(schedule->initial_rate());
  }
  std::unique_ptr<nn::WeightEma> ema;
  if (options_.ema_decay > 0) ema = std::make_unique<nn::WeightEma>(params, options_.ema_decay, true);

  TrainResult result;
  result.best_loss = std::numeric_limits<double>::infinity();
  std::map<std::string, ad::Tensor> best_state;
  int first_epoch = 0, bad_epochs = 0;

  if (resume && !options_.checkpoint_path.empty() && std::filesystem::exists(options_.checkpoint_path)) {
    models::StateFile cp = models::read_state_file(options_.checkpoint_path, models::checkpoint_format, "training");
    if (cp.config.value("options", Json()) != options_signature(options_)) {
      fail(MATNN_ERROR_MODEL, "{}: checkpoint belongs to a run with other training options ({} here, {} there)",
           options_.checkpoint_path, options_signature(options_).dump(), cp.config.value("options", Json()).dump());
    }
    // A changed epoch count is allowed (to extend a run), but not silently: whatever is laid out
    // over the epochs (a cosine schedule, a second loss stage) now spans the new count.
    const int saved_epochs = cp.config.value("epochs", options_.epochs);
    if (saved_epochs != options_.epochs) {
      fmt::print(stderr,
                 "matnn: warning: {}: the checkpoint's run had {} epochs and this one has {}; schedules and loss "
                 "stages laid out over the epochs follow the new count from here, so the result will differ from "
                 "a run started with {}\n",
                 options_.checkpoint_path, saved_epochs, options_.epochs, options_.epochs);
    }
    module.load_state(cp.tensors.at(group_model));
    best_state = cp.tensors.at(group_best);
    if (filter) {
      filter->load_state(group_state(cp, group_optimizer));
    } else {
      optimizer->load_state(group_state(cp, group_optimizer));
      schedule->load_state(group_state(cp, group_schedule));
      optimizer->set_learning_rate(schedule->learning_rate());
    }
    if (ema) ema->load_state(group_state(cp, group_ema));
    const auto& progress = cp.scalars.at(group_progress);
    first_epoch = static_cast<int>(progress.at("next_epoch"));
    bad_epochs = static_cast<int>(progress.at("bad_epochs"));
    result.best_epoch = static_cast<int>(progress.at("best_epoch"));
    result.best_loss = progress.at("best_loss");
    result.history = history_from_json(cp.config.at("history"));
    if (print) {
      fmt::print("{}resumed from {} at epoch {}\n", options_.label.empty() ? "" : options_.label + "  ",
                 options_.checkpoint_path, first_epoch + 1);
    }
  }

  double seconds_total = 0.0;
  int epochs_timed = 0;
  for (int epoch = first_epoch; epoch < options_.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    if (task.begin_epoch(epoch) && optimizer) optimizer->restart();
    module.train();
    std::uint64_t dropout_counter = 0;
    reseed_dropout(module, options_.seed, epoch, dropout_counter);

    const std::vector<std::size_t> order = epoch_order(task.train_size(), options_.seed, epoch);
    double loss_sum = 0.0;
    // Where a data-parallel epoch's time goes, as rank 0 sees it (printed with the progress).
    double waiting_seconds = 0.0, summing_seconds = 0.0, validation_seconds = 0.0;
    const auto seconds_since = [](std::chrono::steady_clock::time_point t) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    };
    // This rank's samples of a batch in a data-parallel run.
    const auto dealt = [&](std::span<const std::size_t> batch) {
      std::vector<double> batch_costs;
      std::vector<int> batch_homes;
      for (std::size_t i : batch) {
        batch_costs.push_back(costs[i]);
        batch_homes.push_back(homes[i]);
      }
      std::vector<std::size_t> local;
      for (std::size_t k : parallel::dealt_to(batch_costs, batch_homes, comm.size(), comm.rank())) local.push_back(batch[k]);
      return local;
    };
    for (std::size_t begin = 0; begin < order.size(); begin += options_.batch_size) {
      const std::size_t end = std::min(order.size(), begin + options_.batch_size);
      const std::span<const std::size_t> batch(order.data() + begin, end - begin);
      if (filter) {
        selection.seed = mix(mix(options_.seed, static_cast<std::uint64_t>(epoch)), begin);
        if (!data_parallel) {
          const Measurements measured = task.measurements(batch, batch, selection);
          loss_sum += measured.loss * static_cast<double>(batch.size());
          filter->update(measured.residuals);
        } else {
          loss_sum += kalman_update_over_ranks(*filter, task, batch, dealt(batch), selection, comm, waiting_seconds,
                                               summing_seconds) *
                      static_cast<double>(batch.size());
        }
        if (ema) ema->update();
        continue;
      }
      optimizer->zero_grad();
      if (data_parallel) {
        const std::vector<std::size_t> local = dealt(batch);
        double share = 0.0;
        // A failure in this rank's share stops every rank, with its message, at the step's end
        // instead of leaving the others waiting for its gradients, or in a synchronised batch
        // normalisation's collective (released with a failure flag).
        std::exception_ptr failure;
        synchronised.begin_step();
        try {
          if (!local.empty()) {
            ad::Tensor loss = task.shard_loss(batch, local);
            share = loss.item();
            ad::backward(loss);
          } else if (!norms.empty()) {
            // A batch smaller than the rank count: this rank has no sample, but the others' batch
            // normalisation waits for its (empty) share.
            for (BatchNorm1d* n : norms) n->forward_without_rows();
            for (auto n = norms.rbegin(); n != norms.rend(); ++n) (*n)->backward_without_rows();
          }
        } catch (const parallel::PeerFailure&) {
          // Another rank failed in this step; rethrow_first() below reports its error.
        } catch (...) {
          failure = std::current_exception();
          synchronised.release_after_failure();
        }
        const auto waiting = std::chrono::steady_clock::now();
        comm.rethrow_first(failure);
        waiting_seconds += seconds_since(waiting);
        // The penalty is one term of the global loss: one rank adds it.
        if (options_.l2 > 0 && root) ad::backward(ad::mul(nn::l2_penalty(params), options_.l2));
        const auto summing = std::chrono::steady_clock::now();
        loss_sum += sum_over_ranks(params, share, comm) * static_cast<double>(batch.size());
        summing_seconds += seconds_since(summing);
      } else {
        ad::Tensor loss = task.batch_loss(batch);
        loss_sum += loss.item() * static_cast<double>(batch.size());
        if (options_.l2 > 0) loss = ad::add(loss, ad::mul(nn::l2_penalty(params), options_.l2));
        ad::backward(loss);
      }
      if (options_.clip_norm > 0) nn::clip_grad_norm(params, options_.clip_norm);
      optimizer->step();
      if (ema) ema->update();
    }

    EpochRecord record;
    record.epoch = epoch;
    record.train_loss = order.empty() ? 0.0 : loss_sum / static_cast<double>(order.size());
    module.eval();
    double validation_loss = record.train_loss;
    {
      std::unique_ptr<nn::WeightEma::Scope> averaged;
      if (ema) averaged = std::make_unique<nn::WeightEma::Scope>(*ema);
      ad::NoGradGuard no_grad;
      const auto validating = std::chrono::steady_clock::now();
      record.validation = task.validate_over(comm);
      validation_seconds = seconds_since(validating);
      if (auto it = record.validation.find("loss"); it != record.validation.end()) validation_loss = it->second;
      if (validation_loss < result.best_loss || result.best_epoch < 0) {
        result.best_loss = validation_loss;
        result.best_epoch = epoch;
        best_state = module.state();
        bad_epochs = 0;
      } else {
        ++bad_epochs;
      }
    }
    if (filter) {
      record.learning_rate = filter->eta();  // the filter's step-size analogue
    } else {
      record.learning_rate = optimizer->learning_rate();
      optimizer->set_learning_rate(schedule->on_epoch_end(epoch, validation_loss));
    }
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    seconds_total += record.seconds;
    ++epochs_timed;
    result.history.push_back(record);

    if (print) {
      fmt::print("{}\n", progress_line(record, options_.epochs, seconds_total / epochs_timed, options_.label));
      // Where the epoch went: the steps (with, on several ranks, the time rank 0 waited for the
      // slowest rank's share and spent summing gradients) and validation.
      if (data_parallel) {
        fmt::print("  time on rank 0 of {}: {:.3f} s steps ({:.3f} s waiting for the slowest rank, {:.3f} s {}), "
                   "{:.3f} s validating\n",
                   comm.size(), record.seconds - validation_seconds, waiting_seconds, summing_seconds,
                   filter ? "gathering measurements" : "summing gradients", validation_seconds);
      } else {
        fmt::print("  time: {:.3f} s steps, {:.3f} s validating\n", record.seconds - validation_seconds, validation_seconds);
      }
      std::fflush(stdout);
    }
    if (!options_.log_path.empty() && root) write_csv_log(options_.log_path, result.history);
    // A distributed filter's covariance blocks are gathered from their ranks (a collective).
    std::optional<nn::TrainingState> filter_state;
    if (filter && !options_.checkpoint_path.empty()) filter_state = filter->state();
    if (!options_.checkpoint_path.empty() && root) {
      models::StateFile cp = checkpoint_extra;
      cp.format = models::checkpoint_format;
      cp.kind = "training";
      cp.config["options"] = options_signature(options_);
      cp.config["epochs"] = options_.epochs;
      cp.config["history"] = history_to_json(result.history);
      for (const char* group : {group_model, group_best, group_optimizer, group_schedule, group_ema, group_progress}) {
        if (cp.tensors.count(group) || cp.scalars.count(group)) {
          fail(MATNN_ERROR_INTERNAL, "checkpoint extra state uses the trainer's group name {}", group);
        }
      }
      cp.tensors[group_model] = module.state();
      cp.tensors[group_best] = best_state;
      if (filter) {
        put_group(cp, group_optimizer, *filter_state);
      } else {
        put_group(cp, group_optimizer, optimizer->state());
        put_group(cp, group_schedule, schedule->state());
      }
      if (ema) put_group(cp, group_ema, ema->state());
      cp.scalars[group_progress] = {{"next_epoch", epoch + 1},
                                    {"bad_epochs", bad_epochs},
                                    {"best_epoch", result.best_epoch},
                                    {"best_loss", result.best_loss}};
      models::write_state_file(options_.checkpoint_path, cp);
    }
    // A host may cancel on any rank; all ranks stop together.
    const bool go_on = on_epoch ? on_epoch(record) : true;
    if (!(data_parallel ? comm.all(go_on) : go_on)) {
      fail(MATNN_ERROR_CANCELLED, "training cancelled after epoch {}", epoch + 1);
    }
    if (options_.early_stopping > 0 && bad_epochs >= options_.early_stopping) {
      result.stopped_early = true;
      if (print) {
        fmt::print("{}early stop: no validation improvement for {} epochs (best epoch {})\n",
                   options_.label.empty() ? "" : options_.label + "  ", bad_epochs, result.best_epoch + 1);
      }
      break;
    }
  }
  if (!best_state.empty()) module.load_state(best_state);
  module.eval();
  return result;
}

}  // namespace matnn::train
