// The shape arithmetic of convolution and pooling (engine-internal), shared by the op wrappers
// and by both kernel paths so that they cannot disagree about an output size.
//
// Spectra are 1-D and images 2-D. The kernels see a 1-D problem as a 2-D one with a height of 1
// (and a kernel height, stride and dilation of 1, padding 0), so each path is written once.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace matnn::ad::detail {

/// A convolution (or pooling window) as the kernels see it: sizes in (height, width) order.
struct Geometry2d {
  int64_t batch = 0, in_channels = 0, out_channels = 0;
  std::array<int64_t, 2> in{}, out{}, kernel{}, stride{1, 1}, padding{0, 0}, dilation{1, 1};

  int64_t in_plane() const noexcept { return in[0] * in[1]; }
  int64_t out_plane() const noexcept { return out[0] * out[1]; }
  int64_t kernel_size() const noexcept { return kernel[0] * kernel[1]; }
};

/// Number of outputs along one axis: floor((n + 2 p - d (k - 1) - 1) / s) + 1, or a value <= 0
/// when the dilated kernel does not fit into the padded input.
inline int64_t conv_output_length(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  const int64_t span = d * (k - 1) + 1;
  const int64_t padded = n + 2 * p;
  return padded < span ? 0 : (padded - span) / s + 1;
}

/// Per-axis options expanded to `spatial` values: empty -> `fallback` on every axis, one value ->
/// the same on every axis. Any other count, or a value below `minimum`, throws naming op and key.
std::vector<int64_t> per_axis(const char* op, const char* key, const std::vector<int64_t>& values,
                              std::size_t spatial, int64_t fallback, int64_t minimum);

/// The geometry of a convolution of x (N, C_in, [H,] W) with weights (C_out, C_in, [kH,] kW);
/// checks ranks, channel counts and that the output is not empty (errors name `op`).
Geometry2d conv_geometry(const char* op, const Shape& x, const Shape& weight, const std::vector<int64_t>& stride,
                         const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation);

/// The geometry of a pooling window over x (N, C, [H,] W); out_channels = in_channels.
/// Padding must be at most half the window so that every window holds an input element.
Geometry2d pool_geometry(const char* op, const Shape& x, const std::vector<int64_t>& kernel,
                         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding);

/// The output shape (N, C_out, [H_out,] W_out) of geometry g for an input of rank `rank`.
Shape output_shape(const Geometry2d& g, int64_t rank);

}  // namespace matnn::ad::detail
