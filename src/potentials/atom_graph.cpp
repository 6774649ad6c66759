#include "potentials/atom_graph.hpp"

#include <algorithm>
#include <array>

#include "autodiff/ops.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "matnn/neighbor_list.hpp"

namespace matnn::potentials {
namespace {

// Closer than this, two atoms are the same point: no potential is defined there.
constexpr double overlap_distance = 1e-6;
// No physical structure puts this many atoms within a potential's cutoff (the densest solids have
// about 0.2 atoms/A^3: ~200 neighbours within 6 A). A cell much smaller than the cutoff does, and
// models with triplets would need memory growing as its square.
constexpr std::size_t max_neighbors_per_atom = 4096;

template <typename T>
ad::Tensor tensor_from(const std::vector<double>& values, const ad::Shape& shape) {
  return ad::from_vector(std::vector<T>(values.begin(), values.end()), shape);
}

ad::Tensor make_tensor(const std::vector<double>& values, const ad::Shape& shape, ad::DType dtype) {
  return dtype == ad::DType::f32 ? tensor_from<float>(values, shape) : tensor_from<double>(values, shape);
}

using SpeciesTable = std::array<int, max_atomic_number + 1>;

SpeciesTable species_table(const std::vector<int>& species_z) {
  SpeciesTable species_of{};
  species_of.fill(-1);
  for (std::size_t k = 0; k < species_z.size(); ++k) species_of.at(static_cast<std::size_t>(species_z[k])) = static_cast<int>(k);
  return species_of;
}

// The checks of one structure that need the model (its species and cutoff). Messages name the
// atom but not the structure: the caller knows where the structure came from.
void check_species(const Structure& st, const SpeciesTable& species_of) {
  for (std::size_t a = 0; a < st.size(); ++a) {
    if (species_of[static_cast<std::size_t>(st.numbers[a])] < 0) {
      fail(MATNN_ERROR_UNKNOWN_ELEMENT, "atom {}: the model has no parameters for {}", a, element(st.numbers[a]).symbol);
    }
  }
}

NeighborList checked_neighbors(const Structure& st, double cutoff) {
  NeighborList list = build_neighbor_list(st, cutoff, NeighborListKind::full, max_neighbors_per_atom);
  if (list.size() > max_neighbors_per_atom * std::max<std::size_t>(st.size(), 1)) {
    fail(MATNN_ERROR_GEOMETRY,
         "{} neighbours per atom within the {} Angstrom cutoff (at most {}): the cell is far smaller than the cutoff "
         "or the atoms are packed unphysically densely",
         list.size() / std::max<std::size_t>(st.size(), 1), cutoff, max_neighbors_per_atom);
  }
  return list;
}

void check_no_overlap(const NeighborList& list, const PairVectors& vectors) {
  for (std::size_t e = 0; e < list.size(); ++e) {
    const double distance = vectors.row(static_cast<Eigen::Index>(e)).norm();
    if (distance < overlap_distance) {
      fail(MATNN_ERROR_GEOMETRY, "atoms {} and {} overlap (distance {:.3g} Angstrom)", list.first[e], list.second[e],
           distance);
    }
  }
}

// The host's list as matnn's: the candidates within the cutoff, checked (HostNeighbors).
NeighborList host_list(const Structure& st, const HostNeighbors& host, double cutoff) {
  const std::size_t n = st.size();
  if (st.pbc[0] || st.pbc[1] || st.pbc[2]) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "a host neighbour list needs explicit ghost atoms, not a periodic cell");
  }
  if (host.offsets.size() != n + 1) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbour offsets: {} values for {} atoms (need natoms + 1)", host.offsets.size(), n);
  }
  if (host.offsets[0] != 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbour offsets: the first value is {}, not 0", host.offsets[0]);
  for (std::size_t i = 0; i < n; ++i) {
    if (host.offsets[i + 1] < host.offsets[i]) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbour offsets decrease at atom {} ({} then {})", i, host.offsets[i],
           host.offsets[i + 1]);
    }
  }
  if (static_cast<std::size_t>(host.offsets[n]) > host.neighbors.size()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbour offsets end at {}, beyond the {} neighbours given", host.offsets[n],
         host.neighbors.size());
  }
  NeighborList list;
  list.cutoff = cutoff;
  std::vector<int> seen;
  for (std::size_t i = 0; i < n; ++i) {
    const int begin = host.offsets[i];
    const int end = host.offsets[i + 1];
    seen.assign(host.neighbors.begin() + begin, host.neighbors.begin() + end);
    std::sort(seen.begin(), seen.end());
    for (std::size_t k = 0; k < seen.size(); ++k) {
      const int j = seen[k];
      if (j < 0 || static_cast<std::size_t>(j) >= n) {
        fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbours of atom {}: index {} is not an atom (0 to {})", i, j, n - 1);
      }
      if (static_cast<std::size_t>(j) == i) fail(MATNN_ERROR_INVALID_ARGUMENT, "atom {} is listed as its own neighbour", i);
      if (k > 0 && seen[k - 1] == j) fail(MATNN_ERROR_INVALID_ARGUMENT, "neighbours of atom {}: atom {} is listed twice", i, j);
      const double distance = (st.positions.row(j) - st.positions.row(static_cast<Eigen::Index>(i))).norm();
      if (distance >= cutoff) continue;
      list.first.push_back(static_cast<std::int32_t>(i));
      list.second.push_back(j);
      list.shifts.push_back({0, 0, 0});
    }
    if (list.size() > max_neighbors_per_atom * (i + 1)) {
      fail(MATNN_ERROR_GEOMETRY, "the host's neighbour list holds {} pairs within the {} Angstrom cutoff for atoms 0 to {}: "
           "more than {} per atom", list.size(), cutoff, i, max_neighbors_per_atom);
    }
  }
  return list;
}

