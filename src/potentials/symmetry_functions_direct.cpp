// Symmetry functions and their edge gradients evaluated directly, without the autodiff engine:
// the inference path of the Behler-Parrinello potential and the descriptor cache of its training
// (see symmetry_functions.hpp for the definitions, which compute() and this file implement
// identically).
//
// Centers are independent: each one writes its own row of G and the gradient rows of its own
// edges, so they run in parallel. Within a center the work is laid out as structures of arrays:
// - its edges inside the cutoff, grouped by neighbour species;
// - its triplets (pairs a < b of those edges; for G4 only those with r_jk < rc, selected without
//   a branch), grouped by species-pair channel, so that every channel is one contiguous range.
// Every per-edge and per-triplet quantity is then formed in a loop over edges or triplets whose
// body is arithmetic only, so that it vectorises; the loops are compiled for AVX-512, AVX2 and the
// baseline and the CPU picks one at load time (MATNN_TARGET_CLONES). The arithmetic is float64
// whatever the model's precision: float32 runs 1.4 times faster but is not accurate enough. Its
// functions carry 1e-6 relative errors (a float32 base^16 amplifies the base's rounding 16-fold,
// a float32 exp(-eta r^2) amplifies the argument's), which the input standardisation magnifies by
// mean / std: on a Si model (2 epochs of si_behler_parrinello.yaml) the float32 forces moved 70
// times further from float64 than with float64 functions (2.4e-4 against 3.3e-6 eV/A), on a
// stiff test model 10^4 times.
//
// Shared factors, as in n2p2: exp(-eta (r_ij^2 + r_ik^2 + r_jk^2)) = e_ij e_ik e_jk with
// e = exp(-eta r^2) formed once per edge, so G5 takes no exponential per triplet and G4 one per
// eta; the powers ((1 + lambda cos) / 2)^zeta are formed once per triplet by squaring. The backward
// pass contracts dE/dG on the fly into three scalars per triplet (dE/dfc-product, dE/drsq,
// dE/dcos) before the chain rule to the edge vectors; the Jacobian mode (training) does the same
// for one function at a time. values_and_edge_gradient() runs both passes over a block of centers
// with the network in between, so the backward pass reuses what the forward pass formed.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numbers>
#include <utility>

#include "autodiff/kernels.hpp"
#include "matnn/error.hpp"
#include "potentials/symmetry_functions.hpp"

namespace matnn::potentials {
namespace {

using ad::detail::exp_vectorisable;

// fc(r) and dfc/dr for r < rc.
MATNN_TARGET_CLONES void cutoff_values(const double* __restrict r, std::int64_t n, double rc, bool polynomial, double* __restrict fc,
                                       double* __restrict dfc) {
  if (polynomial) {
#pragma omp simd
    for (std::int64_t e = 0; e < n; ++e) {
      const double x = r[e] / rc;
      fc[e] = 1.0 + x * x * x * (-10.0 + x * (15.0 - 6.0 * x));
      dfc[e] = x * x * (-30.0 + x * (60.0 - 30.0 * x)) / rc;
    }
  } else {
    for (std::int64_t e = 0; e < n; ++e) {
      const double x = r[e] / rc;
      fc[e] = 0.5 * (std::cos(std::numbers::pi * x) + 1.0);
      dfc[e] = -0.5 * std::numbers::pi / rc * std::sin(std::numbers::pi * x);
    }
  }
}

// out = exp(-eta rsq).
MATNN_TARGET_CLONES void gaussians(const double* __restrict rsq, std::int64_t n, double eta, double* __restrict out) {
  if (eta == 0.0) {
    std::fill(out, out + n, 1.0);
    return;
  }
#pragma omp simd
  for (std::int64_t t = 0; t < n; ++t) out[t] = exp_vectorisable(-eta * rsq[t]);
}

// out_e = exp(-eta (r_e - rs)^2): one radial function's Gaussian on each edge, formed once for
// both passes.
MATNN_TARGET_CLONES void radial_gaussians(const double* __restrict r, std::int64_t n, double rs, double eta,
                                          double* __restrict out) {
#pragma omp simd
  for (std::int64_t e = 0; e < n; ++e) {
    const double d = r[e] - rs;
    out[e] = exp_vectorisable(-eta * d * d);
  }
}

MATNN_TARGET_CLONES double dot(const double* __restrict x, const double* __restrict y, std::int64_t n) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t e = 0; e < n; ++e) sum += x[e] * y[e];
  return sum;
}

// de_dr_e += weight d/dr [gauss_e fc_e], gauss_e = exp(-eta (r_e - rs)^2).
MATNN_TARGET_CLONES void radial_slopes(const double* __restrict r, const double* __restrict gauss,
                                       const double* __restrict fc, const double* __restrict dfc, std::int64_t n,
                                       double rs, double eta, double weight, double* __restrict de_dr) {
#pragma omp simd
  for (std::int64_t e = 0; e < n; ++e) de_dr[e] += weight * gauss[e] * (-2.0 * eta * (r[e] - rs) * fc[e] + dfc[e]);
}

