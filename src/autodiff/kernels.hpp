// Helpers shared by the op kernels (engine-internal): dtype dispatch, thresholded OpenMP
// loops, argument checks with uniform error messages, and generic elementwise maps.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "autodiff/tensor.hpp"
#include "matnn/error.hpp"

namespace matnn::ad::detail {

/// Below this many elements (or rows x work) loops run on the calling thread: starting an
/// OpenMP team costs microseconds, which small tensors must not pay.
inline constexpr int64_t kParallelThreshold = 1 << 15;

/// Calls body(begin, end) on [0, n), split into contiguous chunks over the OpenMP threads
/// when `work` (an estimate of the elementary operations) is large enough.
template <typename Body>
void parallel_for(int64_t n, int64_t work, Body&& body) {
  if (n <= 0) return;
  if (work < kParallelThreshold || n < 2 || omp_in_parallel() || omp_get_max_threads() == 1) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads();
    const int64_t t = omp_get_thread_num();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t begin = std::min(n, t * chunk);
    const int64_t end = std::min(n, begin + chunk);
    if (begin < end) body(begin, end);
  }
}

/// Compiles a hot loop for several instruction sets and picks the best one for the CPU at load
/// time (GCC/Clang function multiversioning on x86-64): the library stays portable (the default
/// build targets baseline x86-64) yet runs AVX-512 or AVX2 code where the CPU has it. Apply it to
/// the function that holds the loop itself (a lambda inside would not be cloned).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(MATNN_NO_TARGET_CLONES)
#define MATNN_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MATNN_TARGET_CLONES
#endif

/// Calls f(T{}) with T = float or double according to dtype.
template <typename F>
decltype(auto) dispatch(DType dtype, F&& f) {
  if (dtype == DType::f32) return f(float{});
  return f(double{});
}

[[noreturn]] void invalid(std::string_view op, const std::string& what);

void check_defined(std::string_view op, const Tensor& t, const char* name = "input");
void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b);
void check_rank(std::string_view op, const Tensor& t, int64_t rank);
/// Maps a possibly negative axis into [0, rank); error names the op and the shape.
int64_t normalize_axis(std::string_view op, int64_t axis, const Shape& shape);

/// out[i] = f(x[i]) into a new tensor of the same shape and dtype (no graph).
template <typename F>
Tensor map_unary(const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    parallel_for(x.numel(), x.numel() * 4, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) po[i] = static_cast<T>(f(px[i]));
    });
  });
  return out;
}

}  // namespace matnn::ad::detail