// The pairs of `list` (full, sorted by first) whose centre is fewer than `layers` hops from an
// atom of nonzero weight (GraphOptions::energy_weights); *hops_out gets every atom's hops.
NeighborList needed_environments(const NeighborList& list, std::size_t n_atoms, std::span<const double> weights,
                                 int layers, std::vector<int32_t>* hops_out) {
  std::vector<std::size_t> offsets(n_atoms + 1, 0);
  for (std::int32_t i : list.first) ++offsets[static_cast<std::size_t>(i) + 1];
  for (std::size_t i = 0; i < n_atoms; ++i) offsets[i + 1] += offsets[i];
  std::vector<int32_t>& hops = *hops_out;
  hops.assign(n_atoms, layers);
  std::vector<std::size_t> frontier;
  for (std::size_t i = 0; i < n_atoms; ++i) {
    if (weights[i] != 0.0) {
      hops[i] = 0;
      frontier.push_back(i);
    }
  }
  for (int hop = 0; hop + 1 < layers && !frontier.empty(); ++hop) {
    std::vector<std::size_t> next;
    for (std::size_t i : frontier) {
      for (std::size_t p = offsets[i]; p < offsets[i + 1]; ++p) {
        const auto j = static_cast<std::size_t>(list.second[p]);
        if (hops[j] > hop + 1) {
          hops[j] = hop + 1;
          next.push_back(j);
        }
      }
    }
    frontier = std::move(next);
  }
  NeighborList kept;
  kept.cutoff = list.cutoff;
  kept.kind = list.kind;
  for (std::size_t p = 0; p < list.size(); ++p) {
    if (hops[static_cast<std::size_t>(list.first[p])] >= layers) continue;
    kept.first.push_back(list.first[p]);
    kept.second.push_back(list.second[p]);
    kept.shifts.push_back(list.shifts[p]);
  }
  return kept;
}

// The graph of `structures`: their own neighbour lists, or for one structure as `options` say.
AtomGraph assemble(std::span<const Structure* const> structures, const std::vector<int>& species_z, double cutoff,
                   ad::DType dtype, const GraphOptions* options);

}  // namespace

void check_elements(const Structure& structure, const std::vector<int>& species_z) {
  check_species(structure, species_table(species_z));
}

