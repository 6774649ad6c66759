// Symmetry functions and their edge gradients evaluated directly, without the autodiff engine:
// the inference path of the Behler-Parrinello potential (see symmetry_functions.hpp for the
// definitions, which compute() and this file implement identically).
//
// One pass per center atom over its edges and pairs of edges, in double precision, with every
// quantity shared by the functions of a triplet (distances, cos, cutoff product, one exp per eta,
// the powers of (1 + lambda cos) / 2) computed once. The backward pass contracts dE/dG with the
// derivatives of each function on the fly, so only three scalars per triplet (dE/dr_ij, dE/dr_ik,
// dE/dcos, and dE/dr_jk for G4) are ever formed, as n2p2 does. A third mode writes the full
// Jacobian dG/d(edge vector) instead, for training from cached descriptors. Centers are independent: each one
// writes its own row of G and the gradient rows of its own edges, so they run in parallel.
#include <cmath>
#include <numbers>

#include "matnn/error.hpp"
#include "potentials/symmetry_functions.hpp"

namespace matnn::potentials {
namespace {

double integer_power(double base, std::int64_t exponent) {
  double result = 1.0;
  while (exponent > 0) {
    if (exponent & 1) result *= base;
    base *= base;
    exponent >>= 1;
  }
  return result;
}

// The edges of one center that lie inside the cutoff, with their distances and cutoff values.
struct CenterEdges {
  std::vector<std::int64_t> edge;   // index into the graph's edges
  std::vector<double> v;            // 3 per edge
  std::vector<double> r, fc, dfc;
  std::vector<std::int32_t> species;

