// The convolutional network of the spectrum (cnn1d) and image (cnn2d) models:
//
//   x (N, C, L) or (N, C, H, W)
//   block_k:  h = relu(BN(conv_k(x)))                           plain
//             h = relu(BN(conv_k2(relu(BN(conv_k1(x))))) + P x)  residual (P: 1x1 conv when the
//                                                                channel count changes)
//             x = max_pool(h, 2)  along every axis still at least 2 long
//   e = relu(W_h [head(x), s] + b_h)                              the embedding (images: s is the
//                                                                 log pixel size, so that lengths
//                                                                 in nm are learnable)
//   y = W_out dropout(e) + b_out                                  value, or class logits
//
// "Same" padding keeps each convolution's length, so the pooling alone sets the resolution: a
// pattern of 1401 points leaves four blocks 87 points long. The head either flattens the last
// block (channels x positions: where a feature sits stays known, as a diffraction pattern needs,
// whose peak positions are the lattice) or averages over positions (translation invariant, as
// a micrograph's grain size or phase fraction is).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "nn/conv.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/module.hpp"

namespace matnn::models::cnn {

struct SignalArchitecture {
  int spatial_rank = 1;                    ///< 1 spectra, 2 images
  std::int64_t in_channels = 1;
  std::vector<std::int64_t> channels{16, 32, 64, 64};  ///< one block per entry
  std::int64_t kernel = 7;                 ///< odd
  bool residual = false;
  std::vector<std::int64_t> input_size;    ///< spatial extents: (points) or (height, width)
  bool flatten = true;                     ///< head: flatten (true) or mean over positions
  bool scale_input = false;                ///< one more head input per sample (the pixel scale)
  std::int64_t hidden = 64;                ///< embedding width
  double dropout = 0.0;                    ///< before the output layer
  std::int64_t outputs = 1;                ///< 1 (regression) or the number of classes
};

class SignalBlock : public nn::Module {
 public:
  SignalBlock(const SignalArchitecture& a, std::int64_t in, std::int64_t out, std::mt19937_64& rng);
  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "SignalBlock"; }

 private:
  std::unique_ptr<nn::Conv> conv1_, conv2_, projection_;
  std::unique_ptr<nn::ChannelBatchNorm> norm1_, norm2_;
};

class SignalNetwork : public nn::Module {
 public:
  SignalNetwork(const SignalArchitecture& architecture, std::uint64_t seed);

  struct Output {
    ad::Tensor value;      ///< (N, outputs)
    ad::Tensor embedding;  ///< (N, hidden)
  };
  /// x (N, C, ...); scale (N, 1) when the architecture has scale_input, else undefined.
  Output forward_all(const ad::Tensor& x, const ad::Tensor& scale = ad::Tensor());
  /// The spatial extents after the blocks for an input of `input_size`.
  static std::vector<std::int64_t> output_size(const SignalArchitecture& a);
  std::string type_name() const override { return "SignalNetwork"; }
  const SignalArchitecture& architecture() const noexcept { return architecture_; }

 private:
  SignalArchitecture architecture_;
  std::vector<std::unique_ptr<SignalBlock>> blocks_;
  std::unique_ptr<nn::Linear> hidden_;
  std::unique_ptr<nn::Dropout> dropout_;
  std::unique_ptr<nn::Linear> output_;
};

}  // namespace matnn::models::cnn
