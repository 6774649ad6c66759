#include "nn/kalman_covariance.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "autodiff/kernels.hpp"

// The helpers below return eight-double vectors; GCC and clang note that such returns would pass
// differently where AVX-512 is off, which cannot matter to functions inlined into their callers.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace matnn::nn::detail {
namespace {

// Measurements are taken four at a time, so that each pass over a column of P feeds four
// columns of X (Ht and X are padded with zero columns to a multiple of four).
constexpr std::int64_t kGroup = 4;

// Eight doubles: one AVX-512 register, two AVX2 or four SSE2 ones, as each clone is compiled.
// Written out rather than left to the auto-vectoriser, whose choices for these loops changed
// the downdate's speed twofold between -O2 and -O3.
using Lanes = double __attribute__((vector_size(64)));
constexpr std::int64_t kLanes = 8;

inline Lanes load(const double* from) {
  Lanes v;
  std::memcpy(&v, from, sizeof v);
  return v;
}
inline void store(double* to, const Lanes& v) { std::memcpy(to, &v, sizeof v); }
inline double sum(const Lanes& v) {
  double s = 0.0;
  for (std::int64_t k = 0; k < kLanes; ++k) s += v[k];
  return s;
}

// First column of each of `parts` ranges of [0, n) whose lower-triangle areas are equal:
// column j holds n - j elements, so the first k parts end at n (1 - sqrt(1 - k / parts)).
std::vector<std::int64_t> triangle_shares(std::int64_t n, int parts) {
  std::vector<std::int64_t> first(static_cast<std::size_t>(parts) + 1, n);
  for (int k = 0; k < parts; ++k) {
    const double fraction = 1.0 - std::sqrt(1.0 - static_cast<double>(k) / parts);
    first[static_cast<std::size_t>(k)] = std::clamp<std::int64_t>(std::llround(fraction * static_cast<double>(n)), 0, n);
  }
  return first;
}

// Threads worth starting for a triangle of n columns: a block of a few hundred weights is done
// before a team would start.
int threads_for(std::int64_t n) {
  if (omp_in_parallel() || n < 256) return 1;
  return std::max(1, omp_get_max_threads());
}

// Columns j and j + 1 of P's lower triangle times four columns of Ht into X: X[i, r] +=
// P[i, c] Ht[c, r] below the columns' diagonal, and X[c, r] += the dot of column c with Ht[., r],
// which stands for the upper triangle. Two columns at a time halve the loads and stores of X;
// each element of P is loaded once.
MATNN_TARGET_CLONES void product_pair(const double* pa, const double* pb, std::int64_t n, std::int64_t j,
                                      const double* const* h, double* const* x) {
  // The 2 x 2 corner on the diagonal: P[j, j], P[j + 1, j] (= P[j, j + 1]) and P[j + 1, j + 1].
  const double d = pa[j], o = pa[j + 1], e = pb[j + 1];
  double a[kGroup], b[kGroup], s[kGroup], t[kGroup];
  for (std::int64_t r = 0; r < kGroup; ++r) {
    a[r] = h[r][j];
    b[r] = h[r][j + 1];
    s[r] = d * a[r] + o * b[r];
    t[r] = o * a[r] + e * b[r];
  }
  Lanes s0{}, s1{}, s2{}, s3{}, t0{}, t1{}, t2{}, t3{};
  std::int64_t i = j + 2;
  for (; i + kLanes <= n; i += kLanes) {
    const Lanes u = load(pa + i), v = load(pb + i);
    store(x[0] + i, load(x[0] + i) + u * a[0] + v * b[0]);
    store(x[1] + i, load(x[1] + i) + u * a[1] + v * b[1]);
    store(x[2] + i, load(x[2] + i) + u * a[2] + v * b[2]);
    store(x[3] + i, load(x[3] + i) + u * a[3] + v * b[3]);
    const Lanes h0 = load(h[0] + i), h1 = load(h[1] + i), h2 = load(h[2] + i), h3 = load(h[3] + i);
    s0 += u * h0, s1 += u * h1, s2 += u * h2, s3 += u * h3;
    t0 += v * h0, t1 += v * h1, t2 += v * h2, t3 += v * h3;
  }
  for (; i < n; ++i) {
    for (std::int64_t r = 0; r < kGroup; ++r) {
      x[r][i] += pa[i] * a[r] + pb[i] * b[r];
      s[r] += pa[i] * h[r][i];
      t[r] += pb[i] * h[r][i];
    }
  }
  x[0][j] += s[0] + sum(s0), x[1][j] += s[1] + sum(s1), x[2][j] += s[2] + sum(s2), x[3][j] += s[3] + sum(s3);
  x[0][j + 1] += t[0] + sum(t0), x[1][j + 1] += t[1] + sum(t1), x[2][j + 1] += t[2] + sum(t2),
      x[3][j + 1] += t[3] + sum(t3);
}

// The same for column j alone (the last of an odd count).
void product_single(const double* pj, std::int64_t n, std::int64_t j, const double* const* h, double* const* x) {
  for (std::int64_t r = 0; r < kGroup; ++r) {
    const double a = h[r][j];
    double dot = pj[j] * a;
    for (std::int64_t i = j + 1; i < n; ++i) {
      x[r][i] += pj[i] * a;
      dot += pj[i] * h[r][i];
    }
    x[r][j] += dot;
  }
}

// P[i, j] -= sum_r W[i, r] W[j, r] for i >= j in column j, then P[j, j] += q. Rows go eight
// at a time with the measurements inside, so each element of P is loaded and stored once
// however many measurements there are. `wj` is scratch for W's row j.
MATNN_TARGET_CLONES void downdate_column(double* p, std::int64_t n, std::int64_t j, const double* w, std::int64_t m,
                                         double q, double* wj) {
  for (std::int64_t r = 0; r < m; ++r) wj[r] = w[r * n + j];
  double* pj = p + j * n;
  std::int64_t i = j;
  for (; i + kLanes <= n; i += kLanes) {
    Lanes acc = load(pj + i);
    for (std::int64_t r = 0; r < m; ++r) acc -= load(w + r * n + i) * wj[r];
    store(pj + i, acc);
  }
  for (; i < n; ++i) {
    double acc = pj[i];
    for (std::int64_t r = 0; r < m; ++r) acc -= w[r * n + i] * wj[r];
    pj[i] = acc;
  }
  pj[j] += q;
}

// Over columns [first, last) of P: the downdate by W (mw columns, none to skip it), then
// X += P Ht with the new P, two columns at a time: the pair is downdated and, while it is in
// cache, multiplied into X group by group, so P streams through memory once for both.
void downdate_then_product_columns(double* p, std::int64_t n, const double* w, std::int64_t mw, double q,
                                   const double* ht, std::int64_t groups, std::int64_t first, std::int64_t last,
                                   double* x) {
  std::vector<double> wj(static_cast<std::size_t>(mw) + 1);
  for (std::int64_t j = first; j < last; j += 2) {
    const bool pair = j + 1 < last;
    if (mw > 0 || q != 0.0) {
      downdate_column(p, n, j, w, mw, q, wj.data());
      if (pair) downdate_column(p, n, j + 1, w, mw, q, wj.data());
    }
    for (std::int64_t g = 0; g < groups; ++g) {
      const double* h[kGroup];
      double* xg[kGroup];
      for (std::int64_t r = 0; r < kGroup; ++r) {
        h[r] = ht + (kGroup * g + r) * n;
        xg[r] = x + (kGroup * g + r) * n;
      }
      if (pair) {
        product_pair(p + j * n, p + (j + 1) * n, n, j, h, xg);
      } else {
        product_single(p + j * n, n, j, h, xg);
      }
    }
  }
}

}  // namespace

