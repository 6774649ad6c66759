// One Kalman-filter update (nn/kalman.hpp) for n weights and m measurements: the covariance
// products X = P H^T and P - W W^T dominate (about 3 n^2 m flops; P is n^2 doubles, 29 MB for
// the 1901 weights of a one-element n2p2-size Behler-Parrinello model). The measurements are a
// linear map of the weights, so the m reverse passes are cheap and the time is the filter's.
//   ./build/benchmarks/bench_kalman
#include <benchmark/benchmark.h>

#include <random>

#include "autodiff/ops.hpp"
#include "nn/kalman.hpp"

namespace {

using namespace matnn;

void BM_KalmanUpdate(benchmark::State& state) {
  const auto n = static_cast<std::int64_t>(state.range(0));
  const auto m = static_cast<std::int64_t>(state.range(1));
  std::mt19937_64 rng(1);
  ad::Tensor w = ad::randn({n, 1}, rng, ad::DType::f64, 0.0, 0.1).set_requires_grad(true);
  const ad::Tensor h = ad::randn({m, n}, rng, ad::DType::f64, 0.0, 0.1);
  nn::KalmanFilter filter({{"w.weight", w}}, {}, 1000);
  for (auto _ : state) {
    const ad::Tensor residuals = ad::reshape(ad::matmul(h, w), {m});
    filter.update(residuals);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(3.0 * static_cast<double>(n * n * m) * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KalmanUpdate)->Args({1901, 1})->Args({1901, 6})->Args({1901, 10})->Args({1901, 40})->Args({4000, 10})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
