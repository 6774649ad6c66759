// Multi-layer perceptrons built from a plain configuration (what model files record).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "nn/activation.hpp"
#include "nn/sequential.hpp"

namespace matnn::nn {

enum class NormKind { none, layer, batch };

/// "none", "layer", "batch" and back (unknown names: MATNN_ERROR_INVALID_ARGUMENT).
const char* norm_name(NormKind kind) noexcept;
NormKind norm_from_name(std::string_view name);

struct MlpConfig {
  int64_t input = 1;
  std::vector<int64_t> hidden;  // widths of the hidden layers; empty: one linear map
  int64_t output = 1;
  ActivationKind activation = ActivationKind::silu;
  double dropout = 0.0;  // after each hidden activation; 0: no Dropout layers
  NormKind norm = NormKind::none;  // between each hidden Linear and its activation
  uint64_t seed = 0;  // weights, then each dropout layer's mask stream
  ad::DType dtype = ad::DType::f32;
};

/// input -> [Linear -> norm? -> activation -> dropout?] per hidden width -> Linear -> output.
/// Children: one Sequential registered as "layers", so names read "layers.0.weight",
/// "layers.0.bias", and e.g. with norm = layer: "layers.1.gamma", the activation at
/// "layers.2" and the next Linear at "layers.3". Hidden Linear layers are initialised with
/// init_for(activation), the output layer with Xavier (it feeds no nonlinearity). The same
/// config always gives the same weights and names.
class Mlp : public Module {
 public:
  explicit Mlp(MlpConfig config);

  ad::Tensor forward(const ad::Tensor& x) override { return layers_.forward(x); }
  std::string type_name() const override { return "Mlp"; }

  const MlpConfig& config() const noexcept { return config_; }
  Sequential& layers() noexcept { return layers_; }

 private:
  MlpConfig config_;
  Sequential layers_;
};

std::shared_ptr<Mlp> make_mlp(const MlpConfig& config);

}  // namespace matnn::nn
