// Helpers shared by the op kernels (engine-internal): dtype dispatch, thresholded OpenMP
// loops, argument checks with uniform error messages, and generic elementwise maps.
#pragma once

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
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
/// time (GCC function multiversioning on x86-64; clang 14 cannot clone templates, so a clang
/// build runs the baseline code): the library stays portable (the default
/// build targets baseline x86-64) yet runs AVX-512 or AVX2 code where the CPU has it. Apply it to
/// the function that holds the loop itself (a lambda inside would not be cloned).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MATNN_NO_TARGET_CLONES)
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

/// out[i] = f(in[i]) for i in [0, n), compiled for each instruction set (branch-free f vectorises).
template <typename T, typename F>
MATNN_TARGET_CLONES void map_range(const T* __restrict in, T* __restrict out, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(f(in[i]));
}

/// out[i] = f(x[i]) into a new tensor of the same shape and dtype (no graph).
template <typename F>
Tensor map_unary(const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    parallel_for(x.numel(), x.numel() * 4, [&](int64_t b, int64_t e) { map_range(px + b, po + b, e - b, f); });
  });
  return out;
}

/// e^x in float32 within 2 ulp, branch-free so that loops over it vectorise (the sigmoid family
/// runs on every edge of the NequIP radial networks; libm's expf is a call per element). Range
/// reduction x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two for exactness), a degree-6
/// polynomial for e^r (Cephes' coefficients), and 2^n written into the exponent bits. Arguments
/// are clamped to [-87.3, 88.0], where the result and 2^n are normal floats: below it the result
/// is about 1e-38 instead of a denormal or 0, above it 1.7e38 instead of up to inf.
inline float exp_vectorisable(float x) {
  x = x < 88.0f ? x : 88.0f;
  x = x > -87.3f ? x : -87.3f;
  // Round to nearest by adding 1.5 2^23: the integer lands in the low mantissa bits of t.
  const float t = x * 1.44269504088896341f + 12582912.0f;
  const float n = t - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const uint32_t bits = (std::bit_cast<uint32_t>(t) - 0x4B400000u + 127u) << 23;
  return er * std::bit_cast<float>(bits);
}

/// log(1 + e) in float32 for 0 <= e <= 1 within about 1e-7 absolute, branch-free (softplus, the
/// activation of CGCNN, takes one per element of every convolution). log(1 + e) = 2 atanh(t) with
/// t = e / (2 + e) in [0, 1/3], exact for tiny e, and the odd series of atanh to t^11, whose
/// truncation (t^13 / 13 * 9/8 < 6e-8 at t = 1/3) is below float rounding of the result.
inline float log1p_unit_vectorisable(float e) {
  const float t = e / (2.0f + e);
  const float t2 = t * t;
  float p = 1.0f / 11.0f;
  p = p * t2 + 1.0f / 9.0f;
  p = p * t2 + 1.0f / 7.0f;
  p = p * t2 + 1.0f / 5.0f;
  p = p * t2 + 1.0f / 3.0f;
  p = p * t2 + 1.0f;
  return 2.0f * t * p;
}

/// e^x in float64 within 2 ulp, branch-free for the same reason (the Behler-Parrinello symmetry
/// functions take several per triplet). The same reduction with |r| <= ln2 / 2 (Cephes' split of
/// ln2) and the Taylor series to r^12, whose truncation (r^13 / 13! < 2e-16) is below an ulp.
/// Arguments are clamped to [-708.3, 709.0], where the result and 2^n are normal doubles.
inline double exp_vectorisable(double x) {
  x = x < 709.0 ? x : 709.0;
  x = x > -708.3 ? x : -708.3;
  // Round to nearest by adding 1.5 2^52: the integer lands in the low mantissa bits of t.
  constexpr double shift = 6755399441055744.0;
  const double t = x * 1.4426950408889634074 + shift;
  const double n = t - shift;
  const double r = (x - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  const double er = p * r * r + r + 1.0;
  const uint64_t bits = (std::bit_cast<uint64_t>(t) - std::bit_cast<uint64_t>(shift) + 1023u) << 52;
  return er * std::bit_cast<double>(bits);
}

}  // namespace matnn::ad::detail
