#include "models/cgcnn/crystal_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"
#include "features/cgcnn_element_features.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "matnn/neighbor_list.hpp"
#include "train/config.hpp"

namespace matnn::models::cgcnn {
namespace {

// Row z of the elements' encoding, built once (z = 0 unused).
const std::vector<float>& element_table() {
  static const std::vector<float> table = [] {
    const auto width = static_cast<std::size_t>(features::cgcnn_element_feature_width());
    std::vector<float> t((max_atomic_number + 1) * width, 0.0f);
    for (int z = 1; z <= max_atomic_number; ++z) {
      const std::vector<float> row = features::cgcnn_element_features(z);
      std::copy(row.begin(), row.end(), t.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(z) * width));
    }
    return t;
  }();
  return table;
}

// exp(-(r - mu_m)^2 / width^2) for every centre, in float32 (what the network reads), vectorised.
// Below e^-80 (2e-35) a feature is exactly 0: a tiny normal value times a weight is subnormal, and
// x86 cores take about a hundred cycles for each such product in the GEMMs that read these
// features (an epoch of the prototype set ran eleven times slower). No feature that small can
// matter next to the centres within a few widths, which are of order 1.
constexpr float kNegligibleExponent = -80.0f;

MATNN_TARGET_CLONES void expand_distance(float r, double first, double step, double inv_w2, std::int64_t count,
                                         float* __restrict out) {
  const auto a = static_cast<float>(first), h = static_cast<float>(step), k = static_cast<float>(inv_w2);
#pragma omp simd
  for (std::int64_t m = 0; m < count; ++m) {
    const float x = r - (a + static_cast<float>(m) * h);
    const float exponent = -x * x * k;
    out[m] = exponent > kNegligibleExponent ? ad::detail::exp_vectorisable(exponent) : 0.0f;
  }
}

}  // namespace

std::int64_t CrystalGraphOptions::gaussian_count() const {
  return static_cast<std::int64_t>(std::floor((radius - gaussian_min) / gaussian_step + 1e-9)) + 1;
}

void CrystalGraphOptions::check() const {
  if (!(radius > 0) || !std::isfinite(radius)) fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: radius must be > 0, got {}", radius);
  if (max_neighbors < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: max_neighbors must be >= 1, got {}", max_neighbors);
  if (!(gaussian_step > 0) || !(gaussian_width > 0) || !(gaussian_min >= 0) || gaussian_min >= radius)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: need gaussian_step > 0, gaussian_width > 0 and 0 <= gaussian_min < radius");
  if (gaussian_count() > 10000)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: {} Gaussians (radius / gaussian_step) is too many", gaussian_count());
}

nlohmann::json CrystalGraphOptions::to_json() const {
  return {{"radius", radius},
          {"max_neighbors", max_neighbors},
          {"gaussian_min", gaussian_min},
          {"gaussian_step", gaussian_step},
          {"gaussian_width", gaussian_width}};
}

CrystalGraphOptions CrystalGraphOptions::from_json(const nlohmann::json& j) {
  CrystalGraphOptions o;
  try {
    o.radius = j.at("radius").get<double>();
    o.max_neighbors = j.at("max_neighbors").get<int>();
    o.gaussian_min = j.at("gaussian_min").get<double>();
    o.gaussian_step = j.at("gaussian_step").get<double>();
    o.gaussian_width = j.at("gaussian_width").get<double>();
    o.check();
  } catch (const nlohmann::json::exception& e) {
    fail(MATNN_ERROR_MODEL, "cgcnn graph options are incomplete or malformed: {}", e.what());
  } catch (const Error& e) {
    throw Error(MATNN_ERROR_MODEL, e.what());
  }
  return o;
}

CrystalGraphOptions CrystalGraphOptions::from_config(const train::ConfigSection& model) {
  CrystalGraphOptions o;
  o.radius = model.positive("radius", o.radius);
  o.max_neighbors = static_cast<int>(model.integer("max_neighbors", o.max_neighbors, 1));
  o.gaussian_step = model.positive("gaussian_step", o.gaussian_step);
  o.gaussian_width = model.positive("gaussian_width", o.gaussian_width);
  o.check();
  return o;
}

CrystalGraph build_crystal_graph(const Structure& s, const CrystalGraphOptions& options) {
  s.validate();
  const NeighborList list = build_neighbor_list(s, options.radius);
  const PairVectors vectors = pair_vectors(s, list);
  const Eigen::VectorXd d = pair_distances(vectors);
  const std::vector<std::int64_t> offsets = neighbor_offsets(list, s.size());
  CrystalGraph g;
  g.numbers = s.numbers;
  g.offsets.push_back(0);
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < s.size(); ++i) {
    order.resize(static_cast<std::size_t>(offsets[i + 1] - offsets[i]));
    std::iota(order.begin(), order.end(), static_cast<std::size_t>(offsets[i]));
    // Nearest first; list order (neighbour, then image) breaks ties, so the graph is a function
    // of the structure only.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return d[static_cast<Eigen::Index>(a)] < d[static_cast<Eigen::Index>(b)];
    });
    const std::size_t kept = std::min(order.size(), static_cast<std::size_t>(options.max_neighbors));
    for (std::size_t k = 0; k < kept; ++k) {
      const double r = d[static_cast<Eigen::Index>(order[k])];
      if (r < 1e-8) fail(MATNN_ERROR_GEOMETRY, "atoms {} and {} overlap (distance {:.3g} A)", i, list.second[order[k]], r);
      g.neighbors.push_back(list.second[order[k]]);
      g.distances.push_back(static_cast<float>(r));
    }
    g.offsets.push_back(static_cast<std::int64_t>(g.neighbors.size()));
  }
  return g;
}