void check_structure(const Structure& structure, const std::vector<int>& species_z, double cutoff) {
  structure.validate();
  check_elements(structure, species_z);
  const NeighborList list = checked_neighbors(structure, cutoff);
  check_no_overlap(list, pair_vectors(structure, list));
}

AtomGraph build_graph(std::span<const Structure* const> structures, const std::vector<int>& species_z, double cutoff,
                      ad::DType dtype) {
  return assemble(structures, species_z, cutoff, dtype, nullptr);
}

AtomGraph build_graph(const Structure& structure, const std::vector<int>& species_z, double cutoff, ad::DType dtype,
                      const GraphOptions& options) {
  const Structure* one = &structure;
  return assemble(std::span<const Structure* const>(&one, 1), species_z, cutoff, dtype, &options);
}

namespace {

AtomGraph assemble(std::span<const Structure* const> structures, const std::vector<int>& species_z, double cutoff,
                   ad::DType dtype, const GraphOptions* options) {
  const SpeciesTable species_of = species_table(species_z);

  AtomGraph g;
  g.dtype = dtype;
  g.cutoff = cutoff;
  g.n_structures = static_cast<std::int64_t>(structures.size());
  g.atom_offsets.push_back(0);
  std::vector<int32_t> atom_structure, centers, neighbors, edge_structure;
  std::vector<double> positions, pair_vectors_d0;
  for (std::size_t s = 0; s < structures.size(); ++s) {
    const Structure& st = *structures[s];
    NeighborList list;
    PairVectors vectors;
    try {
      st.validate();
      check_species(st, species_of);
      const bool hosted = options != nullptr && !options->neighbors.empty();
      list = hosted ? host_list(st, options->neighbors, cutoff) : checked_neighbors(st, cutoff);
      if (options != nullptr && !options->energy_weights.empty()) {
        if (options->energy_weights.size() != st.size()) {
          fail(MATNN_ERROR_INVALID_ARGUMENT, "{} energy weights for {} atoms", options->energy_weights.size(), st.size());
        }
        const bool all_weighted = std::none_of(options->energy_weights.begin(), options->energy_weights.end(),
                                               [](double w) { return w == 0.0; });
        if (!all_weighted) list = needed_environments(list, st.size(), options->energy_weights, options->layers, &g.hops);
      }
      vectors = pair_vectors(st, list);
      check_no_overlap(list, vectors);
    } catch (const Error& e) {
      fail(e.status(), "structure {}: {}", s, e.what());
    }
    const auto offset = static_cast<int32_t>(g.atom_offsets.back());
    for (std::size_t a = 0; a < st.size(); ++a) {
      g.species.push_back(species_of[static_cast<std::size_t>(st.numbers[a])]);
      atom_structure.push_back(static_cast<int32_t>(s));
      for (int k = 0; k < 3; ++k) positions.push_back(st.positions(static_cast<Eigen::Index>(a), k));
    }
    for (std::size_t e = 0; e < list.size(); ++e) {
      const auto row = static_cast<Eigen::Index>(e);
      centers.push_back(offset + list.first[e]);
      neighbors.push_back(offset + list.second[e]);
      edge_structure.push_back(static_cast<int32_t>(s));
      for (int k = 0; k < 3; ++k) pair_vectors_d0.push_back(vectors(row, k));
    }
    g.volumes.push_back(st.fully_periodic() ? st.volume() : 0.0);
    g.atom_offsets.push_back(g.atom_offsets.back() + static_cast<std::int64_t>(st.size()));
  }
  g.n_atoms = g.atom_offsets.back();
  g.n_edges = static_cast<std::int64_t>(centers.size());

  // Edges are sorted by center: each structure's full list is, and structures follow each other.
  g.center_offsets.assign(static_cast<std::size_t>(g.n_atoms) + 1, 0);
  for (int32_t c : centers) ++g.center_offsets[static_cast<std::size_t>(c) + 1];
  for (std::size_t i = 1; i < g.center_offsets.size(); ++i) g.center_offsets[i] += g.center_offsets[i - 1];

  g.species_index = ad::make_index(g.species);
  g.atom_structure = ad::make_index(std::move(atom_structure));
  g.edge_center = ad::make_index(std::move(centers));
  g.edge_neighbor = ad::make_index(std::move(neighbors));
  g.edge_structure = ad::make_index(std::move(edge_structure));

  g.positions = make_tensor(positions, {g.n_atoms, 3}, dtype);
  g.positions.set_requires_grad(true);
  g.strain = ad::zeros({g.n_structures, 3, 3}, dtype);
  g.strain.set_requires_grad(true);

  if (options && options->inference) {
    g.inference = true;
    g.edge_vectors = make_tensor(pair_vectors_d0, {g.n_edges, 3}, dtype);
    g.edge_vectors.set_requires_grad(true);
    return g;
  }
  // d0 = r_j - r_i + S.cell, then d = d0 (I + strain): d_b = d0_b + sum_a d0_a strain_ab.
  // d0's values are the pair vectors differenced in float64 and rounded once; its derivative
  // comes from delta = positions - positions (zero, exactly, in any precision), whose gradient
  // is the identity. Differencing float32 positions instead would lose digits with the distance
  // of the cell from the origin (10 to 40 times larger force errors 100 Angstrom away).
  const ad::Tensor delta = ad::sub(g.positions, g.positions.detach());
  const ad::Tensor d0 = ad::add(make_tensor(pair_vectors_d0, {g.n_edges, 3}, dtype),
                                ad::sub(ad::gather_rows(delta, g.edge_neighbor), ad::gather_rows(delta, g.edge_center)));
  const ad::Tensor strain_of_edge =
      ad::reshape(ad::gather_rows(ad::reshape(g.strain, {g.n_structures, 9}), g.edge_structure), {g.n_edges, 3, 3});
  g.edge_vectors = ad::add(d0, ad::sum(ad::mul(ad::reshape(d0, {g.n_edges, 3, 1}), strain_of_edge), 1));
  return g;
}

}  // namespace

