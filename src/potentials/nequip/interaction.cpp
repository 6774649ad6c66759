#include "potentials/nequip/interaction.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "potentials/nequip/gate.hpp"

namespace matnn::potentials::nequip {

RadialMlp::RadialMlp(int64_t in, int64_t hidden, int64_t layers, int64_t out, std::mt19937_64& rng) {
  int64_t width = in;
  for (int64_t k = 0; k < layers; ++k) {
    layers_.push_back(std::make_unique<nn::Linear>(width, hidden, rng, false, nn::Init::kaiming_uniform));
    width = hidden;
  }
  layers_.push_back(std::make_unique<nn::Linear>(width, out, rng, false, nn::Init::xavier_uniform));
  for (std::size_t k = 0; k < layers_.size(); ++k) register_module(std::to_string(k), layers_[k].get());
}

ad::Tensor RadialMlp::forward(const ad::Tensor& x) { return layers_.back()->forward(last_hidden(x)); }

ad::Tensor RadialMlp::last_hidden(const ad::Tensor& x) {
  ad::Tensor h = x;
  for (std::size_t k = 0; k + 1 < layers_.size(); ++k) h = ad::silu(layers_[k]->forward(h));
  return h;
}

ad::Tensor RadialMlp::output_columns(const ad::Tensor& hidden, const ad::Index& columns) {
  // The selected columns of the (small) weight, as rows of its transpose, then one GEMM.
  const ad::Tensor w = ad::gather_rows(ad::transpose(layers_.back()->weight()), columns);
  return ad::matmul(hidden, w, false, true);
}

std::vector<Eigen::MatrixXd> RadialMlp::weight_matrices(const std::vector<int32_t>& columns) const {
  std::vector<Eigen::MatrixXd> out;
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const ad::Tensor& w = layers_[k]->weight();
    const std::vector<double> values = w.to_vector();
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> full(
        values.data(), w.dim(0), w.dim(1));
    if (k + 1 < layers_.size()) {
      out.emplace_back(full);
      continue;
    }
    Eigen::MatrixXd last(w.dim(0), static_cast<Eigen::Index>(columns.size()));
    for (std::size_t j = 0; j < columns.size(); ++j) last.col(static_cast<Eigen::Index>(j)) = full.col(columns[j]);
    out.push_back(std::move(last));
  }
  return out;
}

Interaction::Interaction(const std::vector<Irrep>& in_irreps, bool last, const InteractionOptions& options,
                         std::mt19937_64& rng)
    : options_(options), last_(last) {
  const int64_t c = options.channels;
  const Irrep even = scalar_irrep(options.parity);
  const std::vector<Irrep> candidates = last ? std::vector<Irrep>{even} : all_irreps(options.l_max, options.parity);
  tp_ = std::make_unique<TensorProduct>(in_irreps, options.l_max, candidates, options.parity,
                                        1.0 / options.avg_num_neighbors);
  for (const auto& [o, count] : tp_->output_counts()) out_irreps_.push_back(o);
  if (std::find(out_irreps_.begin(), out_irreps_.end(), even) == out_irreps_.end())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "nequip: no path produces the {} scalars", even.name());

  std::map<Irrep, std::pair<int64_t, int64_t>> sizes_1, sizes_2, sizes_sc;
  for (const TensorProductPath& p : tp_->paths()) sizes_1[p.in] = {c, c};
  const int64_t gated = last ? 0 : num_gated(out_irreps_);
  for (const auto& [o, count] : tp_->output_counts()) {
    const int64_t c_out = o == even ? c * (1 + gated) : c;
    sizes_2[o] = {c * count, c_out};
    if (std::find(in_irreps.begin(), in_irreps.end(), o) != in_irreps.end()) sizes_sc[o] = {c * options.n_species, c_out};
  }
  linear_1_ = std::make_unique<IrrepsLinear>(sizes_1, rng);
  radial_ = std::make_unique<RadialMlp>(options.num_basis, options.radial_hidden, options.radial_layers,
                                        c * tp_->num_paths(), rng);
  linear_2_ = std::make_unique<IrrepsLinear>(sizes_2, rng);
  self_connection_ = std::make_unique<IrrepsLinear>(sizes_sc, rng, std::sqrt(static_cast<double>(options.n_species)));
  register_module("linear_1", linear_1_.get());
  register_module("radial", radial_.get());
  register_module("linear_2", linear_2_.get());
  register_module("self_connection", self_connection_.get());
  // Radial output p c + k is the weight of path p, channel k.
  for (const OutputGroup& group : tp_->output_groups()) {
    std::vector<int32_t> columns;
    for (const int64_t p : group.paths)
      for (int64_t k = 0; k < c; ++k) columns.push_back(static_cast<int32_t>(p * c + k));
    group_columns_.push_back(ad::make_index(std::move(columns)));
  }
}

