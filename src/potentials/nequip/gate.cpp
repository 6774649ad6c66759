#include "potentials/nequip/gate.hpp"

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials::nequip {

int64_t num_gated(const std::vector<Irrep>& irreps) {
  int64_t n = 0;
  for (const Irrep& ir : irreps) n += ir.l > 0 ? 1 : 0;
  return n;
}

Features gate(const Features& y, int64_t channels, bool parity) {
  const Irrep even = scalar_irrep(parity);
  int64_t gated = 0;
  for (const auto& [ir, t] : y) gated += ir.l > 0 ? 1 : 0;
  const auto it = y.find(even);
  if (it == y.end() || it->second.dim(2) != channels * (1 + gated))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "gate: the {} input must have {} channels", even.name(), channels * (1 + gated));
  const ad::Tensor& s = it->second;
  Features out;
  out[even] = ad::silu(ad::slice(s, 2, 0, channels));
  int64_t k = 0;
  for (const auto& [ir, t] : y) {
    if (ir.l == 0) {
      if (!(ir == even)) out[ir] = ad::tanh(t);
      continue;
    }
    ++k;
    out[ir] = ad::mul(t, ad::sigmoid(ad::slice(s, 2, k * channels, (k + 1) * channels)));
  }
  return out;
}

}  // namespace matnn::potentials::nequip