AtomGraph build_graph(const Structure& structure, const std::vector<int>& species_z, double cutoff, ad::DType dtype) {
  const Structure* one = &structure;
  return build_graph(std::span<const Structure* const>(&one, 1), species_z, cutoff, dtype);
}

EdgeGradientResult forces_from_edge_gradient(const AtomGraph& graph, std::span<const double> edge_gradient,
                                             bool atom_virials) {
  if (edge_gradient.size() != static_cast<std::size_t>(3 * graph.n_edges))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} edge-gradient values for {} edges", edge_gradient.size(), graph.n_edges);
  EdgeGradientResult out;
  out.forces = Positions::Zero(graph.n_atoms, 3);
  out.virials.assign(static_cast<std::size_t>(graph.n_structures), Eigen::Matrix3d::Zero());
  if (atom_virials) out.atom_virials = AtomVirials::Zero(graph.n_atoms, 6);
  const std::vector<double> vectors = graph.edge_vectors.to_vector();
  const auto& centers = *graph.edge_center;
  const auto& neighbors = *graph.edge_neighbor;
  const auto& structures = *graph.edge_structure;
  for (std::int64_t e = 0; e < graph.n_edges; ++e) {
    const auto k = static_cast<std::size_t>(e);
    const Eigen::Map<const Eigen::RowVector3d> g(&edge_gradient[3 * k]);
    const Eigen::Map<const Eigen::RowVector3d> d(&vectors[3 * k]);
    out.forces.row(centers[k]) += g;
    out.forces.row(neighbors[k]) -= g;
    out.virials[static_cast<std::size_t>(structures[k])] += d.transpose() * g;
    if (atom_virials) {
      const Eigen::Matrix<double, 1, 6> half{0.5 * d[0] * g[0],
                                             0.5 * d[1] * g[1],
                                             0.5 * d[2] * g[2],
                                             0.25 * (d[1] * g[2] + d[2] * g[1]),
                                             0.25 * (d[0] * g[2] + d[2] * g[0]),
                                             0.25 * (d[0] * g[1] + d[1] * g[0])};
      out.atom_virials.row(centers[k]) += half;
      out.atom_virials.row(neighbors[k]) += half;
    }
  }
  return out;
}

}  // namespace matnn::potentials
