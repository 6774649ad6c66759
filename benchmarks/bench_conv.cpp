// Convolution and pooling throughput of the autodiff engine (float32), in GFLOP/s, next to the
// GEMM peak measured in the same run (BM_SgemmPeak: one 1024^3 dnnl_sgemm):
//   BM_Conv/<layer>/<pass>/<backend>  pass 0 = forward, 1 = backward data, 2 = backward weights;
//                                      backend 0 = oneDNN's primitives, 1 = the plain im2col path
//   BM_AvgPool/<layer>/<backend>      forward + adjoint of a 2-wide window, in GB/s of input read
// Layers: 0 = a spectrum layer (32 patterns, 16 -> 32 channels, 4501 points, kernel 7, padding 3),
//         1 = an image layer (16 images, 16 -> 16 channels, 128 x 128 pixels, 3 x 3, padding 1).
// The label names the oneDNN implementation that ran (e.g. "gemm:jit", "jit:avx512_core"). Each
// pass runs once before timing: creating a primitive (JIT compilation) is a one-off cost per
// shape, about 0.25 s for these layers.
#include <benchmark/benchmark.h>
#include <dnnl.h>

#include <random>
#include <vector>

#include "autodiff/conv_kernels.hpp"
#include "autodiff/ops.hpp"

namespace {

using namespace matnn::ad;

struct Layer {
  Shape x, w;
  ConvOptions options;
};

Layer layer(int64_t which) {
  if (which == 0) return {{32, 16, 4501}, {32, 16, 7}, {{1}, {3}, {1}}};
  return {{16, 16, 128, 128}, {16, 16, 3, 3}, {{1}, {1}, {1}}};
}

void BM_Conv(benchmark::State& state) {
  const Layer l = layer(state.range(0));
  const int64_t pass = state.range(1);
  const GemmBackend backend = state.range(2) == 0 ? GemmBackend::onednn : GemmBackend::eigen;
  set_gemm_backend(backend);
  std::mt19937_64 rng(3);
  const Tensor x = randn(l.x, rng, DType::f32), w = randn(l.w, rng, DType::f32, 0.0, 0.1);
  const Tensor y = conv(x, w, Tensor(), l.options);
  const Tensor gy = randn(y.shape(), rng, DType::f32);
  auto run_pass = [&] {
    return pass == 0 ? conv(x, w, Tensor(), l.options)
           : pass == 1 ? conv_input_grad(gy, w, l.x, l.options)
                       : conv_weight_grad(x, gy, l.w, l.options);
  };
  run_pass();  // creating (JIT-compiling) the primitive is a one-off cost per shape, not timed
  for (auto _ : state) {
    Tensor out = run_pass();
    benchmark::DoNotOptimize(out.raw_data());
  }
  const double flops = 2.0 * static_cast<double>(y.numel()) * static_cast<double>(w.numel() / l.w[0]);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
  const detail::Geometry2d g = detail::conv_geometry("bench", l.x, l.w, l.options.stride, l.options.padding,
                                                     l.options.dilation);
  const char* passes[] = {"forward", "backward_data", "backward_weights"};
  state.SetLabel(backend == GemmBackend::onednn ? detail::onednn_conv_implementation(g, passes[pass]) : "im2col+eigen");
  set_gemm_backend(GemmBackend::onednn);
}
BENCHMARK(BM_Conv)->ArgsProduct({{0, 1}, {0, 1, 2}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AvgPool(benchmark::State& state) {
  const Layer l = layer(state.range(0));
  const GemmBackend backend = state.range(1) == 0 ? GemmBackend::onednn : GemmBackend::eigen;
  set_gemm_backend(backend);
  std::mt19937_64 rng(4);
  const Tensor x = randn(l.x, rng, DType::f32);
  const PoolOptions window{{2}, {}, {}};
  for (auto _ : state) {
    Tensor back = avg_pool_adjoint(avg_pool(x, window), l.x, window);
    benchmark::DoNotOptimize(back.raw_data());
  }
  state.counters["GB/s"] = benchmark::Counter(4.0 * static_cast<double>(x.numel()) * static_cast<double>(state.iterations()) * 1e-9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel(backend == GemmBackend::onednn ? "onednn" : "plain");
  set_gemm_backend(GemmBackend::onednn);
}
BENCHMARK(BM_AvgPool)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SgemmPeak(benchmark::State& state) {
  constexpr int64_t n = 1024;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  for (auto _ : state) {
    dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SgemmPeak)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
