#include "autodiff/gemm.hpp"

#include <dnnl.h>

#include <Eigen/Core>
#include <atomic>

#include "matnn/error.hpp"

namespace matnn::ad {

namespace {

std::atomic<GemmBackend> g_backend{GemmBackend::onednn};

template <typename T>
void eigen_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  using MMap = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  MMap cm(c, m, n, Eigen::OuterStride<>(ldc));
  if (k == 0) {
    if (beta == T(0)) cm.setZero();
    else cm *= beta;
    return;
  }
  // A is stored (ta ? k x m : m x k), B is stored (tb ? n x k : k x n).
  CMap am(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  CMap bm(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  auto run = [&](const auto& opa, const auto& opb) {
    if (beta == T(0)) {
      cm.noalias() = alpha * (opa * opb);
    } else {
      if (beta != T(1)) cm *= beta;
      cm.noalias() += alpha * (opa * opb);
    }
  };
  if (!ta && !tb) run(am, bm);
  else if (ta && !tb) run(am.transpose(), bm);
  else if (!ta && tb) run(am, bm.transpose());
  else run(am.transpose(), bm.transpose());
}

void onednn_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (k == 0) {  // oneDNN rejects K = 0; the product is empty
    eigen_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const dnnl_status_t status = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success)
    fail(MATNN_ERROR_INTERNAL, "gemm: dnnl_sgemm(M={}, N={}, K={}, lda={}, ldb={}, ldc={}) failed with status {}",
         m, n, k, lda, ldb, ldc, static_cast<int>(status));
}

std::atomic<std::uint64_t> g_flops{0};

void count_flops(int64_t m, int64_t n, int64_t k) noexcept {
  g_flops.fetch_add(static_cast<std::uint64_t>(2 * m * n * k), std::memory_order_relaxed);
}

}  // namespace

std::uint64_t gemm_flop_count() noexcept { return g_flops.load(std::memory_order_relaxed); }

void set_gemm_backend(GemmBackend backend) noexcept { g_backend.store(backend); }
GemmBackend gemm_backend() noexcept { return g_backend.load(); }
const char* gemm_backend_name(GemmBackend backend) noexcept {
  return backend == GemmBackend::onednn ? "onednn" : "eigen";
}

void gemm_with(GemmBackend backend, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  count_flops(m, n, k);
  if (backend == GemmBackend::onednn) onednn_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else eigen_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_with(gemm_backend(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  count_flops(m, n, k);
  eigen_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace matnn::ad