void downdate_then_product(double* p, std::int64_t n, const double* w, std::int64_t mw, double q, const double* h,
                           std::int64_t m, double* x) {
  const std::int64_t groups = (m + kGroup - 1) / kGroup;
  const std::int64_t padded = groups * kGroup;
  // H transposed, so that the loops read its rows contiguously, padded with zero columns.
  std::vector<double> ht(static_cast<std::size_t>(n * padded), 0.0);
  for (std::int64_t j = 0; j < n; ++j) {
    for (std::int64_t r = 0; r < m; ++r) ht[static_cast<std::size_t>(r * n + j)] = h[j * m + r];
  }
  const int threads = threads_for(n);
  const std::vector<std::int64_t> first = triangle_shares(n, threads);
  // Every column adds to rows below it, so each thread sums into its own X, added up after.
  std::vector<std::vector<double>> partial(static_cast<std::size_t>(threads),
                                           std::vector<double>(static_cast<std::size_t>(n * padded), 0.0));
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; ++t) {
    const auto k = static_cast<std::size_t>(t);
    downdate_then_product_columns(p, n, w, mw, q, ht.data(), groups, first[k], first[k + 1], partial[k].data());
  }
  std::copy(partial[0].begin(), partial[0].begin() + n * m, x);
  for (std::size_t k = 1; k < partial.size(); ++k) {
    for (std::int64_t i = 0; i < n * m; ++i) x[i] += partial[k][static_cast<std::size_t>(i)];
  }
}

void symmetric_downdate(double* p, std::int64_t n, const double* w, std::int64_t m, double q) {
  const int threads = threads_for(n);
  const std::vector<std::int64_t> first = triangle_shares(n, threads);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; ++t) {
    const auto k = static_cast<std::size_t>(t);
    std::vector<double> wj(static_cast<std::size_t>(m) + 1);
    for (std::int64_t j = first[k]; j < first[k + 1]; ++j) downdate_column(p, n, j, w, m, q, wj.data());
  }
}

}  // namespace matnn::nn::detail
