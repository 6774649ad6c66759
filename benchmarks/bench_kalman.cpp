// One Kalman-filter update (nn/kalman.hpp) for n weights, m measurements and covariance blocks
// of at most b weights: the covariance products X_b = P_b H_b^T and P_b - W_b W_b^T dominate
// (about 3 b^2 m flops per block; P is n^2 doubles, 29 MB for the 1901 weights of a one-element
// n2p2-size Behler-Parrinello model, and n b doubles, 1.1 GB, for the 28,000 of a NequIP-style
// model at its defaults in blocks of 5120). The measurements are a linear map of the weights,
// so the m reverse passes are cheap and the time is the filter's.
//   ./build/benchmarks/bench_kalman
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>

#include "autodiff/ops.hpp"
#include "nn/kalman.hpp"

namespace {

using namespace matnn;

void BM_KalmanUpdate(benchmark::State& state) {
  const auto n = static_cast<std::int64_t>(state.range(0));
  const auto m = static_cast<std::int64_t>(state.range(1));
  const auto block = static_cast<std::int64_t>(state.range(2));
  std::mt19937_64 rng(1);
  ad::Tensor w = ad::randn({n, 1}, rng, ad::DType::f64, 0.0, 0.1).set_requires_grad(true);
  const ad::Tensor h = ad::randn({m, n}, rng, ad::DType::f64, 0.0, 0.1);
  nn::KalmanFilter filter({{"w.weight", w}}, {.block_size = static_cast<std::size_t>(block)}, 1000);
  for (auto _ : state) {
    const ad::Tensor residuals = ad::reshape(ad::matmul(h, w), {m});
    filter.update(residuals);
  }
  double flops = 0.0;
  for (std::int64_t begin = 0; begin < n; begin += block) {
    const auto rows = static_cast<double>(std::min(block, n - begin));
    flops += 3.0 * rows * rows * static_cast<double>(m);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KalmanUpdate)->Args({1901, 1, 5120})->Args({1901, 6, 5120})->Args({1901, 10, 5120})
    ->Args({1901, 40, 5120})->Args({4000, 10, 5120})->Args({28000, 10, 5120})->Args({28000, 10, 2048})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
