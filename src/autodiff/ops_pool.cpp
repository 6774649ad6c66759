// Pooling over the spatial axes of channels-first tensors.
//
// Max pooling is a selection: once the winning positions are known it is gather_rows of the
// flattened input, whose derivatives are scatters and gathers of the same positions to every
// order. Average pooling is linear and pairs with its adjoint, as conv does.
#include <limits>
#include <vector>

#include "autodiff/conv_kernels.hpp"
#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::dispatch;

namespace {

detail::Geometry2d geometry(const char* op, const Shape& x, const PoolOptions& o) {
  return detail::pool_geometry(op, x, o.kernel, o.stride, o.padding);
}

/// The flat index into x of each window's largest element (the first one on ties).
template <typename T>
std::vector<int32_t> window_maxima(const detail::Geometry2d& g, const T* x) {
  std::vector<int32_t> winner(static_cast<std::size_t>(g.batch * g.in_channels * g.out_plane()));
  detail::for_each_window(g, [&](int64_t in, int64_t out, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    int64_t best = in + h0 * g.in[1] + w0;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w)
        if (x[in + h * g.in[1] + w] > x[best]) best = in + h * g.in[1] + w;
    winner[static_cast<std::size_t>(out)] = static_cast<int32_t>(best);
  });
  return winner;
}

}  // namespace

Tensor max_pool(const Tensor& x, const PoolOptions& options) {
  detail::check_defined("max_pool", x, "x");
  const detail::Geometry2d g = geometry("max_pool", x.shape(), options);
  if (x.numel() > std::numeric_limits<int32_t>::max())
    detail::invalid("max_pool", fmt::format("x {} has more elements than a 32-bit index reaches", shape_str(x.shape())));
  const Index winners = dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    return make_index(window_maxima<T>(g, x.data<T>()));
  });
  return reshape(gather_rows(reshape(x, {x.numel(), 1}), winners), detail::output_shape(g, x.rank()));
}

Tensor avg_pool(const Tensor& x, const PoolOptions& options) {
  detail::check_defined("avg_pool", x, "x");
  const detail::Geometry2d g = geometry("avg_pool", x.shape(), options);
  Tensor out = empty(detail::output_shape(g, x.rank()), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    detail::avg_pool_forward<T>(g, x.data<T>(), out.data<T>());
  });
  return record(out, "avg_pool", {x}, [options](const BackwardContext& c) {
    return std::vector<Tensor>{avg_pool_adjoint(c.grad_output, c.inputs[0].shape(), options)};
  }, kReadsShapes);
}

Tensor avg_pool_adjoint(const Tensor& grad_output, const Shape& input_shape, const PoolOptions& options) {
  detail::check_defined("avg_pool_adjoint", grad_output, "grad_output");
  const detail::Geometry2d g = geometry("avg_pool_adjoint", input_shape, options);
  const Shape expected = detail::output_shape(g, static_cast<int64_t>(input_shape.size()));
  if (grad_output.shape() != expected)
    detail::invalid("avg_pool_adjoint", fmt::format("grad_output {} does not match the pooled shape {}",
                                                    shape_str(grad_output.shape()), shape_str(expected)));
  Tensor out = empty(input_shape, grad_output.dtype());
  dispatch(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    detail::avg_pool_backward<T>(g, grad_output.data<T>(), out.data<T>());
  });
  return record(out, "avg_pool_adjoint", {grad_output}, [options](const BackwardContext& c) {
    return std::vector<Tensor>{avg_pool(c.grad_output, options)};
  }, kReadsShapes);
}

namespace {

void check_channels_first(const char* op, const Tensor& x) {
  detail::check_defined(op, x, "x");
  if (x.rank() != 3 && x.rank() != 4)
    detail::invalid(op, fmt::format("x must be (N, C, W) or (N, C, H, W), got {}", shape_str(x.shape())));
}

}  // namespace

Tensor global_avg_pool(const Tensor& x) {
  check_channels_first("global_avg_pool", x);
  return mean(reshape(x, {x.dim(0), x.dim(1), -1}), 2);
}

Tensor global_max_pool(const Tensor& x) {
  check_channels_first("global_max_pool", x);
  PoolOptions whole;
  whole.kernel.assign(x.shape().begin() + 2, x.shape().end());
  return reshape(max_pool(x, whole), {x.dim(0), x.dim(1)});
}

}  // namespace matnn::ad
