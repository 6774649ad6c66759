// The two products that take nearly all of a Kalman update's time (nn/kalman.hpp), on one
// covariance block P: n x n, column-major, only its lower triangle read or written.
//
//   symmetric_product:   X = P Ht                 Ht, X: n x m, column-major
//   symmetric_downdate:  P <- P - W W^T + q I      W: n x m, column-major
//
// For a NequIP-style model P is a gigabyte and m about ten, so both are bound by streaming P
// through memory: about 2m flops per double read. Eigen compiles them for the build's baseline
// instruction set (SSE2), at which this machine does not keep up with its memory; these loops
// are compiled for AVX-512 and AVX2 too, chosen at load time, and split over the OpenMP threads
// by equal shares of the triangle's area. Engine-internal.
#pragma once

#include <cstdint>

namespace matnn::nn::detail {

void symmetric_product(const double* p, std::int64_t n, const double* ht, std::int64_t m, double* x);

void symmetric_downdate(double* p, std::int64_t n, const double* w, std::int64_t m, double q);

}  // namespace matnn::nn::detail
