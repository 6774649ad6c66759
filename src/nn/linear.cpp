#include "nn/linear.hpp"

#include <algorithm>
#include <cmath>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::nn {

const char* init_name(Init init) noexcept {
  switch (init) {
    case Init::kaiming_uniform: return "kaiming_uniform";
    case Init::xavier_uniform: return "xavier_uniform";
    case Init::fan_in_uniform: return "fan_in_uniform";
  }
  return "unknown";
}

void init_weight(const ad::Tensor& weight, Init init, std::mt19937_64& rng) {
  if (weight.rank() != 2)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "init_weight: expected a (fan_in, fan_out) matrix, got shape {}",
         ad::shape_str(weight.shape()));
  const double fan_in = static_cast<double>(weight.dim(0));
  const double fan_out = static_cast<double>(weight.dim(1));
  const double bound = init == Init::kaiming_uniform  ? std::sqrt(6.0 / std::max(1.0, fan_in))
                       : init == Init::fan_in_uniform ? 1.0 / std::sqrt(std::max(1.0, fan_in))
                                                      : std::sqrt(6.0 / std::max(1.0, fan_in + fan_out));
  fill_uniform(weight, bound, rng);
}

void fill_uniform(const ad::Tensor& t, double bound, std::mt19937_64& rng) {
  // 53 random bits -> [0, 1) exactly as the bits dictate: portable, unlike uniform_real_distribution.
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const int64_t n = t.numel();
  if (t.dtype() == ad::DType::f32) {
    float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>((2.0 * uniform() - 1.0) * bound);
  } else {
    double* p = t.data<double>();
    for (int64_t i = 0; i < n; ++i) p[i] = (2.0 * uniform() - 1.0) * bound;
  }
}

Linear::Linear(int64_t in_features, int64_t out_features, std::mt19937_64& rng, bool bias, Init init,
               ad::DType dtype)
    : in_(in_features), out_(out_features) {
  if (in_features <= 0 || out_features <= 0)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "Linear: features must be positive, got in = {}, out = {}", in_features,
         out_features);
  weight_ = ad::empty({in_, out_}, dtype);
  init_weight(weight_, init, rng);
  register_parameter("weight", &weight_);
  if (bias) {
    bias_ = ad::zeros({out_}, dtype);
    if (init == Init::fan_in_uniform) fill_uniform(bias_, 1.0 / std::sqrt(static_cast<double>(in_)), rng);
    register_parameter("bias", &bias_);
  }
}

ad::Tensor Linear::forward(const ad::Tensor& x) {
  if (x.rank() < 1 || x.dim(-1) != in_)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "Linear({}, {}): input of shape {} does not end in {}", in_, out_,
         ad::shape_str(x.shape()), in_);
  if (x.rank() == 2) return ad::linear(x, weight_, bias_);
  ad::Shape out_shape = x.shape();
  out_shape.back() = out_;
  return ad::reshape(ad::linear(ad::reshape(x, {-1, in_}), weight_, bias_), out_shape);
}

}  // namespace matnn::nn
