// The plain path of the convolution and pooling kernels, and the choice between it and oneDNN.
//
// A convolution of one sample is one GEMM once its input windows are unrolled into columns
// (im2col): cols (C_in kH kW, H_out W_out), so y = W cols, dcols = W^T dy (folded back by
// col2im) and dW += dy cols^T. Samples run one after another with the GEMM threaded inside.
#include <algorithm>
#include <vector>

#include "autodiff/conv_kernels.hpp"
#include "autodiff/gemm.hpp"
#include "autodiff/kernels.hpp"

namespace matnn::ad::detail {

namespace {

/// The input index along one axis that output o and kernel tap t read, or -1 in the padding.
inline int64_t input_index(int64_t o, int64_t t, int64_t stride, int64_t pad, int64_t dil, int64_t n) {
  const int64_t i = o * stride - pad + t * dil;
  return i >= 0 && i < n ? i : -1;
}

/// cols[(c kH + i) kW + j][oh W_out + ow] = x[c][ih][iw], 0 in the padding.
template <typename T>
void im2col(const Geometry2d& g, const T* x, T* cols) {
  const int64_t plane = g.out_plane();
  for (int64_t c = 0; c < g.in_channels; ++c)
    for (int64_t i = 0; i < g.kernel[0]; ++i)
      for (int64_t j = 0; j < g.kernel[1]; ++j) {
        T* row = cols + ((c * g.kernel[0] + i) * g.kernel[1] + j) * plane;
        const T* xc = x + c * g.in_plane();
        for (int64_t oh = 0; oh < g.out[0]; ++oh) {
          T* dst = row + oh * g.out[1];
          const int64_t ih = input_index(oh, i, g.stride[0], g.padding[0], g.dilation[0], g.in[0]);
          if (ih < 0) {
            std::fill_n(dst, g.out[1], T(0));
            continue;
          }
          for (int64_t ow = 0; ow < g.out[1]; ++ow) {
            const int64_t iw = input_index(ow, j, g.stride[1], g.padding[1], g.dilation[1], g.in[1]);
            dst[ow] = iw < 0 ? T(0) : xc[ih * g.in[1] + iw];
          }
        }
      }
}

/// The adjoint of im2col: x[c][ih][iw] += every column entry that im2col copied from it.
template <typename T>
void col2im(const Geometry2d& g, const T* cols, T* x) {
  const int64_t plane = g.out_plane();
  std::fill_n(x, g.in_channels * g.in_plane(), T(0));
  for (int64_t c = 0; c < g.in_channels; ++c)
    for (int64_t i = 0; i < g.kernel[0]; ++i)
      for (int64_t j = 0; j < g.kernel[1]; ++j) {
        const T* row = cols + ((c * g.kernel[0] + i) * g.kernel[1] + j) * plane;
        T* xc = x + c * g.in_plane();
        for (int64_t oh = 0; oh < g.out[0]; ++oh) {
          const int64_t ih = input_index(oh, i, g.stride[0], g.padding[0], g.dilation[0], g.in[0]);
          if (ih < 0) continue;
          for (int64_t ow = 0; ow < g.out[1]; ++ow) {
            const int64_t iw = input_index(ow, j, g.stride[1], g.padding[1], g.dilation[1], g.in[1]);
            if (iw >= 0) xc[ih * g.in[1] + iw] += row[oh * g.out[1] + ow];
          }
        }
      }
}

int64_t unrolled_rows(const Geometry2d& g) { return g.in_channels * g.kernel_size(); }

template <typename T>
void plain_conv_forward(const Geometry2d& g, const T* x, const T* w, T* y) {
  const int64_t k = unrolled_rows(g), plane = g.out_plane();
  std::vector<T> cols(static_cast<std::size_t>(k * plane));
  for (int64_t n = 0; n < g.batch; ++n) {
    im2col(g, x + n * g.in_channels * g.in_plane(), cols.data());
    gemm(false, false, g.out_channels, plane, k, T(1), w, k, cols.data(), plane, T(0),
         y + n * g.out_channels * plane, plane);
  }
}

template <typename T>
void plain_conv_backward_data(const Geometry2d& g, const T* gy, const T* w, T* gx) {
  const int64_t k = unrolled_rows(g), plane = g.out_plane();
  std::vector<T> cols(static_cast<std::size_t>(k * plane));
  for (int64_t n = 0; n < g.batch; ++n) {
    gemm(true, false, k, plane, g.out_channels, T(1), w, k, gy + n * g.out_channels * plane, plane, T(0),
         cols.data(), plane);
    col2im(g, cols.data(), gx + n * g.in_channels * g.in_plane());
  }
}

template <typename T>
void plain_conv_backward_weights(const Geometry2d& g, const T* x, const T* gy, T* gw) {
  const int64_t k = unrolled_rows(g), plane = g.out_plane();
  std::vector<T> cols(static_cast<std::size_t>(k * plane));
  std::fill_n(gw, g.out_channels * k, T(0));
  for (int64_t n = 0; n < g.batch; ++n) {
    im2col(g, x + n * g.in_channels * g.in_plane(), cols.data());
    gemm(false, true, g.out_channels, k, plane, T(1), gy + n * g.out_channels * plane, plane, cols.data(), plane,
         T(1), gw, k);
  }
}

template <typename T>
void plain_avg_pool_forward(const Geometry2d& g, const T* x, T* y) {
  for_each_window(g, [&](int64_t in, int64_t out, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    T acc = 0;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) acc += x[in + h * g.in[1] + w];
    y[out] = acc / static_cast<T>((h1 - h0) * (w1 - w0));
  });
}

template <typename T>
void plain_avg_pool_backward(const Geometry2d& g, const T* gy, T* gx) {
  std::fill_n(gx, g.batch * g.in_channels * g.in_plane(), T(0));
  // Threads own whole planes, so overlapping windows never race.
  for_each_window(g, [&](int64_t in, int64_t out, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    const T share = gy[out] / static_cast<T>((h1 - h0) * (w1 - w0));
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) gx[in + h * g.in[1] + w] += share;
  });
}

