#include "potentials/nequip/nequip_model.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "potentials/nequip/radial_basis.hpp"
#include "train/config.hpp"

namespace matnn::potentials {

using nequip::Features;
using nequip::Irrep;

NequipOptions NequipOptions::from_json(const nlohmann::json& config) {
  const train::ConfigSection s(config, "model");
  NequipOptions o;
  o.channels = s.integer("channels", o.channels, 1);
  o.l_max = static_cast<int>(s.integer("l_max", o.l_max, 0));
  if (o.l_max > 6) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.l_max must be <= 6, got {}", o.l_max);
  o.num_layers = s.integer("num_layers", o.num_layers, 1);
  o.num_basis = s.integer("num_basis", o.num_basis, 1);
  o.cutoff = s.positive("cutoff", o.cutoff);
  o.envelope_p = static_cast<int>(s.integer("envelope_p", o.envelope_p, 1));
  if (o.envelope_p > 32) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.envelope_p must be <= 32, got {}", o.envelope_p);
  o.radial_hidden = s.integer("radial_hidden", o.radial_hidden, 1);
  o.radial_layers = s.integer("radial_layers", o.radial_layers, 0);
  o.avg_num_neighbors = s.positive("avg_num_neighbors", o.avg_num_neighbors);
  o.parity = s.boolean("parity", o.parity);
  o.resnet = s.boolean("resnet", o.resnet);
  o.readout_hidden = s.integer("readout_hidden", o.readout_hidden, 0);
  s.finish();
  return o;
}

nlohmann::json NequipOptions::to_json() const {
  return nlohmann::json{{"channels", channels},
                        {"l_max", l_max},
                        {"num_layers", num_layers},
                        {"num_basis", num_basis},
                        {"cutoff", cutoff},
                        {"envelope_p", envelope_p},
                        {"radial_hidden", radial_hidden},
                        {"radial_layers", radial_layers},
                        {"avg_num_neighbors", avg_num_neighbors},
                        {"parity", parity},
                        {"resnet", resnet},
                        {"readout_hidden", readout_hidden}};
}

NequipModel::NequipModel(const nlohmann::json& config, const std::vector<int>& species, std::uint64_t seed)
    : options_(NequipOptions::from_json(config)), species_(species), sh_(options_.l_max) {
  if (species_.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "nequip: the species list is empty");
  if (std::set<int>(species_.begin(), species_.end()).size() != species_.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "nequip: the species list has repeated elements");
  std::mt19937_64 rng(seed);
  const int64_t c = options_.channels, ns = static_cast<int64_t>(species_.size());
  // One-hot -> linear is a row lookup; N(0, 1) rows give unit-variance scalars.
  embedding_ = ad::randn({ns, c}, rng);
  register_parameter("embedding", &embedding_);
  nequip::InteractionOptions io;
  io.channels = c;
  io.l_max = options_.l_max;
  io.num_basis = options_.num_basis;
  io.cutoff = options_.cutoff;
  io.envelope_p = options_.envelope_p;
  io.radial_hidden = options_.radial_hidden;
  io.radial_layers = options_.radial_layers;
  io.avg_num_neighbors = options_.avg_num_neighbors;
  io.parity = options_.parity;
  io.resnet = options_.resnet;
  io.n_species = ns;
  std::vector<Irrep> irreps{nequip::scalar_irrep(options_.parity)};
  for (int64_t k = 0; k < options_.num_layers; ++k) {
    layers_.push_back(std::make_unique<nequip::Interaction>(irreps, k + 1 == options_.num_layers, io, rng));
    irreps = layers_.back()->out_irreps();
  }
  const int64_t h = options_.readout_hidden;
  readout_ = ad::randn({c, h > 0 ? h : 1}, rng, ad::DType::f32, 0.0, 1.0 / std::sqrt(static_cast<double>(c)));
  register_parameter("readout", &readout_);
  if (h > 0) {
    readout_output_ = ad::randn({h, 1}, rng, ad::DType::f32, 0.0, 1.0 / std::sqrt(static_cast<double>(h)));
    register_parameter("readout_output", &readout_output_);
  }
  for (std::size_t k = 0; k < layers_.size(); ++k) register_module("interaction_" + std::to_string(k), layers_[k].get());
}

std::vector<std::vector<Irrep>> NequipModel::layer_irreps() const {
  std::vector<std::vector<Irrep>> out;
  for (const auto& layer : layers_) out.push_back(layer->out_irreps());
  return out;
}

namespace {

// The atoms in the order the layers need them. With L layers, layer k + 1's outputs (k = 0 ..
// L - 1) matter only on the atoms within L - k - 1 hops of an atom whose energy counts
// (AtomGraph::hops), and it reads the features of their neighbours, within L - k hops. Ordered by
// hops (stably), each of those sets is a prefix of the rows, so every layer computes its per-atom
// work (channel mixing, self-connection, gate) on its own prefix and nothing for the halo atoms
// beyond it. Without hops (training, or every atom counted), the order is the graph's own.
struct LayerOrder {
  std::vector<int32_t> atom_of_row;  // row r holds atom atom_of_row[r]; empty: rows are atoms
  std::vector<int32_t> row_of_atom;
  std::vector<int64_t> rows_within;  // rows_within[h]: atoms within h hops, h = 0 .. L
};

LayerOrder layer_order(const AtomGraph& graph, int32_t layers) {
  LayerOrder order;
  const auto n = static_cast<std::size_t>(graph.n_atoms);
  if (graph.hops.empty()) {
    order.rows_within.assign(static_cast<std::size_t>(layers + 1), graph.n_atoms);
    return order;
  }
  // Counting sort by hops (capped at `layers`: such atoms enter only as neighbours' species).
  std::vector<int64_t> first(static_cast<std::size_t>(layers + 2), 0);
  for (const int32_t h : graph.hops) ++first[static_cast<std::size_t>(std::min(h, layers)) + 1];
  for (std::size_t h = 1; h < first.size(); ++h) first[h] += first[h - 1];
  order.rows_within.assign(first.begin() + 1, first.end());
  order.atom_of_row.resize(n);
  order.row_of_atom.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = first[static_cast<std::size_t>(std::min(graph.hops[i], layers))]++;
    order.atom_of_row[static_cast<std::size_t>(row)] = static_cast<int32_t>(i);
    order.row_of_atom[i] = static_cast<int32_t>(row);
  }
  return order;
}

// The edges of a layer whose outputs are needed on the first `centers` rows of `order` and whose
// inputs are the first `sources` rows: those of `all` (the graph's edges, sorted by atom) whose
// centre lies in the prefix, renumbered to rows and sorted by centre row.
nequip::EdgeInputs layer_edges(const nequip::EdgeInputs& all, const AtomGraph& graph, const LayerOrder& order,
                               int64_t centers, int64_t sources) {
  if (all.n_edges == 0 || order.atom_of_row.empty()) {  // nothing to select or renumber
    nequip::EdgeInputs same = all;
    same.n_centers = centers;
    same.n_sources = sources;
    return same;
  }
  nequip::EdgeInputs some;
  some.n_centers = centers;
  some.n_sources = sources;
  const std::vector<int32_t>& neighbors = *graph.edge_neighbor;
  std::vector<int32_t> keep, center, neighbor;
  for (int64_t row = 0; row < centers; ++row) {
    const auto atom = static_cast<std::size_t>(order.atom_of_row[static_cast<std::size_t>(row)]);
    for (int64_t e = graph.center_offsets[atom]; e < graph.center_offsets[atom + 1]; ++e) {
      keep.push_back(static_cast<int32_t>(e));
      center.push_back(static_cast<int32_t>(row));
      neighbor.push_back(order.row_of_atom[static_cast<std::size_t>(neighbors[static_cast<std::size_t>(e)])]);
    }
  }
  some.n_edges = static_cast<int64_t>(keep.size());
  if (keep.empty()) return some;
  // Fails (out of range) if a centre's neighbour lay beyond `sources`: hops that were not a
  // breadth-first search over these edges.
  some.topology = std::make_shared<const nequip::EdgeTopology>(centers, sources, std::move(center), std::move(neighbor));
  const ad::Index rows = ad::make_index(std::move(keep));
  some.harmonics = ad::gather_rows(all.harmonics, rows);
  if (all.basis.defined()) some.basis = ad::gather_rows(all.basis, rows);
  if (all.lengths.defined()) some.lengths = ad::gather_rows(all.lengths, rows);
  return some;
}

}  // namespace

