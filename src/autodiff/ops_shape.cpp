// Shape ops: concat, slice, reshape, transpose.
#include <cstring>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::parallel_for;

namespace {

// Product of the dimensions before / after `axis`.
int64_t outer_size(const Shape& s, int64_t axis) {
  int64_t n = 1;
  for (int64_t d = 0; d < axis; ++d) n *= s[static_cast<std::size_t>(d)];
  return n;
}
int64_t inner_size(const Shape& s, int64_t axis) {
  int64_t n = 1;
  for (auto d = static_cast<std::size_t>(axis + 1); d < s.size(); ++d) n *= s[d];
  return n;
}

}  // namespace

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis) {
  if (tensors.empty()) detail::invalid("concat", "no tensors given");
  for (const Tensor& t : tensors) detail::check_defined("concat", t);
  const Tensor& first = tensors.front();
  if (first.rank() == 0) detail::invalid("concat", "cannot concatenate scalars");
  const int64_t ax = detail::normalize_axis("concat", axis, first.shape());
  Shape out_shape = first.shape();
  out_shape[static_cast<std::size_t>(ax)] = 0;
  for (const Tensor& t : tensors) {
    detail::check_same_dtype("concat", first, t);
    bool ok = t.rank() == first.rank();
    for (int64_t d = 0; ok && d < t.rank(); ++d) ok = d == ax || t.dim(d) == first.dim(d);
    if (!ok)
      detail::invalid("concat", fmt::format("shapes {} and {} differ outside axis {}", shape_str(first.shape()),
                                            shape_str(t.shape()), ax));
    out_shape[static_cast<std::size_t>(ax)] += t.dim(ax);
  }
  Tensor out = empty(out_shape, first.dtype());
  const int64_t outer = outer_size(out_shape, ax);
  const int64_t inner = inner_size(out_shape, ax);
  const int64_t out_row = out_shape[static_cast<std::size_t>(ax)] * inner;
  const std::size_t esize = dtype_size(first.dtype());
  auto* po = static_cast<char*>(out.raw_data());
  int64_t offset = 0;  // elements into an output row
  int64_t axis_offset = 0;
  std::vector<int64_t> offsets;  // start of each input along the axis
  for (const Tensor& t : tensors) {
    const int64_t row = t.dim(ax) * inner;
    const auto* pt = static_cast<const char*>(t.raw_data());
    parallel_for(outer, outer * row, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        std::memcpy(po + (o * out_row + offset) * esize, pt + o * row * esize, static_cast<std::size_t>(row) * esize);
    });
    offsets.push_back(axis_offset);
    axis_offset += t.dim(ax);
    offset += row;
  }
  return record(out, "concat", tensors, [ax, offsets = std::move(offsets)](const BackwardContext& c) {
    std::vector<Tensor> grads(c.inputs.size());
    for (std::size_t i = 0; i < grads.size(); ++i)
      if (c.needs[i]) grads[i] = slice(c.grad_output, ax, offsets[i], offsets[i] + c.inputs[i].dim(ax));
    return grads;
  }, kReadsShapes);
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
  detail::check_defined("slice", x);
  const int64_t ax = detail::normalize_axis("slice", axis, x.shape());
  const int64_t len = x.dim(ax);
  if (start < 0 || start > end || end > len)
    detail::invalid("slice", fmt::format("range [{}, {}) is invalid for axis {} of shape {}", start, end, ax,
                                         shape_str(x.shape())));
  if (start == 0 && end == len) return x;
  Shape out_shape = x.shape();
  out_shape[static_cast<std::size_t>(ax)] = end - start;
  Tensor out = empty(out_shape, x.dtype());
  const int64_t outer = outer_size(x.shape(), ax);
  const int64_t inner = inner_size(x.shape(), ax);
  const std::size_t esize = dtype_size(x.dtype());
  const int64_t in_row = len * inner, out_row = (end - start) * inner;
  const auto* px = static_cast<const char*>(x.raw_data());
  auto* po = static_cast<char*>(out.raw_data());
  parallel_for(outer, outer * out_row, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o)
      std::memcpy(po + o * out_row * esize, px + (o * in_row + start * inner) * esize,
                  static_cast<std::size_t>(out_row) * esize);
  });
  return record(out, "slice", {x}, [ax, start, end](const BackwardContext& c) {
    // Pad the gradient with zeros back to the input's extent along the axis.
    const Tensor& in = c.inputs[0];
    std::vector<Tensor> parts;
    Shape pad = in.shape();
    if (start > 0) {
      pad[static_cast<std::size_t>(ax)] = start;
      parts.push_back(zeros(pad, in.dtype()));
    }
    parts.push_back(c.grad_output);
    if (end < in.dim(ax)) {
      pad[static_cast<std::size_t>(ax)] = in.dim(ax) - end;
      parts.push_back(zeros(pad, in.dtype()));
    }
    return std::vector<Tensor>{concat(parts, ax)};
  }, kReadsShapes);
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  detail::check_defined("reshape", x);
  Shape target = shape;
  int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && infer < 0) infer = static_cast<int64_t>(i);
    else if (target[i] < 0) detail::invalid("reshape", fmt::format("invalid target shape {}", shape_str(shape)));
    else known *= target[i];
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      detail::invalid("reshape", fmt::format("cannot infer -1 in {} for shape {}", shape_str(shape), shape_str(x.shape())));
    target[static_cast<std::size_t>(infer)] = x.numel() / known;
  }
  if (target.size() > static_cast<std::size_t>(kMaxRank) || shape_numel(target) != x.numel())
    detail::invalid("reshape", fmt::format("cannot reshape {} ({} elements) to {}", shape_str(x.shape()), x.numel(),
                                           shape_str(shape)));
  if (target == x.shape()) return x;
  Tensor out = x.detach();
  out.impl()->shape = target;
  return record(out, "reshape", {x}, [](const BackwardContext& c) {
    return std::vector<Tensor>{reshape(c.grad_output, c.inputs[0].shape())};
  }, kReadsShapes);
}

Tensor transpose(const Tensor& x) {
  detail::check_defined("transpose", x);
  if (x.rank() != 2 && x.rank() != 3)
    detail::invalid("transpose", fmt::format("expected a matrix or a batch of matrices, got {}", shape_str(x.shape())));
  // A matrix is a batch of one; (batch, m, n) -> (batch, n, m).
  const int64_t batch = x.rank() == 3 ? x.dim(0) : 1;
  const int64_t m = x.dim(x.rank() - 2), n = x.dim(x.rank() - 1);
  Tensor out = empty(x.rank() == 3 ? Shape{batch, n, m} : Shape{n, m}, x.dtype());
  detail::dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    constexpr int64_t B = 32;
    const int64_t row_blocks = (m + B - 1) / B;
    for (int64_t k = 0; k < batch; ++k) {
      const T* px = x.data<T>() + k * m * n;
      T* po = out.data<T>() + k * m * n;
      parallel_for(row_blocks, m * n, [&](int64_t b, int64_t e) {
        for (int64_t ib = b * B; ib < std::min(m, e * B); ib += B)
          for (int64_t jb = 0; jb < n; jb += B)
            for (int64_t i = ib; i < std::min(m, ib + B); ++i)
              for (int64_t j = jb; j < std::min(n, jb + B); ++j) po[j * m + i] = px[i * n + j];
      });
    }
  });
  return record(out, "transpose", {x}, [](const BackwardContext& c) {
    return std::vector<Tensor>{transpose(c.grad_output)};
  }, kReadsShapes);
}

}  // namespace matnn::ad
