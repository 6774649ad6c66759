// Broadcasting binary ops, scalar variants and broadcast_to.
#include <array>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::dispatch;
using detail::parallel_for;

namespace {

// Iteration plan over a broadcast output padded to rank 4: rows are the first three axes,
// the last axis is walked with per-operand strides (0 where the operand is broadcast).
struct Plan {
  std::array<int64_t, 4> dims{1, 1, 1, 1};
  std::array<int64_t, 4> sa{0, 0, 0, 0};
  std::array<int64_t, 4> sb{0, 0, 0, 0};
  int64_t rows() const { return dims[0] * dims[1] * dims[2]; }
};

std::array<int64_t, 4> padded_strides(const Shape& s, const std::array<int64_t, 4>& out_dims) {
  std::array<int64_t, 4> dims{1, 1, 1, 1};
  const std::size_t off = 4 - s.size();
  for (std::size_t i = 0; i < s.size(); ++i) dims[off + i] = s[i];
  std::array<int64_t, 4> strides{};
  int64_t stride = 1;
  for (int d = 3; d >= 0; --d) {
    strides[d] = (dims[d] == 1 && out_dims[d] != 1) ? 0 : stride;
    stride *= dims[d];
  }
  return strides;
}

Plan make_plan(const Shape& out, const Shape& a, const Shape& b) {
  Plan p;
  const std::size_t off = 4 - out.size();
  for (std::size_t i = 0; i < out.size(); ++i) p.dims[off + i] = out[i];
  p.sa = padded_strides(a, p.dims);
  p.sb = padded_strides(b, p.dims);
  return p;
}

// row(r, a_offset, b_offset) for every row r of the plan, in parallel when large.
template <typename Row>
void run_rows(const Plan& p, Row row) {
  const int64_t rows = p.rows();
  parallel_for(rows, rows * p.dims[3], [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t i2 = r % p.dims[2];
      const int64_t i1 = (r / p.dims[2]) % p.dims[1];
      const int64_t i0 = r / (p.dims[2] * p.dims[1]);
      row(r, i0 * p.sa[0] + i1 * p.sa[1] + i2 * p.sa[2], i0 * p.sb[0] + i1 * p.sb[1] + i2 * p.sb[2]);
    }
  });
}

template <typename F>
Tensor binary_kernel(const char* op, const Tensor& a, const Tensor& b, F f) {
  detail::check_defined(op, a, "a");
  detail::check_defined(op, b, "b");
  detail::check_same_dtype(op, a, b);
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = empty(out_shape, a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    const int64_t n = out.numel();
    if (a.shape() == b.shape()) {
      parallel_for(n, n, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]);
      });
    } else if (b.numel() == 1) {
      const T bv = pb[0];
      parallel_for(n, n, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], bv);
      });
    } else if (a.numel() == 1) {
      const T av = pa[0];
      parallel_for(n, n, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) po[i] = f(av, pb[i]);
      });
    } else {
      const Plan p = make_plan(out_shape, a.shape(), b.shape());
      const int64_t inner = p.dims[3], sa = p.sa[3], sb = p.sb[3];
      run_rows(p, [&](int64_t r, int64_t ao, int64_t bo) {
        T* o = po + r * inner;
        const T* x = pa + ao;
        const T* y = pb + bo;
        if (sa == 1 && sb == 1) {
          for (int64_t j = 0; j < inner; ++j) o[j] = f(x[j], y[j]);
        } else if (sa == 1) {
          for (int64_t j = 0; j < inner; ++j) o[j] = f(x[j], y[0]);
        } else if (sb == 1) {
          for (int64_t j = 0; j < inner; ++j) o[j] = f(x[0], y[j]);
        } else {
          for (int64_t j = 0; j < inner; ++j) o[j] = f(x[0], y[0]);
        }
      });
    }
  });
  return out;
}

