#include "nn/conv.hpp"

#include <cmath>

#include "matnn/error.hpp"
#include "nn/linear.hpp"

namespace matnn::nn {

Conv::Conv(int spatial_rank, int64_t in_channels, int64_t out_channels, int64_t kernel, std::mt19937_64& rng,
           int64_t stride, int64_t dilation, bool same) {
  if ((spatial_rank != 1 && spatial_rank != 2) || in_channels < 1 || out_channels < 1 || kernel < 1 || stride < 1 ||
      dilation < 1)
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "Conv: spatial rank 1 or 2 and positive channels, kernel, stride and dilation, got rank {}, {} -> {} "
         "channels, kernel {}, stride {}, dilation {}",
         spatial_rank, in_channels, out_channels, kernel, stride, dilation);
  if (same && kernel % 2 == 0)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "Conv: \"same\" padding needs an odd kernel, got {}", kernel);
  options_.stride = {stride};
  options_.dilation = {dilation};
  options_.padding = {same ? dilation * (kernel - 1) / 2 : 0};
  ad::Shape shape{out_channels, in_channels, kernel};
  if (spatial_rank == 2) shape.push_back(kernel);
  weight_ = ad::zeros(shape, ad::DType::f32);
  bias_ = ad::zeros({out_channels}, ad::DType::f32);
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight_.numel() / out_channels));
  fill_uniform(weight_, bound, rng);
  fill_uniform(bias_, bound, rng);
  register_parameter("weight", &weight_);
  register_parameter("bias", &bias_);
}

ad::Tensor Conv::forward(const ad::Tensor& x) { return ad::conv(x, weight_, bias_, options_); }

ChannelBatchNorm::ChannelBatchNorm(int64_t channels) : norm_(channels) { register_module("norm", &norm_); }

ad::Tensor ChannelBatchNorm::forward(const ad::Tensor& x) {
  if (x.rank() < 3 || x.dim(1) != norm_.features())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "ChannelBatchNorm({}): expected (N, {}, ...), got {}", norm_.features(),
         norm_.features(), ad::shape_str(x.shape()));
  const ad::Shape shape = x.shape();
  const int64_t n = shape[0], c = shape[1], positions = x.numel() / (n * c);
  // (N, C, P) -> (N, P, C) -> rows of channels, normalised, and back.
  const ad::Tensor rows = ad::reshape(ad::transpose(ad::reshape(x, {n, c, positions})), {n * positions, c});
  return ad::reshape(ad::transpose(ad::reshape(norm_.forward(rows), {n, positions, c})), shape);
}

}  // namespace matnn::nn