// For one lambda and every q of it: base = (1 + lambda cos) / 2, power_m1 row q = base^(zeta_q - 1)
// and power row q = base^zeta_q (rows `stride` apart). Four triplets at a time stay in one vector
// register through the squarings (GCC's vector extension: the loop over exponent bits is the
// same for every triplet, so it runs once per four).
MATNN_TARGET_CLONES void angular_powers(const double* __restrict cos, std::int64_t n, double lambda,
                                        const std::int64_t* zeta, std::size_t n_zeta, std::int64_t stride,
                                        double* __restrict power, double* __restrict power_m1) {
  using Four = double __attribute__((vector_size(32)));
  const auto powers_of = [&](std::int64_t t0, const Four& c, auto&& store) {
    const Four base = 0.5 * (1.0 + lambda * c);
    for (std::size_t z = 0; z < n_zeta; ++z) {
      Four result = {1.0, 1.0, 1.0, 1.0}, square = base;
      for (std::int64_t e = zeta[z] - 1; e > 0; e >>= 1) {
        if (e & 1) result *= square;
        square *= square;
      }
      const std::int64_t row = static_cast<std::int64_t>(z) * stride + t0;
      store(power_m1 + row, result);
      store(power + row, result * base);
    }
  };
  const std::int64_t full = n / 4 * 4;
  for (std::int64_t t0 = 0; t0 < full; t0 += 4) {
    Four c;
    std::memcpy(&c, cos + t0, sizeof(Four));
    powers_of(t0, c, [](double* out, const Four& v) { std::memcpy(out, &v, sizeof(Four)); });
  }
  if (full < n) {  // the last one to three triplets
    const auto width = static_cast<std::size_t>(n - full);
    Four c = {0.0, 0.0, 0.0, 0.0};
    std::memcpy(&c, cos + full, width * sizeof(double));
    powers_of(full, c, [width](double* out, const Four& v) { std::memcpy(out, &v, width * sizeof(double)); });
  }
}

// out = x y (out may be x).
MATNN_TARGET_CLONES void products(const double* x, const double* __restrict y, std::int64_t n, double* out) {
#pragma omp simd
  for (std::int64_t t = 0; t < n; ++t) out[t] = x[t] * y[t];
}

// Four rows at once (the functions of one eta and four (lambda, zeta)), so that one pass over the
// triplets does four functions' work: sums[j] += sum_t gauss_t fcp_t p_j[t].
MATNN_TARGET_CLONES void four_sums(const double* __restrict gauss, const double* __restrict fcp, const double* const* p,
                                   std::int64_t n, double* sums) {
  const double* __restrict p0 = p[0];
  const double* __restrict p1 = p[1];
  const double* __restrict p2 = p[2];
  const double* __restrict p3 = p[3];
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (std::int64_t t = 0; t < n; ++t) {
    const double w = gauss[t] * fcp[t];
    s0 += w * p0[t], s1 += w * p1[t], s2 += w * p2[t], s3 += w * p3[t];
  }
  sums[0] += s0, sums[1] += s1, sums[2] += s2, sums[3] += s3;
}

// Functions are contracted in blocks of 4 eta x 8 (lambda, zeta), the whole set of every shipped
// configuration, in one pass over the triplets. The arrays hold whole blocks: rows past the last
// eta or (lambda, zeta) are zero, and so are their weights.
constexpr std::size_t kBlockEta = 4, kBlockQ = 8;

// With V_k = sum_q W_kq power_q and U_k = sum_q W_kq (lambda zeta / 2)_q power_m1_q over the
// block's functions (W = dE/dG): d_fcp += sum_k gauss_k V_k, d_rsq -= sum_k eta_k gauss_k V_k,
// d_cos += sum_k gauss_k U_k (= when `first`). Row r of gauss, power and power_m1 starts at
// r * stride.
MATNN_TARGET_CLONES void contract_block(const double* __restrict gauss, const double* __restrict power,
                                        const double* __restrict power_m1, std::int64_t stride, const double* w,
                                        const double* slope_w, const double* eta, std::int64_t n, bool first,
                                        double* __restrict d_fcp, double* __restrict d_rsq, double* __restrict d_cos) {
  double W[kBlockEta][kBlockQ], S[kBlockEta][kBlockQ], E[kBlockEta];
  for (std::size_t k = 0; k < kBlockEta; ++k) {
    E[k] = eta[k];
    for (std::size_t q = 0; q < kBlockQ; ++q) W[k][q] = w[k * kBlockQ + q], S[k][q] = slope_w[k * kBlockQ + q];
  }
  const auto sums = [&](std::int64_t t, double& fcp_sum, double& rsq_sum, double& cos_sum) {
    double p[kBlockQ], m[kBlockQ];
    for (std::size_t q = 0; q < kBlockQ; ++q) p[q] = power[q * stride + t], m[q] = power_m1[q * stride + t];
    fcp_sum = rsq_sum = cos_sum = 0.0;
    for (std::size_t k = 0; k < kBlockEta; ++k) {
      double v = 0.0, u = 0.0;
      for (std::size_t q = 0; q < kBlockQ; ++q) v += W[k][q] * p[q], u += S[k][q] * m[q];
      const double g = gauss[k * stride + t];
      fcp_sum += g * v, rsq_sum -= E[k] * g * v, cos_sum += g * u;
    }
  };
  if (first) {
#pragma omp simd
    for (std::int64_t t = 0; t < n; ++t) sums(t, d_fcp[t], d_rsq[t], d_cos[t]);
  } else {
#pragma omp simd
    for (std::int64_t t = 0; t < n; ++t) {
      double fcp_sum, rsq_sum, cos_sum;
      sums(t, fcp_sum, rsq_sum, cos_sum);
      d_fcp[t] += fcp_sum, d_rsq[t] += rsq_sum, d_cos[t] += cos_sum;
    }
  }
}

