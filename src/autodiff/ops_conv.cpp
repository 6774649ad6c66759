// Convolution as three bilinear ops that differentiate into each other: with y = conv(x, w),
//   dx = conv_input_grad(dy, w),  dw = conv_weight_grad(x, dy),
// and the backward of each adjoint is again a pair of the three (written out below), so forces
// or curvature through a convolution need no further kernels.
#include "autodiff/conv_kernels.hpp"
#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::dispatch;

namespace {

detail::Geometry2d geometry(const char* op, const Shape& x, const Shape& weight, const ConvOptions& o) {
  return detail::conv_geometry(op, x, weight, o.stride, o.padding, o.dilation);
}

void check_grad_output(const char* op, const Tensor& grad_output, const Shape& expected) {
  if (grad_output.shape() != expected)
    detail::invalid(op, fmt::format("grad_output {} does not match the convolution's output {}",
                                    shape_str(grad_output.shape()), shape_str(expected)));
}

}  // namespace

Tensor conv(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvOptions& options) {
  detail::check_defined("conv", x, "x");
  detail::check_defined("conv", weight, "weight");
  detail::check_same_dtype("conv", x, weight);
  const detail::Geometry2d g = geometry("conv", x.shape(), weight.shape(), options);
  if (bias.defined()) {
    detail::check_same_dtype("conv", x, bias);
    if (bias.rank() != 1 || bias.dim(0) != g.out_channels)
      detail::invalid("conv", fmt::format("bias {} must be ({}), one value per output channel",
                                          shape_str(bias.shape()), g.out_channels));
  }
  Tensor out = empty(detail::output_shape(g, x.rank()), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    detail::conv_forward<T>(g, x.data<T>(), weight.data<T>(), out.data<T>());
  });
  out = record(out, "conv", {x, weight}, [options](const BackwardContext& c) {
    Tensor gx, gw;
    if (c.needs[0]) gx = conv_input_grad(c.grad_output, c.inputs[1], c.inputs[0].shape(), options);
    if (c.needs[1]) gw = conv_weight_grad(c.inputs[0], c.grad_output, c.inputs[1].shape(), options);
    return std::vector<Tensor>{gx, gw};
  }, kReadsOtherInputs);
  if (!bias.defined()) return out;
  Shape per_channel(static_cast<std::size_t>(x.rank()), 1);
  per_channel[1] = g.out_channels;
  return add(out, reshape(bias, per_channel));
}

Tensor conv_input_grad(const Tensor& grad_output, const Tensor& weight, const Shape& input_shape,
                       const ConvOptions& options) {
  detail::check_defined("conv_input_grad", grad_output, "grad_output");
  detail::check_defined("conv_input_grad", weight, "weight");
  detail::check_same_dtype("conv_input_grad", grad_output, weight);
  const detail::Geometry2d g = geometry("conv_input_grad", input_shape, weight.shape(), options);
  check_grad_output("conv_input_grad", grad_output, detail::output_shape(g, static_cast<int64_t>(input_shape.size())));
  Tensor out = empty(input_shape, grad_output.dtype());
  dispatch(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    detail::conv_backward_data<T>(g, grad_output.data<T>(), weight.data<T>(), out.data<T>());
  });
  return record(out, "conv_input_grad", {grad_output, weight}, [options](const BackwardContext& c) {
    // out = A(w)^T gy: d gy = A(w) a = conv(a, w); d w = conv_weight_grad(a, gy).
    Tensor d_gy, d_w;
    if (c.needs[0]) d_gy = conv(c.grad_output, c.inputs[1], Tensor(), options);
    if (c.needs[1]) d_w = conv_weight_grad(c.grad_output, c.inputs[0], c.inputs[1].shape(), options);
    return std::vector<Tensor>{d_gy, d_w};
  }, kReadsOtherInputs);
}

Tensor conv_weight_grad(const Tensor& x, const Tensor& grad_output, const Shape& weight_shape,
                        const ConvOptions& options) {
  detail::check_defined("conv_weight_grad", x, "x");
  detail::check_defined("conv_weight_grad", grad_output, "grad_output");
  detail::check_same_dtype("conv_weight_grad", x, grad_output);
  const detail::Geometry2d g = geometry("conv_weight_grad", x.shape(), weight_shape, options);
  check_grad_output("conv_weight_grad", grad_output, detail::output_shape(g, x.rank()));
  Tensor out = empty(weight_shape, x.dtype());
  dispatch(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    detail::conv_backward_weights<T>(g, x.data<T>(), grad_output.data<T>(), out.data<T>());
  });
  return record(out, "conv_weight_grad", {x, grad_output}, [options](const BackwardContext& c) {
    // <b, out> = <conv(x, b), gy>: d x = conv_input_grad(gy, b); d gy = conv(x, b).
    Tensor d_x, d_gy;
    if (c.needs[0]) d_x = conv_input_grad(c.inputs[1], c.grad_output, c.inputs[0].shape(), options);
    if (c.needs[1]) d_gy = conv(c.inputs[0], c.grad_output, Tensor(), options);
    return std::vector<Tensor>{d_x, d_gy};
  }, kReadsOtherInputs);
}

}  // namespace matnn::ad