  std::size_t size() const noexcept { return edge.size(); }
};

// Shared geometry of the pair (a, b) of a center's edges.
struct Triplet {
  double v3[3];       // r_k - r_j
  double r3 = 0.0;    // |r_k - r_j|
  double cos = 0.0;
  double rsq = 0.0;   // r_ij^2 + r_ik^2 (+ r_jk^2 for G4)
  double fc3 = 1.0, dfc3 = 0.0;
};

}  // namespace

inline void SymmetryFunctions::cutoff_with_derivative(double r, double& fc, double& dfc) const noexcept {
  const double rc = config_.cutoff;
  const double x = r / rc;
  if (x >= 1.0) {
    fc = dfc = 0.0;
  } else if (config_.cutoff_function == CutoffFunction::cosine) {
    fc = 0.5 * (std::cos(std::numbers::pi * x) + 1.0);
    dfc = -0.5 * std::numbers::pi / rc * std::sin(std::numbers::pi * x);
  } else {
    fc = 1.0 + x * x * x * (-10.0 + x * (15.0 - 6.0 * x));
    dfc = x * x * (-30.0 + x * (60.0 - 30.0 * x)) / rc;
  }
}

template <SymmetryFunctions::DirectPass Pass>
void SymmetryFunctions::direct_pass(const AtomGraph& graph, const double* edge_vectors, double* features,
                                    const double* feature_gradient, double* edge_gradient) const {
  constexpr bool Backward = Pass == DirectPass::backward;
  constexpr bool Jacobian = Pass == DirectPass::jacobian;
  const double rc = config_.cutoff;
  const std::int64_t R = n_radial();
  const std::int64_t F = n_features();
  const std::int64_t radial_size = n_species_ * R;
  const auto& neighbors = *graph.edge_neighbor;
  const bool narrow = config_.angular == AngularKind::narrow;
  const std::size_t n_eta = config_.angular_eta.size();
  const std::size_t n_lambda = config_.lambda.size();
  const std::size_t n_zeta = config_.zeta.size();

#pragma omp parallel
  {
    CenterEdges local;
    std::vector<double> x_eta(n_eta);
    std::vector<double> power(n_lambda * n_zeta), power_minus_one(n_lambda * n_zeta);
#pragma omp for schedule(dynamic, 8)
    for (std::int64_t i = 0; i < graph.n_atoms; ++i) {
      local.edge.clear(), local.v.clear(), local.r.clear(), local.fc.clear(), local.dfc.clear(), local.species.clear();
      for (std::int64_t e = graph.center_offsets[i]; e < graph.center_offsets[i + 1]; ++e) {
        const double* v = edge_vectors + 3 * e;
        const double r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        if (r >= rc) continue;
        double fc, dfc;
        cutoff_with_derivative(r, fc, dfc);
        local.edge.push_back(e);
        local.v.insert(local.v.end(), v, v + 3);
        local.r.push_back(r), local.fc.push_back(fc), local.dfc.push_back(dfc);
        local.species.push_back(graph.species[static_cast<std::size_t>(neighbors[static_cast<std::size_t>(e)])]);
      }
      const std::size_t n = local.size();
      double* g = Pass == DirectPass::forward ? features + i * F : nullptr;
      const double* dg = Backward ? feature_gradient + i * F : nullptr;
      // dE/d(edge vector) of this center's kept edges, accumulated locally.
      std::vector<double> grad(Backward ? 3 * n : 0, 0.0);
      // Jacobian: dG_f/d(edge vector) of this center's kept edges, (n, 3, F).
      std::vector<double> jac(Jacobian ? 3 * n * static_cast<std::size_t>(F) : 0, 0.0);

      // Radial functions.
      for (std::size_t a = 0; a < n; ++a) {
        const std::int64_t base = local.species[a] * R;
        double de_dr = 0.0;
        for (std::int64_t m = 0; m < R; ++m) {
          const double d = local.r[a] - radial_rs_[m];
          const double gauss = std::exp(-radial_eta_[m] * d * d);
          if constexpr (Backward) {
            de_dr += dg[base + m] * gauss * (-2.0 * radial_eta_[m] * d * local.fc[a] + local.dfc[a]);
          } else if constexpr (Jacobian) {
            const double dg_dr = gauss * (-2.0 * radial_eta_[m] * d * local.fc[a] + local.dfc[a]);
            for (int c = 0; c < 3; ++c) jac[(3 * a + c) * F + base + m] += dg_dr * local.v[3 * a + c] / local.r[a];
          } else {
            g[base + m] += gauss * local.fc[a];
          }
        }
        if constexpr (Backward)
          for (int c = 0; c < 3; ++c) grad[3 * a + c] += de_dr * local.v[3 * a + c] / local.r[a];
      }

      // Angular functions over unordered pairs of edges.
      if (n_angular_ > 0) {
        for (std::size_t a = 0; a < n; ++a) {
          const double* v1 = &local.v[3 * a];
          const double r1 = local.r[a];
          for (std::size_t b = a + 1; b < n; ++b) {
            const double* v2 = &local.v[3 * b];
            const double r2 = local.r[b];
            Triplet t;
            for (int c = 0; c < 3; ++c) t.v3[c] = v2[c] - v1[c];
            t.rsq = r1 * r1 + r2 * r2;
            if (narrow) {
              t.r3 = std::sqrt(t.v3[0] * t.v3[0] + t.v3[1] * t.v3[1] + t.v3[2] * t.v3[2]);
              if (t.r3 >= rc) continue;
              cutoff_with_derivative(t.r3, t.fc3, t.dfc3);
              t.rsq += t.r3 * t.r3;
            }
            t.cos = (v1[0] * v2[0] + v1[1] * v2[1] + v1[2] * v2[2]) / (r1 * r2);
            const double fcp = local.fc[a] * local.fc[b] * t.fc3;
            const std::int64_t offset = radial_size + pair_channel(local.species[a], local.species[b]) * n_angular_;
            for (std::size_t l = 0; l < n_lambda; ++l) {
              const double base = 0.5 * (1.0 + static_cast<double>(config_.lambda[l]) * t.cos);
              for (std::size_t z = 0; z < n_zeta; ++z) {
                const double pm1 = integer_power(base, config_.zeta[z] - 1);
                power_minus_one[l * n_zeta + z] = pm1;
                power[l * n_zeta + z] = pm1 * base;
              }
            }
            for (std::size_t k = 0; k < n_eta; ++k) {
              const double eta = config_.angular_eta[k];
              x_eta[k] = eta == 0.0 ? 2.0 : 2.0 * std::exp(-eta * t.rsq);
            }

            if constexpr (Jacobian) {
              // Each function's own derivative: the backward pass below with a one-hot dE/dG.
              const double fc1 = local.fc[a], fc2 = local.fc[b];
              const double inv12 = 1.0 / (r1 * r2);
              std::int64_t f = offset;
              for (std::size_t k = 0; k < n_eta; ++k) {
                const double eta = config_.angular_eta[k];
                for (std::size_t l = 0; l < n_lambda; ++l) {
                  const double half_lambda = 0.5 * static_cast<double>(config_.lambda[l]);
                  for (std::size_t z = 0; z < n_zeta; ++z, ++f) {
                    const std::size_t q = l * n_zeta + z;
                    const double dg_dfcp = x_eta[k] * power[q];
                    const double dg_drsq = -eta * x_eta[k] * fcp * power[q];
                    const double dg_dcos =
                        x_eta[k] * fcp * static_cast<double>(config_.zeta[z]) * power_minus_one[q] * half_lambda;
                    const double dg_dr1 = 2.0 * r1 * dg_drsq + dg_dfcp * local.dfc[a] * fc2 * t.fc3;
                    const double dg_dr2 = 2.0 * r2 * dg_drsq + dg_dfcp * fc1 * local.dfc[b] * t.fc3;
                    const double dg_dr3 = narrow ? 2.0 * t.r3 * dg_drsq + dg_dfcp * fc1 * fc2 * t.dfc3 : 0.0;
                    for (int c = 0; c < 3; ++c) {
                      const double along3 = narrow ? dg_dr3 * t.v3[c] / t.r3 : 0.0;
                      jac[(3 * a + c) * F + f] +=
                          dg_dr1 * v1[c] / r1 + dg_dcos * (v2[c] * inv12 - t.cos * v1[c] / (r1 * r1)) - along3;
                      jac[(3 * b + c) * F + f] +=
                          dg_dr2 * v2[c] / r2 + dg_dcos * (v1[c] * inv12 - t.cos * v2[c] / (r2 * r2)) + along3;
                    }
                  }
                }
              }
            } else if constexpr (!Backward) {
              std::int64_t f = offset;
              for (std::size_t k = 0; k < n_eta; ++k) {
                const double radial_part = x_eta[k] * fcp;
                for (std::size_t q = 0; q < n_lambda * n_zeta; ++q) g[f++] += radial_part * power[q];
              }
            } else {
              // E = sum_k 2 exp(-eta_k rsq) fcp sum_q dG_kq base_q^zeta_q.
              double de_dfcp = 0.0, de_drsq = 0.0, de_dcos = 0.0;
              std::int64_t f = offset;
              for (std::size_t k = 0; k < n_eta; ++k) {
                double value = 0.0, slope = 0.0;
                for (std::size_t l = 0; l < n_lambda; ++l) {
                  const double half_lambda = 0.5 * static_cast<double>(config_.lambda[l]);
                  for (std::size_t z = 0; z < n_zeta; ++z, ++f) {
                    const std::size_t q = l * n_zeta + z;
                    value += dg[f] * power[q];
                    slope += dg[f] * static_cast<double>(config_.zeta[z]) * power_minus_one[q] * half_lambda;
                  }
                }
                de_dfcp += x_eta[k] * value;
                de_drsq -= config_.angular_eta[k] * x_eta[k] * fcp * value;
                de_dcos += x_eta[k] * fcp * slope;
              }
              const double fc1 = local.fc[a], fc2 = local.fc[b];
              const double de_dr1 = 2.0 * r1 * de_drsq + de_dfcp * local.dfc[a] * fc2 * t.fc3;
              const double de_dr2 = 2.0 * r2 * de_drsq + de_dfcp * fc1 * local.dfc[b] * t.fc3;
              const double de_dr3 = narrow ? 2.0 * t.r3 * de_drsq + de_dfcp * fc1 * fc2 * t.dfc3 : 0.0;
              const double inv12 = 1.0 / (r1 * r2);
              for (int c = 0; c < 3; ++c) {
                const double along3 = narrow ? de_dr3 * t.v3[c] / t.r3 : 0.0;
                grad[3 * a + c] += de_dr1 * v1[c] / r1 + de_dcos * (v2[c] * inv12 - t.cos * v1[c] / (r1 * r1)) - along3;
                grad[3 * b + c] += de_dr2 * v2[c] / r2 + de_dcos * (v1[c] * inv12 - t.cos * v2[c] / (r2 * r2)) + along3;
              }
            }
          }
        }
      }
      if constexpr (Backward)
        for (std::size_t a = 0; a < n; ++a)
          for (int c = 0; c < 3; ++c) edge_gradient[3 * local.edge[a] + c] = grad[3 * a + c];
      if constexpr (Jacobian)
        for (std::size_t a = 0; a < n; ++a)
          std::copy(jac.begin() + static_cast<std::ptrdiff_t>(3 * a * F), jac.begin() + static_cast<std::ptrdiff_t>(3 * (a + 1) * F),
                    edge_gradient + 3 * local.edge[a] * F);
    }
  }
}

namespace {

void check_direct_graph(const AtomGraph& graph, double rc, std::int64_t n_species) {
  if (graph.cutoff < rc * (1.0 - 1e-12))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "symmetry functions with cutoff {} need a graph built with at least that cutoff, got {}",
         rc, graph.cutoff);
  for (std::int32_t s : graph.species)
    if (s < 0 || s >= n_species)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "graph species index {} is out of range for {} species", s, n_species);
}

}  // namespace

