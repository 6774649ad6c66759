// Training losses, each a rank-0 tensor differentiable w.r.t. the predictions (and targets).
//
// Weights and masks. Every regression loss and the cross-entropy take optional weights,
// either one per sample (shape (n), n = pred.dim(0), applied to all of a sample's outputs) or
// one per element (pred's shape, e.g. a mask for the properties a record lacks). The loss is
// the weighted mean sum(w * l) / sum(w), where sum(w) counts each weight once per element it
// covers; a weight of 0 drops that element, so the mean is over the labelled entries only.
// Weights are constants (never differentiated) and must be non-negative and finite. Where a
// weight is 0, a non-finite target (NaN marks a missing label) is replaced by 0 before use, so
// it cannot poison the sum through 0 * NaN. When every weight is 0 the loss is 0 (with zero
// gradient) rather than 0/0.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/state.hpp"

namespace matnn::nn {

/// mean of (pred - target)^2; pred and target of equal shape (n, ...) or (n).
ad::Tensor mse_loss(const ad::Tensor& pred, const ad::Tensor& target, const ad::Tensor& weight = {});
/// mean of |pred - target| (L1; the gradient at exactly 0 is 0).
ad::Tensor mae_loss(const ad::Tensor& pred, const ad::Tensor& target, const ad::Tensor& weight = {});
/// mean of Huber(r), r = pred - target: r^2 / 2 where |r| <= delta, else delta (|r| - delta/2);
/// quadratic near 0, linear (robust to outliers) beyond delta, continuous first derivative.
ad::Tensor huber_loss(const ad::Tensor& pred, const ad::Tensor& target, double delta = 1.0,
                      const ad::Tensor& weight = {});

/// log(softmax(x)) along the last axis, computed as (x - m) - log(sum(exp(x - m))) with m the
/// row maximum taken as a constant: the shift cancels mathematically (so the gradient is
/// unchanged) and keeps exp() from overflowing for large logits.
ad::Tensor log_softmax(const ad::Tensor& logits);
/// exp(log_softmax(x)): rows sum to 1.
ad::Tensor softmax(const ad::Tensor& logits);
/// Mean over samples of -log softmax(logits)[i, labels[i]] for logits (n, C) and labels in
/// [0, C). Weights are per sample (n); a sample with weight 0 may carry any label (e.g. -1).
ad::Tensor softmax_cross_entropy(const ad::Tensor& logits, const std::vector<int64_t>& labels,
                                 const ad::Tensor& weight = {});

/// The library's weight-decay convention, decided by name: a parameter is regularised when
/// the last component of its dotted name is "weight" (Linear and other weight matrices).
/// Biases ("bias") and normalisation parameters ("gamma", "beta") are not: shrinking them
/// towards 0 only shifts or fights the normalisation without limiting the model's capacity.
bool is_decayed_parameter(const std::string& name);
/// sum over decayed parameters of sum(p^2), a rank-0 tensor in the first parameter's dtype
/// (0 when none is decayed). Use as L = L_data + lambda * l2_penalty(model.named_parameters()).
ad::Tensor l2_penalty(const NamedTensors& params);

}  // namespace matnn::nn
