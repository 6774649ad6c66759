#include "potentials/descriptor_cache.hpp"

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "potentials/atom_graph.hpp"

namespace matnn::potentials {
std::size_t DescribedStructure::bytes() const {
  auto size = [](const ad::Tensor& t) {
    return static_cast<std::size_t>(t.numel()) * (t.dtype() == ad::DType::f64 ? 8 : 4);
  };
  return size(features) + size(jacobian) + size(edge_vectors) + 4 * (species.size() + center.size() + neighbor.size());
}

DescribedStructure describe(const BehlerParrinello& model, const Structure& structure, ad::DType dtype,
                            const CoreRepulsion& core) {
  const Structure* one[] = {&structure};
  // Descriptors in double precision, stored in the training dtype.
  const AtomGraph graph = build_graph(one, model.species(), model.cutoff(), ad::DType::f64);
  const SymmetryFunctions& functions = model.symmetry_functions();
  const auto F = static_cast<std::size_t>(functions.n_features());
  const std::vector<double> values = functions.values(graph);
  const std::vector<double> jacobian = functions.jacobian(graph);
  const std::vector<double> vectors = graph.edge_vectors.to_vector();

  DescribedStructure d;
  d.n_atoms = graph.n_atoms;
  d.species = graph.species;
  d.volume = graph.volumes.front();
  d.core = core.totals(graph, model.species());
  std::vector<double> kept_jacobian, kept_vectors;
  const auto& centers = *graph.edge_center;
  const auto& neighbors = *graph.edge_neighbor;
  for (std::size_t e = 0; e < static_cast<std::size_t>(graph.n_edges); ++e) {
    const double* row = jacobian.data() + e * 3 * F;
    bool nonzero = false;
    for (std::size_t k = 0; k < 3 * F && !nonzero; ++k) nonzero = row[k] != 0.0;
    if (!nonzero) continue;  // beyond the cutoff of every function
    d.center.push_back(centers[e]);
    d.neighbor.push_back(neighbors[e]);
    kept_jacobian.insert(kept_jacobian.end(), row, row + 3 * F);
    kept_vectors.insert(kept_vectors.end(), vectors.begin() + static_cast<std::ptrdiff_t>(3 * e),
                        vectors.begin() + static_cast<std::ptrdiff_t>(3 * e + 3));
  }
  const auto n_edges = static_cast<std::int64_t>(d.center.size());
  const auto f = static_cast<std::int64_t>(F);
  d.features = ad::to(ad::from_vector(values, {d.n_atoms, f}), dtype);
  d.jacobian = ad::to(ad::from_vector(kept_jacobian, {n_edges, 3, f}), dtype);
  d.edge_vectors = ad::to(ad::from_vector(kept_vectors, {n_edges, 3}), dtype);
  return d;
}

DescribedOutputs evaluate_described(BehlerParrinello& model, std::span<const DescribedStructure* const> batch,
                                    bool derivatives, bool create_graph) {
  DescribedOutputs out;
  std::vector<ad::Tensor> features, jacobians, vectors;
  std::vector<std::int32_t> species, atom_structure, center, neighbor, edge_structure;
  out.atom_offsets.push_back(0);
  for (std::size_t s = 0; s < batch.size(); ++s) {
    const DescribedStructure& d = *batch[s];
    const auto offset = static_cast<std::int32_t>(out.atom_offsets.back());
    features.push_back(d.features);
    jacobians.push_back(d.jacobian);
    vectors.push_back(d.edge_vectors);
    species.insert(species.end(), d.species.begin(), d.species.end());
    atom_structure.insert(atom_structure.end(), static_cast<std::size_t>(d.n_atoms), static_cast<std::int32_t>(s));
    for (std::size_t e = 0; e < d.center.size(); ++e) {
      center.push_back(offset + d.center[e]);
      neighbor.push_back(offset + d.neighbor[e]);
      edge_structure.push_back(static_cast<std::int32_t>(s));
    }
    out.atom_offsets.push_back(out.atom_offsets.back() + d.n_atoms);
  }
  const std::int64_t n_atoms = out.atom_offsets.back();
  const auto n_structures = static_cast<std::int64_t>(batch.size());

  ad::Tensor x = ad::concat(features, 0);
  if (derivatives) x.set_requires_grad(true);
  out.atomic = model.outputs_from_features(x, species);
  out.structure = ad::reshape(
      ad::scatter_add_rows(ad::reshape(out.atomic, {n_atoms, 1}), ad::make_index(atom_structure), n_structures),
      {n_structures});
  if (!derivatives) return out;

  const ad::Tensor dout_dx = ad::grad({ad::sum(out.atomic)}, {x}, {}, create_graph, true)[0];  // (N, F)
  const std::int64_t F = x.shape()[1];
  const auto n_edges = static_cast<std::int64_t>(center.size());
  const ad::Index centers = ad::make_index(std::move(center));
  const ad::Tensor per_edge = ad::reshape(ad::gather_rows(dout_dx, centers), {n_edges, 1, F});
  const ad::Tensor edge_gradient = ad::sum(ad::mul(per_edge, ad::concat(jacobians, 0)), 2);  // (E, 3)
  out.position_gradient = ad::sub(ad::scatter_add_rows(edge_gradient, ad::make_index(std::move(neighbor)), n_atoms),
                                  ad::scatter_add_rows(edge_gradient, centers, n_atoms));
  const ad::Tensor outer = ad::mul(ad::reshape(ad::concat(vectors, 0), {n_edges, 3, 1}),
                                   ad::reshape(edge_gradient, {n_edges, 1, 3}));
  out.strain_gradient = ad::reshape(
      ad::scatter_add_rows(ad::reshape(outer, {n_edges, 9}), ad::make_index(std::move(edge_structure)), n_structures),
      {n_structures, 3, 3});
  return out;
}

}  // namespace matnn::potentials
