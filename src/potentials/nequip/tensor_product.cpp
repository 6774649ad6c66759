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
  auto table = std::make_shared<CouplingTable>();
  table->sh_cols = (sh_l_max + 1) * (sh_l_max + 1);
  table->path_offsets.push_back(0);
  for (const Irrep& in : ins) {
    const int64_t first_path = num_paths();
    for (int l2 = 0; l2 <= sh_l_max; ++l2) {
      for (int l3 = std::abs(in.l - l2); l3 <= in.l + l2; ++l3) {
        const Irrep out{l3, parity ? in.p * (l2 % 2 ? -1 : 1) : 0};
        if (std::find(outputs.begin(), outputs.end(), out) == outputs.end()) continue;
        paths_.push_back({in, l2, out});
        path_rows_.push_back(table->out_rows);
        ++output_counts_[out];
        const int d2 = 2 * l2 + 1, d3 = out.dim();
        const std::vector<double>& cg = real_clebsch_gordan(in.l, l2, l3);
        for (int a = 0; a < in.dim(); ++a)
          for (int b = 0; b < d2; ++b)
            for (int k = 0; k < d3; ++k) {
              const double v = cg[static_cast<std::size_t>((a * d2 + b) * d3 + k)];
              if (std::abs(v) < 1e-14) continue;  // exact zeros of the selection rules, up to rounding
              table->entries.push_back({static_cast<int32_t>(table->in_rows + a), static_cast<int32_t>(l2 * l2 + b),
                                        static_cast<int32_t>(table->out_rows + k), scale * v});
            }
        table->out_rows += d3;
        table->path_offsets.push_back(static_cast<int64_t>(table->entries.size()));
      }
    }
    if (num_paths() == first_path) continue;
    packed_inputs_.emplace_back(in, table->in_rows);
    table->in_rows += in.dim();
  }
  table->prepare();
  table_ = std::move(table);
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

ad::Tensor TensorProduct::convolve(const ad::Tensor& packed, const ad::Tensor& harmonics, const ad::Tensor& weights,
                                   const std::shared_ptr<const EdgeTopology>& topology) const {
  return convolution_partial(table_, topology, ConvolutionSlot::messages, {packed, harmonics, weights, ad::Tensor()});
}

Features TensorProduct::collect(const ad::Tensor& messages) const {
  if (messages.rank() != 3 || messages.dim(1) != table_->out_rows)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor product: messages of shape {}, expected (n, {}, c)",
         ad::shape_str(messages.shape()), table_->out_rows);
  std::map<Irrep, std::vector<ad::Tensor>> parts;
  for (std::size_t p = 0; p < paths_.size(); ++p) {
    const Irrep& o = paths_[p].out;
    parts[o].push_back(ad::slice(messages, 1, path_rows_[p], path_rows_[p] + o.dim()));
  }
  Features out;
  for (auto& [o, list] : parts) out[o] = list.size() == 1 ? list[0] : ad::concat(list, 2);
  return out;
}

}  // namespace matnn::potentials::nequip
