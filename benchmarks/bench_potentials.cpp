// Energy + forces of a periodic fcc copper solid with each potential architecture at its default
// size (float32), for 64 and 4096 atoms on 1 and 2 threads; and of diamond silicon with the
// Behler-Parrinello model at n2p2's usual size (examples/configs/potentials/si_behler_parrinello.yaml:
// 48 functions, rc 6 A, a 25-25 network), the case issue 9's target names. Reports the time per atom and the
// dense (GEMM) floating-point work per atom, to set against the machine's sgemm peak measured by
// bench_linear, and the neighbours and triplets per atom (the work of the Behler-Parrinello symmetry
// functions, which are not GEMMs). Weights are untrained: the cost does not depend on their values.
// peak_rss_kB_per_atom is the process's peak resident memory so far over the atoms: run one case
// at a time (--benchmark_filter) for it to be that case's. For the cells of up to 4096 atoms, one
// more call is measured alone: call_rss_kB_per_atom is the resident memory it adds at its peak,
// started with the tensor pool and glibc's free heap emptied (the kernel's high-water mark reset through
// /proc/self/clear_refs; NaN where that is refused), tensor_peak_kB_per_atom the tensor storage
// alive at its peak, and neighbour_list_kB_per_atom the resident memory that building the
// neighbour list alone adds (search, edge indices and vectors). Most of that is the search's,
// freed before the call's peak, so call_rss less it understates what a call needs beyond its
// neighbour list (issue 9's measure); the list's own arrays are 24 bytes per edge.
#include <malloc.h>
#include <omp.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include <benchmark/benchmark.h>

#include "autodiff/buffer_pool.hpp"
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

Structure diamond_silicon(int nx, int ny, int nz) {
  Structure cell;
  const double a = 5.431;
  cell.cell = matnn::Cell::Identity() * a;
  cell.pbc = {true, true, true};
  cell.numbers.assign(8, 14);
  cell.positions.resize(8, 3);
  cell.positions << 0, 0, 0, 0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0, 0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.25, 0.75,
      0.75, 0.75, 0.25;
  cell.positions *= a;
  Structure s = matnn::make_supercell(cell, {nx, ny, nz});
  for (Eigen::Index i = 0; i < s.positions.rows(); ++i) {
    for (int k = 0; k < 3; ++k) s.positions(i, k) += 0.05 * std::sin(1.7 * static_cast<double>(i) + k);
  }
  return s;
}

// Edges (neighbours within the cutoff) and G4 triplets (pairs of neighbours j, k of one center
// with r_jk < rc too) per atom: the work of the symmetry functions, which run outside the GEMMs.
void count_neighbourhoods(benchmark::State& state, const Potential& potential, const Structure& s) {
  const auto graph = matnn::potentials::build_graph(s, potential.species(), potential.cutoff(), matnn::ad::DType::f64);
  const std::vector<double> v = graph.edge_vectors.to_vector();
  const double rc2 = potential.cutoff() * potential.cutoff();
  double triplets = 0;
  for (std::int64_t i = 0; i < graph.n_atoms; ++i)
    for (std::int64_t a = graph.center_offsets[i]; a < graph.center_offsets[i + 1]; ++a)
      for (std::int64_t b = a + 1; b < graph.center_offsets[i + 1]; ++b) {
        double d2 = 0;
        for (int c = 0; c < 3; ++c) d2 += (v[3 * b + c] - v[3 * a + c]) * (v[3 * b + c] - v[3 * a + c]);
        triplets += d2 < rc2 ? 1 : 0;
      }
  const auto n = static_cast<double>(graph.n_atoms);
  state.counters["edges_per_atom"] = static_cast<double>(graph.n_edges) / n;
  state.counters["triplets_per_atom"] = triplets / n;
}

// A "Key:   123 kB" line of /proc/self/status, in kB (-1 when absent).
double status_kB(const std::string& key) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1));
  return -1;
}

// Peak resident memory that `work` adds, started with the tensor pool and glibc's free heap
// emptied (the kernel's high-water mark reset through /proc/self/clear_refs), in kB; NaN where
// the reset is refused.
template <typename Work>
double resident_growth_kB(Work&& work) {
  matnn::ad::release_cached_buffers();
  malloc_trim(0);  // glibc's free heap, which the work would otherwise reuse unseen
  const double before_kB = status_kB("VmRSS");
  std::FILE* clear = std::fopen("/proc/self/clear_refs", "w");
  const bool reset = clear != nullptr && std::fputs("5", clear) >= 0;  // 5: reset the peak resident set
  if (clear != nullptr) std::fclose(clear);
  work();
  return reset ? status_kB("VmHWM") - before_kB : std::numeric_limits<double>::quiet_NaN();
}

