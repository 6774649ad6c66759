#include "potentials/nequip/irreps.hpp"

#include <cmath>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials::nequip {

std::string Irrep::name() const {
  std::string s = std::to_string(l);
  if (p > 0) s += "e";
  if (p < 0) s += "o";
  return s;
}

std::vector<Irrep> all_irreps(int l_max, bool parity) {
  std::vector<Irrep> out;
  for (int l = 0; l <= l_max; ++l) {
    if (parity) {
      out.push_back({l, 1});
      out.push_back({l, -1});
    } else {
      out.push_back({l, 0});
    }
  }
  return out;
}

ad::Tensor channel_linear(const ad::Tensor& x, const ad::Tensor& w) {
  if (x.rank() != 3 || w.rank() != 2 || x.dim(2) != w.dim(0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "channel_linear: expected x (n, d, c_in) and w (c_in, c_out), got {} and {}",
         ad::shape_str(x.shape()), ad::shape_str(w.shape()));
  const int64_t n = x.dim(0), d = x.dim(1), c = x.dim(2);
  return ad::reshape(ad::matmul(ad::reshape(x, {n * d, c}), w), {n, d, w.dim(1)});
}

IrrepsLinear::IrrepsLinear(const std::map<Irrep, std::pair<int64_t, int64_t>>& sizes, std::mt19937_64& rng, double gain) {
  for (const auto& [ir, io] : sizes) {
    const auto [cin, cout] = io;
    weights_[ir] = ad::randn({cin, cout}, rng, ad::DType::f32, 0.0, gain / std::sqrt(static_cast<double>(cin)));
  }
  for (auto& [ir, w] : weights_) register_parameter(ir.name(), &w);
}

Features IrrepsLinear::forward_features(const Features& x) const {
  Features out;
  for (const auto& [ir, w] : weights_) {
    const auto it = x.find(ir);
    if (it != x.end()) out[ir] = channel_linear(it->second, w);
  }
  return out;
}

}  // namespace matnn::potentials::nequip
