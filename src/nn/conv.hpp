// Convolution layers for spectra (N, C, W) and images (N, C, H, W), and batch normalisation per
// channel for them.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "autodiff/ops.hpp"
#include "nn/module.hpp"
#include "nn/norm.hpp"

namespace matnn::nn {

/// y = conv(x, W) + b (ad::conv) with W of shape (out, in, k) for spectra or (out, in, k, k) for
/// images and "same" padding d (k - 1) / 2 when `same` (odd k), so that with stride 1 the output
/// keeps the input's length. Weights and bias start as PyTorch's Conv1d/Conv2d:
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in k (k k). Parameters: "weight", "bias".
class Conv : public Module {
 public:
  /// spatial_rank 1 (spectra) or 2 (images).
  Conv(int spatial_rank, int64_t in_channels, int64_t out_channels, int64_t kernel, std::mt19937_64& rng,
       int64_t stride = 1, int64_t dilation = 1, bool same = true);

  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "Conv"; }
  int64_t out_channels() const noexcept { return weight_.dim(0); }

 private:
  ad::ConvOptions options_;
  ad::Tensor weight_;
  ad::Tensor bias_;
};

/// Batch normalisation of every channel over the batch and all positions of (N, C, ...) inputs:
/// BatchNorm1d over the (N * positions, C) rows, with its running statistics, affine parameters
/// and synchronisation over MPI ranks. Parameters and buffers as BatchNorm1d's, under "norm".
class ChannelBatchNorm : public Module {
 public:
  explicit ChannelBatchNorm(int64_t channels);
  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "ChannelBatchNorm"; }
  BatchNorm1d& norm() noexcept { return norm_; }

 private:
  BatchNorm1d norm_;
};

}  // namespace matnn::nn
