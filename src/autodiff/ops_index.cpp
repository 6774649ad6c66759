// Row gather / scatter-add: message passing over edge lists (x[edge_src], sum over edges).
#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::dispatch;
using detail::parallel_for;

namespace {

void check_index(const char* op, const Index& index, int64_t n_rows) {
  if (!index) detail::invalid(op, "index is null");
  const std::vector<int32_t>& idx = *index;
  for (std::size_t k = 0; k < idx.size(); ++k)
    if (idx[k] < 0 || idx[k] >= n_rows)
      detail::invalid(op, fmt::format("index[{}] = {} is out of range for {} rows", k, idx[k], n_rows));
}

Shape with_rows(const Shape& s, int64_t rows) {
  Shape r = s;
  r[0] = rows;
  return r;
}

}  // namespace

Tensor gather_rows(const Tensor& x, const Index& index) {
  detail::check_defined("gather_rows", x);
  if (x.rank() < 1) detail::invalid("gather_rows", "x must have rank >= 1, got a scalar");
  const int64_t n = x.dim(0);
  check_index("gather_rows", index, n);
  const auto m = static_cast<int64_t>(index->size());
  const Shape out_shape = with_rows(x.shape(), m);
  const int64_t w = shape_numel(with_rows(x.shape(), 1));
  Tensor out = empty(out_shape, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int32_t* idx = index->data();
    parallel_for(m, m * w, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) std::copy_n(px + idx[k] * w, w, po + k * w);
    });
  });
  return record(out, "gather_rows", {x}, [index](const BackwardContext& c) {
    return std::vector<Tensor>{scatter_add_rows(c.grad_output, index, c.inputs[0].dim(0))};
  }, kReadsShapes);
}

Tensor scatter_add_rows(const Tensor& src, const Index& index, int64_t n_rows) {
  detail::check_defined("scatter_add_rows", src);
  if (src.rank() < 1) detail::invalid("scatter_add_rows", "src must have rank >= 1, got a scalar");
  if (n_rows < 0) detail::invalid("scatter_add_rows", fmt::format("negative n_rows {}", n_rows));
  check_index("scatter_add_rows", index, n_rows);
  const auto m = static_cast<int64_t>(index->size());
  if (src.dim(0) != m)
    detail::invalid("scatter_add_rows", fmt::format("src of shape {} has {} rows but the index has {} entries",
                                                    shape_str(src.shape()), src.dim(0), m));
  const int64_t w = shape_numel(with_rows(src.shape(), 1));
  Tensor out = zeros(with_rows(src.shape(), n_rows), src.dtype());
  dispatch(src.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* ps = src.data<T>();
    T* po = out.data<T>();
    const int32_t* idx = index->data();
    // Rows may repeat, so threads split the columns (each thread owns a column range).
    const int64_t work = w >= 64 ? m * w : 0;
    parallel_for(w, work, [&](int64_t cb, int64_t ce) {
      for (int64_t k = 0; k < m; ++k) {
        T* dst = po + idx[k] * w;
        const T* s = ps + k * w;
        for (int64_t j = cb; j < ce; ++j) dst[j] += s[j];
      }
    });
  });
  return record(out, "scatter_add_rows", {src}, [index](const BackwardContext& c) {
    return std::vector<Tensor>{gather_rows(c.grad_output, index)};
  }, kReadsShapes);
}

}  // namespace matnn::ad
