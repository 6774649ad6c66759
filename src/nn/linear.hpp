// Fully connected layer y = x W + b and the weight initialisations it offers.
#pragma once

#include <cstdint>
#include <random>

#include "nn/module.hpp"

namespace matnn::nn {

/// How Linear draws its weight (the bias always starts at zero).
///  - kaiming_uniform: U(-b, b) with b = sqrt(6 / fan_in), i.e. variance 2 / fan_in (He et al.):
///    keeps the activation variance constant through ReLU-family layers, which zero about
///    half of their inputs (relu, silu, gelu, softplus).
///  - xavier_uniform: U(-b, b) with b = sqrt(6 / (fan_in + fan_out)), i.e. variance
///    2 / (fan_in + fan_out) (Glorot & Bengio): balances forward and backward variance for
///    symmetric saturating activations (tanh, sigmoid) and for linear output layers.
///  - fan_in_uniform: U(-b, b) with b = 1 / sqrt(fan_in) for the weights and the bias too:
///    PyTorch's default for nn.Linear, which reference codes trained with plain SGD (CGCNN)
///    were tuned for; the larger kaiming bound makes them diverge or stall there.
enum class Init { kaiming_uniform, xavier_uniform, fan_in_uniform };

/// "kaiming_uniform" / "xavier_uniform" / "fan_in_uniform".
const char* init_name(Init init) noexcept;

/// Fills `weight` (fan_in, fan_out) in place with samples from `rng` in row-major order, so a
/// fixed seed gives identical weights on every platform (no std::*_distribution, whose
/// algorithms the standard leaves to the implementation).
void init_weight(const ad::Tensor& weight, Init init, std::mt19937_64& rng);
/// Fills `t` in place with U(-bound, bound) samples from `rng`, portably (as init_weight).
void fill_uniform(const ad::Tensor& t, double bound, std::mt19937_64& rng);

/// y = x W + b with weight W of shape (in, out) and bias b of shape (out) (absent when
/// bias = false). x has shape (..., in); leading axes are flattened for the GEMM and restored,
/// so (n, in) -> (n, out) and (b, n, in) -> (b, n, out).
/// Parameters: "weight" (in, out), "bias" (out).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, std::mt19937_64& rng, bool bias = true,
         Init init = Init::kaiming_uniform, ad::DType dtype = ad::DType::f32);

  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "Linear"; }

  int64_t in_features() const noexcept { return in_; }
  int64_t out_features() const noexcept { return out_; }
  const ad::Tensor& weight() const noexcept { return weight_; }
  /// Undefined when the layer has no bias.
  const ad::Tensor& bias() const noexcept { return bias_; }

 private:
  int64_t in_;
  int64_t out_;
  ad::Tensor weight_;
  ad::Tensor bias_;
};

}  // namespace matnn::nn
