// Convolution and average-pooling kernels (engine-internal) behind the differentiable ops of
// ops_conv.cpp and ops_pool.cpp. All tensors are dense and channels-first: x (N, C, H, W),
// weights (C_out, C_in, kH, kW), with 1-D problems given as H = kH = 1.
//
// Two paths compute the same numbers:
//  - oneDNN's convolution and pooling primitives (float32, the default backend of gemm.hpp);
//  - a plain path, im2col + GEMM for convolutions and direct loops for pooling, used for float64
//    (oneDNN's CPU primitives have no float64) and for float32 when the Eigen backend is selected,
//    so that the tests cover both paths with the same checks.
// Each convolution pass writes (does not accumulate into) its output.
#pragma once

#include <string>

#include "autodiff/conv_geometry.hpp"
#include "autodiff/kernels.hpp"

namespace matnn::ad::detail {

/// y (N, C_out, out) = cross-correlation of x with w (no bias).
template <typename T>
void conv_forward(const Geometry2d& g, const T* x, const T* w, T* y);
/// gx (N, C_in, in) = the adjoint of conv_forward in x, applied to gy (N, C_out, out).
template <typename T>
void conv_backward_data(const Geometry2d& g, const T* gy, const T* w, T* gx);
/// gw (C_out, C_in, k) = the adjoint of conv_forward in w, applied to gy, summed over the batch.
template <typename T>
void conv_backward_weights(const Geometry2d& g, const T* x, const T* gy, T* gw);

/// y = the mean of each window's input elements (padding excluded from the count).
template <typename T>
void avg_pool_forward(const Geometry2d& g, const T* x, T* y);
/// gx = the adjoint of avg_pool_forward applied to gy.
template <typename T>
void avg_pool_backward(const Geometry2d& g, const T* gy, T* gx);

/// Calls body(first input element of the plane, output element, h0, h1, w0, w1) for every output
/// element of every (sample, channel) plane of a pooling geometry, with its window clipped to
/// the input: rows [h0, h1), columns [w0, w1). Threads own whole planes.
template <typename Body>
void for_each_window(const Geometry2d& g, Body&& body) {
  const int64_t planes = g.batch * g.in_channels;
  parallel_for(planes, planes * g.out_plane() * g.kernel_size(), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p)
      for (int64_t oh = 0; oh < g.out[0]; ++oh) {
        const int64_t h_start = oh * g.stride[0] - g.padding[0];
        const int64_t h0 = std::max<int64_t>(h_start, 0), h1 = std::min(h_start + g.kernel[0], g.in[0]);
        for (int64_t ow = 0; ow < g.out[1]; ++ow) {
          const int64_t w_start = ow * g.stride[1] - g.padding[1];
          const int64_t w0 = std::max<int64_t>(w_start, 0), w1 = std::min(w_start + g.kernel[1], g.in[1]);
          body(p * g.in_plane(), p * g.out_plane() + oh * g.out[1] + ow, h0, h1, w0, w1);
        }
      }
  });
}

/// oneDNN's primitives for float32 (onednn_kernels.cpp); the dispatchers above call them when
/// the oneDNN backend is selected. Primitives are cached per thread and geometry.
void onednn_conv_forward(const Geometry2d& g, const float* x, const float* w, float* y);
void onednn_conv_backward_data(const Geometry2d& g, const float* gy, const float* w, float* gx);
void onednn_conv_backward_weights(const Geometry2d& g, const float* x, const float* gy, float* gw);
void onednn_avg_pool_forward(const Geometry2d& g, const float* x, float* y);
void onednn_avg_pool_backward(const Geometry2d& g, const float* gy, float* gx);

/// The oneDNN implementation chosen for a pass ("forward", "backward_data", "backward_weights"),
/// e.g. "gemm:jit" or "jit:avx512_core" (benchmarks print it next to their rates).
std::string onednn_conv_implementation(const Geometry2d& g, const std::string& pass);

}  // namespace matnn::ad::detail