template <typename F>
Tensor scalar_kernel(const Tensor& x, double s, F f) {
  return detail::map_unary(x, [&](auto v) { return f(v, static_cast<decltype(v)>(s)); });
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      detail::invalid(op, fmt::format("shapes {} and {} cannot be broadcast together", shape_str(a), shape_str(b)));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("add", a, b, [](auto x, auto y) { return x + y; });
  return record(out, "add", {a, b}, [](const BackwardContext& c) {
    const Tensor& g = c.grad_output;
    return std::vector<Tensor>{c.needs[0] ? sum_to(g, c.inputs[0].shape()) : Tensor(),
                               c.needs[1] ? sum_to(g, c.inputs[1].shape()) : Tensor()};
  }, kReadsShapes);
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("sub", a, b, [](auto x, auto y) { return x - y; });
  return record(out, "sub", {a, b}, [](const BackwardContext& c) {
    const Tensor& g = c.grad_output;
    return std::vector<Tensor>{c.needs[0] ? sum_to(g, c.inputs[0].shape()) : Tensor(),
                               c.needs[1] ? sum_to(neg(g), c.inputs[1].shape()) : Tensor()};
  }, kReadsShapes);
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("mul", a, b, [](auto x, auto y) { return x * y; });
  return record(out, "mul", {a, b}, [](const BackwardContext& c) {
    const Tensor& g = c.grad_output;
    const Tensor& x = c.inputs[0];
    const Tensor& y = c.inputs[1];
    return std::vector<Tensor>{c.needs[0] ? sum_to(mul(g, y), x.shape()) : Tensor(),
                               c.needs[1] ? sum_to(mul(g, x), y.shape()) : Tensor()};
  }, kReadsOtherInputs);
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("div", a, b, [](auto x, auto y) { return x / y; });
  return record(out, "div", {a, b}, [](const BackwardContext& c) {
    const Tensor& g = c.grad_output;
    const Tensor& y = c.inputs[1];
    // d(a/b)/db = -(a/b)/b
    return std::vector<Tensor>{c.needs[0] ? sum_to(div(g, y), c.inputs[0].shape()) : Tensor(),
                               c.needs[1] ? sum_to(neg(div(mul(g, c.output), y)), y.shape()) : Tensor()};
  });
}

Tensor add(const Tensor& x, double s) {
  detail::check_defined("add", x);
  Tensor out = scalar_kernel(x, s, [](auto v, auto w) { return v + w; });
  return record(out, "add_scalar", {x}, [](const BackwardContext& c) { return std::vector<Tensor>{c.grad_output}; }, kReadsShapes);
}

Tensor sub(const Tensor& x, double s) { return add(x, -s); }

Tensor mul(const Tensor& x, double s) {
  detail::check_defined("mul", x);
  Tensor out = scalar_kernel(x, s, [](auto v, auto w) { return v * w; });
  return record(out, "mul_scalar", {x}, [s](const BackwardContext& c) { return std::vector<Tensor>{mul(c.grad_output, s)}; }, kReadsShapes);
}

Tensor div(const Tensor& x, double s) { return mul(x, 1.0 / s); }

Tensor rsub(double s, const Tensor& x) {
  detail::check_defined("rsub", x);
  Tensor out = scalar_kernel(x, s, [](auto v, auto w) { return w - v; });
  return record(out, "rsub_scalar", {x}, [](const BackwardContext& c) { return std::vector<Tensor>{neg(c.grad_output)}; }, kReadsShapes);
}

Tensor rdiv(double s, const Tensor& x) {
  detail::check_defined("rdiv", x);
  Tensor out = scalar_kernel(x, s, [](auto v, auto w) { return w / v; });
  return record(out, "rdiv_scalar", {x}, [](const BackwardContext& c) {
    // d(s/x)/dx = -(s/x)/x
    return std::vector<Tensor>{neg(div(mul(c.grad_output, c.output), c.inputs[0]))};
  });
}

Tensor neg(const Tensor& x) {
  detail::check_defined("neg", x);
  Tensor out = detail::map_unary(x, [](auto v) { return -v; });
  return record(out, "neg", {x}, [](const BackwardContext& c) { return std::vector<Tensor>{neg(c.grad_output)}; }, kReadsShapes);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("broadcast_to", x);
  if (x.shape() == shape) return x;
  if (shape.size() > static_cast<std::size_t>(kMaxRank) || x.rank() > static_cast<int64_t>(shape.size()) ||
      broadcast_shapes(x.shape(), shape, "broadcast_to") != shape)
    detail::invalid("broadcast_to", fmt::format("cannot broadcast shape {} to {}", shape_str(x.shape()), shape_str(shape)));
  Tensor out = empty(shape, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    if (x.numel() == 1) {
      std::fill_n(po, out.numel(), px[0]);
      return;
    }
    const Plan p = make_plan(shape, x.shape(), x.shape());
    const int64_t inner = p.dims[3], sa = p.sa[3];
    run_rows(p, [&](int64_t r, int64_t ao, int64_t) {
      T* o = po + r * inner;
      const T* src = px + ao;
      if (sa == 1) std::copy_n(src, inner, o);
      else std::fill_n(o, inner, src[0]);
    });
  });
  return record(out, "broadcast_to", {x}, [](const BackwardContext& c) {
    return std::vector<Tensor>{sum_to(c.grad_output, c.inputs[0].shape())};
  }, kReadsShapes);
}

}  // namespace matnn::ad
