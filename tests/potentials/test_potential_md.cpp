// NVE molecular dynamics with a trained potential conserves energy. Slow (it trains first), so it
// carries the CTest label "slow" and stays out of the sanitizer run.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "matnn/dataset.hpp"
#include "matnn/extxyz.hpp"
#include "potentials/md.hpp"
#include "workflows/potential_job.hpp"

namespace matnn::potentials {
namespace {

TEST(PotentialMd, NveWithATrainedPotentialConservesEnergy) {
  const std::string dir = ::testing::TempDir() + "/matnn_md_test";
  std::filesystem::create_directories(dir);
  // Train a small Behler-Parrinello model on the shipped EMT copper MD data (energies and forces
  // of bulk snapshots at 300-1200 K): MD must stay where the model has seen data.
  std::vector<Record> records = read_extxyz(std::string(MATNN_EXAMPLES_DATA_DIR) + "/cu_emt_md.extxyz");
  records.resize(64);  // bulk MD snapshots at 300 and 600 K
  write_dataset(dir + "/data.h5", records);
  const nlohmann::json config = {
      {"dataset", dir + "/data.h5"},
      {"seed", 2},
      {"model", {{"kind", "behler_parrinello"}, {"cutoff", 4.5}, {"hidden", {16, 16}}}},
      {"split", {{"kind", "random"}, {"validation", 0.1}, {"test", 0.1}}},
      // A constant rate without weight averaging: in 10 epochs the recipe's cosine decay would
      // stop learning too early (this test is about MD, not the recipe).
      {"training", {{"epochs", 10}, {"batch_size", 8}, {"forces_weight", 10.0}, {"stress_weight", 0.0}, {"ema_decay", 0.0}}},
      {"optimizer", {{"name", "adam"}, {"lr", 5e-3}}},
      {"schedule", {{"name", "constant"}}},
      {"output", {{"model", dir + "/model.h5"}}}};
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  workflows::train_potential(config, quiet);

  // The same trajectory in float64 and in float32 (what hosts run by default). The bounds are
  // about 10 times the measured drift and 7 times the measured spread (meV/atom over 3 ps:
  // float64 drift 0.00047, max |dE| 0.0125; float32 drift 0.0011, max |dE| 0.0142), so a force
  // that stops being the energy's exact gradient, in either precision, fails the test.
  struct Bound {
    ad::DType dtype;
    double drift, spread;  // eV/atom
  };
  for (const Bound& bound : {Bound{ad::DType::f64, 1e-5, 1e-4}, Bound{ad::DType::f32, 1e-5, 1e-4}}) {
    Potential potential = Potential::load(dir + "/model.h5");
    potential.to(bound.dtype);
    Structure s = records[0].structure;  // a 300 K snapshot of 32 copper atoms
    Positions v = maxwell_boltzmann_velocities(s, 300.0, 11);
    const double dt = 1.0;   // fs
    const int steps = 3000;  // 3 ps
    const auto samples = run_nve(potential, s, v, dt, steps, 20);

    // Drift: a straight-line fit of the total energy over time; fluctuation: its spread.
    double t_mean = 0, e_mean = 0;
    for (const auto& m : samples) {
      t_mean += m.step / static_cast<double>(samples.size());
      e_mean += m.total / static_cast<double>(samples.size());
    }
    double cov = 0, var = 0, spread = 0;
    for (const auto& m : samples) {
      cov += (m.step - t_mean) * (m.total - e_mean);
      var += (m.step - t_mean) * (m.step - t_mean);
      spread = std::max(spread, std::abs(m.total - samples.front().total));
    }
    const double n = static_cast<double>(s.size());
    const double drift_per_atom = std::abs(cov / var) * steps / n;
    std::printf("NVE (%s) %d steps of %.1f fs, %zu atoms: drift %.3g meV/atom over the run, max |dE| %.3g meV/atom, "
                "T from %.0f K to %.0f K\n", bound.dtype == ad::DType::f64 ? "float64" : "float32", steps, dt, s.size(),
                1e3 * drift_per_atom, 1e3 * spread / n, samples.front().temperature, samples.back().temperature);
    EXPECT_LT(drift_per_atom, bound.drift);
    EXPECT_LT(spread / n, bound.spread);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace matnn::potentials
