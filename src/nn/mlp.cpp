#include "nn/mlp.hpp"

#include <random>

#include "matnn/error.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/norm.hpp"

namespace matnn::nn {

const char* norm_name(NormKind kind) noexcept {
  switch (kind) {
    case NormKind::layer: return "layer";
    case NormKind::batch: return "batch";
    case NormKind::none: break;
  }
  return "none";
}

NormKind norm_from_name(std::string_view name) {
  if (name == "none") return NormKind::none;
  if (name == "layer") return NormKind::layer;
  if (name == "batch") return NormKind::batch;
  fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown normalisation '{}' (expected none, layer or batch)", name);
}

Mlp::Mlp(MlpConfig config) : config_(std::move(config)) {
  if (config_.input <= 0 || config_.output <= 0)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "make_mlp: input and output sizes must be positive, got {} and {}",
         config_.input, config_.output);
  std::mt19937_64 rng(config_.seed);
  int64_t width = config_.input;
  for (int64_t h : config_.hidden) {
    layers_.emplace<Linear>(width, h, rng, true, init_for(config_.activation), config_.dtype);
    if (config_.norm == NormKind::layer) layers_.emplace<LayerNorm>(h, 1e-5, true, config_.dtype);
    if (config_.norm == NormKind::batch) layers_.emplace<BatchNorm1d>(h, 0.1, 1e-5, true, config_.dtype);
    layers_.emplace<Activation>(config_.activation);
    // Each dropout layer gets its own stream derived from the weight stream, so masks are
    // reproducible and differ between layers.
    if (config_.dropout > 0.0) layers_.emplace<Dropout>(config_.dropout, rng());
    width = h;
  }
  layers_.emplace<Linear>(width, config_.output, rng, true, Init::xavier_uniform, config_.dtype);
  register_module("layers", &layers_);
}

std::shared_ptr<Mlp> make_mlp(const MlpConfig& config) { return std::make_shared<Mlp>(config); }

}  // namespace matnn::nn
