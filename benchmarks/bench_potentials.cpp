// Energy + forces of a periodic fcc copper solid with each potential architecture at its default
// size (float32), for 64 and 4096 atoms on 1 and 2 threads. Reports the time per atom and the
// dense (GEMM) floating-point work per atom, to set against the machine's sgemm peak measured by
// bench_linear. Weights are untrained: the cost does not depend on their values.
#include <omp.h>

#include <benchmark/benchmark.h>

#include "autodiff/gemm.hpp"
#include "potentials/potential.hpp"

namespace {

using matnn::Structure;
using matnn::potentials::Potential;

Structure fcc_copper(int nx, int ny, int nz) {
  Structure cell;
  const double a = 3.61;
  cell.cell = matnn::Cell::Identity() * a;
  cell.pbc = {true, true, true};
  cell.numbers = {29, 29, 29, 29};
  cell.positions.resize(4, 3);
  cell.positions << 0, 0, 0, 0.5 * a, 0.5 * a, 0, 0.5 * a, 0, 0.5 * a, 0, 0.5 * a, 0.5 * a;
  Structure s = matnn::make_supercell(cell, {nx, ny, nz});
  // Thermal-like displacements so no symmetry makes the work unrepresentative.
  for (Eigen::Index i = 0; i < s.positions.rows(); ++i) {
    for (int k = 0; k < 3; ++k) s.positions(i, k) += 0.05 * std::sin(1.7 * static_cast<double>(i) + k);
  }
  return s;
}

void energy_and_forces(benchmark::State& state, const char* architecture) {
  const int atoms = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const Structure s = atoms == 64 ? fcc_copper(4, 2, 2) : fcc_copper(16, 8, 8);
  const Potential potential(architecture, nlohmann::json::object(), {29}, 1, 0);
  omp_set_num_threads(threads);
  potential.compute(s, {.forces = true, .stress = false});  // warm-up: allocations, caches
  const std::uint64_t flops_before = matnn::ad::gemm_flop_count();
  for (auto _ : state) {
    const auto result = potential.compute(s, {.forces = true, .stress = false});
    benchmark::DoNotOptimize(result.energy);
  }
  const double flops = static_cast<double>(matnn::ad::gemm_flop_count() - flops_before);
  const double n = static_cast<double>(s.size());
  state.counters["time_per_atom"] = benchmark::Counter(static_cast<double>(state.iterations()) * n,
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
                                                     benchmark::Counter::OneK::kIs1000);
  state.counters["gemm_flop_per_atom"] = flops / static_cast<double>(state.iterations()) / n;
  state.counters["gemm_GFLOPs"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(architecture) + ", " + std::to_string(s.size()) + " atoms, " + std::to_string(threads) +
                 " thread(s)");
  omp_set_num_threads(2);
}

void BM_BehlerParrinello(benchmark::State& state) { energy_and_forces(state, "behler_parrinello"); }
void BM_Nequip(benchmark::State& state) { energy_and_forces(state, "nequip"); }

BENCHMARK(BM_BehlerParrinello)->ArgsProduct({{64, 4096}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Nequip)->ArgsProduct({{64, 4096}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
