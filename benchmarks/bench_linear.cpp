// Linear-layer throughput of the autodiff engine (float32), in GFLOP/s:
//   BM_LinearForward          y = x W + b                       2 n w^2 flops
//   BM_LinearForwardBackward  forward + dX, dW, db via grad()   6 n w^2 flops (bias terms ignored)
//   BM_RawSgemm               one dnnl_sgemm of the forward size 2 n w^2 flops
// for square widths w and a batch of n = 4096 rows; backend 0 = oneDNN, 1 = Eigen.
#include <benchmark/benchmark.h>
#include <dnnl.h>

#include <random>

#include "autodiff/ops.hpp"

namespace {

using namespace matnn::ad;

constexpr int64_t kBatch = 4096;

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate);
}

struct Layer {
  Tensor x, w, b, gout;
  explicit Layer(int64_t width, bool requires_grad) {
    std::mt19937_64 rng(1);
    x = randn({kBatch, width}, rng, DType::f32).set_requires_grad(requires_grad);
    w = randn({width, width}, rng, DType::f32, 0.0, 0.1).set_requires_grad(requires_grad);
    b = randn({width}, rng, DType::f32).set_requires_grad(requires_grad);
    gout = randn({kBatch, width}, rng, DType::f32);
  }
};

GemmBackend backend_arg(const benchmark::State& state) {
  return state.range(1) == 0 ? GemmBackend::onednn : GemmBackend::eigen;
}

void BM_LinearForward(benchmark::State& state) {
  const int64_t width = state.range(0);
  set_gemm_backend(backend_arg(state));
  const Layer layer(width, false);
  for (auto _ : state) {
    Tensor y = linear(layer.x, layer.w, layer.b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_flops(state, 2.0 * kBatch * width * width);
  state.SetLabel(gemm_backend_name(backend_arg(state)));
}

void BM_LinearForwardBackward(benchmark::State& state) {
  const int64_t width = state.range(0);
  set_gemm_backend(backend_arg(state));
  const Layer layer(width, true);
  for (auto _ : state) {
    Tensor y = linear(layer.x, layer.w, layer.b);
    std::vector<Tensor> g = grad({y}, {layer.x, layer.w, layer.b}, {layer.gout});
    benchmark::DoNotOptimize(g[1].raw_data());
  }
  set_flops(state, 6.0 * kBatch * width * width);
  state.SetLabel(gemm_backend_name(backend_arg(state)));
}

void BM_RawSgemm(benchmark::State& state) {
  const int64_t width = state.range(0);
  const Layer layer(width, false);
  Tensor c = empty({kBatch, width}, DType::f32);
  for (auto _ : state) {
    const dnnl_status_t s = dnnl_sgemm('N', 'N', kBatch, width, width, 1.0f, layer.x.data<float>(), width,
                                       layer.w.data<float>(), width, 0.0f, c.data<float>(), width);
    if (s != dnnl_success) state.SkipWithError("dnnl_sgemm failed");
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(state, 2.0 * kBatch * width * width);
  state.SetLabel("dnnl_sgemm");
}

void widths_and_backends(benchmark::internal::Benchmark* b) {
  b->ArgNames({"width", "backend"});
  for (int64_t backend : {0, 1})
    for (int64_t w : {32, 64, 128, 256, 512}) b->Args({w, backend});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(BM_LinearForward)->Apply(widths_and_backends);
BENCHMARK(BM_LinearForwardBackward)->Apply(widths_and_backends);
BENCHMARK(BM_RawSgemm)
    ->ArgName("width")
    ->Arg(32)->Arg(64)->Arg(128)->Arg(256)->Arg(512)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