// The same for one function alone (the Jacobian's columns): d_fcp = gauss power,
// d_rsq = -eta gauss power, d_cos = (lambda zeta / 2) gauss power_m1.
MATNN_TARGET_CLONES void function_slopes(const double* __restrict gauss, const double* __restrict power,
                                         const double* __restrict power_m1, double eta, double slope, std::int64_t n,
                                         double* __restrict d_fcp, double* __restrict d_rsq,
                                         double* __restrict d_cos) {
#pragma omp simd
  for (std::int64_t t = 0; t < n; ++t) {
    d_fcp[t] = gauss[t] * power[t];
    d_rsq[t] = -eta * gauss[t] * power[t];
    d_cos[t] = slope * gauss[t] * power_m1[t];
  }
}

// A vector whose resize() leaves new elements uninitialised: every pass writes the scratch
// before reading it, and zeroing a fresh block's scratch was a sixth of a 64-atom call.
template <typename T>
struct UninitialisedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  UninitialisedAllocator() = default;
  template <typename U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <typename T>
using Buffer = std::vector<T, UninitialisedAllocator<T>>;

// The shared quantities of one center's kept edges and triplets.
struct CenterScratch {
  // Kept edges, grouped by neighbour species: species s is [species_begin[s], species_begin[s + 1]).
  std::vector<std::int64_t> edge;  // index into the graph's edges
  Buffer<double> x, y, z, r, inv_r, rsq, fc, dfc;
  std::vector<std::int64_t> species_begin;
  Buffer<double> radial;      // (n_radial, n): exp(-eta_m (r - rs_m)^2)
  Buffer<double> edge_gauss;  // (n_eta, n): exp(-eta_k r^2)
  Buffer<double> de_dr;       // radial part of dE/dr per edge
  Buffer<double> grad;        // (n, 3): dE/d(edge vector)
  // Edges of the center before grouping.
  std::vector<std::int64_t> all_edge;
  Buffer<double> all_r;
  std::vector<std::int32_t> all_species;

  // Triplets, grouped by channel: channel c is [channel_begin[c], channel_begin[c + 1]).
  Buffer<std::int32_t> ta, tb;
  Buffer<double> r3sq, r3, fc3, dfc3, cos, fcp;
  Buffer<double> gauss;            // (n_eta, n_t): 2 e_ij e_ik (e_jk) per eta
  Buffer<double> power, power_m1;  // (n_q, n_t): base^zeta and base^(zeta - 1)
  Buffer<double> gauss_jk;         // (n_t): exp(-eta r_jk^2) of one eta
  Buffer<double> d_fcp, d_rsq, d_cos;
  Buffer<double> gb;               // (3, n_t): the chain rule's terms of the edges b
  std::vector<std::int64_t> channel_begin;
  std::int64_t n_triplets = 0;

  std::int64_t n_edges() const noexcept { return static_cast<std::int64_t>(edge.size()); }
};

// Per-triplet geometry: cos (from r_ij^2 + r_ik^2 - r_jk^2), r_jk and fc_ij fc_ik.
template <bool Narrow>
MATNN_TARGET_CLONES void triplet_geometry(const CenterScratch& s, std::int64_t n, double* __restrict cos,
                                          double* __restrict r3, double* __restrict fcp) {
  const std::int32_t* __restrict ta = s.ta.data();
  const std::int32_t* __restrict tb = s.tb.data();
  const double* __restrict rsq = s.rsq.data();
  const double* __restrict inv_r = s.inv_r.data();
  const double* __restrict fc = s.fc.data();
  const double* __restrict r3sq = s.r3sq.data();
#pragma omp simd
  for (std::int64_t t = 0; t < n; ++t) {
    const std::int32_t a = ta[t], b = tb[t];
    cos[t] = 0.5 * (rsq[a] + rsq[b] - r3sq[t]) * inv_r[a] * inv_r[b];
    if constexpr (Narrow) r3[t] = std::sqrt(r3sq[t]);
    fcp[t] = fc[a] * fc[b];
  }
}

// gauss_k = 2 e_ij e_ik, times e_jk (`own`, for G4) unless it is null.
MATNN_TARGET_CLONES void triplet_gaussians(const std::int32_t* __restrict ta, const std::int32_t* __restrict tb,
                                           const double* __restrict edge_gauss, const double* __restrict own, std::int64_t n,
                                           double* __restrict out) {
  if (own) {
#pragma omp simd
    for (std::int64_t t = 0; t < n; ++t) out[t] = 2.0 * edge_gauss[ta[t]] * edge_gauss[tb[t]] * own[t];
  } else {
#pragma omp simd
    for (std::int64_t t = 0; t < n; ++t) out[t] = 2.0 * edge_gauss[ta[t]] * edge_gauss[tb[t]];
  }
}

