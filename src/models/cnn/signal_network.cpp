#include "models/cnn/signal_network.hpp"

#include <algorithm>
#include <string>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::models::cnn {

SignalBlock::SignalBlock(const SignalArchitecture& a, std::int64_t in, std::int64_t out, std::mt19937_64& rng) {
  conv1_ = std::make_unique<nn::Conv>(a.spatial_rank, in, out, a.kernel, rng);
  norm1_ = std::make_unique<nn::ChannelBatchNorm>(out);
  register_module("conv1", conv1_.get());
  register_module("norm1", norm1_.get());
  if (!a.residual) return;
  conv2_ = std::make_unique<nn::Conv>(a.spatial_rank, out, out, a.kernel, rng);
  norm2_ = std::make_unique<nn::ChannelBatchNorm>(out);
  register_module("conv2", conv2_.get());
  register_module("norm2", norm2_.get());
  if (in != out) {
    projection_ = std::make_unique<nn::Conv>(a.spatial_rank, in, out, 1, rng);
    register_module("projection", projection_.get());
  }
}

ad::Tensor SignalBlock::forward(const ad::Tensor& x) {
  ad::Tensor h = ad::relu(norm1_->forward(conv1_->forward(x)));
  if (conv2_) h = ad::relu(ad::add(norm2_->forward(conv2_->forward(h)), projection_ ? projection_->forward(x) : x));
  // Halve every axis that is still at least 2 long.
  ad::PoolOptions pool;
  bool any = false;
  for (int64_t d = 2; d < h.rank(); ++d) {
    pool.kernel.push_back(h.dim(d) >= 2 ? 2 : 1);
    any = any || h.dim(d) >= 2;
  }
  return any ? ad::max_pool(h, pool) : h;
}

SignalNetwork::SignalNetwork(const SignalArchitecture& a, std::uint64_t seed) : architecture_(a) {
  if ((a.spatial_rank != 1 && a.spatial_rank != 2) || a.in_channels < 1 || a.channels.empty() || a.kernel < 1 ||
      a.kernel % 2 == 0 || a.hidden < 1 || a.outputs < 1 || !(a.dropout >= 0 && a.dropout < 1))
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "signal network: needs at least one block, an odd kernel, hidden >= 1 and dropout in [0, 1)");
  std::mt19937_64 rng(seed);
  std::int64_t in = a.in_channels;
  for (std::size_t k = 0; k < a.channels.size(); ++k) {
    if (a.channels[k] < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "signal network: block {} has no channels", k);
    blocks_.push_back(std::make_unique<SignalBlock>(a, in, a.channels[k], rng));
    register_module("block_" + std::to_string(k), blocks_.back().get());
    in = a.channels[k];
  }
  if (static_cast<int>(a.input_size.size()) != a.spatial_rank)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "signal network: {} spatial extents for a rank-{} input", a.input_size.size(),
         a.spatial_rank);
  std::int64_t features = in;
  if (a.flatten)
    for (std::int64_t extent : output_size(a)) features *= extent;
  if (a.scale_input) ++features;
  hidden_ = std::make_unique<nn::Linear>(features, a.hidden, rng, true, nn::Init::kaiming_uniform);
  register_module("hidden", hidden_.get());
  dropout_ = std::make_unique<nn::Dropout>(a.dropout, seed ^ 0x9e3779b97f4a7c15ULL);
  register_module("dropout", dropout_.get());
  output_ = std::make_unique<nn::Linear>(a.hidden, a.outputs, rng, true, nn::Init::xavier_uniform);
  register_module("output", output_.get());
}

std::vector<std::int64_t> SignalNetwork::output_size(const SignalArchitecture& a) {
  std::vector<std::int64_t> size = a.input_size;
  for (std::size_t k = 0; k < a.channels.size(); ++k) {
    const bool pools = std::any_of(size.begin(), size.end(), [](std::int64_t e) { return e >= 2; });
    if (pools)
      for (std::int64_t& e : size) e = e >= 2 ? e / 2 : e;
  }
  return size;
}

SignalNetwork::Output SignalNetwork::forward_all(const ad::Tensor& x, const ad::Tensor& scale) {
  if (x.rank() != architecture_.spatial_rank + 2 || x.dim(1) != architecture_.in_channels)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "signal network: expected (N, {}, {}), got {}", architecture_.in_channels,
         architecture_.spatial_rank == 1 ? "points" : "height, width", ad::shape_str(x.shape()));
  for (int d = 0; d < architecture_.spatial_rank; ++d)
    if (x.dim(2 + d) != architecture_.input_size[static_cast<std::size_t>(d)])
      fail(MATNN_ERROR_INVALID_ARGUMENT, "signal network: built for inputs of {} along axis {}, got {}",
           architecture_.input_size[static_cast<std::size_t>(d)], d, x.dim(2 + d));
  ad::Tensor h = x;
  for (const auto& block : blocks_) h = block->forward(h);
  ad::Tensor pooled = architecture_.flatten ? ad::reshape(h, {h.dim(0), -1}) : ad::global_avg_pool(h);
  if (architecture_.scale_input) {
    if (!scale.defined() || scale.rank() != 2 || scale.dim(0) != x.dim(0) || scale.dim(1) != 1)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "signal network: needs one scale per sample");
    pooled = ad::concat({pooled, scale}, 1);
  }
  const ad::Tensor embedding = ad::relu(hidden_->forward(pooled));
  return {output_->forward(dropout_->forward(embedding)), embedding};
}

}  // namespace matnn::models::cnn
