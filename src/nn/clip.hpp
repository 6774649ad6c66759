// Gradient clipping by global norm.
#pragma once

#include <vector>

#include "nn/state.hpp"

namespace matnn::nn {

/// The Euclidean norm of all gradients together, sqrt(sum over params of sum(grad^2)), as it
/// was before clipping. When it exceeds max_norm every .grad() is replaced by
/// grad * max_norm / (norm + 1e-6), so the direction is kept and the norm becomes (just under)
/// max_norm. Parameters without a gradient are ignored. A non-finite norm is returned with
/// the gradients left unchanged, so the caller can detect and skip the step.
double clip_grad_norm(const std::vector<ad::Tensor>& params, double max_norm);
double clip_grad_norm(const NamedTensors& params, double max_norm);

/// The same norm without clipping.
double grad_norm(const std::vector<ad::Tensor>& params);

}  // namespace matnn::nn
