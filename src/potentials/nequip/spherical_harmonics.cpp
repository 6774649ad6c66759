#include "potentials/nequip/spherical_harmonics.hpp"

#include <array>
#include <cmath>
#include <map>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials::nequip {

namespace {

// A polynomial in x, y, z: exponents (a, b, c) -> coefficient.
using Poly = std::map<std::array<int, 3>, double>;

Poly operator*(const Poly& p, const Poly& q) {
  Poly r;
  for (const auto& [e1, c1] : p)
    for (const auto& [e2, c2] : q) r[{e1[0] + e2[0], e1[1] + e2[1], e1[2] + e2[2]}] += c1 * c2;
  return r;
}

void add_scaled(Poly& p, const Poly& q, double s) {
  for (const auto& [e, c] : q) p[e] += s * c;
}

double factorial(int n) {
  double f = 1.0;
  for (int i = 2; i <= n; ++i) f *= i;
  return f;
}

double binomial(int n, int k) { return factorial(n) / (factorial(k) * factorial(n - k)); }

Poly monomial(int a, int b, int c, double coeff = 1.0) { return Poly{{{a, b, c}, coeff}}; }

Poly power(const Poly& p, int n) {
  Poly r = monomial(0, 0, 0);
  for (int i = 0; i < n; ++i) r = r * p;
  return r;
}

// Racah-normalised real regular solid harmonic of degree l and order m (sum_m S^2 = r^{2l}):
//   Pi_l^m(z, r) = sqrt((l-m)!/(l+m)!) sum_k (-1)^k 2^-l C(l,k) C(2l-2k,l) (l-2k)!/(l-2k-m)! r^2k z^(l-2k-m)
//   A_m = sum_p C(m,p) x^p y^(m-p) cos((m-p) pi/2),  B_m = the same with sin
//   m = 0: Pi_l^0;  m > 0: sqrt2 Pi_l^m A_m;  m < 0: sqrt2 Pi_l^|m| B_|m|.
Poly solid_harmonic(int l, int m) {
  const int am = std::abs(m);
  Poly rr;  // r^2
  rr[{2, 0, 0}] = 1.0;
  rr[{0, 2, 0}] = 1.0;
  rr[{0, 0, 2}] = 1.0;
  Poly pi;
  const double norm = std::sqrt(factorial(l - am) / factorial(l + am));
  for (int k = 0; k <= (l - am) / 2; ++k) {
    const double c = (k % 2 ? -1.0 : 1.0) * std::ldexp(1.0, -l) * binomial(l, k) * binomial(2 * l - 2 * k, l) *
                     factorial(l - 2 * k) / factorial(l - 2 * k - am);
    add_scaled(pi, power(rr, k) * monomial(0, 0, l - 2 * k - am), norm * c);
  }
  if (m == 0) return pi;
  Poly ab;
  for (int p = 0; p <= am; ++p) {
    // cos / sin of (m - p) pi / 2, exactly: the phase cycles 1, 0, -1, 0 (cos) / 0, 1, 0, -1 (sin).
    const int q = (am - p) % 4;
    const double cs = m > 0 ? (q == 0 ? 1.0 : q == 2 ? -1.0 : 0.0) : (q == 1 ? 1.0 : q == 3 ? -1.0 : 0.0);
    if (cs != 0.0) add_scaled(ab, monomial(p, am - p, 0), binomial(am, p) * cs);
  }
  Poly out;
  add_scaled(out, pi * ab, std::sqrt(2.0));
  return out;
}

int ipow3(int l) {
  int r = 1;
  for (int i = 0; i < l; ++i) r *= 3;
  return r;
}

}  // namespace

SphericalHarmonics::SphericalHarmonics(int l_max) : l_max_(l_max) {
  if (l_max < 0 || l_max > 8) fail(MATNN_ERROR_INVALID_ARGUMENT, "spherical harmonics: l_max must be in [0, 8], got {}", l_max);
  n_monomials_ = 0;
  std::vector<int> offset(static_cast<std::size_t>(l_max + 1));
  for (int l = 0; l <= l_max; ++l) {
    offset[static_cast<std::size_t>(l)] = n_monomials_;
    n_monomials_ += ipow3(l);
  }
  const int d = dim();
  coeff_.assign(static_cast<std::size_t>(n_monomials_) * static_cast<std::size_t>(d), 0.0);
  for (int l = 0; l <= l_max; ++l) {
    for (int m = -l; m <= l; ++m) {
      const int col = l * l + l + m;
      for (const auto& [e, c] : solid_harmonic(l, m)) {
        if (c == 0.0) continue;
        // Representative tensor-power monomial: axis indices x..x y..y z..z, base-3 digits
        // with the first factor most significant.
        int index = 0;
        for (int axis = 0; axis < 3; ++axis)
          for (int k = 0; k < e[static_cast<std::size_t>(axis)]; ++k) index = index * 3 + axis;
        const auto row = static_cast<std::size_t>(offset[static_cast<std::size_t>(l)] + index);
        coeff_[row * static_cast<std::size_t>(d) + static_cast<std::size_t>(col)] += c * std::sqrt(2.0 * l + 1.0);
      }
    }
  }
  coeff64_ = ad::from_vector(coeff_, {n_monomials_, d});
  coeff32_ = ad::to(coeff64_, ad::DType::f32);
}

ad::Tensor SphericalHarmonics::monomials(const ad::Tensor& unit) const {
  if (unit.rank() != 2 || unit.dim(1) != 3)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "spherical harmonics: expected unit vectors (n, 3), got {}", ad::shape_str(unit.shape()));
  const int64_t n = unit.dim(0);
  std::vector<ad::Tensor> powers{ad::ones({n, 1}, unit.dtype())};
  if (l_max_ >= 1) powers.push_back(unit);
  const ad::Tensor u = ad::reshape(unit, {n, 1, 3});
  for (int l = 2; l <= l_max_; ++l) {
    const ad::Tensor& prev = powers.back();
    powers.push_back(ad::reshape(ad::mul(ad::reshape(prev, {n, prev.dim(1), 1}), u), {n, prev.dim(1) * 3}));
  }
  return powers.size() == 1 ? powers[0] : ad::concat(powers, 1);
}

ad::Tensor SphericalHarmonics::operator()(const ad::Tensor& unit) const {
  return ad::matmul(monomials(unit), unit.dtype() == ad::DType::f64 ? coeff64_ : coeff32_);
}

std::vector<double> SphericalHarmonics::values(double x, double y, double z) const {
  const double r = std::sqrt(x * x + y * y + z * z);
  if (!(r > 0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "spherical harmonics: zero vector");
  const std::array<double, 3> u{x / r, y / r, z / r};
  std::vector<double> mono;
  mono.reserve(static_cast<std::size_t>(n_monomials_));
  std::vector<double> prev{1.0};
  mono.push_back(1.0);
  for (int l = 1; l <= l_max_; ++l) {
    std::vector<double> next;
    next.reserve(prev.size() * 3);
    for (double v : prev)
      for (double c : u) next.push_back(v * c);
    mono.insert(mono.end(), next.begin(), next.end());
    prev = std::move(next);
  }
  const auto d = static_cast<std::size_t>(dim());
  std::vector<double> out(d, 0.0);
  for (std::size_t i = 0; i < mono.size(); ++i)
    for (std::size_t j = 0; j < d; ++j) out[j] += mono[i] * coeff_[i * d + j];
  return out;
}

}  // namespace matnn::potentials::nequip