// The chain rule from (dE/dfcp, dE/drsq / fcp, dE/dcos / fcp) of each triplet to the vectors of its
// two edges, over a run [t0, t1) of triplets that share their first edge a (the triplets of a
// channel come in such runs): b's terms into gb (3, n_t), a's summed into ga.
template <bool Narrow>
MATNN_TARGET_CLONES void triplet_chain_run(const CenterScratch& s, std::int32_t a, std::int64_t t0, std::int64_t t1,
                                           double* __restrict gb, std::int64_t n_t, double* ga) {
  const std::int32_t* __restrict tb = s.tb.data();
  const double* __restrict x = s.x.data();
  const double* __restrict y = s.y.data();
  const double* __restrict z = s.z.data();
  const double* __restrict r = s.r.data();
  const double* __restrict inv_r = s.inv_r.data();
  const double* __restrict fc = s.fc.data();
  const double* __restrict dfc = s.dfc.data();
  const double* __restrict cos = s.cos.data();
  const double* __restrict r3 = s.r3.data();
  const double* __restrict fc3 = s.fc3.data();
  const double* __restrict dfc3 = s.dfc3.data();
  const double* __restrict fcp = s.fcp.data();
  const double* __restrict d_fcp = s.d_fcp.data();
  const double* __restrict d_rsq = s.d_rsq.data();
  const double* __restrict d_cos = s.d_cos.data();
  const double r1 = r[a], inv1 = inv_r[a], fc1 = fc[a], dfc1 = dfc[a];
  const double v1[3] = {x[a], y[a], z[a]};
  double ga0 = 0.0, ga1 = 0.0, ga2 = 0.0;
#pragma omp simd reduction(+ : ga0, ga1, ga2)
  for (std::int64_t t = t0; t < t1; ++t) {
    const std::int32_t b = tb[t];
    const double r2 = r[b];
    const double f3 = Narrow ? fc3[t] : 1.0;
    // fcp holds fc_a fc_b fc_jk for G4 and fc_a fc_b for G5.
    const double de_drsq = d_rsq[t] * fcp[t];
    const double de_dcos = d_cos[t] * fcp[t];
    const double de_dr1 = 2.0 * r1 * de_drsq + d_fcp[t] * dfc1 * fc[b] * f3;
    const double de_dr2 = 2.0 * r2 * de_drsq + d_fcp[t] * fc1 * dfc[b] * f3;
    const double inv2 = inv_r[b], inv12 = inv1 * inv2;
    const double c = cos[t];
    const double v2[3] = {x[b], y[b], z[b]};
    double along3[3] = {0.0, 0.0, 0.0};
    if constexpr (Narrow) {
      const double de_dr3 = 2.0 * r3[t] * de_drsq + d_fcp[t] * fc1 * fc[b] * dfc3[t];
      for (int k = 0; k < 3; ++k) along3[k] = de_dr3 * (v2[k] - v1[k]) / r3[t];
    }
    double term_a[3];
    for (int k = 0; k < 3; ++k) {
      term_a[k] = de_dr1 * v1[k] * inv1 + de_dcos * (v2[k] * inv12 - c * v1[k] * inv1 * inv1) - along3[k];
      gb[k * n_t + t] = de_dr2 * v2[k] * inv2 + de_dcos * (v1[k] * inv12 - c * v2[k] * inv2 * inv2) + along3[k];
    }
    ga0 += term_a[0], ga1 += term_a[1], ga2 += term_a[2];
  }
  ga[0] = ga0, ga[1] = ga1, ga[2] = ga2;
}

}  // namespace

// One center's evaluation, reusing one thread's scratch from center to center.
class SymmetryFunctions::CenterKernel {
 public:
  explicit CenterKernel(const SymmetryFunctions& functions)
      : sf_(functions), config_(functions.config_), eta_(config_.angular_eta) {
    for (std::size_t l = 0; l < config_.lambda.size(); ++l)
      for (std::size_t z = 0; z < config_.zeta.size(); ++z) {
        zeta_.push_back(config_.zeta[z]);
        slope_.push_back(0.5 * static_cast<double>(config_.lambda[l] * config_.zeta[z]));
      }
  }