std::vector<CrystalGraph> build_crystal_graphs(std::span<const Structure> structures, const CrystalGraphOptions& options) {
  std::vector<CrystalGraph> graphs(structures.size());
  std::vector<std::string> errors(structures.size());
  std::vector<matnn_status> statuses(structures.size(), MATNN_SUCCESS);
#pragma omp parallel for schedule(dynamic, 8)
  for (std::size_t i = 0; i < structures.size(); ++i) {
    try {
      graphs[i] = build_crystal_graph(structures[i], options);
    } catch (const Error& e) {
      statuses[i] = e.status();
      errors[i] = e.what();
    }
  }
  for (std::size_t i = 0; i < structures.size(); ++i)
    if (statuses[i] != MATNN_SUCCESS) fail(statuses[i], "structure {}: {}", i, errors[i]);
  return graphs;
}

GraphBatch make_batch(std::span<const CrystalGraph* const> graphs, const CrystalGraphOptions& options) {
  const std::vector<float>& elements = element_table();
  const std::int64_t width = features::cgcnn_element_feature_width(), gaussians = options.gaussian_count();
  GraphBatch b;
  b.n_crystals = static_cast<std::int64_t>(graphs.size());
  for (const CrystalGraph* g : graphs) {
    b.n_atoms += static_cast<std::int64_t>(g->n_atoms());
    b.n_edges += static_cast<std::int64_t>(g->n_edges());
  }
  std::vector<float> atoms(static_cast<std::size_t>(b.n_atoms * width));
  std::vector<float> edges(static_cast<std::size_t>(b.n_edges * gaussians));
  std::vector<std::int32_t> center, neighbor, crystal;
  std::vector<float> inverse_sizes;
  center.reserve(static_cast<std::size_t>(b.n_edges));
  neighbor.reserve(static_cast<std::size_t>(b.n_edges));
  crystal.reserve(static_cast<std::size_t>(b.n_atoms));
  const double inv_w2 = 1.0 / (options.gaussian_width * options.gaussian_width);
  std::int32_t first_atom = 0;
  std::size_t edge = 0;
  for (std::size_t k = 0; k < graphs.size(); ++k) {
    const CrystalGraph& g = *graphs[k];
    if (g.n_atoms() == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "cgcnn: structure {} of the batch has no atoms", k);
    for (std::size_t i = 0; i < g.n_atoms(); ++i) {
      const int z = g.numbers[i];
      if (!is_known_atomic_number(z)) fail(MATNN_ERROR_UNKNOWN_ELEMENT, "cgcnn: atomic number {}", z);
      std::copy_n(elements.begin() + static_cast<std::ptrdiff_t>(z * width), width,
                  atoms.begin() + static_cast<std::ptrdiff_t>((first_atom + static_cast<std::int64_t>(i)) * width));
      crystal.push_back(static_cast<std::int32_t>(k));
      for (std::int64_t e = g.offsets[i]; e < g.offsets[i + 1]; ++e, ++edge) {
        center.push_back(first_atom + static_cast<std::int32_t>(i));
        neighbor.push_back(first_atom + g.neighbors[static_cast<std::size_t>(e)]);
        expand_distance(g.distances[static_cast<std::size_t>(e)], options.gaussian_min, options.gaussian_step,
                        inv_w2, gaussians, edges.data() + edge * static_cast<std::size_t>(gaussians));
      }
    }
    inverse_sizes.push_back(1.0f / static_cast<float>(g.n_atoms()));
    first_atom += static_cast<std::int32_t>(g.n_atoms());
  }
  b.atom_features = ad::from_vector(atoms, {b.n_atoms, width});
  b.edge_features = ad::from_vector(edges, {b.n_edges, gaussians});
  b.center = ad::make_index(std::move(center));
  b.neighbor = ad::make_index(std::move(neighbor));
  b.crystal = ad::make_index(std::move(crystal));
  b.inverse_sizes = ad::from_vector(inverse_sizes, {b.n_crystals, 1});
  return b;
}

}  // namespace matnn::models::cgcnn
