#include "potentials/descriptor_cache.hpp"

#include <algorithm>
#include <memory>

#include "autodiff/graph.hpp"
#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "potentials/atom_graph.hpp"

namespace matnn::potentials {
namespace {

using ad::detail::dispatch;
using ad::detail::parallel_for;

// The chain rule from the symmetry functions to the edges of a batch,
//     to_edges:     out[e, a] = sum_f A[c(e), f] J[e, a, f]       (A: N x F, out: E x 3)
//     to_features:  out[i, f] = sum_{e: c(e) = i} sum_a g[e, a] J[e, a, f]
// over the structures' Jacobian blocks in turn. As two engine ops, the product (E x 3 x F,
// several MB a step) is never formed and the blocks are never copied into one: as mul-then-sum
// ops they were most of a cached-descriptor epoch's time and memory traffic. Each op is linear
// in its tensor and the other is its adjoint, so each one's derivative is the other, and
// training may differentiate them any number of times.
struct EdgeChain {
  std::vector<ad::Tensor> blocks;          // per structure, (E_s, 3, F) constants
  std::vector<std::int64_t> block_offsets;  // edges before each block; back() = E
  ad::Index center;                         // per edge, its row of A (non-decreasing)
  std::vector<std::int64_t> center_offsets;  // N + 1: edges of row i are [off[i], off[i + 1])
  std::int64_t n_atoms = 0, n_features = 0;

  // The Jacobian row block of edge e (3 x F values).
  template <typename T>
  const T* jacobian_of(std::int64_t e, std::size_t& block) const {
    while (e >= block_offsets[block + 1]) ++block;
    return blocks[block].data<T>() + (e - block_offsets[block]) * 3 * n_features;
  }
  std::int64_t n_edges() const { return block_offsets.back(); }

  // Engine-internal ops: a tensor of another shape or dtype is a bug of the caller.
  void check(const char* op, const ad::Tensor& t, std::int64_t rows, std::int64_t columns) const {
    if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != columns || (!blocks.empty() && t.dtype() != blocks[0].dtype()))
      fail(MATNN_ERROR_INTERNAL, "{}: a {} tensor of shape ({}, {}) expected", op,
           blocks.empty() ? ad::dtype_name(t.dtype()) : ad::dtype_name(blocks[0].dtype()), rows, columns);
  }
};

ad::Tensor chain_to_features(const ad::Tensor& g, const std::shared_ptr<const EdgeChain>& chain);

ad::Tensor chain_to_edges(const ad::Tensor& a, const std::shared_ptr<const EdgeChain>& chain) {
  const std::int64_t n_edges = chain->n_edges(), F = chain->n_features;
  chain->check("descriptor_chain_to_edges", a, chain->n_atoms, F);
  ad::Tensor out = ad::zeros({n_edges, 3}, a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    parallel_for(n_edges, n_edges * 3 * F, [&](std::int64_t begin, std::int64_t end) {
      std::size_t block = 0;
      for (std::int64_t e = begin; e < end; ++e) {
        const T* row = pa + static_cast<std::int64_t>((*chain->center)[static_cast<std::size_t>(e)]) * F;
        const T* j = chain->jacobian_of<T>(e, block);
        for (std::int64_t k = 0; k < 3; ++k) {
          T sum = 0;
          for (std::int64_t f = 0; f < F; ++f) sum += row[f] * j[k * F + f];
          po[e * 3 + k] = sum;
        }
      }
    });
  });
  return ad::record(out, "descriptor_chain_to_edges", {a}, [chain](const ad::BackwardContext& c) {
    return std::vector<ad::Tensor>{chain_to_features(c.grad_output, chain)};
  }, ad::kReadsShapes);
}

ad::Tensor chain_to_features(const ad::Tensor& g, const std::shared_ptr<const EdgeChain>& chain) {
  const std::int64_t n = chain->n_atoms, F = chain->n_features;
  chain->check("descriptor_chain_to_features", g, chain->n_edges(), 3);
  ad::Tensor out = ad::zeros({n, F}, g.dtype());
  dispatch(g.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    // Row by row: the edges of a row are contiguous, so threads never write the same row.
    parallel_for(n, chain->n_edges() * 3 * F, [&](std::int64_t begin, std::int64_t end) {
      std::size_t block = 0;
      for (std::int64_t i = begin; i < end; ++i) {
        T* row = po + i * F;
        for (std::int64_t e = chain->center_offsets[static_cast<std::size_t>(i)];
             e < chain->center_offsets[static_cast<std::size_t>(i) + 1]; ++e) {
          const T* j = chain->jacobian_of<T>(e, block);
          for (std::int64_t k = 0; k < 3; ++k) {
            const T w = pg[e * 3 + k];
            for (std::int64_t f = 0; f < F; ++f) row[f] += w * j[k * F + f];
          }
        }
      }
    });
  });
  return ad::record(out, "descriptor_chain_to_features", {g}, [chain](const ad::BackwardContext& c) {
    return std::vector<ad::Tensor>{chain_to_edges(c.grad_output, chain)};
  }, ad::kReadsShapes);
}

}  // namespace

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
  const auto n_edges = static_cast<std::int64_t>(center.size());
  auto chain = std::make_shared<EdgeChain>();
  chain->n_atoms = n_atoms;
  chain->n_features = x.shape()[1];
  chain->block_offsets.push_back(0);
  for (const ad::Tensor& j : jacobians) {
    chain->block_offsets.push_back(chain->block_offsets.back() + j.dim(0));
    if (j.dim(0) > 0) chain->blocks.push_back(j);
  }
  // Empty blocks have no rows to point into: drop their offsets too.
  chain->block_offsets.erase(std::unique(chain->block_offsets.begin(), chain->block_offsets.end()),
                             chain->block_offsets.end());
  chain->center_offsets.assign(static_cast<std::size_t>(n_atoms) + 1, 0);
  for (std::size_t e = 0; e < center.size(); ++e) {
    if (e > 0 && center[e] < center[e - 1]) fail(MATNN_ERROR_INTERNAL, "cached descriptor edges are not sorted by centre");
    ++chain->center_offsets[static_cast<std::size_t>(center[e]) + 1];
  }
  for (std::size_t i = 1; i < chain->center_offsets.size(); ++i) chain->center_offsets[i] += chain->center_offsets[i - 1];
  const ad::Index centers = ad::make_index(std::move(center));
  chain->center = centers;
  const ad::Tensor edge_gradient = chain_to_edges(dout_dx, chain);  // (E, 3)
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
