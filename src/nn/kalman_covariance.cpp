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

// Threads worth starting for `columns` columns of an n x n triangle: a block of a few hundred
// weights is done before a team would start.
int threads_for(std::int64_t n, std::int64_t columns) {
  if (omp_in_parallel() || n < 256 || columns < 2) return 1;
  return std::max(1, omp_get_max_threads());
}

// Columns j and j + 1 of P's lower triangle (from their diagonals: a[k] = P[j + k, j], b[k] =
// P[j + 1 + k, j + 1]) times four columns of Ht into X: X[i, r] += P[i, c] Ht[c, r] below the
// columns' diagonal, and X[c, r] += the dot of column c with Ht[., r], which stands for the upper
// triangle. Two columns at a time halve the loads and stores of X; each element of P is loaded
// once.
MATNN_TARGET_CLONES void product_pair(const double* pa, const double* pb, std::int64_t n, std::int64_t j,
                                      const double* const* h, double* const* x) {
  // The 2 x 2 corner on the diagonal: P[j, j], P[j + 1, j] (= P[j, j + 1]) and P[j + 1, j + 1].
  const double d = pa[0], o = pa[1], e = pb[0];
  double a[kGroup], b[kGroup], s[kGroup], t[kGroup];
  for (std::int64_t r = 0; r < kGroup; ++r) {
    a[r] = h[r][j];
    b[r] = h[r][j + 1];
    s[r] = d * a[r] + o * b[r];
    t[r] = o * a[r] + e * b[r];
  }
  // Rows j + 2 + k, k = 0 .. rest - 1.
  const std::int64_t rest = n - j - 2;
  const double* u_at = pa + 2;
  const double* v_at = pb + 1;
  const double* h0_at = h[0] + j + 2;
  const double* h1_at = h[1] + j + 2;
  const double* h2_at = h[2] + j + 2;
  const double* h3_at = h[3] + j + 2;
  double* x0 = x[0] + j + 2;
  double* x1 = x[1] + j + 2;
  double* x2 = x[2] + j + 2;
  double* x3 = x[3] + j + 2;
  Lanes s0{}, s1{}, s2{}, s3{}, t0{}, t1{}, t2{}, t3{};
  std::int64_t k = 0;
  for (; k + kLanes <= rest; k += kLanes) {
    const Lanes u = load(u_at + k), v = load(v_at + k);
    store(x0 + k, load(x0 + k) + u * a[0] + v * b[0]);
    store(x1 + k, load(x1 + k) + u * a[1] + v * b[1]);
    store(x2 + k, load(x2 + k) + u * a[2] + v * b[2]);
    store(x3 + k, load(x3 + k) + u * a[3] + v * b[3]);
    const Lanes h0 = load(h0_at + k), h1 = load(h1_at + k), h2 = load(h2_at + k), h3 = load(h3_at + k);
    s0 += u * h0, s1 += u * h1, s2 += u * h2, s3 += u * h3;
    t0 += v * h0, t1 += v * h1, t2 += v * h2, t3 += v * h3;
  }
  for (; k < rest; ++k) {
    const std::int64_t i = j + 2 + k;
    for (std::int64_t r = 0; r < kGroup; ++r) {
      x[r][i] += u_at[k] * a[r] + v_at[k] * b[r];
      s[r] += u_at[k] * h[r][i];
      t[r] += v_at[k] * h[r][i];
    }
  }
  x[0][j] += s[0] + sum(s0), x[1][j] += s[1] + sum(s1), x[2][j] += s[2] + sum(s2), x[3][j] += s[3] + sum(s3);
  x[0][j + 1] += t[0] + sum(t0), x[1][j + 1] += t[1] + sum(t1), x[2][j + 1] += t[2] + sum(t2),
      x[3][j + 1] += t[3] + sum(t3);
}

// The same for column j alone (the last of an odd count); pj[k] = P[j + k, j].
void product_single(const double* pj, std::int64_t n, std::int64_t j, const double* const* h, double* const* x) {
  for (std::int64_t r = 0; r < kGroup; ++r) {
    const double a = h[r][j];
    double dot = pj[0] * a;
    for (std::int64_t i = j + 1; i < n; ++i) {
      x[r][i] += pj[i - j] * a;
      dot += pj[i - j] * h[r][i];
    }
    x[r][j] += dot;
  }
}

// P[i, j] -= sum_r W[i, r] W[j, r] for i >= j in column j (pj[k] = P[j + k, j]), then P[j, j] +=
// q. Rows go eight at a time with the measurements inside, so each element of P is loaded and
// stored once however many measurements there are. `wj` is scratch for W's row j.
MATNN_TARGET_CLONES void downdate_column(double* pj, std::int64_t n, std::int64_t j, const double* w, std::int64_t m,
                                         double q, double* wj) {
  for (std::int64_t r = 0; r < m; ++r) wj[r] = w[r * n + j];
  const std::int64_t rows = n - j;
  const double* wr_at = w + j;  // W[j + k, r] is wr_at[r * n + k]
  std::int64_t k = 0;
  for (; k + kLanes <= rows; k += kLanes) {
    Lanes acc = load(pj + k);
    for (std::int64_t r = 0; r < m; ++r) acc -= load(wr_at + r * n + k) * wj[r];
    store(pj + k, acc);
  }
  for (; k < rows; ++k) {
    double acc = pj[k];
    for (std::int64_t r = 0; r < m; ++r) acc -= wr_at[r * n + k] * wj[r];
    pj[k] = acc;
  }
  pj[0] += q;
}