std::vector<std::shared_ptr<const RadialTable>> Interaction::radial_tables() const {
  // The weights' bytes against those tabulated, compared in place (tens of kB, nothing copied
  // unless they changed): cheap next to any evaluation, small MD calls included.
  const std::vector<ad::Tensor> weights = radial_->parameters();
  const auto bytes_of = [](const ad::Tensor& p) {
    return static_cast<std::size_t>(p.numel()) * ad::dtype_size(p.dtype());
  };
  const std::lock_guard lock(tables_mutex_);
  bool current = !tables_.empty();
  std::size_t offset = 0;
  for (const ad::Tensor& p : weights) {
    const std::size_t n = bytes_of(p);
    current = current && offset + n <= tabulated_weights_.size() &&
              std::memcmp(tabulated_weights_.data() + offset, p.raw_data(), n) == 0;
    offset += n;
  }
  if (!current || offset != tabulated_weights_.size()) {
    std::vector<unsigned char> tabulated;
    for (const ad::Tensor& p : weights) {
      const auto* bytes = static_cast<const unsigned char*>(p.raw_data());
      tabulated.insert(tabulated.end(), bytes, bytes + bytes_of(p));
    }
    std::vector<std::shared_ptr<const RadialTable>> tables;
    for (const ad::Index& columns : group_columns_) {
      const RadialChain chain{options_.num_basis, options_.cutoff, options_.envelope_p, radial_->weight_matrices(*columns)};
      tables.push_back(std::make_shared<const RadialTable>(chain));
    }
    tables_ = std::move(tables);  // both only once every table is built
    tabulated_weights_ = std::move(tabulated);
  }
  return tables_;
}

Features Interaction::forward_features(const Features& x, const EdgeInputs& edges, const ad::Tensor& onehot) const {
  const int64_t c = options_.channels, n = edges.n_centers, ns = options_.n_species;
  const Irrep even = scalar_irrep(options_.parity);
  // The centres are the first n of the source atoms: their own features, for the self-connection
  // and the residual, are the first n rows of x.
  const auto centres_of = [&](const ad::Tensor& t) { return t.dim(0) == n ? t : ad::slice(t, 0, 0, n); };
  Features y;
  if (edges.n_edges > 0) {
    const ad::Tensor h = tp_->pack(linear_1_->forward_features(x));
    Features messages;
    if (edges.basis.defined()) {
      const ad::Tensor hidden = radial_->last_hidden(edges.basis);
      std::vector<ad::Tensor> w;
      for (std::size_t g = 0; g < group_columns_.size(); ++g) {
        const auto paths = static_cast<int64_t>(tp_->output_groups()[g].paths.size());
        w.push_back(ad::reshape(radial_->output_columns(hidden, group_columns_[g]), {edges.n_edges, paths, c}));
      }
      messages = tp_->convolve(h, edges.harmonics, w, edges.topology);
    } else {
      messages = tp_->convolve(h, edges.harmonics, radial_tables(), edges.lengths, edges.topology);
    }
    y = linear_2_->forward_features(messages);
  } else {
    // No neighbours anywhere: every message is zero.
    for (const auto& [ir, wt] : linear_2_->weights()) y[ir] = ad::zeros({n, ir.dim(), wt.dim(1)}, onehot.dtype());
  }
  Features xs;
  for (const auto& [ir, t] : x) {
    if (self_connection_->weights().count(ir) == 0) continue;
    // x (x) onehot: (n, d, 1, c) * (n, 1, ns, 1) -> (n, d, ns c), channel index s c + k.
    xs[ir] = ad::reshape(ad::mul(ad::reshape(centres_of(t), {n, ir.dim(), 1, c}), ad::reshape(onehot, {n, 1, ns, 1})),
                         {n, ir.dim(), ns * c});
  }
  for (const auto& [ir, t] : self_connection_->forward_features(xs)) y[ir] = ad::add(y.at(ir), t);

  Features out;
  if (last_) {
    out[even] = ad::silu(y.at(even));
  } else {
    out = gate(y, c, options_.parity);
  }
  if (options_.resnet)
    for (auto& [ir, t] : out) {
      const auto it = x.find(ir);
      if (it != x.end() && it->second.dim(2) == t.dim(2)) t = ad::add(t, centres_of(it->second));
    }
  return out;
}

}  // namespace matnn::potentials::nequip
