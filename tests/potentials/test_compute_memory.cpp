// The memory one compute call takes grows linearly with the atoms, at the rate documented in
// docs/results-potentials.md ("Memory a compute call takes"). Each test is its own process under
// CTest, so the peak resident set it reads is its own. Label "slow": sanitizer builds multiply
// memory use, so they do not run it.
#include <sys/resource.h>

#include <string>

#include <gtest/gtest.h>

#include "potentials/potential.hpp"

namespace matnn::potentials {
namespace {

double peak_rss_kB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss);
}

Structure fcc_copper(int n) {
  Structure cell;
  const double a = 3.61;
  cell.cell = Cell::Identity() * a;
  cell.pbc = {true, true, true};
  cell.numbers = {29, 29, 29, 29};
  cell.positions.resize(4, 3);
  cell.positions << 0, 0, 0, 0.5 * a, 0.5 * a, 0, 0.5 * a, 0, 0.5 * a, 0, 0.5 * a, 0.5 * a;
  Structure s = make_supercell(cell, {n, n, n});
  for (Eigen::Index i = 0; i < s.positions.rows(); ++i) {
    for (int k = 0; k < 3; ++k) s.positions(i, k) += 0.05 * std::sin(1.7 * static_cast<double>(i) + k);
  }
  return s;
}

// Peak growth per atom of energy + forces + stress (float32, the model's defaults) for 2048 and
// then 6912 atoms, over a process that has already run a 32-atom cell. Measured: NequIP-style 90
// and 104 kB per atom, Behler-Parrinello 12 and 13; the bounds leave 25 to 50 % for allocators.
void expect_linear_memory(const std::string& architecture, double bound_kB_per_atom) {
  const Potential potential(architecture, nlohmann::json::object(), {29}, 1, 0);
  (void)potential.compute(fcc_copper(2));
  const double baseline = peak_rss_kB();
  double previous = 0;
  for (const int n : {8, 12}) {
    const Structure s = fcc_copper(n);
    (void)potential.compute(s);
    const double per_atom = (peak_rss_kB() - baseline) / static_cast<double>(s.size());
    std::printf("%s, %zu atoms: %.1f kB per atom\n", architecture.c_str(), s.size(), per_atom);
    EXPECT_LT(per_atom, bound_kB_per_atom) << s.size() << " atoms";
    // Linear: the larger cell takes no more per atom than the smaller one (with 30 % slack: measured 1.16 for NequIP).
    if (previous > 0) {
      EXPECT_LT(per_atom, 1.3 * previous) << s.size() << " atoms";
    }
    previous = per_atom;
  }
}

TEST(ComputeMemory, NequipIsLinearInAtoms) { expect_linear_memory("nequip", 130.0); }
TEST(ComputeMemory, BehlerParrinelloIsLinearInAtoms) { expect_linear_memory("behler_parrinello", 20.0); }

}  // namespace
}  // namespace matnn::potentials