  // Gathers center i's edges inside the cutoff, grouped by neighbour species, with their
  // cutoff values and Gaussians; then its triplets with their shared quantities.
  void prepare(const AtomGraph& graph, const double* edge_vectors, std::int64_t i) {
    CenterScratch& s = *s_;
    const double rc = config_.cutoff;
    const auto& neighbors = *graph.edge_neighbor;
    s.all_edge.clear(), s.all_r.clear(), s.all_species.clear();
    const std::int64_t S = sf_.n_species_;
    s.species_begin.assign(static_cast<std::size_t>(S + 1), 0);
    for (std::int64_t e = graph.center_offsets[i]; e < graph.center_offsets[i + 1]; ++e) {
      const double* v = edge_vectors + 3 * e;
      const double r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      if (r >= rc) continue;
      const std::int32_t species = graph.species[static_cast<std::size_t>(neighbors[static_cast<std::size_t>(e)])];
      s.all_edge.push_back(e), s.all_r.push_back(r), s.all_species.push_back(species);
      ++s.species_begin[static_cast<std::size_t>(species + 1)];
    }
    for (std::int64_t k = 0; k < S; ++k) s.species_begin[k + 1] += s.species_begin[k];
    const std::size_t n = s.all_edge.size();
    s.edge.resize(n), s.x.resize(n), s.y.resize(n), s.z.resize(n), s.r.resize(n), s.inv_r.resize(n), s.rsq.resize(n);
    s.fc.resize(n), s.dfc.resize(n);
    std::vector<std::int64_t>& next = cursor_;
    next.assign(s.species_begin.begin(), s.species_begin.end() - 1);
    for (std::size_t k = 0; k < n; ++k) {
      const auto slot = static_cast<std::size_t>(next[static_cast<std::size_t>(s.all_species[k])]++);
      const double* v = edge_vectors + 3 * s.all_edge[k];
      const double r = s.all_r[k];
      s.edge[slot] = s.all_edge[k];
      s.r[slot] = r, s.inv_r[slot] = 1.0 / r, s.rsq[slot] = r * r;
      s.x[slot] = v[0], s.y[slot] = v[1], s.z[slot] = v[2];
    }
    const auto N = static_cast<std::int64_t>(n);
    cutoff_values(s.r.data(), N, rc, polynomial(), s.fc.data(), s.dfc.data());
    const std::int64_t R = sf_.n_radial();
    s.radial.resize(static_cast<std::size_t>(R) * n);
    for (std::int64_t m = 0; m < R; ++m)
      radial_gaussians(s.r.data(), N, sf_.radial_rs_[m], sf_.radial_eta_[m], s.radial.data() + m * N);
    if (sf_.n_angular_ == 0) return;

    const std::size_t n_eta = eta_.size();
    s.edge_gauss.resize(n_eta * n);
    for (std::size_t k = 0; k < n_eta; ++k) gaussians(s.rsq.data(), N, eta_[k], s.edge_gauss.data() + k * n);
    build_triplets();
    triplet_terms();
  }

  void radial_forward(double* g) const {
    const CenterScratch& s = *s_;
    const std::int64_t R = sf_.n_radial(), N = s.n_edges();
    for (std::int64_t b = 0; b < sf_.n_species_; ++b) {
      const std::int64_t e0 = s.species_begin[b], n = s.species_begin[b + 1] - e0;
      if (n == 0) continue;
      for (std::int64_t m = 0; m < R; ++m) g[b * R + m] += dot(s.radial.data() + m * N + e0, s.fc.data() + e0, n);
    }
  }

  void angular_forward(double* g) const {
    const CenterScratch& s = *s_;
    const std::int64_t n_t = s.n_triplets;
    const std::size_t n_q = zeta_.size();
    for (std::int64_t c = 0; c < sf_.n_pairs(); ++c) {
      const std::int64_t t0 = s.channel_begin[c], n = s.channel_begin[c + 1] - t0;
      if (n == 0) continue;
      double* out = g + sf_.n_species_ * sf_.n_radial() + c * sf_.n_angular_;
      for (std::size_t k = 0; k < eta_.size(); ++k)
        for (std::size_t q0 = 0; q0 < n_q; q0 += 4) {
          const double* rows[4];
          double sums[4] = {0.0, 0.0, 0.0, 0.0};
          for (std::size_t j = 0; j < 4; ++j) rows[j] = s.power.data() + std::min(q0 + j, n_q - 1) * n_t + t0;
          four_sums(s.gauss.data() + k * n_t + t0, s.fcp.data() + t0, rows, n, sums);
          for (std::size_t j = 0; j < 4 && q0 + j < n_q; ++j) out[k * n_q + q0 + j] += sums[j];
        }
    }
  }

  // dE/d(edge vector) of the center's kept edges into scratch().grad, for the feature gradient dg.
  void backward(const double* dg) {
    CenterScratch& s = *s_;
    const std::int64_t n = s.n_edges();
    // Radial functions.
    s.de_dr.assign(static_cast<std::size_t>(n), 0.0);
    const std::int64_t R = sf_.n_radial();
    for (std::int64_t b = 0; b < sf_.n_species_; ++b) {
      const std::int64_t e0 = s.species_begin[b], ne = s.species_begin[b + 1] - e0;
      for (std::int64_t m = 0; m < R && ne > 0; ++m)
        radial_slopes(s.r.data() + e0, s.radial.data() + m * n + e0, s.fc.data() + e0, s.dfc.data() + e0, ne,
                      sf_.radial_rs_[m],
                      sf_.radial_eta_[m], dg[b * R + m], s.de_dr.data() + e0);
    }
    s.grad.resize(static_cast<std::size_t>(3 * n));
    for (std::int64_t e = 0; e < n; ++e) {
      const double w = s.de_dr[e] * s.inv_r[e];
      s.grad[3 * e] = w * s.x[e], s.grad[3 * e + 1] = w * s.y[e], s.grad[3 * e + 2] = w * s.z[e];
    }
    if (sf_.n_angular_ == 0) return;
    // Angular functions: contract dE/dG per triplet, then the chain rule, then scatter.
    const auto n_t = static_cast<std::size_t>(s.n_triplets);
    s.d_fcp.resize(n_t), s.d_rsq.resize(n_t), s.d_cos.resize(n_t);
    for (std::int64_t c = 0; c < sf_.n_pairs(); ++c) {
      const std::int64_t t0 = s.channel_begin[c], nt = s.channel_begin[c + 1] - t0;
      if (nt == 0) continue;
      const double* row = dg + sf_.n_species_ * sf_.n_radial() + c * sf_.n_angular_;
      for (std::size_t k0 = 0; k0 < eta_.size(); k0 += kBlockEta)
        for (std::size_t q0 = 0; q0 < zeta_.size(); q0 += kBlockQ)
          contract(k0, q0, t0, nt, k0 == 0 && q0 == 0,
                   [&](std::size_t k, std::size_t q) { return row[k * zeta_.size() + q]; });
    }
    chain_rule(0, s.n_triplets, s.grad.data(), 1);
  }