bool use_onednn() { return gemm_backend() == GemmBackend::onednn; }

}  // namespace

template <>
void conv_forward<float>(const Geometry2d& g, const float* x, const float* w, float* y) {
  if (use_onednn()) onednn_conv_forward(g, x, w, y);
  else plain_conv_forward(g, x, w, y);
}
template <>
void conv_forward<double>(const Geometry2d& g, const double* x, const double* w, double* y) {
  plain_conv_forward(g, x, w, y);
}

template <>
void conv_backward_data<float>(const Geometry2d& g, const float* gy, const float* w, float* gx) {
  if (use_onednn()) onednn_conv_backward_data(g, gy, w, gx);
  else plain_conv_backward_data(g, gy, w, gx);
}
template <>
void conv_backward_data<double>(const Geometry2d& g, const double* gy, const double* w, double* gx) {
  plain_conv_backward_data(g, gy, w, gx);
}

template <>
void conv_backward_weights<float>(const Geometry2d& g, const float* x, const float* gy, float* gw) {
  if (use_onednn()) onednn_conv_backward_weights(g, x, gy, gw);
  else plain_conv_backward_weights(g, x, gy, gw);
}
template <>
void conv_backward_weights<double>(const Geometry2d& g, const double* x, const double* gy, double* gw) {
  plain_conv_backward_weights(g, x, gy, gw);
}

template <>
void avg_pool_forward<float>(const Geometry2d& g, const float* x, float* y) {
  if (use_onednn()) onednn_avg_pool_forward(g, x, y);
  else plain_avg_pool_forward(g, x, y);
}
template <>
void avg_pool_forward<double>(const Geometry2d& g, const double* x, double* y) {
  plain_avg_pool_forward(g, x, y);
}

template <>
void avg_pool_backward<float>(const Geometry2d& g, const float* gy, float* gx) {
  if (use_onednn()) onednn_avg_pool_backward(g, gy, gx);
  else plain_avg_pool_backward(g, gy, gx);
}
template <>
void avg_pool_backward<double>(const Geometry2d& g, const double* gy, double* gx) {
  plain_avg_pool_backward(g, gy, gx);
}

}  // namespace matnn::ad::detail