// One call measured alone: the resident memory it adds and the tensors it holds at its peak, and
// the resident memory of building its neighbour list alone (the list and the edge vectors).
void measure_one_call(benchmark::State& state, const Potential& potential, const Structure& s) {
  const double n = static_cast<double>(s.size());
  state.counters["neighbour_list_kB_per_atom"] = resident_growth_kB([&] {
    const auto graph = matnn::potentials::build_graph(s, potential.species(), potential.cutoff(), potential.dtype());
    benchmark::DoNotOptimize(graph.n_edges);
  }) / n;
  std::size_t tensors_before = 0;
  state.counters["call_rss_kB_per_atom"] = resident_growth_kB([&] {
    tensors_before = matnn::ad::tensor_bytes_in_use();
    matnn::ad::reset_peak_tensor_bytes();
    const auto result = potential.compute(s, {.forces = true, .stress = false});
    benchmark::DoNotOptimize(result.energy);
  }) / n;
  state.counters["tensor_peak_kB_per_atom"] =
      static_cast<double>(matnn::ad::peak_tensor_bytes() - tensors_before) / 1024.0 / n;
}

void energy_and_forces(benchmark::State& state, const char* architecture, bool silicon = false,
                       const nlohmann::json& config = nlohmann::json::object(),
                       std::size_t block_atoms = matnn::potentials::ComputeRequest::default_block_atoms) {
  const int atoms = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  // 64, 4096, 32768 and 1048576 atoms; the last is evaluated in blocks of `block_atoms` (by
  // default ComputeRequest's, 65536; BM_NequipBlocks varies it), which bounds its memory.
  const Structure s = silicon         ? (atoms == 64 ? diamond_silicon(2, 2, 2) : diamond_silicon(8, 8, 8))
                      : atoms == 64     ? fcc_copper(4, 2, 2)
                      : atoms == 4096 ? fcc_copper(16, 8, 8)
                      : atoms == 32768 ? fcc_copper(32, 16, 16)
                                       : fcc_copper(64, 64, 64);
  const Potential potential(architecture, config, {s.numbers.front()}, 1, 0);
  omp_set_num_threads(threads);
  const bool large = atoms > 4096;  // timed once, without warm-up or neighbourhood census
  if (!large) potential.compute(s, {.forces = true, .stress = false});  // warm-up: allocations, caches
  const std::uint64_t flops_before = matnn::ad::gemm_flop_count();
  for (auto _ : state) {
    const auto result = potential.compute(s, {.forces = true, .stress = false, .block_atoms = block_atoms});
    benchmark::DoNotOptimize(result.energy);
  }
  const double flops = static_cast<double>(matnn::ad::gemm_flop_count() - flops_before);
  const double n = static_cast<double>(s.size());
  state.counters["time_per_atom"] = benchmark::Counter(static_cast<double>(state.iterations()) * n,
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
                                                     benchmark::Counter::OneK::kIs1000);
  state.counters["gemm_flop_per_atom"] = flops / static_cast<double>(state.iterations()) / n;
  state.counters["gemm_GFLOPs"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_kB_per_atom"] = static_cast<double>(usage.ru_maxrss) / n;
  state.counters["peak_rss_MB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  if (!large) {
    count_neighbourhoods(state, potential, s);
    measure_one_call(state, potential, s);
  }
  state.SetLabel(std::string(architecture) + ", " + std::to_string(s.size()) + " atoms, " + std::to_string(threads) +
                 " thread(s), blocks of " + std::to_string(block_atoms));
  omp_set_num_threads(2);
}

void BM_BehlerParrinello(benchmark::State& state) { energy_and_forces(state, "behler_parrinello"); }
void BM_Nequip(benchmark::State& state) { energy_and_forces(state, "nequip"); }
// The 2^20-atom cell in blocks of range(2) atoms: the time per atom that the blocks' ghost
// shells cost, against the memory a larger block takes.
void BM_NequipBlocks(benchmark::State& state) {
  energy_and_forces(state, "nequip", false, nlohmann::json::object(), static_cast<std::size_t>(state.range(2)));
}
void BM_BehlerParrinelloN2p2Si(benchmark::State& state) {
  energy_and_forces(state, "behler_parrinello", true,
                    nlohmann::json::parse(R"({"cutoff": 6.0, "radial": {"count": 16},
                      "angular": {"eta": [0.0, 0.0278, 0.111, 0.25], "zeta": [1, 2, 4, 16], "lambda": [1, -1]},
                      "hidden": [25, 25]})"));
}

BENCHMARK(BM_BehlerParrinello)->ArgsProduct({{64, 4096}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Nequip)->ArgsProduct({{64, 4096}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BehlerParrinelloN2p2Si)->ArgsProduct({{64, 4096}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
// Large cells, evaluated in blocks: one timed call each (about 1.5 and 4 minutes for 10^6 atoms).
BENCHMARK(BM_BehlerParrinello)->ArgsProduct({{32768, 1048576}, {2}})->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_Nequip)->ArgsProduct({{32768, 1048576}, {2}})->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_NequipBlocks)
    ->ArgsProduct({{1048576}, {2}, {16384, 65536, 262144}})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
