#include "train/ensemble.hpp"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::train {
namespace {

std::string member_checkpoint(const std::string& checkpoint_path, std::size_t k) {
  return fmt::format("{}.member{}", checkpoint_path, k);
}

std::string member_log(const EnsembleOptions& options, std::size_t n_members, std::size_t k) {
  return options.log_path.empty() || n_members == 1 ? options.log_path
                                                    : fmt::format("{}.member{}.csv", options.log_path, k);
}

// Member k's weights, from the rank that trained it, on every rank. Every rank holds an
// identically shaped member (the job built them all), so only the values travel.
void share_member(nn::Module& member, int owner, const parallel::Communicator& comm) {
  std::map<std::string, ad::Tensor> state = member.state();
  std::vector<double> values;
  for (const auto& [name, t] : state) {
    const std::vector<double> v = t.to_vector();
    values.insert(values.end(), v.begin(), v.end());
  }
  comm.broadcast(values, owner);
  std::size_t offset = 0;
  for (auto& [name, t] : state) {
    const auto n = static_cast<std::size_t>(t.numel());
    const std::vector<double> v(values.begin() + static_cast<std::ptrdiff_t>(offset),
                                values.begin() + static_cast<std::ptrdiff_t>(offset + n));
    t = ad::to(ad::from_vector(v, t.shape()), t.dtype());
    offset += n;
  }
  member.load_state(state);
}

// See the file comment. A failure on any rank is thrown on every rank once each has finished its
// own members.
void train_members_over_ranks(std::size_t n_members,
                              const std::function<std::unique_ptr<TrainingTask>(std::size_t)>& task_for,
                              const EnsembleOptions& options) {
  const parallel::Communicator& comm = options.trainer.communicator;
  const auto ranks = static_cast<std::size_t>(comm.size()), rank = static_cast<std::size_t>(comm.rank());
  if (n_members < ranks && comm.is_root()) {
    std::fprintf(stderr, "matnn: warning: %zu ensemble member(s) over %zu ranks: ranks %zu to %zu have none to train\n",
                 n_members, ranks, n_members, ranks - 1);
  }
  std::exception_ptr failure;
  try {
    for (std::size_t k = rank; k < n_members; k += ranks) {
      TrainerOptions o = options.trainer;
      o.communicator = parallel::Communicator();
      o.seed = options.trainer.seed + k;
      o.checkpoint_path = options.checkpoint_path.empty() ? "" : member_checkpoint(options.checkpoint_path, k);
      o.log_path = member_log(options, n_members, k);
      o.print_progress = options.print_progress && comm.is_root();
      o.label = fmt::format("member {}/{}", k + 1, n_members);
      const std::unique_ptr<TrainingTask> task = task_for(k);
      const std::string done = "done.member." + std::to_string(k);
      if (options.resume && !o.checkpoint_path.empty() && std::filesystem::exists(o.checkpoint_path)) {
        const models::StateFile cp = models::read_state_file(o.checkpoint_path, models::checkpoint_format, "training");
        if (const auto it = cp.tensors.find(done); it != cp.tensors.end()) {
          task->module().load_state(it->second);  // finished before the interruption
          continue;
        }
      }
      Trainer trainer(o);
      trainer.run(*task, options.resume, options.on_epoch);
      if (!o.checkpoint_path.empty()) {
        models::StateFile finished;
        finished.format = models::checkpoint_format;
        finished.kind = "training";
        finished.tensors[done] = task->module().state();
        models::write_state_file(o.checkpoint_path, finished);
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm.rethrow_first(failure);
  for (std::size_t k = 0; k < n_members; ++k) share_member(task_for(k)->module(), static_cast<int>(k % ranks), comm);
}

}  // namespace

void train_ensemble(std::size_t n_members, const std::function<std::unique_ptr<TrainingTask>(std::size_t)>& task_for,
                    const EnsembleOptions& options) {
  if (options.members_over_ranks && options.trainer.communicator.size() > 1) {
    train_members_over_ranks(n_members, task_for, options);
    return;
  }
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
    o.log_path = member_log(options, n_members, k);
    o.print_progress = options.print_progress;
    o.label = n_members == 1 ? "" : fmt::format("member {}/{}", k + 1, n_members);
    extra.scalars["ensemble"] = {{"current", static_cast<double>(k)}};
    const std::unique_ptr<TrainingTask> task = task_for(k);
    Trainer trainer(o);
    trainer.run(*task, options.resume && k == first_member, options.on_epoch, extra);
    extra.tensors["done.member." + std::to_string(k)] = task->module().state();
  }
}

void remove_checkpoints(const std::string& checkpoint_path, std::size_t n_members) {
  if (checkpoint_path.empty()) return;
  std::filesystem::remove(checkpoint_path);
  for (std::size_t k = 0; k < n_members; ++k) std::filesystem::remove(member_checkpoint(checkpoint_path, k));
}

}  // namespace matnn::train
