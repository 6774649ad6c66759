// One Kalman-filter update (nn/kalman.hpp) for n weights, m measurements and covariance blocks
// of at most b weights: the covariance products X_b = P_b H_b^T and P_b - W_b W_b^T dominate
// (about 3 b^2 m flops per block; P is n^2 doubles, 29 MB for the 1901 weights of a one-element
// n2p2-size Behler-Parrinello model, and n b doubles, 1.1 GB, for the 28,000 of a NequIP-style
// model at its defaults in blocks of 5120). The measurements are a linear map of the weights,
// so the m reverse passes are cheap and the time is the filter's.
//   ./build/benchmarks/bench_kalman
#include <benchmark/benchmark.h>

#include <Eigen/Dense>

#include <algorithm>
#include <random>

#include "autodiff/ops.hpp"
#include "nn/kalman.hpp"
#include "nn/kalman_covariance.hpp"

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
    ->Args({10016, 10, 5120})->Args({10016, 26, 5120})->Unit(benchmark::kMillisecond);

// The two covariance products of one block (b = 5120, m = 10) alone: the fused kernel the
// filter uses (nn/kalman_covariance.hpp: the previous update's downdate and this one's product
// in one pass) against the Eigen expressions it replaced (a symmetric product and a rank update
// on the lower triangle, compiled for the build's baseline SSE2). "GB/s" counts the traffic of
// the two separate passes (the triangle read, then read and written), for both.
struct CovarianceBlock {
  Eigen::MatrixXd p, h, w;
  explicit CovarianceBlock(Eigen::Index n, Eigen::Index m)
      : p(Eigen::MatrixXd::Identity(n, n) * 100.0), h(Eigen::MatrixXd::Random(m, n)),
        w(Eigen::MatrixXd::Random(n, m) * 1e-3) {}
};

void set_counters(benchmark::State& state, double n, double m) {
  const double per_iteration = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(3.0 * n * n * m * per_iteration * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(1.5 * n * n * 8.0 * per_iteration * 1e-9, benchmark::Counter::kIsRate);
}

void BM_CovarianceKernels(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0)), m = static_cast<Eigen::Index>(state.range(1));
  CovarianceBlock block(n, m);
  nn::detail::LowerColumns p(n, 0, n);  // the filter's packed lower triangle
  for (Eigen::Index j = 0; j < n; ++j) p.column(j)[0] = block.p(j, j);
  Eigen::MatrixXd x(n, m);
  for (auto _ : state) {
    nn::detail::downdate_then_product(p, block.w.data(), m, 1e-6, block.h.data(), m, x.data());
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state, static_cast<double>(n), static_cast<double>(m));
}
BENCHMARK(BM_CovarianceKernels)->Args({5120, 10})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CovarianceEigen(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0)), m = static_cast<Eigen::Index>(state.range(1));
  CovarianceBlock block(n, m);
  Eigen::MatrixXd x(n, m);
  for (auto _ : state) {
    x.noalias() = block.p.selfadjointView<Eigen::Lower>() * block.h.transpose();
    block.p.selfadjointView<Eigen::Lower>().rankUpdate(block.w, -1.0);
    block.p.diagonal().array() += 1e-6;
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state, static_cast<double>(n), static_cast<double>(m));
}
BENCHMARK(BM_CovarianceEigen)->Args({5120, 10})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