  // dG_f/d(edge vector) of the center's kept edges into jac, (n_kept, 3, F).
  void jacobian(std::vector<double>& jac) {
    CenterScratch& s = *s_;
    const std::int64_t n = s.n_edges(), F = sf_.n_features(), R = sf_.n_radial();
    jac.assign(static_cast<std::size_t>(3 * n * F), 0.0);
    for (std::int64_t b = 0; b < sf_.n_species_; ++b)
      for (std::int64_t e = s.species_begin[b]; e < s.species_begin[b + 1]; ++e) {
        const double v[3] = {s.x[e], s.y[e], s.z[e]};
        for (std::int64_t m = 0; m < R; ++m) {
          const double d = s.r[e] - sf_.radial_rs_[m];
          const double eta = sf_.radial_eta_[m];
          const double dg_dr = s.radial[m * n + e] * (-2.0 * eta * d * s.fc[e] + s.dfc[e]);
          for (int k = 0; k < 3; ++k) jac[(3 * e + k) * F + b * R + m] = dg_dr * v[k] * s.inv_r[e];
        }
      }
    if (sf_.n_angular_ == 0) return;
    const std::size_t n_q = zeta_.size();
    for (std::int64_t c = 0; c < sf_.n_pairs(); ++c) {
      const std::int64_t t0 = s.channel_begin[c], t1 = s.channel_begin[c + 1];
      if (t1 == t0) continue;
      const std::int64_t offset = sf_.n_species_ * R + c * sf_.n_angular_;
      for (std::size_t k = 0; k < eta_.size(); ++k)
        for (std::size_t q = 0; q < n_q; ++q) {
          const std::int64_t f = offset + static_cast<std::int64_t>(k * n_q + q);
          one_function_slopes(k, q, t0, t1);
          chain_rule(t0, t1, jac.data() + f, F);
        }
    }
  }

  const CenterScratch& scratch() const noexcept { return *s_; }
  // Works on `s` from now on (the fused pass keeps one per center of a block).
  void bind(CenterScratch& s) noexcept { s_ = &s; }

 private:
  bool polynomial() const noexcept { return config_.cutoff_function == CutoffFunction::polynomial; }
  bool narrow() const noexcept { return config_.angular == AngularKind::narrow; }

  // Pairs a < b of kept edges, channel by channel; for G4 only pairs with r_jk < rc, kept
  // without a branch (every candidate is written, the count advances only for a kept one).
  void build_triplets() {
    CenterScratch& s = *s_;
    const std::int64_t n = s.n_edges(), S = sf_.n_species_;
    const auto bound = static_cast<std::size_t>(n * (n - 1) / 2 + 1);
    if (s.ta.size() < bound) s.ta.resize(bound), s.tb.resize(bound), s.r3sq.resize(bound);
    const auto rc2 = config_.cutoff * config_.cutoff;
    const bool all = !narrow();
    s.channel_begin.assign(static_cast<std::size_t>(sf_.n_pairs() + 1), 0);
    std::int32_t* __restrict ta = s.ta.data();
    std::int32_t* __restrict tb = s.tb.data();
    double* __restrict r3sq = s.r3sq.data();
    const double* __restrict x = s.x.data();
    const double* __restrict y = s.y.data();
    const double* __restrict z = s.z.data();
    std::int64_t count = 0, c = 0;
    for (std::int64_t s1 = 0; s1 < S; ++s1)
      for (std::int64_t s2 = s1; s2 < S; ++s2, ++c) {
        s.channel_begin[c] = count;
        for (std::int64_t a = s.species_begin[s1]; a < s.species_begin[s1 + 1]; ++a) {
          const double xa = x[a], ya = y[a], za = z[a];
          for (std::int64_t b = std::max(a + 1, s.species_begin[s2]); b < s.species_begin[s2 + 1]; ++b) {
            const double dx = x[b] - xa, dy = y[b] - ya, dz = z[b] - za;
            const double d2 = dx * dx + dy * dy + dz * dz;
            ta[count] = static_cast<std::int32_t>(a), tb[count] = static_cast<std::int32_t>(b), r3sq[count] = d2;
            count += (all || d2 < rc2) ? 1 : 0;
          }
        }
      }
    s.channel_begin[c] = count;
    s.n_triplets = count;
  }

