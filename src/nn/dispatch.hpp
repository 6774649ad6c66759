// Internal to matnn::nn: calls f(T{}) with T = float or double for a tensor dtype, for the
// few raw loops (optimiser updates, EMA, clipping) that work on storage directly.
#pragma once

#include "autodiff/tensor.hpp"

namespace matnn::nn::detail {

template <typename F>
decltype(auto) with_dtype(ad::DType dtype, F&& f) {
  if (dtype == ad::DType::f32) return f(float{});
  return f(double{});
}

}  // namespace matnn::nn::detail
