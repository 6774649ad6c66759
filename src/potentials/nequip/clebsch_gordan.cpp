#include "potentials/nequip/clebsch_gordan.hpp"

#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "matnn/error.hpp"

namespace matnn::potentials::nequip {

namespace {

double factorial(int n) {
  double f = 1.0;
  for (int i = 2; i <= n; ++i) f *= i;
  return f;
}

bool triangle(int l1, int l2, int l3) { return l3 >= std::abs(l1 - l2) && l3 <= l1 + l2; }

}  // namespace

double complex_clebsch_gordan(int l1, int m1, int l2, int m2, int l3, int m3) {
  if (m1 + m2 != m3 || !triangle(l1, l2, l3)) return 0.0;
  if (std::abs(m1) > l1 || std::abs(m2) > l2 || std::abs(m3) > l3) return 0.0;
  const double pre = std::sqrt((2.0 * l3 + 1.0) * factorial(l3 + l1 - l2) * factorial(l3 - l1 + l2) *
                               factorial(l1 + l2 - l3) / factorial(l1 + l2 + l3 + 1));
  const double norm = std::sqrt(factorial(l3 + m3) * factorial(l3 - m3) * factorial(l1 - m1) * factorial(l1 + m1) *
                                factorial(l2 - m2) * factorial(l2 + m2));
  double sum = 0.0;
  for (int k = 0; k <= l1 + l2 - l3; ++k) {
    const int a = l1 + l2 - l3 - k, b = l1 - m1 - k, c = l2 + m2 - k, d = l3 - l2 + m1 + k, e = l3 - l1 - m2 + k;
    if (a < 0 || b < 0 || c < 0 || d < 0 || e < 0) continue;
    sum += (k % 2 ? -1.0 : 1.0) /
           (factorial(k) * factorial(a) * factorial(b) * factorial(c) * factorial(d) * factorial(e));
  }
  return pre * norm * sum;
}

std::vector<std::complex<double>> real_from_complex(int l) {
  // Real harmonics without the Condon-Shortley phase from the complex ones with it:
  //   m > 0: (Y^-m + (-1)^m Y^m) / sqrt2,  m = 0: Y^0,  m < 0: i (Y^m - (-1)^m Y^-m) / sqrt2.
  const int d = 2 * l + 1;
  std::vector<std::complex<double>> u(static_cast<std::size_t>(d * d));
  const double s = 1.0 / std::sqrt(2.0);
  const std::complex<double> i(0.0, 1.0);
  auto at = [&](int mr, int mc) -> std::complex<double>& {
    return u[static_cast<std::size_t>((mr + l) * d + (mc + l))];
  };
  for (int m = -l; m <= l; ++m) {
    const double sign = (std::abs(m) % 2) ? -1.0 : 1.0;
    if (m > 0) {
      at(m, -m) = s;
      at(m, m) = sign * s;
    } else if (m == 0) {
      at(0, 0) = 1.0;
    } else {
      at(m, m) = i * s;
      at(m, -m) = -sign * i * s;
    }
  }
  return u;
}

const std::vector<double>& real_clebsch_gordan(int l1, int l2, int l3) {
  if (l1 < 0 || l2 < 0 || l3 < 0 || l1 > 8 || l2 > 8 || l3 > 8 || !triangle(l1, l2, l3))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "Clebsch-Gordan: ({}, {}) cannot couple to {} (need |l1 - l2| <= l3 <= l1 + l2 <= 16, l <= 8)",
         l1, l2, l3);
  static std::mutex mutex;
  static std::map<std::array<int, 3>, std::unique_ptr<std::vector<double>>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{l1, l2, l3}];
  if (slot) return *slot;

  const int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1, d3 = 2 * l3 + 1;
  const auto u1 = real_from_complex(l1), u2 = real_from_complex(l2), u3 = real_from_complex(l3);
  std::vector<std::complex<double>> c(static_cast<std::size_t>(d1 * d2 * d3));
  for (int i = 0; i < d1; ++i)
    for (int j = 0; j < d2; ++j)
      for (int k = 0; k < d3; ++k) {
        std::complex<double> acc = 0.0;
        for (int m1 = -l1; m1 <= l1; ++m1)
          for (int m2 = -l2; m2 <= l2; ++m2) {
            const int m3 = m1 + m2;
            if (std::abs(m3) > l3) continue;
            const double cg = complex_clebsch_gordan(l1, m1, l2, m2, l3, m3);
            if (cg == 0.0) continue;
            acc += u3[static_cast<std::size_t>(k * d3 + m3 + l3)] * cg *
                   std::conj(u1[static_cast<std::size_t>(i * d1 + m1 + l1)]) *
                   std::conj(u2[static_cast<std::size_t>(j * d2 + m2 + l2)]);
          }
        c[static_cast<std::size_t>((i * d2 + j) * d3 + k)] = acc;
      }
  double re = 0.0, im = 0.0;
  for (const auto& v : c) {
    re += v.real() * v.real();
    im += v.imag() * v.imag();
  }
  const bool use_real = re >= im;
  const double other = use_real ? im : re;
  if (other > 1e-20 * (re + im))
    fail(MATNN_ERROR_INTERNAL, "Clebsch-Gordan ({}, {}, {}): the real-basis coefficients are not of one phase", l1, l2, l3);
  auto out = std::make_unique<std::vector<double>>(c.size());
  for (std::size_t n = 0; n < c.size(); ++n) (*out)[n] = use_real ? c[n].real() : c[n].imag();
  slot = std::move(out);
  return *slot;
}

}  // namespace matnn::potentials::nequip
