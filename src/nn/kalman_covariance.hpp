// The two products that take nearly all of a Kalman update's time (nn/kalman.hpp), on one
// covariance block P (n x n, symmetric), of which a caller keeps the columns [first, last) of
// the lower triangle (LowerColumns): the whole triangle on one rank, a share of it on each rank
// of a data-parallel run.
//
//   symmetric_downdate:     P <- P - W W^T + q I          W: n x mw, column-major
//   downdate_then_product:  the same, then X = P H^T       H: m x n and X: n x m, column-major
//
// restricted to the kept columns: the downdate changes only them, and X is their share of the
// product (column j adds P[i, j] H[r, j] to X[i, r] below the diagonal and its dot with H[r, .]
// to X[j, r], which stands for row j of the upper triangle), so the shares of all columns sum
// to P H^T.
//
// The filter defers each update's downdate to the next update's product, so that P streams
// through memory once per update instead of twice; symmetric_downdate alone settles a pending
// downdate (for a checkpoint) with the same arithmetic, bit for bit.
//
// For a NequIP-style model P is a gigabyte and m about ten, so both are bound by streaming P
// through memory: about 2m flops per double read. Eigen compiles them for the build's baseline
// instruction set (SSE2), at which this machine does not keep up with its memory; these loops
// are compiled for AVX-512 and AVX2 too, chosen at load time, and split over the OpenMP threads
// by equal shares of the columns' area. Engine-internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace matnn::nn::detail {

/// Columns [first, last) of the lower triangle of a symmetric n x n matrix, packed: column j
/// holds rows j .. n - 1, and the columns follow one another (half the memory of a square).
class LowerColumns {
 public:
  LowerColumns() = default;
  /// Zero-filled.
  LowerColumns(std::int64_t n, std::int64_t first, std::int64_t last);

  std::int64_t n() const noexcept { return n_; }
  std::int64_t first() const noexcept { return first_; }
  std::int64_t last() const noexcept { return last_; }
  /// Column j (first <= j < last) from its diagonal down: [k] is element (j + k, j).
  double* column(std::int64_t j) noexcept { return values_.data() + offset(j); }
  const double* column(std::int64_t j) const noexcept { return values_.data() + offset(j); }
  /// All kept values, column after column.
  std::vector<double>& values() noexcept { return values_; }
  const std::vector<double>& values() const noexcept { return values_; }

  /// Doubles that columns [first, last) of an n x n lower triangle hold.
  static std::size_t count(std::int64_t n, std::int64_t first, std::int64_t last) noexcept {
    return static_cast<std::size_t>(area(n, last) - area(n, first));
  }
  /// First column of each of `parts` consecutive shares of columns [first, last) whose areas are
  /// about equal (parts + 1 values; the last is `last`).
  static std::vector<std::int64_t> shares(std::int64_t n, std::int64_t first, std::int64_t last, int parts);

 private:
  // Elements in columns [0, j) of the triangle.
  static std::int64_t area(std::int64_t n, std::int64_t j) noexcept { return j * n - j * (j - 1) / 2; }
  std::size_t offset(std::int64_t j) const noexcept { return static_cast<std::size_t>(area(n_, j) - area(n_, first_)); }

  std::int64_t n_ = 0, first_ = 0, last_ = 0;
  std::vector<double> values_;
};

void symmetric_downdate(LowerColumns& p, const double* w, std::int64_t mw, double q);

/// mw may be 0 (and q 0): then P is left as it is and only X is computed. X is set (not added to).
void downdate_then_product(LowerColumns& p, const double* w, std::int64_t mw, double q, const double* h,
                           std::int64_t m, double* x);

}  // namespace matnn::nn::detail
