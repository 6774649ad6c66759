#include "models/cgcnn/cgcnn_ops.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "autodiff/graph.hpp"
#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::models::cgcnn {
namespace {

using ad::detail::dispatch;
using ad::detail::parallel_for;

template <typename T>
T sigmoid_of(T v) {
  if constexpr (std::is_same_v<T, float>) return 1.0f / (1.0f + ad::detail::exp_vectorisable(-v));
  else return T(1) / (T(1) + std::exp(-v));
}

template <typename T>
T softplus_of(T v) {
  if constexpr (std::is_same_v<T, float>)
    return std::max(v, 0.0f) + ad::detail::log1p_unit_vectorisable(ad::detail::exp_vectorisable(-std::abs(v)));
  else return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v)));
}

// The message, and its two factors [sigmoid(f), softplus(c)] per row for the backward pass.
template <typename T>
MATNN_TARGET_CLONES void gated_rows(const T* __restrict g, T* __restrict out, T* __restrict factors, int64_t width,
                                    int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) {
    const T* row = g + i * 2 * width;
    T* o = out + i * width;
    T* f = factors + i * 2 * width;
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) {
      const T s = sigmoid_of(row[j]), sp = softplus_of(row[width + j]);
      f[j] = s;
      f[width + j] = sp;
      o[j] = s * sp;
    }
  }
}

// d/dg of <dm, message>: [dm sp s (1 - s), dm s sigmoid(c)] with s = sigmoid(f), sp = softplus(c)
// from the forward pass, and sigmoid(c) = 1 - exp(-softplus(c)): one exponential per element.
template <typename T>
MATNN_TARGET_CLONES void gated_backward_rows(const T* __restrict factors, const T* __restrict dm, T* __restrict dg,
                                             int64_t width, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) {
    const T* f = factors + i * 2 * width;
    const T* d = dm + i * width;
    T* o = dg + i * 2 * width;
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) {
      const T s = f[j], sp = f[width + j];
      T decay;
      if constexpr (std::is_same_v<T, float>) decay = ad::detail::exp_vectorisable(-sp);
      else decay = std::exp(-sp);
      o[j] = d[j] * sp * s * (T(1) - s);
      o[width + j] = d[j] * s * (T(1) - decay);
    }
  }
}

template <typename T>
MATNN_TARGET_CLONES void edge_sum_rows(const T* __restrict a, const T* __restrict b_, const T* __restrict c,
                                       const int32_t* center, const int32_t* neighbor, T* __restrict out, int64_t width,
                                       int64_t b, int64_t e) {
  for (int64_t k = b; k < e; ++k) {
    const T* x = a + static_cast<int64_t>(center[k]) * width;
    const T* y = b_ + static_cast<int64_t>(neighbor[k]) * width;
    const T* z = c + k * width;
    T* o = out + k * width;
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) o[j] = x[j] + y[j] + z[j];
  }
}

}  // namespace

ad::Tensor edge_sum(const ad::Tensor& at_center, const ad::Tensor& at_neighbor, const ad::Tensor& on_edge,
                    const ad::Index& center, const ad::Index& neighbor) {
  const int64_t width = on_edge.dim(1), edges = on_edge.dim(0);
  if (at_center.rank() != 2 || at_neighbor.rank() != 2 || at_center.dim(1) != width || at_neighbor.dim(1) != width ||
      static_cast<int64_t>(center->size()) != edges || static_cast<int64_t>(neighbor->size()) != edges ||
      at_center.dtype() != on_edge.dtype() || at_neighbor.dtype() != on_edge.dtype())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "edge_sum: shapes or dtypes disagree");
  for (int32_t i : *center)
    if (i < 0 || i >= at_center.dim(0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "edge_sum: centre {} out of range", i);
  for (int32_t j : *neighbor)
    if (j < 0 || j >= at_neighbor.dim(0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "edge_sum: neighbour {} out of range", j);
  ad::Tensor out = ad::empty({edges, width}, on_edge.dtype());
  dispatch(on_edge.dtype(), [&](auto zero) {
    using T = decltype(zero);
    parallel_for(edges, edges * width, [&](int64_t b, int64_t e) {
      edge_sum_rows(at_center.template data<T>(), at_neighbor.template data<T>(), on_edge.template data<T>(),
                    center->data(), neighbor->data(), out.template data<T>(), width, b, e);
    });
  });
  const int64_t n_center = at_center.dim(0), n_neighbor = at_neighbor.dim(0);
  return ad::record(out, "edge_sum", {at_center, at_neighbor, on_edge},
                    [center, neighbor, n_center, n_neighbor](const ad::BackwardContext& c) {
                      std::vector<ad::Tensor> grads(3);
                      if (c.needs[0]) grads[0] = ad::scatter_add_rows(c.grad_output, center, n_center);
                      if (c.needs[1]) grads[1] = ad::scatter_add_rows(c.grad_output, neighbor, n_neighbor);
                      if (c.needs[2]) grads[2] = c.grad_output;
                      return grads;
                    });
}

ad::Tensor gated_message(const ad::Tensor& g) {
  if (g.rank() != 2 || g.dim(1) % 2 != 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "gated_message: g must be (edges, 2 width)");
  const int64_t rows = g.dim(0), width = g.dim(1) / 2;
  ad::Tensor out = ad::empty({rows, width}, g.dtype());
  // Kept for the backward pass only when one will run.
  const bool recorded = ad::grad_mode_enabled() && g.requires_grad();
  ad::Tensor factors = ad::empty(recorded ? g.shape() : ad::Shape{0, 2 * width}, g.dtype());
  dispatch(g.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> scratch;
    T* f = factors.template data<T>();
    if (!recorded) {
      scratch.resize(static_cast<std::size_t>(rows * 2 * width));
      f = scratch.data();
    }
    parallel_for(rows, rows * width * 8, [&](int64_t b, int64_t e) {
      gated_rows(g.template data<T>(), out.template data<T>(), f, width, b, e);
    });
  });
  return ad::record(out, "gated_message", {g}, [width, factors](const ad::BackwardContext& c) {
    const ad::Tensor& in = c.inputs[0];
    if (ad::grad_mode_enabled()) {
      // Recorded: the same derivative from differentiable ops.
      const ad::Tensor f = ad::slice(in, 1, 0, width), core = ad::slice(in, 1, width, 2 * width);
      const ad::Tensor s = ad::sigmoid(f);
      return std::vector<ad::Tensor>{ad::concat(
          {ad::mul(ad::mul(c.grad_output, ad::softplus(core)), ad::mul(s, ad::rsub(1.0, s))),
           ad::mul(ad::mul(c.grad_output, s), ad::sigmoid(core))},
          1)};
    }
    ad::Tensor dg = ad::empty(in.shape(), in.dtype());
    const int64_t n = in.dim(0);
    dispatch(in.dtype(), [&](auto zero) {
      using T = decltype(zero);
      parallel_for(n, n * width * 4, [&](int64_t b, int64_t e) {
        gated_backward_rows(factors.template data<T>(), c.grad_output.template data<T>(), dg.template data<T>(), width,
                            b, e);
      });
    });
    return std::vector<ad::Tensor>{dg};
  });
}

}  // namespace matnn::models::cgcnn