std::vector<double> SymmetryFunctions::values(const AtomGraph& graph) const {
  check_direct_graph(graph, config_.cutoff, n_species_);
  const std::vector<double> vectors = graph.edge_vectors.to_vector();
  std::vector<double> features(static_cast<std::size_t>(graph.n_atoms * n_features()), 0.0);
  direct_pass<DirectPass::forward>(graph, vectors.data(), features.data(), nullptr, nullptr);
  return features;
}

std::vector<double> SymmetryFunctions::edge_gradient(const AtomGraph& graph, const std::vector<double>& feature_gradient) const {
  check_direct_graph(graph, config_.cutoff, n_species_);
  if (feature_gradient.size() != static_cast<std::size_t>(graph.n_atoms * n_features()))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "symmetry functions: {} feature gradients for {} atoms x {} features",
         feature_gradient.size(), graph.n_atoms, n_features());
  const std::vector<double> vectors = graph.edge_vectors.to_vector();
  // Edges beyond the cutoff keep a zero gradient.
  std::vector<double> gradient(static_cast<std::size_t>(3 * graph.n_edges), 0.0);
  direct_pass<DirectPass::backward>(graph, vectors.data(), nullptr, feature_gradient.data(), gradient.data());
  return gradient;
}

std::vector<double> SymmetryFunctions::jacobian(const AtomGraph& graph) const {
  check_direct_graph(graph, config_.cutoff, n_species_);
  const std::vector<double> vectors = graph.edge_vectors.to_vector();
  // Edges beyond the cutoff keep zero rows.
  std::vector<double> out(static_cast<std::size_t>(graph.n_edges * 3 * n_features()), 0.0);
  direct_pass<DirectPass::jacobian>(graph, vectors.data(), nullptr, nullptr, out.data());
  return out;
}

}  // namespace matnn::potentials
