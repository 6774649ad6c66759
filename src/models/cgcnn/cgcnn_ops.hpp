// The two edge-sized steps of a CGCNN convolution as single ops. Composed of the engine's
// elementwise ops, each was several passes over (edges, 2 width) with slices copied in both
// directions; fused, each is one pass forward and one backward. Their recorded backward passes
// are written with differentiable ops, so derivatives of every order still exist.
#pragma once

#include <cstdint>

#include "autodiff/tensor.hpp"

namespace matnn::models::cgcnn {

/// out[e] = at_center[center[e]] + at_neighbor[neighbor[e]] + on_edge[e], all (., width).
ad::Tensor edge_sum(const ad::Tensor& at_center, const ad::Tensor& at_neighbor, const ad::Tensor& on_edge,
                    const ad::Index& center, const ad::Index& neighbor);

/// sigmoid(g[:, :width]) * softplus(g[:, width:]) for g (edges, 2 width): the gated message.
ad::Tensor gated_message(const ad::Tensor& g);

}  // namespace matnn::models::cgcnn
