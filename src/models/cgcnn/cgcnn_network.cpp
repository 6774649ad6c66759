#include "models/cgcnn/cgcnn_network.hpp"

#include <string>

#include "autodiff/ops.hpp"
#include "models/cgcnn/cgcnn_ops.hpp"
#include "matnn/error.hpp"

namespace matnn::models::cgcnn {

CgcnnConvolution::CgcnnConvolution(std::int64_t atom_features, std::int64_t edge_features, std::mt19937_64& rng)
    : width_(atom_features),
      full_(2 * atom_features + edge_features, 2 * atom_features, rng, true, nn::Init::fan_in_uniform),
      edge_norm_(2 * atom_features),
      atom_norm_(atom_features) {
  register_module("full", &full_);
  register_module("edge_norm", &edge_norm_);
  register_module("atom_norm", &atom_norm_);
}

ad::Tensor CgcnnConvolution::forward(const ad::Tensor& v, const GraphBatch& batch) {
  if (batch.n_edges == 0) {
    // No neighbours anywhere: nothing to sum. Normalisation synchronised over MPI ranks cannot skip
    // its collective, and an empty edge batch cannot take part in it.
    if (edge_norm_.synchronised() && is_training())
      fail(MATNN_ERROR_UNSUPPORTED, "cgcnn: this rank's part of a mini-batch has no edges, so it cannot take part in the "
           "batch normalisation over the MPI ranks; train on one rank or with larger batches");
    return ad::softplus(v);
  }
  // z_ij W = v_i W_center + v_j W_neighbor + u_ij W_edge: the two atom parts are products per
  // atom, gathered onto the edges, so the per-edge product is over the Gaussians only (41 of the
  // 169 inputs at the defaults): the same map at a quarter of the work and no concatenation.
  const ad::Tensor& w = full_.weight();  // (2 width + gaussians, 2 width)
  const ad::Tensor at_center = ad::linear(v, ad::slice(w, 0, 0, width_), full_.bias());
  const ad::Tensor at_neighbor = ad::matmul(v, ad::slice(w, 0, width_, 2 * width_));
  const ad::Tensor on_edge = ad::matmul(batch.edge_features, ad::slice(w, 0, 2 * width_, w.dim(0)));
  const ad::Tensor g = edge_norm_.forward(edge_sum(at_center, at_neighbor, on_edge, batch.center, batch.neighbor));
  const ad::Tensor message = gated_message(g);
  const ad::Tensor summed = atom_norm_.forward(ad::scatter_add_rows(message, batch.center, batch.n_atoms));
  return ad::softplus(ad::add(v, summed));
}

CgcnnNetwork::CgcnnNetwork(const CgcnnArchitecture& a, std::uint64_t seed) : architecture_(a) {
  if (a.element_features < 1 || a.edge_features < 1 || a.atom_features < 1 || a.hidden < 1 || a.n_conv < 1 ||
      a.n_hidden < 1 || a.outputs < 1 || !(a.dropout >= 0 && a.dropout < 1)) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "cgcnn: atom_features, hidden, n_conv and n_hidden must be >= 1 and dropout in [0, 1)");
  }
  std::mt19937_64 rng(seed);
  embedding_ = std::make_unique<nn::Linear>(a.element_features, a.atom_features, rng, true, nn::Init::fan_in_uniform);
  register_module("embedding", embedding_.get());
  for (int k = 0; k < a.n_conv; ++k) {
    convolutions_.push_back(std::make_unique<CgcnnConvolution>(a.atom_features, a.edge_features, rng));
    register_module("conv_" + std::to_string(k), convolutions_.back().get());
  }
  for (int k = 0; k < a.n_hidden; ++k) {
    hidden_.push_back(
        std::make_unique<nn::Linear>(k == 0 ? a.atom_features : a.hidden, a.hidden, rng, true, nn::Init::fan_in_uniform));
    register_module("hidden_" + std::to_string(k), hidden_.back().get());
  }
  dropout_ = std::make_unique<nn::Dropout>(a.dropout, seed ^ 0x9e3779b97f4a7c15ULL);
  register_module("dropout", dropout_.get());
  output_ = std::make_unique<nn::Linear>(a.hidden, a.outputs, rng, true, nn::Init::fan_in_uniform);
  register_module("output", output_.get());
}

CgcnnNetwork::Output CgcnnNetwork::forward(const GraphBatch& batch) {
  if (batch.atom_features.dim(1) != architecture_.element_features ||
      (batch.n_edges > 0 && batch.edge_features.dim(1) != architecture_.edge_features)) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: the batch has {} element and {} edge features, the network expects {} and {}",
         batch.atom_features.dim(1), batch.n_edges > 0 ? batch.edge_features.dim(1) : 0, architecture_.element_features,
         architecture_.edge_features);
  }
  ad::Tensor v = embedding_->forward(batch.atom_features);
  for (const auto& conv : convolutions_) v = conv->forward(v, batch);
  const ad::Tensor pooled = ad::mul(ad::scatter_add_rows(v, batch.crystal, batch.n_crystals), batch.inverse_sizes);
  ad::Tensor h = ad::softplus(pooled);
  for (const auto& layer : hidden_) h = ad::softplus(layer->forward(h));
  return {output_->forward(dropout_->forward(h)), h};
}

}  // namespace matnn::models::cgcnn