ad::Tensor NequipModel::atomic_outputs(const AtomGraph& graph) {
  const ad::DType dtype = graph.dtype;
  if (embedding_.dtype() != dtype)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "nequip: the graph is {} but the model is {} (call to())", ad::dtype_name(dtype),
         ad::dtype_name(embedding_.dtype()));
  const int64_t n = graph.n_atoms, ns = static_cast<int64_t>(species_.size()), c = options_.channels;
  if (static_cast<int64_t>(graph.species.size()) != n)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "nequip: the graph has {} species for {} atoms", graph.species.size(), n);
  const auto layers = static_cast<int32_t>(layers_.size());
  const LayerOrder order = layer_order(graph, layers);
  const bool reordered = !order.atom_of_row.empty();
  const auto atom_at = [&](int64_t row) {
    return reordered ? static_cast<std::size_t>(order.atom_of_row[static_cast<std::size_t>(row)])
                     : static_cast<std::size_t>(row);
  };

  // Species one-hot and embedding, by row.
  std::vector<double> onehot(static_cast<std::size_t>(n * ns), 0.0);
  std::vector<int32_t> species_by_row(static_cast<std::size_t>(n));
  for (int64_t row = 0; row < n; ++row) {
    const int32_t s = graph.species[atom_at(row)];
    if (s < 0 || s >= ns) fail(MATNN_ERROR_INVALID_ARGUMENT, "nequip: atom {} has species index {} of {}", atom_at(row), s, ns);
    onehot[static_cast<std::size_t>(row * ns + s)] = 1.0;
    species_by_row[static_cast<std::size_t>(row)] = s;
  }
  ad::Tensor onehot_t = ad::from_vector(onehot, {n, ns});
  if (dtype != ad::DType::f64) onehot_t = ad::to(onehot_t, dtype);
  const ad::Index species_rows = reordered ? ad::make_index(std::move(species_by_row)) : graph.species_index;

  nequip::EdgeInputs edges;
  edges.n_edges = graph.n_edges;
  edges.n_centers = edges.n_sources = n;
  if (graph.n_edges > 0) {
    // Reordered layers build their own topologies (layer_edges); the graph's is only for the rest.
    if (!reordered) edges.topology = std::make_shared<const nequip::EdgeTopology>(n, *graph.edge_center, *graph.edge_neighbor);
    const ad::Tensor r = ad::norm(graph.edge_vectors, -1, true);  // (E, 1); no self-pairs, so r > 0
    edges.harmonics = sh_(ad::div(graph.edge_vectors, r));
    // Inference needs only first derivatives, which the tabulated radial networks give.
    if (graph.inference)
      edges.lengths = r;
    else
      edges.basis = nequip::bessel_basis(r, static_cast<int>(options_.num_basis), options_.cutoff, options_.envelope_p);
  }

  Features x;
  x[nequip::scalar_irrep(options_.parity)] = ad::reshape(ad::gather_rows(embedding_, species_rows), {n, 1, c});
  for (int32_t k = 0; k < layers; ++k) {
    const int64_t centers = order.rows_within[static_cast<std::size_t>(layers - k - 1)];
    const int64_t sources = order.rows_within[static_cast<std::size_t>(layers - k)];
    const ad::Tensor onehot_centers = centers == n ? onehot_t : ad::slice(onehot_t, 0, 0, centers);
    x = layers_[static_cast<std::size_t>(k)]->forward_features(x, layer_edges(edges, graph, order, centers, sources),
                                                               onehot_centers);
  }
  // Outputs of the atoms whose energies count (the first rows_within[0] rows); 0 for the others.
  const int64_t counted = order.rows_within.front();
  const ad::Tensor s = ad::reshape(x.at(nequip::scalar_irrep(options_.parity)), {counted, c});
  const ad::Tensor outputs = options_.readout_hidden == 0
                                 ? ad::matmul(s, readout_)
                                 : ad::matmul(ad::silu(ad::matmul(s, readout_)), readout_output_);
  if (!reordered) return ad::reshape(outputs, {n});
  std::vector<int32_t> counted_atoms(order.atom_of_row.begin(), order.atom_of_row.begin() + counted);
  return ad::reshape(ad::scatter_add_rows(outputs, ad::make_index(std::move(counted_atoms)), n), {n});
}

}  // namespace matnn::potentials
