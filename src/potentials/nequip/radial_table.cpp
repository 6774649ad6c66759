#include "potentials/nequip/radial_table.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "autodiff/kernels.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials::nequip {
namespace {

// sin(x) / x and its first two derivatives; the series below x = 0.1, where the closed forms
// lose digits to cancellation.
void sinc_derivatives(double x, double& s0, double& s1, double& s2) {
  if (x < 0.1) {
    const double x2 = x * x;
    s0 = 1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 / 362880.0)));
    s1 = x * (-1.0 / 3.0 + x2 * (1.0 / 30.0 + x2 * (-1.0 / 840.0 + x2 / 45360.0)));
    s2 = -1.0 / 3.0 + x2 * (1.0 / 10.0 + x2 * (-1.0 / 168.0 + x2 / 6480.0));
    return;
  }
  const double s = std::sin(x), c = std::cos(x);
  s0 = s / x;
  s1 = (x * c - s) / (x * x);
  s2 = ((2.0 - x * x) * s - 2.0 * x * c) / (x * x * x);
}

// The polynomial envelope u(x) = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) - p(p+1)/2 x^(p+2) and
// its derivatives in x (radial_basis.cpp), zero from x = 1 on.
void envelope_derivatives(double x, int p, double& u0, double& u1, double& u2) {
  if (x >= 1.0) {
    u0 = u1 = u2 = 0.0;
    return;
  }
  const double q = p;
  const double a = -(q + 1.0) * (q + 2.0) / 2.0, b = q * (q + 2.0), c = -q * (q + 1.0) / 2.0;
  const double xp2 = p >= 2 ? std::pow(x, p - 2) : 0.0;  // x^(p-2), unused terms vanish for p < 2
  const double xp1 = std::pow(x, p - 1), xp = xp1 * x;
  u0 = 1.0 + xp * (a + x * (b + x * c));
  u1 = xp1 * (q * a + x * ((q + 1.0) * b + x * (q + 2.0) * c));
  u2 = (p >= 2 ? xp2 * q * (q - 1.0) * a : 0.0) + xp1 * ((q + 1.0) * q * b + x * (q + 2.0) * (q + 1.0) * c);
}

// silu(z) = z sigma(z) and its first two derivatives.
void silu_derivatives(double z, double& a0, double& a1, double& a2) {
  const double s = 1.0 / (1.0 + std::exp(-z));
  a0 = z * s;
  a1 = s * (1.0 + z * (1.0 - s));
  a2 = s * (1.0 - s) * (2.0 + z * (1.0 - 2.0 * s));
}

// Quintic Hermite weights on t in [0, 1]: value, slope (h units) and curvature (h^2 units) at
// the interval's left node, then the same at its right node.
template <typename T>
inline void hermite_weights(T t, T w[6]) {
  const T t2 = t * t, t3 = t2 * t;
  w[0] = T(1) + t3 * (T(-10) + t * (T(15) + t * T(-6)));
  w[1] = t + t3 * (T(-6) + t * (T(8) + t * T(-3)));
  w[2] = t2 * T(0.5) + t3 * (T(-1.5) + t * (T(1.5) + t * T(-0.5)));
  w[3] = t3 * (T(10) + t * (T(-15) + t * T(6)));
  w[4] = t3 * (T(-4) + t * (T(7) + t * T(-3)));
  w[5] = t3 * (T(0.5) + t * (T(-1) + t * T(0.5)));
}

// d/dt of hermite_weights.
template <typename T>
inline void hermite_slopes(T t, T d[6]) {
  const T t2 = t * t;
  d[0] = t2 * (T(-30) + t * (T(60) + t * T(-30)));
  d[1] = T(1) + t2 * (T(-18) + t * (T(32) + t * T(-15)));
  d[2] = t + t2 * (T(-4.5) + t * (T(6) + t * T(-2.5)));
  d[3] = -d[0];
  d[4] = t2 * (T(-12) + t * (T(28) + t * T(-15)));
  d[5] = t2 * (T(1.5) + t * (T(-4) + t * T(2.5)));
}

struct Locator {
  double inv_spacing;
  int64_t intervals;
  // The interval of r and the position t in it; false at or beyond the cutoff.
  template <typename T>
  bool operator()(T r, int64_t& i, T& t) const {
    const double x = static_cast<double>(r) * inv_spacing;
    if (!(x < static_cast<double>(intervals))) return false;
    const double lower = std::max(0.0, std::floor(x));
    i = static_cast<int64_t>(lower);
    t = static_cast<T>(x - lower);
    return true;
  }
};

// sum_m w[m] rows[m][j] over the six rows of one interval (contiguous: 3 rows of n per node).
template <typename T>
inline T combine(const T* __restrict rows, int64_t n, int64_t j, const T* w) {
  return w[0] * rows[j] + w[1] * rows[n + j] + w[2] * rows[2 * n + j] + w[3] * rows[3 * n + j] +
         w[4] * rows[4 * n + j] + w[5] * rows[5 * n + j];
}

// out[j] = combine(j): the interpolated weights of one edge.
template <typename T>
MATNN_TARGET_CLONES void interpolate_row(const T* __restrict rows, int64_t n, const T* w, T* __restrict out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = combine(rows, n, j, w);
}

