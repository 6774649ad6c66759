#include "potentials/nequip/tensor_product.hpp"

#include <algorithm>
#include <cmath>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "potentials/nequip/clebsch_gordan.hpp"

namespace matnn::potentials::nequip {

TensorProduct::TensorProduct(const std::vector<Irrep>& inputs, int sh_l_max, const std::vector<Irrep>& outputs,
                             bool parity, double scale) {
  std::vector<Irrep> ins = inputs;
  std::sort(ins.begin(), ins.end());
  ins.erase(std::unique(ins.begin(), ins.end()), ins.end());
  std::vector<int64_t> path_in_row;  // per path: first row of its input irrep in the packed features
  int64_t in_rows = 0;
  for (const Irrep& in : ins) {
    const int64_t first_path = num_paths();
    for (int l2 = 0; l2 <= sh_l_max; ++l2) {
      for (int l3 = std::abs(in.l - l2); l3 <= in.l + l2; ++l3) {
        const Irrep out{l3, parity ? in.p * (l2 % 2 ? -1 : 1) : 0};
        if (std::find(outputs.begin(), outputs.end(), out) == outputs.end()) continue;
        paths_.push_back({in, l2, out});
        path_in_row.push_back(in_rows);
        ++output_counts_[out];
      }
    }
    if (num_paths() == first_path) continue;
    packed_inputs_.emplace_back(in, in_rows);
    in_rows += in.dim();
  }

  for (const auto& [o, count] : output_counts_) {
    OutputGroup group;
    group.out = o;
    auto table = std::make_shared<CouplingTable>();
    table->in_rows = in_rows;
    table->sh_cols = (sh_l_max + 1) * (sh_l_max + 1);
    table->out_rows = o.dim() * count;
    table->path_offsets.push_back(0);
    for (int64_t p = 0; p < num_paths(); ++p) {
      const TensorProductPath& path = paths_[static_cast<std::size_t>(p)];
      if (!(path.out == o)) continue;
      const auto q = static_cast<int32_t>(group.paths.size());
      group.paths.push_back(p);
      const int d1 = path.in.dim(), d2 = 2 * path.l_sh + 1, d3 = o.dim();
      const std::vector<double>& cg = real_clebsch_gordan(path.in.l, path.l_sh, o.l);
      for (int a = 0; a < d1; ++a)
        for (int b = 0; b < d2; ++b)
          for (int m = 0; m < d3; ++m) {
            const double v = cg[static_cast<std::size_t>((a * d2 + b) * d3 + m)];
            if (std::abs(v) < 1e-14) continue;  // exact zeros of the selection rules, up to rounding
            table->entries.push_back({static_cast<int32_t>(path_in_row[static_cast<std::size_t>(p)] + a),
                                      static_cast<int32_t>(path.l_sh * path.l_sh + b), m * count + q, scale * v});
          }
      table->path_offsets.push_back(static_cast<int64_t>(table->entries.size()));
    }
    table->prepare();
    group.table = std::move(table);
    groups_.push_back(std::move(group));
  }
}

ad::Tensor TensorProduct::pack(const Features& x) const {
  std::vector<ad::Tensor> parts;
  for (const auto& [ir, row] : packed_inputs_) {
    const auto it = x.find(ir);
    if (it == x.end()) fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: input irrep {} is missing", ir.name());
    if (it->second.rank() != 3 || it->second.dim(1) != ir.dim())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: input {} has shape {}, expected (n, {}, c)", ir.name(),
           ad::shape_str(it->second.shape()), ir.dim());
    parts.push_back(it->second);
  }
  if (parts.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: no input irrep has a path");
  return parts.size() == 1 ? parts[0] : ad::concat(parts, 1);
}

template <typename Message>
Features TensorProduct::assemble(const ad::Tensor& packed, const EdgeTopology& topology, std::size_t weight_count,
                                 Message message) const {
  if (weight_count != groups_.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: {} weight sources for {} output irreps", weight_count, groups_.size());
  if (packed.rank() != 3) fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: packed features must be (n, D_in, c)");
  const int64_t n = topology.n_centers, c = packed.dim(2);
  Features out;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const OutputGroup& group = groups_[g];
    // (n, d3 * paths, c) with row m * paths + q is (n, d3, paths * c): a view, no copy.
    out[group.out] = ad::reshape(message(g), {n, group.out.dim(), static_cast<int64_t>(group.paths.size()) * c});
  }
  return out;
}

Features TensorProduct::convolve(const ad::Tensor& packed, const ad::Tensor& harmonics, const std::vector<ad::Tensor>& weights,
                                 const std::shared_ptr<const EdgeTopology>& topology) const {
  return assemble(packed, *topology, weights.size(), [&](std::size_t g) {
    return convolution_partial(groups_[g].table, topology, ConvolutionSlot::messages,
                               {packed, harmonics, weights[g], ad::Tensor()});
  });
}

Features TensorProduct::convolve(const ad::Tensor& packed, const ad::Tensor& harmonics,
                                 const std::vector<std::shared_ptr<const RadialTable>>& tables, const ad::Tensor& lengths,
                                 const std::shared_ptr<const EdgeTopology>& topology) const {
  return assemble(packed, *topology, tables.size(), [&](std::size_t g) {
    return tabulated_messages(groups_[g].table, topology, tables[g], packed, harmonics, lengths);
  });
}

}  // namespace matnn::potentials::nequip
