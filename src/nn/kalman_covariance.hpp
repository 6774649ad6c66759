// The two products that take nearly all of a Kalman update's time (nn/kalman.hpp), on one
// covariance block P: n x n, column-major, only its lower triangle read or written.
//
//   symmetric_downdate:     P <- P - W W^T + q I          W: n x mw, column-major
//   downdate_then_product:  the same, then X = P H^T       H: m x n and X: n x m, column-major
//
// The filter defers each update's downdate to the next update's product, so that P streams
// through memory once per update instead of twice; symmetric_downdate alone settles a pending
// downdate (for a checkpoint) with the same arithmetic, bit for bit.
//
// For a NequIP-style model P is a gigabyte and m about ten, so both are bound by streaming P
// through memory: about 2m flops per double read. Eigen compiles them for the build's baseline
// instruction set (SSE2), at which this machine does not keep up with its memory; these loops
// are compiled for AVX-512 and AVX2 too, chosen at load time, and split over the OpenMP threads
// by equal shares of the triangle's area. Engine-internal.
#pragma once

#include <cstdint>

namespace matnn::nn::detail {

void symmetric_downdate(double* p, std::int64_t n, const double* w, std::int64_t mw, double q);

/// mw may be 0 (and q 0): then P is left as it is and only X is computed.
void downdate_then_product(double* p, std::int64_t n, const double* w, std::int64_t mw, double q, const double* h,
                           std::int64_t m, double* x);

}  // namespace matnn::nn::detail
