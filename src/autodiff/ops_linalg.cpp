// Dense linear algebra: matmul, linear (GEMM + bias) and the Euclidean norm along an axis.
#include <algorithm>
#include <cmath>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::dispatch;
using detail::parallel_for;

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  detail::check_defined("matmul", a, "a");
  detail::check_defined("matmul", b, "b");
  if (a.rank() != 2 || b.rank() != 2)
    detail::invalid("matmul", fmt::format("expected 2-D tensors, got {} and {}", shape_str(a.shape()), shape_str(b.shape())));
  detail::check_same_dtype("matmul", a, b);
  const int64_t m = trans_a ? a.dim(1) : a.dim(0);
  const int64_t k = trans_a ? a.dim(0) : a.dim(1);
  const int64_t kb = trans_b ? b.dim(1) : b.dim(0);
  const int64_t n = trans_b ? b.dim(0) : b.dim(1);
  if (k != kb)
    detail::invalid("matmul", fmt::format("inner dimensions differ: op(a) is ({}, {}) from {}{}, op(b) is ({}, {}) from {}{}",
                                          m, k, shape_str(a.shape()), trans_a ? "^T" : "", kb, n,
                                          shape_str(b.shape()), trans_b ? "^T" : ""));
  Tensor out = empty({m, n}, a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    gemm(trans_a, trans_b, m, n, k, T(1), a.data<T>(), std::max<int64_t>(1, a.dim(1)), b.data<T>(),
         std::max<int64_t>(1, b.dim(1)), T(0), out.data<T>(), std::max<int64_t>(1, n));
  });
  return record(out, "matmul", {a, b}, [trans_a, trans_b](const BackwardContext& c) {
    // C = op(A) op(B):  dA = G op(B)^T (or its transpose), dB = op(A)^T G (or its transpose).
    const Tensor& g = c.grad_output;
    const Tensor& x = c.inputs[0];
    const Tensor& y = c.inputs[1];
    Tensor ga, gb;
    if (c.needs[0]) ga = trans_a ? matmul(y, g, trans_b, true) : matmul(g, y, false, !trans_b);
    if (c.needs[1]) gb = trans_b ? matmul(g, x, true, trans_a) : matmul(x, g, !trans_a, false);
    return std::vector<Tensor>{ga, gb};
  }, kReadsOtherInputs);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  detail::check_defined("linear", x, "x");
  detail::check_defined("linear", weight, "weight");
  if (x.rank() != 2 || weight.rank() != 2 || x.dim(1) != weight.dim(0) ||
      (bias.defined() && (bias.rank() != 1 || bias.dim(0) != weight.dim(1))))
    detail::invalid("linear", fmt::format("expected x (n, in), weight (in, out), bias (out); got x {}, weight {}, bias {}",
                                          shape_str(x.shape()), shape_str(weight.shape()),
                                          bias.defined() ? shape_str(bias.shape()) : std::string("none")));
  detail::check_same_dtype("linear", x, weight);
  if (bias.defined()) detail::check_same_dtype("linear", x, bias);
  const int64_t n = x.dim(0), in = x.dim(1), out_dim = weight.dim(1);
  Tensor out = empty({n, out_dim}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* po = out.data<T>();
    if (bias.defined()) {
      const T* pb = bias.data<T>();
      parallel_for(n, n * out_dim, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) std::copy_n(pb, out_dim, po + i * out_dim);
      });
    }
    gemm(false, false, n, out_dim, in, T(1), x.data<T>(), std::max<int64_t>(1, in), weight.data<T>(),
         std::max<int64_t>(1, out_dim), bias.defined() ? T(1) : T(0), po, std::max<int64_t>(1, out_dim));
  });
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return record(out, "linear", std::move(inputs), [](const BackwardContext& c) {
    const Tensor& g = c.grad_output;
    std::vector<Tensor> grads(c.inputs.size());
    if (c.needs[0]) grads[0] = matmul(g, c.inputs[1], false, true);
    if (c.needs[1]) grads[1] = matmul(c.inputs[0], g, true, false);
    if (grads.size() > 2 && c.needs[2]) grads[2] = sum(g, 0);
    return grads;
  }, kReadsOtherInputs);
}

Tensor norm(const Tensor& x, int64_t axis, bool keepdim) {
  detail::check_defined("norm", x);
  if (x.rank() == 0) detail::invalid("norm", "x must have rank >= 1, got a scalar");
  const int64_t ax = detail::normalize_axis("norm", axis, x.shape());
  const Shape& s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < ax; ++d) outer *= s[static_cast<std::size_t>(d)];
  for (int64_t d = ax + 1; d < x.rank(); ++d) inner *= s[static_cast<std::size_t>(d)];
  const int64_t len = s[static_cast<std::size_t>(ax)];
  Shape keep_shape = s;
  keep_shape[static_cast<std::size_t>(ax)] = 1;
  Shape out_shape = keep_shape;
  if (!keepdim) out_shape.erase(out_shape.begin() + ax);
  Tensor out = empty(out_shape, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    parallel_for(outer, outer * len * inner, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          T acc = 0;
          for (int64_t l = 0; l < len; ++l) {
            const T v = px[(o * len + l) * inner + i];
            acc += v * v;
          }
          po[o * inner + i] = std::sqrt(acc);
        }
    });
  });
  return record(out, "norm", {x}, [keep_shape](const BackwardContext& c) {
    // d|x|/dx = x / |x|, taken as 0 at x = 0: divide by r + [r == 0] (the mask is a constant).
    const Tensor r = reshape(c.output, keep_shape);
    const Tensor g = reshape(c.grad_output, keep_shape);
    const Tensor at_zero = detail::map_unary(r, [](auto v) { return v == 0 ? decltype(v)(1) : decltype(v)(0); });
    return std::vector<Tensor>{mul(c.inputs[0], div(g, add(r, at_zero)))};
  });
}

}  // namespace matnn::ad
