#include "autodiff/conv_geometry.hpp"

#include "autodiff/kernels.hpp"

namespace matnn::ad::detail {

namespace {

std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/// Spatial rank of a (N, C, [H,] W) tensor: 1 or 2.
std::size_t spatial_rank(const char* op, const Shape& x, const char* name) {
  if (x.size() != 3 && x.size() != 4)
    invalid(op, fmt::format("{} must be (N, C, W) or (N, C, H, W), got {}", name, shape_str(x)));
  return x.size() - 2;
}

/// Writes the trailing `spatial` values of `v` into the (height, width) pair (1-D: width only).
void assign(std::array<int64_t, 2>& pair, const std::vector<int64_t>& v, int64_t one_d_height) {
  if (v.size() == 1) pair = {one_d_height, v[0]};
  else pair = {v[0], v[1]};
}

}  // namespace

std::vector<int64_t> per_axis(const char* op, const char* key, const std::vector<int64_t>& values,
                              std::size_t spatial, int64_t fallback, int64_t minimum) {
  std::vector<int64_t> out;
  if (values.empty()) out.assign(spatial, fallback);
  else if (values.size() == 1) out.assign(spatial, values[0]);
  else if (values.size() == spatial) out = values;
  else
    invalid(op, fmt::format("{} has {} values {} for {} spatial axes", key, values.size(), list_str(values), spatial));
  for (int64_t v : out)
    if (v < minimum) invalid(op, fmt::format("{} {} has a value below {}", key, list_str(out), minimum));
  return out;
}

Geometry2d conv_geometry(const char* op, const Shape& x, const Shape& weight, const std::vector<int64_t>& stride,
                         const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation) {
  const std::size_t spatial = spatial_rank(op, x, "x");
  if (weight.size() != x.size())
    invalid(op, fmt::format("weight {} must have the rank of x {}: (C_out, C_in, {})", shape_str(weight), shape_str(x),
                            spatial == 1 ? "kW" : "kH, kW"));
  if (weight[1] != x[1])
    invalid(op, fmt::format("weight {} expects {} input channels, x {} has {}", shape_str(weight), weight[1],
                            shape_str(x), x[1]));
  Geometry2d g;
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = weight[0];
  assign(g.in, std::vector<int64_t>(x.begin() + 2, x.end()), 1);
  assign(g.kernel, std::vector<int64_t>(weight.begin() + 2, weight.end()), 1);
  for (int64_t k : g.kernel)
    if (k < 1) invalid(op, fmt::format("weight {} has an empty kernel", shape_str(weight)));
  assign(g.stride, per_axis(op, "stride", stride, spatial, 1, 1), 1);
  assign(g.padding, per_axis(op, "padding", padding, spatial, 0, 0), 0);
  assign(g.dilation, per_axis(op, "dilation", dilation, spatial, 1, 1), 1);
  for (int a = 0; a < 2; ++a) {
    g.out[a] = conv_output_length(g.in[a], g.kernel[a], g.stride[a], g.padding[a], g.dilation[a]);
    if (g.out[a] < 1)
      invalid(op, fmt::format("the kernel {} (dilation {}) does not fit into x {} padded by {}", shape_str(weight),
                              list_str(dilation), shape_str(x), list_str(padding)));
  }
  return g;
}

Geometry2d pool_geometry(const char* op, const Shape& x, const std::vector<int64_t>& kernel,
                         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding) {
  const std::size_t spatial = spatial_rank(op, x, "x");
  if (kernel.empty()) invalid(op, "the window size (kernel) is required");
  const std::vector<int64_t> k = per_axis(op, "kernel", kernel, spatial, 1, 1);
  const std::vector<int64_t> p = per_axis(op, "padding", padding, spatial, 0, 0);
  for (std::size_t a = 0; a < spatial; ++a)
    if (2 * p[a] > k[a])
      invalid(op, fmt::format("padding {} is more than half the window {}: a window could hold only padding",
                              list_str(p), list_str(k)));
  Geometry2d g;
  g.batch = x[0];
  g.in_channels = g.out_channels = x[1];
  assign(g.in, std::vector<int64_t>(x.begin() + 2, x.end()), 1);
  assign(g.kernel, k, 1);
  assign(g.stride, per_axis(op, "stride", stride.empty() ? k : stride, spatial, 1, 1), 1);
  assign(g.padding, p, 0);
  for (int a = 0; a < 2; ++a) {
    g.out[a] = conv_output_length(g.in[a], g.kernel[a], g.stride[a], g.padding[a], 1);
    if (g.out[a] < 1)
      invalid(op, fmt::format("the window {} does not fit into x {} padded by {}", list_str(k), shape_str(x),
                              list_str(p)));
  }
  return g;
}

Shape output_shape(const Geometry2d& g, int64_t rank) {
  if (rank == 3) return {g.batch, g.out_channels, g.out[1]};
  return {g.batch, g.out_channels, g.out[0], g.out[1]};
}

}  // namespace matnn::ad::detail
