// Reading and writing one extended XYZ frame of 10^5 atoms (species, positions, forces), the
// size of a large MD snapshot: atoms per second through read_extxyz and write_extxyz.
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include "matnn/extxyz.hpp"

namespace {

constexpr int kAtoms = 100000;

std::string large_frame() {
  std::string text = std::to_string(kAtoms) +
                     "\nLattice=\"100 0 0 0 100 0 0 0 100\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1\n";
  const char* symbols[] = {"Fe", "Ni", "Cr", "O"};
  for (int i = 0; i < kAtoms; ++i) {
    text += symbols[i % 4];
    for (int k = 0; k < 6; ++k) text += ' ' + std::to_string((i * 7 + k * 13) % 1000 * 0.0999999917 - 3.25);
    text += '\n';
  }
  return text;
}

void BM_ReadExtxyz(benchmark::State& state) {
  const std::string text = large_frame();
  for (auto _ : state) {
    std::istringstream in(text);
    benchmark::DoNotOptimize(matnn::read_extxyz(in, "bench.xyz"));
  }
  state.SetItemsProcessed(state.iterations() * kAtoms);
}

void BM_WriteExtxyz(benchmark::State& state) {
  std::istringstream in(large_frame());
  const auto records = matnn::read_extxyz(in, "bench.xyz");
  for (auto _ : state) {
    std::ostringstream out;
    matnn::write_extxyz(out, records);
    benchmark::DoNotOptimize(out.str().size());
  }
  state.SetItemsProcessed(state.iterations() * kAtoms);
}

BENCHMARK(BM_ReadExtxyz)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteExtxyz)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