  void triplet_terms() {
    CenterScratch& s = *s_;
    const std::int64_t n_t = s.n_triplets;
    const auto t = static_cast<std::size_t>(n_t);
    s.cos.resize(t), s.r3.resize(t), s.fc3.resize(t), s.dfc3.resize(t), s.fcp.resize(t);
    if (narrow()) {
      triplet_geometry<true>(s, n_t, s.cos.data(), s.r3.data(), s.fcp.data());
      cutoff_values(s.r3.data(), n_t, config_.cutoff, polynomial(), s.fc3.data(), s.dfc3.data());
      products(s.fcp.data(), s.fc3.data(), n_t, s.fcp.data());
    } else {
      triplet_geometry<false>(s, n_t, s.cos.data(), s.r3.data(), s.fcp.data());
    }
    const std::size_t n_eta = eta_.size(), n = s.r.size();
    // Whole blocks of rows (contract_block), the padding rows zero.
    const std::size_t eta_rows = (n_eta + kBlockEta - 1) / kBlockEta * kBlockEta;
    const std::size_t q_rows = (zeta_.size() + kBlockQ - 1) / kBlockQ * kBlockQ;
    s.gauss.resize(eta_rows * t), s.gauss_jk.resize(t);
    std::fill(s.gauss.begin() + static_cast<std::ptrdiff_t>(n_eta * t), s.gauss.end(), 0.0);
    for (std::size_t k = 0; k < n_eta; ++k) {
      const double* own = nullptr;
      if (narrow() && eta_[k] != 0.0) {
        gaussians(s.r3sq.data(), n_t, eta_[k], s.gauss_jk.data());
        own = s.gauss_jk.data();
      }
      triplet_gaussians(s.ta.data(), s.tb.data(), s.edge_gauss.data() + k * n, own, n_t, s.gauss.data() + k * t);
    }
    const std::size_t n_q = zeta_.size();
    // base^(zeta - 1) for the backward pass, and base^zeta from it, in every pass: energies
    // then do not depend on whether forces were asked for.
    s.power.resize(q_rows * t), s.power_m1.resize(q_rows * t);
    std::fill(s.power.begin() + static_cast<std::ptrdiff_t>(n_q * t), s.power.end(), 0.0);
    std::fill(s.power_m1.begin() + static_cast<std::ptrdiff_t>(n_q * t), s.power_m1.end(), 0.0);
    const std::size_t n_zeta = config_.zeta.size();
    for (std::size_t l = 0; l < config_.lambda.size(); ++l)
      angular_powers(s.cos.data(), n_t, static_cast<double>(config_.lambda[l]), config_.zeta.data(), n_zeta, n_t,
                     s.power.data() + l * n_zeta * t, s.power_m1.data() + l * n_zeta * t);
  }

  // The contribution of the block of functions from (eta k0, q0), with dE/dG = weight(k, q), to
  // the triplets [t0, t0 + n).
  // The first block of a channel writes the slopes, the others add to them.
  template <typename Weight>
  void contract(std::size_t k0, std::size_t q0, std::int64_t t0, std::int64_t n, bool first, Weight&& weight) {
    CenterScratch& s = *s_;
    double w[kBlockEta * kBlockQ], slope_w[kBlockEta * kBlockQ], eta[kBlockEta];
    for (std::size_t k = 0; k < kBlockEta; ++k) {
      const bool real_eta = k0 + k < eta_.size();
      eta[k] = real_eta ? eta_[k0 + k] : 0.0;
      for (std::size_t q = 0; q < kBlockQ; ++q) {
        const bool real = real_eta && q0 + q < zeta_.size();
        w[k * kBlockQ + q] = real ? weight(k0 + k, q0 + q) : 0.0;
        slope_w[k * kBlockQ + q] = real ? w[k * kBlockQ + q] * slope_[q0 + q] : 0.0;
      }
    }
    const std::int64_t stride = s.n_triplets;
    contract_block(s.gauss.data() + k0 * stride + t0, s.power.data() + q0 * stride + t0,
                   s.power_m1.data() + q0 * stride + t0, stride, w, slope_w, eta, n, first, s.d_fcp.data() + t0,
                   s.d_rsq.data() + t0, s.d_cos.data() + t0);
  }

  // The slopes of the one function (eta k, q) alone, for its column of the Jacobian.
  void one_function_slopes(std::size_t k, std::size_t q, std::int64_t t0, std::int64_t t1) {
    CenterScratch& s = *s_;
    const std::int64_t stride = s.n_triplets;
    const auto n = static_cast<std::size_t>(stride);
    s.d_fcp.resize(n), s.d_rsq.resize(n), s.d_cos.resize(n);
    function_slopes(s.gauss.data() + k * stride + t0, s.power.data() + q * stride + t0,
                    s.power_m1.data() + q * stride + t0, eta_[k], slope_[q], t1 - t0, s.d_fcp.data() + t0,
                    s.d_rsq.data() + t0, s.d_cos.data() + t0);
  }

  // out[(3 e + k) stride] += the chain rule's terms of edge e, component k.
  // The chain rule over the triplets [t0, t1), into out[(3 e + k) stride] for edge e, component k.
  void chain_rule(std::int64_t t0, std::int64_t t1, double* out, std::int64_t stride) {
    CenterScratch& s = *s_;
    const std::int64_t n_t = s.n_triplets;
    s.gb.resize(static_cast<std::size_t>(3 * n_t));
    for (std::int64_t begin = t0; begin < t1;) {
      const std::int32_t a = s.ta[begin];
      std::int64_t end = begin + 1;
      while (end < t1 && s.ta[end] == a) ++end;
      double ga[3];
      if (narrow())
        triplet_chain_run<true>(s, a, begin, end, s.gb.data(), n_t, ga);
      else
        triplet_chain_run<false>(s, a, begin, end, s.gb.data(), n_t, ga);
      for (int k = 0; k < 3; ++k) {
        out[(3 * a + k) * stride] += ga[k];
        const double* gb = s.gb.data() + k * n_t;
        for (std::int64_t t = begin; t < end; ++t) out[(3 * s.tb[t] + k) * stride] += gb[t];
      }
      begin = end;
    }
  }


