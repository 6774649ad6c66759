// Elementwise activation functions as a module, with names for configuration files.
#pragma once

#include <string>
#include <string_view>

#include "nn/linear.hpp"
#include "nn/module.hpp"

namespace matnn::nn {

/// relu max(x, 0); silu x sigmoid(x); gelu exact x Phi(x); tanh; sigmoid; softplus
/// log(1 + e^x); identity x.
enum class ActivationKind { relu, silu, gelu, tanh, sigmoid, softplus, identity };

/// Parses a configuration name ("relu", "silu", "gelu", "tanh", "sigmoid", "softplus",
/// "identity"; "swish" is accepted for silu and "linear"/"none" for identity). Unknown
/// names fail with MATNN_ERROR_INVALID_ARGUMENT listing the valid ones.
ActivationKind activation_from_name(std::string_view name);
/// The canonical name, the inverse of activation_from_name.
const char* activation_name(ActivationKind kind) noexcept;
/// The activation applied to a tensor (differentiable to every order except relu's kink).
ad::Tensor apply_activation(ActivationKind kind, const ad::Tensor& x);
/// The initialisation suited to a layer followed by `kind`: Kaiming for the ReLU family
/// (relu, silu, gelu, softplus), Xavier for tanh, sigmoid and identity.
Init init_for(ActivationKind kind) noexcept;

/// An activation as a layer (no parameters): same shape out as in.
class Activation : public Module {
 public:
  explicit Activation(ActivationKind kind) : kind_(kind) {}
  ad::Tensor forward(const ad::Tensor& x) override { return apply_activation(kind_, x); }
  std::string type_name() const override { return std::string("Activation(") + activation_name(kind_) + ")"; }
  ActivationKind kind() const noexcept { return kind_; }

 private:
  ActivationKind kind_;
};

}  // namespace matnn::nn
