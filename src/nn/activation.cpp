#include "nn/activation.hpp"

#include <array>
#include <utility>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::nn {

namespace {
constexpr std::array<std::pair<ActivationKind, const char*>, 7> kNames{{
    {ActivationKind::relu, "relu"},
    {ActivationKind::silu, "silu"},
    {ActivationKind::gelu, "gelu"},
    {ActivationKind::tanh, "tanh"},
    {ActivationKind::sigmoid, "sigmoid"},
    {ActivationKind::softplus, "softplus"},
    {ActivationKind::identity, "identity"},
}};
}  // namespace

ActivationKind activation_from_name(std::string_view name) {
  for (const auto& [kind, text] : kNames)
    if (name == text) return kind;
  if (name == "swish") return ActivationKind::silu;
  if (name == "linear" || name == "none") return ActivationKind::identity;
  fail(MATNN_ERROR_INVALID_ARGUMENT,
       "unknown activation '{}' (expected relu, silu, gelu, tanh, sigmoid, softplus or identity)", name);
}

const char* activation_name(ActivationKind kind) noexcept {
  for (const auto& [k, text] : kNames)
    if (k == kind) return text;
  return "identity";
}

ad::Tensor apply_activation(ActivationKind kind, const ad::Tensor& x) {
  switch (kind) {
    case ActivationKind::relu: return ad::relu(x);
    case ActivationKind::silu: return ad::silu(x);
    case ActivationKind::gelu: return ad::gelu(x);
    case ActivationKind::tanh: return ad::tanh(x);
    case ActivationKind::sigmoid: return ad::sigmoid(x);
    case ActivationKind::softplus: return ad::softplus(x);
    case ActivationKind::identity: break;
  }
  return x;
}

Init init_for(ActivationKind kind) noexcept {
  switch (kind) {
    case ActivationKind::relu:
    case ActivationKind::silu:
    case ActivationKind::gelu:
    case ActivationKind::softplus: return Init::kaiming_uniform;
    default: return Init::xavier_uniform;
  }
}

}  // namespace matnn::nn
