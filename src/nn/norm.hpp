// Normalisation layers: LayerNorm (per sample, over features) and BatchNorm1d (per feature,
// over the batch, with running statistics for evaluation).
//
// Affine parameters are named "gamma" (scale, starts at 1) and "beta" (shift, starts at 0)
// rather than "weight"/"bias": by the library's convention only tensors whose name ends in
// "weight" receive weight decay or the L2 penalty (see losses.hpp), and decaying a
// normalisation scale towards 0 would fight the normalisation itself.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nn/module.hpp"
#include "parallel/communicator.hpp"

namespace matnn::nn {

/// y = (x - mean) / sqrt(var + eps) * gamma + beta, with mean and (biased) variance taken over
/// the last axis of x (..., features) for each sample separately; identical in training and
/// evaluation. Parameters (when affine): "gamma" (features), "beta" (features).
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t features, double eps = 1e-5, bool affine = true, ad::DType dtype = ad::DType::f32);

  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  int64_t features() const noexcept { return features_; }

 private:
  int64_t features_;
  double eps_;
  ad::Tensor gamma_;
  ad::Tensor beta_;
};

/// Batch normalisation of x (n, features), per feature:
///  - training: y = (x - mean_b) / sqrt(var_b + eps) with the batch mean and biased batch
///    variance (gradients flow through both statistics); then
///    running = (1 - momentum) * running + momentum * batch_statistic, using the unbiased
///    variance n / (n - 1) var_b for running_var. Needs n >= 2.
///  - evaluation: y = (x - running_mean) / sqrt(running_var + eps), a fixed affine map.
/// Then * gamma + beta when affine. Buffers: "running_mean" (features, starts at 0),
/// "running_var" (features, starts at 1). Parameters (when affine): "gamma", "beta".
///
/// Synchronised (data-parallel training on several MPI ranks, see synchronise()): the batch is
/// the union of every rank's rows, so the statistics in training, and the mean(dy) and
/// mean(dy x^) of the backward pass, are sums over all ranks; each rank's forward and backward
/// pass is then a collective, which every rank must make in the same order. gamma and beta get
/// the rank's own share of their gradient (the trainer sums the shares).
class BatchNorm1d : public Module {
 public:
  explicit BatchNorm1d(int64_t features, double momentum = 0.1, double eps = 1e-5, bool affine = true,
                       ad::DType dtype = ad::DType::f32);

  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "BatchNorm1d"; }
  int64_t features() const noexcept { return features_; }
  const ad::Tensor& running_mean() const noexcept { return running_mean_; }
  const ad::Tensor& running_var() const noexcept { return running_var_; }
  /// Normalise over the rows of all ranks of `comm` in training (null: this process's rows).
  /// The communicator must outlive the training that uses it.
  void synchronise(const parallel::Communicator* comm) noexcept { communicator_ = comm; }
  bool synchronised() const noexcept { return communicator_ != nullptr && communicator_->size() > 1; }
  /// A synchronised rank whose part of a mini-batch is empty makes, per layer, the collectives of
  /// a forward pass (in the order the layers run forward) and then of a backward pass (in reverse),
  /// with no rows, so that the other ranks' passes complete; its running statistics follow the
  /// batch's, as on every rank.
  void forward_without_rows();
  void backward_without_rows();

  /// A failure on one rank during a synchronised step must not leave the others waiting in one
  /// of this layer's collectives. Every collective carries a failure flag. The trainer calls
  /// begin_step() on the layers before each step; a rank that fails then makes, flagged, the
  /// first collective of the step it has not made (the forward pass's, in the order the layers
  /// run forward, then the backward pass's, in reverse): join_failed_forward() or
  /// join_failed_backward() of that layer. The other ranks are in that collective or on their
  /// way to it; they receive the flag there and throw parallel::PeerFailure, so every rank has
  /// made the same collectives and stops.
  struct StepProgress {
    bool forward = false, backward = false;  ///< this step's collectives made so far
  };
  void begin_step() noexcept { *progress_ = {}; }
  bool forward_made() const noexcept { return progress_->forward; }
  bool backward_made() const noexcept { return progress_->backward; }
  void join_failed_forward();
  void join_failed_backward();

 private:
  ad::Tensor batch_norm_inference(const ad::Tensor& x) const;
  void update_running_statistics(const std::vector<double>& mean, const std::vector<double>& var, double rows);

  const parallel::Communicator* communicator_ = nullptr;
  /// Shared with the backward pass of this step's graph, which makes the backward collective.
  std::shared_ptr<StepProgress> progress_ = std::make_shared<StepProgress>();
  int64_t features_;
  double momentum_;
  double eps_;
  ad::Tensor gamma_;
  ad::Tensor beta_;
  ad::Tensor running_mean_;
  ad::Tensor running_var_;
};

}  // namespace matnn::nn
