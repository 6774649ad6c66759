// Dense matrix products for the autodiff ops: row-major C = alpha * op(A) * op(B) + beta * C.
// float32 runs through oneDNN's dnnl_sgemm or through Eigen, chosen at run time (process-wide);
// float64 always runs through Eigen. Both backends use the OpenMP threads.
#pragma once

#include <cstdint>

namespace matnn::ad {

enum class GemmBackend { onednn, eigen };

/// Selects the float32 backend for every later matmul/linear (default: onednn).
void set_gemm_backend(GemmBackend backend) noexcept;
GemmBackend gemm_backend() noexcept;
/// "onednn" or "eigen".
const char* gemm_backend_name(GemmBackend backend) noexcept;

/// Row-major GEMM: op(A) is M x K, op(B) is K x N, C is M x N with leading dimension ldc.
/// lda/ldb are the row strides of A and B as stored (before op). Throws matnn::Error with
/// MATNN_ERROR_INTERNAL when oneDNN reports a failure.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

/// Floating-point operations (2 m n k per product) of every GEMM since process start, summed over
/// threads: benchmarks divide it by atoms to report the dense work per atom. Relaxed atomics, so
/// counting costs nothing measurable next to a product.
std::uint64_t gemm_flop_count() noexcept;

/// The same product with an explicit backend (benchmarks and tests compare the two).
void gemm_with(GemmBackend backend, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace matnn::ad
