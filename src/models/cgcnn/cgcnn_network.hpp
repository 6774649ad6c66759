// One CGCNN network (Xie and Grossman, PRL 120, 145301, 2018), as in its reference code:
//
//   v_i  <- W_emb e_i                                   element encoding -> atom features
//   z_ij  = v_i (+) v_j (+) u_ij                         per edge, u_ij the expanded distance
//   g_ij  = BN(z_ij W + b) = [f_ij, s_ij]                one GEMM gives filter and core
//   v_i  <- softplus(v_i + BN(sum_j sigmoid(f_ij) * softplus(s_ij)))      n_conv times
//   h     = softplus(W_fc softplus(mean_i v_i) + b_fc)   the crystal's embedding
//   h    <- softplus(W h + b)                            n_hidden - 1 more times
//   y     = W_out dropout(h) + b_out                     value, or class logits
//
// The batch normalisations use batch statistics in training and running statistics in
// evaluation, as in PyTorch's BatchNorm1d; every linear layer starts as PyTorch's nn.Linear does
// (nn::Init::fan_in_uniform), as the reference code's training settings assume.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/cgcnn/crystal_graph.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/module.hpp"
#include "nn/norm.hpp"

namespace matnn::models::cgcnn {

struct CgcnnArchitecture {
  std::int64_t element_features = 0;  ///< width of the element encoding
  std::int64_t edge_features = 0;     ///< Gaussians per edge
  std::int64_t atom_features = 64;    ///< width of v
  std::int64_t hidden = 128;          ///< width of the crystal embedding h
  int n_conv = 3;
  int n_hidden = 1;                   ///< hidden layers after pooling (the first included)
  double dropout = 0.0;               ///< before the output layer
  std::int64_t outputs = 1;           ///< 1 (regression) or the number of classes
};

class CgcnnConvolution : public nn::Module {
 public:
  CgcnnConvolution(std::int64_t atom_features, std::int64_t edge_features, std::mt19937_64& rng);
  ad::Tensor forward(const ad::Tensor& v, const GraphBatch& batch);
  std::string type_name() const override { return "CgcnnConvolution"; }

 private:
  std::int64_t width_;
  nn::Linear full_;
  nn::BatchNorm1d edge_norm_, atom_norm_;
};

class CgcnnNetwork : public nn::Module {
 public:
  CgcnnNetwork(const CgcnnArchitecture& architecture, std::uint64_t seed);

  struct Output {
    ad::Tensor value;      ///< (crystals, outputs)
    ad::Tensor embedding;  ///< (crystals, hidden)
  };
  Output forward(const GraphBatch& batch);
  std::string type_name() const override { return "CgcnnNetwork"; }
  const CgcnnArchitecture& architecture() const noexcept { return architecture_; }

 private:
  CgcnnArchitecture architecture_;
  std::unique_ptr<nn::Linear> embedding_;
  std::vector<std::unique_ptr<CgcnnConvolution>> convolutions_;
  std::vector<std::unique_ptr<nn::Linear>> hidden_;
  std::unique_ptr<nn::Dropout> dropout_;
  std::unique_ptr<nn::Linear> output_;
};

}  // namespace matnn::models::cgcnn
