// Reductions: sum, mean (whole tensor or one axis) and sum_to (adjoint of broadcasting).
#include <limits>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::dispatch;
using detail::parallel_for;

namespace {

Shape keepdim_shape(const Shape& s, int64_t axis) {
  Shape k = s;
  k[static_cast<std::size_t>(axis)] = 1;
  return k;
}

Shape removed_shape(const Shape& s, int64_t axis) {
  Shape r = s;
  r.erase(r.begin() + axis);
  return r;
}

// out[o, i] = sum_l x[o, l, i] for x viewed as (outer, len, inner).
template <typename T>
void sum_axis_kernel(const T* x, T* out, int64_t outer, int64_t len, int64_t inner) {
  const int64_t work = outer * len * inner;
  if (inner == 1) {
    parallel_for(outer, work, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* row = x + o * len;
        T acc = 0;
        for (int64_t l = 0; l < len; ++l) acc += row[l];
        out[o] = acc;
      }
    });
    return;
  }
  auto columns = [&](int64_t o, int64_t cb, int64_t ce) {
    T* dst = out + o * inner;
    std::fill(dst + cb, dst + ce, T(0));
    for (int64_t l = 0; l < len; ++l) {
      const T* src = x + (o * len + l) * inner;
      for (int64_t i = cb; i < ce; ++i) dst[i] += src[i];
    }
  };
  if (outer >= 8) {
    parallel_for(outer, work, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) columns(o, 0, inner);
    });
  } else {
    for (int64_t o = 0; o < outer; ++o)
      parallel_for(inner, work / outer, [&](int64_t b, int64_t e) { columns(o, b, e); });
  }
}

}  // namespace

Tensor sum(const Tensor& x) {
  detail::check_defined("sum", x);
  Tensor out = empty({}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    const int64_t n = x.numel();
    double acc = 0.0;
    if (n >= detail::kParallelThreshold && !omp_in_parallel()) {
#pragma omp parallel for reduction(+ : acc) schedule(static)
      for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(px[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(px[i]);
    }
    out.data<T>()[0] = static_cast<T>(acc);
  });
  return record(out, "sum", {x}, [](const BackwardContext& c) {
    return std::vector<Tensor>{broadcast_to(c.grad_output, c.inputs[0].shape())};
  }, kReadsShapes);
}

Tensor sum(const Tensor& x, int64_t axis, bool keepdim) {
  detail::check_defined("sum", x);
  const int64_t ax = detail::normalize_axis("sum", axis, x.shape());
  const Shape& s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < ax; ++d) outer *= s[static_cast<std::size_t>(d)];
  for (int64_t d = ax + 1; d < x.rank(); ++d) inner *= s[static_cast<std::size_t>(d)];
  const int64_t len = s[static_cast<std::size_t>(ax)];
  Tensor out = empty(keepdim ? keepdim_shape(s, ax) : removed_shape(s, ax), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    sum_axis_kernel(x.data<T>(), out.data<T>(), outer, len, inner);
  });
  return record(out, "sum_axis", {x}, [ax, keepdim](const BackwardContext& c) {
    const Tensor& in = c.inputs[0];
    const Tensor g = keepdim ? c.grad_output : reshape(c.grad_output, keepdim_shape(in.shape(), ax));
    return std::vector<Tensor>{broadcast_to(g, in.shape())};
  }, kReadsShapes);
}

Tensor mean(const Tensor& x) {
  detail::check_defined("mean", x);
  const double n = static_cast<double>(x.numel());
  return mul(sum(x), n > 0 ? 1.0 / n : std::numeric_limits<double>::quiet_NaN());
}

Tensor mean(const Tensor& x, int64_t axis, bool keepdim) {
  detail::check_defined("mean", x);
  const double n = static_cast<double>(x.dim(detail::normalize_axis("mean", axis, x.shape())));
  return mul(sum(x, axis, keepdim), n > 0 ? 1.0 / n : std::numeric_limits<double>::quiet_NaN());
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("sum_to", x);
  if (x.shape() == shape) return x;
  const int64_t lead = x.rank() - static_cast<int64_t>(shape.size());
  if (lead < 0 || broadcast_shapes(x.shape(), shape, "sum_to") != x.shape())
    detail::invalid("sum_to", fmt::format("shape {} does not broadcast to {}", shape_str(shape), shape_str(x.shape())));
  // Sum (keeping dims) over every axis that was stretched or prepended, then drop the prefix.
  Tensor r = x;
  for (int64_t d = 0; d < x.rank(); ++d) {
    const bool stretched = d < lead || shape[static_cast<std::size_t>(d - lead)] == 1;
    if (x.dim(d) != 1 && stretched) r = sum(r, d, true);
  }
  return reshape(r, shape);
}

}  // namespace matnn::ad
