#include "potentials/core_repulsion.hpp"

#include <cmath>

#include "matnn/error.hpp"

namespace matnn::potentials {
namespace {

constexpr double coulomb_ev_angstrom = 14.399645;  // e^2 / (4 pi eps0)
constexpr double zbl_length = 0.46850;             // Angstrom
constexpr double zbl_c[4] = {0.18175, 0.50986, 0.28022, 0.02817};
constexpr double zbl_d[4] = {3.19980, 0.94229, 0.40290, 0.20162};

}  // namespace

void CoreRepulsion::pair(int z1, int z2, double r, double inner, double outer, double* energy, double* derivative) {
  *energy = 0.0;
  *derivative = 0.0;
  if (r >= outer || r <= 0.0) return;
  const double a = zbl_length / (std::pow(z1, 0.23) + std::pow(z2, 0.23));
  const double prefactor = coulomb_ev_angstrom * z1 * z2;
  double phi = 0.0, dphi = 0.0;  // phi(r / a) and d phi / dr
  for (int k = 0; k < 4; ++k) {
    const double term = zbl_c[k] * std::exp(-zbl_d[k] * r / a);
    phi += term;
    dphi -= term * zbl_d[k] / a;
  }
  const double u = prefactor * phi / r;
  const double du = prefactor * (dphi / r - phi / (r * r));
  double s = 1.0, ds = 0.0;
  if (r > inner) {
    const double width = outer - inner;
    const double t = (r - inner) / width;
    s = 1.0 - t * t * t * (10.0 - 15.0 * t + 6.0 * t * t);
    ds = -30.0 * t * t * (1.0 - t) * (1.0 - t) / width;
  }
  *energy = u * s;
  *derivative = du * s + u * ds;
}

nlohmann::json CoreRepulsion::to_json() const {
  if (!enabled()) return nullptr;
  return {{"kind", "zbl"}, {"inner", inner}, {"outer", outer}};
}

CoreRepulsion CoreRepulsion::from_json(const nlohmann::json& json) {
  CoreRepulsion c;
  if (json.is_null()) return c;
  if (!json.is_object() || json.value("kind", "") != "zbl" || !json.contains("inner") || !json.contains("outer") ||
      !json["inner"].is_number() || !json["outer"].is_number()) {
    fail(MATNN_ERROR_MODEL, "core_repulsion must be {{kind: zbl, inner, outer}}, got {}", json.dump());
  }
  c.inner = json["inner"].get<double>();
  c.outer = json["outer"].get<double>();
  if (!(c.inner >= 0.0 && c.outer > c.inner)) {
    fail(MATNN_ERROR_MODEL, "core_repulsion needs 0 <= inner < outer, got inner {} and outer {}", c.inner, c.outer);
  }
  return c;
}

PairContribution CoreRepulsion::evaluate(const AtomGraph& graph, const std::vector<int>& species_z,
                                         std::span<const double> weights, bool gradient) const {
  PairContribution out;
  const auto n_atoms = static_cast<std::size_t>(graph.n_atoms);
  const auto n_edges = static_cast<std::size_t>(graph.n_edges);
  out.atom_energies.assign(n_atoms, 0.0);
  if (gradient) out.edge_gradient.assign(3 * n_edges, 0.0);
  if (!enabled() || n_edges == 0) return out;
  const std::vector<double> vectors = graph.edge_vectors.to_vector();
  const auto& centers = *graph.edge_center;
  const auto& neighbors = *graph.edge_neighbor;
  for (std::size_t e = 0; e < n_edges; ++e) {
    const double* v = vectors.data() + 3 * e;
    const double r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (r >= outer) continue;
    const auto i = static_cast<std::size_t>(centers[e]);
    const auto j = static_cast<std::size_t>(neighbors[e]);
    double u = 0.0, du = 0.0;
    pair(species_z[static_cast<std::size_t>(graph.species[i])], species_z[static_cast<std::size_t>(graph.species[j])], r,
         inner, outer, &u, &du);
    // The full neighbour list holds each pair twice: half of u to each centre.
    out.atom_energies[i] += 0.5 * u;
    if (gradient) {
      const double w = weights.empty() ? 1.0 : weights[i];
      for (int k = 0; k < 3; ++k) out.edge_gradient[3 * e + static_cast<std::size_t>(k)] = w * 0.5 * du * v[k] / r;
    }
  }
  return out;
}

PairTotals CoreRepulsion::totals(const AtomGraph& graph, const std::vector<int>& species_z) const {
  const PairContribution pair = evaluate(graph, species_z, {}, true);
  EdgeGradientResult derivatives = forces_from_edge_gradient(graph, pair.edge_gradient);
  PairTotals out;
  out.energies.assign(static_cast<std::size_t>(graph.n_structures), 0.0);
  for (std::int64_t s = 0; s < graph.n_structures; ++s) {
    for (std::int64_t i = graph.atom_offsets[static_cast<std::size_t>(s)]; i < graph.atom_offsets[static_cast<std::size_t>(s) + 1]; ++i) {
      out.energies[static_cast<std::size_t>(s)] += pair.atom_energies[static_cast<std::size_t>(i)];
    }
  }
  out.forces = std::move(derivatives.forces);
  out.virials = std::move(derivatives.virials);
  return out;
}

}  // namespace matnn::potentials