// Over columns [first, last) of P: the downdate by W (mw columns, none to skip it), then
// X += P Ht with the new P, two columns at a time: the pair is downdated and, while it is in
// cache, multiplied into X group by group, so P streams through memory once for both.
void downdate_then_product_columns(LowerColumns& p, const double* w, std::int64_t mw, double q, const double* ht,
                                   std::int64_t groups, std::int64_t first, std::int64_t last, double* x) {
  const std::int64_t n = p.n();
  std::vector<double> wj(static_cast<std::size_t>(mw) + 1);
  for (std::int64_t j = first; j < last; j += 2) {
    const bool pair = j + 1 < last;
    if (mw > 0 || q != 0.0) {
      downdate_column(p.column(j), n, j, w, mw, q, wj.data());
      if (pair) downdate_column(p.column(j + 1), n, j + 1, w, mw, q, wj.data());
    }
    for (std::int64_t g = 0; g < groups; ++g) {
      const double* h[kGroup];
      double* xg[kGroup];
      for (std::int64_t r = 0; r < kGroup; ++r) {
        h[r] = ht + (kGroup * g + r) * n;
        xg[r] = x + (kGroup * g + r) * n;
      }
      if (pair) {
        product_pair(p.column(j), p.column(j + 1), n, j, h, xg);
      } else {
        product_single(p.column(j), n, j, h, xg);
      }
    }
  }
}

}  // namespace

LowerColumns::LowerColumns(std::int64_t n, std::int64_t first, std::int64_t last)
    : n_(n), first_(first), last_(last), values_(count(n, first, last), 0.0) {}

std::vector<std::int64_t> LowerColumns::shares(std::int64_t n, std::int64_t first, std::int64_t last, int parts) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(parts) + 1, last);
  const double total = static_cast<double>(count(n, first, last));
  std::int64_t j = first;
  for (int k = 0; k < parts; ++k) {
    // The first column at which the area from `first` reaches k / parts of the whole.
    const double target = total * static_cast<double>(k) / parts;
    while (j < last && static_cast<double>(count(n, first, j)) < target) ++j;
    out[static_cast<std::size_t>(k)] = j;
  }
  return out;
}

void downdate_then_product(LowerColumns& p, const double* w, std::int64_t mw, double q, const double* h,
                           std::int64_t m, double* x) {
  const std::int64_t n = p.n();
  const std::int64_t groups = (m + kGroup - 1) / kGroup;
  const std::int64_t padded = groups * kGroup;
  // H transposed, so that the loops read its rows contiguously, padded with zero columns.
  std::vector<double> ht(static_cast<std::size_t>(n * padded), 0.0);
  for (std::int64_t j = 0; j < n; ++j) {
    for (std::int64_t r = 0; r < m; ++r) ht[static_cast<std::size_t>(r * n + j)] = h[j * m + r];
  }
  const int threads = threads_for(n, p.last() - p.first());
  const std::vector<std::int64_t> first = LowerColumns::shares(n, p.first(), p.last(), threads);
  // Every column adds to rows below it, so each thread sums into its own X, added up after.
  std::vector<std::vector<double>> partial(static_cast<std::size_t>(threads),
                                           std::vector<double>(static_cast<std::size_t>(n * padded), 0.0));
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; ++t) {
    const auto k = static_cast<std::size_t>(t);
    downdate_then_product_columns(p, w, mw, q, ht.data(), groups, first[k], first[k + 1], partial[k].data());
  }
  std::copy(partial[0].begin(), partial[0].begin() + n * m, x);
  for (std::size_t k = 1; k < partial.size(); ++k) {
    for (std::int64_t i = 0; i < n * m; ++i) x[i] += partial[k][static_cast<std::size_t>(i)];
  }
}

void symmetric_downdate(LowerColumns& p, const double* w, std::int64_t m, double q) {
  const std::int64_t n = p.n();
  const int threads = threads_for(n, p.last() - p.first());
  const std::vector<std::int64_t> first = LowerColumns::shares(n, p.first(), p.last(), threads);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; ++t) {
    const auto k = static_cast<std::size_t>(t);
    std::vector<double> wj(static_cast<std::size_t>(m) + 1);
    for (std::int64_t j = first[k]; j < first[k + 1]; ++j) downdate_column(p.column(j), n, j, w, m, q, wj.data());
  }
}

}  // namespace matnn::nn::detail
