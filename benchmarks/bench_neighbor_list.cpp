// Neighbour-list construction for fcc copper supercells (a = 3.61 A, cutoff 5.0 A, half list):
// about 10^3, 10^4, 10^5 and 10^6 atoms. Reports pairs, ns per atom, and the fitted complexity.
//
//   bench_neighbor_list --benchmark_filter=. [--benchmark_repetitions=3]

#include <benchmark/benchmark.h>

#include <cmath>

#include "matnn/neighbor_list.hpp"

namespace {

// repeat^3 conventional cells of 4 atoms each, positions jittered deterministically by a few
// hundredths of an Angstrom so that no distance sits exactly on a shell.
matnn::Structure fcc_copper(int repeat) {
  const double a = 3.61;
  const double basis[4][3] = {{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
  matnn::Structure s;
  s.pbc = {true, true, true};
  s.cell = matnn::Cell::Identity() * (a * repeat);
  const long n = 4L * repeat * repeat * repeat;
  s.numbers.assign(static_cast<std::size_t>(n), 29);
  s.positions.resize(n, 3);
  long i = 0;
  for (int x = 0; x < repeat; ++x)
    for (int y = 0; y < repeat; ++y)
      for (int z = 0; z < repeat; ++z)
        for (const auto& b : basis) {
          for (int k = 0; k < 3; ++k) {
            const double cell_index = k == 0 ? x : (k == 1 ? y : z);
            const double jitter = 0.03 * std::sin(12.9898 * double(i) + 78.233 * k);
            s.positions(i, k) = a * (cell_index + b[k]) + jitter;
          }
          ++i;
        }
  return s;
}

void BM_NeighborListFccCopperHalf(benchmark::State& state) {
  const matnn::Structure s = fcc_copper(static_cast<int>(state.range(0)));
  const auto natoms = static_cast<std::int64_t>(s.size());
  std::size_t pairs = 0;
  for (auto _ : state) {
    const matnn::NeighborList list = matnn::build_neighbor_list(s, 5.0, matnn::NeighborListKind::half);
    pairs = list.size();
    benchmark::DoNotOptimize(list.first.data());
  }
  state.SetComplexityN(natoms);
  state.counters["atoms"] = static_cast<double>(natoms);
  state.counters["pairs"] = static_cast<double>(pairs);
  state.counters["pairs_per_atom"] = static_cast<double>(pairs) / static_cast<double>(natoms);
  // Seconds per atom per iteration, shown in ns by the inverted rate.
  state.counters["ns_per_atom"] = benchmark::Counter(
      static_cast<double>(natoms) * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// 4 * n^3 atoms: 6 -> 864, 14 -> 10976, 29 -> 97556, 63 -> 1000188.
BENCHMARK(BM_NeighborListFccCopperHalf)
    ->Arg(6)
    ->Arg(14)
    ->Arg(29)
    ->Arg(63)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Complexity(benchmark::oN);

}  // namespace

BENCHMARK_MAIN();