// out[j] = scale combine(j) with the weights' slopes d: one edge's dw/dr.
template <typename T>
MATNN_TARGET_CLONES void slope_row(const T* __restrict rows, int64_t n, const T* d, T scale, T* __restrict out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = scale * combine(rows, n, j, d);
}

}  // namespace

void RadialChain::evaluate(const Eigen::VectorXd& r, Eigen::MatrixXd& value, Eigen::MatrixXd& slope,
                           Eigen::MatrixXd& curvature) const {
  const Eigen::Index n = r.size(), nb = static_cast<Eigen::Index>(num_basis);
  // basis_k(r) = sqrt(2 / rc) sin(k_n r) / r u(r / rc) = sqrt(2 / rc) k_n sinc(k_n r) u(r / rc).
  value.resize(n, nb);
  slope.resize(n, nb);
  curvature.resize(n, nb);
  const double norm = std::sqrt(2.0 / cutoff);
  for (Eigen::Index e = 0; e < n; ++e) {
    double u0, u1, u2;
    envelope_derivatives(r[e] / cutoff, envelope_p, u0, u1, u2);
    u1 /= cutoff;
    u2 /= cutoff * cutoff;
    for (Eigen::Index b = 0; b < nb; ++b) {
      const double k = static_cast<double>(b + 1) * std::numbers::pi / cutoff;
      double s0, s1, s2;
      sinc_derivatives(k * r[e], s0, s1, s2);
      const double g0 = k * s0, g1 = k * k * s1, g2 = k * k * k * s2;
      value(e, b) = norm * g0 * u0;
      slope(e, b) = norm * (g1 * u0 + g0 * u1);
      curvature(e, b) = norm * (g2 * u0 + 2.0 * g1 * u1 + g0 * u2);
    }
  }
  // Forward mode through the MLP: z = x W (linear, so z' = x' W, z'' = x'' W), then silu.
  for (std::size_t k = 0; k < weights.size(); ++k) {
    value = value * weights[k];
    slope = slope * weights[k];
    curvature = curvature * weights[k];
    if (k + 1 == weights.size()) break;
    for (Eigen::Index e = 0; e < n; ++e)
      for (Eigen::Index j = 0; j < value.cols(); ++j) {
        double a0, a1, a2;
        silu_derivatives(value(e, j), a0, a1, a2);
        const double z1 = slope(e, j);
        value(e, j) = a0;
        slope(e, j) = a1 * z1;
        curvature(e, j) = a2 * z1 * z1 + a1 * curvature(e, j);
      }
  }
}

double RadialTable::spacing_for(const RadialChain& chain) {
  const double fastest = static_cast<double>(chain.num_basis) * std::numbers::pi / chain.cutoff;
  return kDefaultSpacing * std::min(1.0, kDefaultFrequency / fastest);
}

RadialTable::RadialTable(const RadialChain& chain, double spacing) : outputs_(chain.outputs()), cutoff_(chain.cutoff) {
  if (!(chain.cutoff > 0) || !(spacing > 0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "radial table: need a positive cutoff and spacing, got {} and {}", chain.cutoff,
         spacing);
  intervals_ = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(chain.cutoff / spacing)));
  spacing_ = chain.cutoff / static_cast<double>(intervals_);
  Eigen::VectorXd r(intervals_ + 1);
  for (int64_t k = 0; k <= intervals_; ++k) r[k] = spacing_ * static_cast<double>(k);
  Eigen::MatrixXd value, slope, curvature;
  chain.evaluate(r, value, slope, curvature);
  const auto n = static_cast<std::size_t>(outputs_);
  nodes_f64_.resize((static_cast<std::size_t>(intervals_) + 1) * 3 * n);
  for (int64_t k = 0; k <= intervals_; ++k) {
    double* node = nodes_f64_.data() + static_cast<std::size_t>(k) * 3 * n;
    for (std::size_t j = 0; j < n; ++j) {
      const auto e = static_cast<Eigen::Index>(k);
      const auto c = static_cast<Eigen::Index>(j);
      node[j] = value(e, c);
      node[n + j] = spacing_ * slope(e, c);
      node[2 * n + j] = spacing_ * spacing_ * curvature(e, c);
    }
  }
  nodes_f32_.assign(nodes_f64_.begin(), nodes_f64_.end());
}

template <>
const std::vector<double>& RadialTable::nodes<double>() const {
  return nodes_f64_;
}
template <>
const std::vector<float>& RadialTable::nodes<float>() const {
  return nodes_f32_;
}

template <typename T>
void RadialTable::row(T r, T* value, T* slope) const {
  const Locator locate{1.0 / spacing_, intervals_};
  int64_t i;
  T t;
  if (!locate(r, i, t)) {
    std::fill_n(value, outputs_, T(0));
    if (slope != nullptr) std::fill_n(slope, outputs_, T(0));
    return;
  }
  const T* rows = nodes<T>().data() + i * 3 * outputs_;
  T w[6];
  hermite_weights(t, w);
  interpolate_row(rows, outputs_, w, value);
  if (slope == nullptr) return;
  hermite_slopes(t, w);
  slope_row(rows, outputs_, w, static_cast<T>(1.0 / spacing_), slope);
}

template void RadialTable::row<float>(float, float*, float*) const;
template void RadialTable::row<double>(double, double*, double*) const;

}  // namespace matnn::potentials::nequip
