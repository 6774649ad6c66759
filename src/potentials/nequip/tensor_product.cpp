#include "potentials/nequip/tensor_product.hpp"

#include <algorithm>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "potentials/nequip/clebsch_gordan.hpp"

namespace matnn::potentials::nequip {

TensorProduct::TensorProduct(const std::vector<Irrep>& inputs, int sh_l_max, const std::vector<Irrep>& outputs,
                             bool parity, double scale)
    : sh_l_max_(sh_l_max) {
  std::vector<Irrep> ins = inputs;
  std::sort(ins.begin(), ins.end());
  ins.erase(std::unique(ins.begin(), ins.end()), ins.end());
  for (const Irrep& in : ins) {
    Group g;
    g.in = in;
    g.path_begin = num_paths();
    g.sh_lo = sh_l_max + 1;
    g.sh_hi = -1;
    for (int l2 = 0; l2 <= sh_l_max; ++l2) {
      for (int l3 = std::abs(in.l - l2); l3 <= in.l + l2; ++l3) {
        const Irrep out{l3, parity ? in.p * (l2 % 2 ? -1 : 1) : 0};
        if (std::find(outputs.begin(), outputs.end(), out) == outputs.end()) continue;
        paths_.push_back({in, l2, out});
        g.offsets.push_back(g.width);
        g.width += out.dim();
        g.sh_lo = std::min(g.sh_lo, l2);
        g.sh_hi = std::max(g.sh_hi, l2);
        ++output_counts_[out];
      }
    }
    g.path_end = num_paths();
    if (g.path_end == g.path_begin) continue;
    const int64_t d1 = in.dim();
    const int64_t y0 = g.sh_lo * g.sh_lo;
    const int64_t ny = (g.sh_hi + 1) * (g.sh_hi + 1) - y0;
    const int64_t np = g.path_end - g.path_begin;
    std::vector<double> cg(static_cast<std::size_t>(d1 * ny * g.width), 0.0);
    std::vector<double> expand(static_cast<std::size_t>(np * g.width), 0.0);
    for (int64_t q = 0; q < np; ++q) {
      const TensorProductPath& path = paths_[static_cast<std::size_t>(g.path_begin + q)];
      const int64_t d2 = 2 * path.l_sh + 1, d3 = path.out.dim();
      const std::vector<double>& c = real_clebsch_gordan(in.l, path.l_sh, path.out.l);
      const int64_t col0 = g.offsets[static_cast<std::size_t>(q)];
      for (int64_t i = 0; i < d1; ++i)
        for (int64_t j = 0; j < d2; ++j) {
          const int64_t row = i * ny + (path.l_sh * path.l_sh - y0) + j;
          for (int64_t k = 0; k < d3; ++k)
            cg[static_cast<std::size_t>(row * g.width + col0 + k)] = scale * c[static_cast<std::size_t>((i * d2 + j) * d3 + k)];
        }
      for (int64_t k = 0; k < d3; ++k) expand[static_cast<std::size_t>(q * g.width + col0 + k)] = 1.0;
    }
    g.cg64 = ad::from_vector(cg, {d1 * ny, g.width});
    g.cg32 = ad::to(g.cg64, ad::DType::f32);
    g.expand64 = ad::from_vector(expand, {np, g.width});
    g.expand32 = ad::to(g.expand64, ad::DType::f32);
    groups_.push_back(std::move(g));
  }
}

std::vector<ad::Tensor> TensorProduct::forward(const Features& x, const ad::Tensor& sh_t, const ad::Tensor& weights_t) const {
  if (sh_t.rank() != 2 || sh_t.dim(0) != (sh_l_max_ + 1) * (sh_l_max_ + 1))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: harmonics of shape {} do not match l_max {} (expected (n_sh, E))",
         ad::shape_str(sh_t.shape()), sh_l_max_);
  const int64_t e = sh_t.dim(1);
  const bool f64 = sh_t.dtype() == ad::DType::f64;
  ad::Tensor w_t;  // (P c, E)
  int64_t c = -1;
  if (weights_t.defined()) {
    if (weights_t.rank() != 3 || weights_t.dim(0) != num_paths() || weights_t.dim(2) != e)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: weights of shape {}, expected ({}, c, {})",
           ad::shape_str(weights_t.shape()), num_paths(), e);
    c = weights_t.dim(1);
    w_t = ad::reshape(weights_t, {num_paths() * c, e});
  }
  std::vector<ad::Tensor> out;
  out.reserve(groups_.size());
  for (const Group& g : groups_) {
    const auto it = x.find(g.in);
    if (it == x.end()) fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: input irrep {} is missing", g.in.name());
    const ad::Tensor& xi = it->second;
    const int64_t d1 = g.in.dim();
    if (xi.rank() != 3 || xi.dim(0) != e || xi.dim(1) != d1 || (c >= 0 && xi.dim(2) != c))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: input {} has shape {}, expected ({}, {}, c)", g.in.name(),
           ad::shape_str(xi.shape()), e, d1);
    const int64_t ch = xi.dim(2);
    const int64_t y0 = g.sh_lo * g.sh_lo, y1 = (g.sh_hi + 1) * (g.sh_hi + 1), ny = y1 - y0;
    const ad::Tensor x_t = ad::reshape(ad::transpose(ad::reshape(xi, {e, d1 * ch})), {d1, 1, ch, e});
    const ad::Tensor y_t = ad::reshape(ad::slice(sh_t, 0, y0, y1), {1, ny, 1, e});
    const ad::Tensor outer = ad::reshape(ad::mul(x_t, y_t), {d1 * ny, ch * e});           // (d1 n_y, c E)
    ad::Tensor z = ad::matmul(f64 ? g.cg64 : g.cg32, outer, true, false);                   // (width, c E)
    if (weights_t.defined()) {
      const int64_t np = g.path_end - g.path_begin;
      const ad::Tensor w = ad::reshape(ad::slice(w_t, 0, g.path_begin * ch, g.path_end * ch), {np, ch * e});
      z = ad::mul(z, np == 1 ? w : ad::matmul(f64 ? g.expand64 : g.expand32, w, true, false));
    }
    out.push_back(ad::reshape(ad::transpose(ad::reshape(z, {g.width * ch, e})), {e, g.width, ch}));
  }
  return out;
}

Features TensorProduct::collect(const std::vector<ad::Tensor>& group_outputs) const {
  if (group_outputs.size() != groups_.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: {} group outputs, expected {}", group_outputs.size(), groups_.size());
  std::map<Irrep, std::vector<ad::Tensor>> parts;
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    const ad::Tensor& t = group_outputs[gi];
    for (int64_t q = 0; q < g.path_end - g.path_begin; ++q) {
      const Irrep& o = paths_[static_cast<std::size_t>(g.path_begin + q)].out;
      const int64_t off = g.offsets[static_cast<std::size_t>(q)];
      parts[o].push_back(ad::slice(t, 1, off, off + o.dim()));
    }
  }
  Features out;
  for (auto& [o, list] : parts) out[o] = list.size() == 1 ? list[0] : ad::concat(list, 2);
  return out;
}

}  // namespace matnn::potentials::nequip
