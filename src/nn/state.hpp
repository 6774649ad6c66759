// Named tensors and scalars: the currency of model files, checkpoints and resumable training.
//
// A model's parameters and buffers, an optimiser's moment estimates and a schedule's counters
// are all exposed as a flat map from stable dotted names to values, so one writer (HDF5) can
// store any of them without knowing the classes. Maps (not unordered maps) give a
// deterministic iteration order, which keeps written files byte-stable.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.hpp"

namespace matnn::nn {

/// Parameters in a fixed order with their dotted names ("layers.2.weight"). The tensors are
/// handles: an optimiser holding this list updates the model's own storage.
using NamedTensors = std::vector<std::pair<std::string, ad::Tensor>>;

/// Serialisable state of an optimiser, a schedule or an EMA: tensors (copies, never aliases
/// of live state) plus scalars such as the step count and the learning rate. Doubles hold
/// integer counters exactly up to 2^53.
struct TrainingState {
  std::map<std::string, ad::Tensor> tensors;
  std::map<std::string, double> scalars;
};

/// Names only (same order), e.g. for messages.
std::vector<std::string> names_of(const NamedTensors& named);
/// Tensors only (same order), e.g. for ad::zero_grad.
std::vector<ad::Tensor> tensors_of(const NamedTensors& named);

/// scalars.at(key) with a MATNN_ERROR_MODEL naming `what` and the key when absent.
double require_scalar(const TrainingState& state, const std::string& key, const char* what);

}  // namespace matnn::nn