  const SymmetryFunctions& sf_;
  const SymmetryFunctionConfig& config_;
  std::vector<std::int64_t> zeta_;  // per q = (lambda, zeta)
  std::vector<double> slope_;       // lambda zeta / 2
  const std::vector<double>& eta_;  // the angular functions' eta
  std::vector<std::int64_t> cursor_;
  CenterScratch own_;
  CenterScratch* s_ = &own_;
};

template <SymmetryFunctions::DirectPass Pass>
void SymmetryFunctions::direct_pass(const AtomGraph& graph, const double* edge_vectors, double* out) const {
  const std::int64_t F = n_features();
#pragma omp parallel
  {
    CenterKernel kernel(*this);
    std::vector<double> jac;
#pragma omp for schedule(dynamic, 8)
    for (std::int64_t i = 0; i < graph.n_atoms; ++i) {
      kernel.prepare(graph, edge_vectors, i);
      const CenterScratch& s = kernel.scratch();
      if constexpr (Pass == DirectPass::forward) {
        kernel.radial_forward(out + i * F);
        if (n_angular_ > 0) kernel.angular_forward(out + i * F);
      } else {
        kernel.jacobian(jac);
        for (std::int64_t e = 0; e < s.n_edges(); ++e)
          std::copy(jac.begin() + 3 * e * F, jac.begin() + 3 * (e + 1) * F, out + 3 * s.edge[e] * F);
      }
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
  direct_pass<DirectPass::forward>(graph, vectors.data(), features.data());
  return features;
}

void SymmetryFunctions::values_and_edge_gradient(const AtomGraph& graph, std::int64_t block,
                                                 const BlockGradient& block_gradient, std::vector<double>& values,
                                                 std::vector<double>& gradient) const {
  check_direct_graph(graph, config_.cutoff, n_species_);
  if (block < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "symmetry functions: block of {} atoms", block);
  const std::vector<double> vectors = graph.edge_vectors.to_vector();
  const std::int64_t F = n_features();
  values.assign(static_cast<std::size_t>(graph.n_atoms * F), 0.0);
  gradient.assign(static_cast<std::size_t>(3 * graph.n_edges), 0.0);  // edges beyond the cutoff stay 0
  block = std::min(block, std::max<std::int64_t>(graph.n_atoms, 1));
  // One scratch per center of a block: what the forward pass formed, the backward pass reuses.
  // Kept by the calling thread from call to call (a few MB at n2p2's size), so that MD steps do
  // not allocate it again. The OpenMP threads reach it through this reference (their own
  // thread_local copies are empty).
  thread_local std::vector<CenterScratch> kept;
  if (kept.size() < static_cast<std::size_t>(block)) kept.resize(static_cast<std::size_t>(block));
  std::vector<CenterScratch>& held = kept;
  std::vector<double> feature_gradient(static_cast<std::size_t>(block * F));
  for (std::int64_t first = 0; first < graph.n_atoms; first += block) {
    const std::int64_t count = std::min(block, graph.n_atoms - first);
#pragma omp parallel
    {
      CenterKernel kernel(*this);
#pragma omp for schedule(dynamic, 4)
      for (std::int64_t k = 0; k < count; ++k) {
        kernel.bind(held[static_cast<std::size_t>(k)]);
        kernel.prepare(graph, vectors.data(), first + k);
        kernel.radial_forward(values.data() + (first + k) * F);
        if (n_angular_ > 0) kernel.angular_forward(values.data() + (first + k) * F);
      }
    }
    block_gradient(first, count, values.data() + first * F, feature_gradient.data());
#pragma omp parallel
    {
      CenterKernel kernel(*this);
#pragma omp for schedule(dynamic, 4)
      for (std::int64_t k = 0; k < count; ++k) {
        const CenterScratch& s = held[static_cast<std::size_t>(k)];
        kernel.bind(held[static_cast<std::size_t>(k)]);
        kernel.backward(feature_gradient.data() + k * F);
        for (std::int64_t e = 0; e < s.n_edges(); ++e)
          std::copy(s.grad.begin() + 3 * e, s.grad.begin() + 3 * (e + 1), gradient.data() + 3 * s.edge[e]);
      }
    }
  }
}

std::vector<double> SymmetryFunctions::jacobian(const AtomGraph& graph) const {
  check_direct_graph(graph, config_.cutoff, n_species_);
  const std::vector<double> vectors = graph.edge_vectors.to_vector();
  // Edges beyond the cutoff keep zero rows.
  std::vector<double> out(static_cast<std::size_t>(graph.n_edges * 3 * n_features()), 0.0);
  direct_pass<DirectPass::jacobian>(graph, vectors.data(), out.data());
  return out;
}

}  // namespace matnn::potentials
