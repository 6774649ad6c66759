// Test setup for the C interface, on the C++ side (it links the engine, not libmatnn.so):
//
//   capi_fixture data DIR       writes DIR/data.h5 (Cu-Ni structures labelled by a Lennard-Jones
//                               pair potential, and a composition property "formation_energy")
//                               and the training configs DIR/potential.json (Behler-Parrinello),
//                               DIR/property.json, DIR/cgcnn.json, DIR/kalman.json and DIR/nequip/potential.json (a tiny NequIP-style
//                               model on the same data, trained by `matnn train` into
//                               DIR/nequip/potential.h5), and DIR/spectra.h5 with
//                               DIR/cnn1d.json (patterns whose peak position sets the class)
//   capi_fixture reference DIR  loads DIR/potential.h5 in float64 and writes DIR/reference.txt:
//                               the engine's own results for a few structures, which the C tests
//                               must reproduce through libmatnn.so (DIR/nequip for the NequIP model)
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "potentials/potential.hpp"

namespace {

using matnn::Positions;
using matnn::Record;
using matnn::Structure;

constexpr double lj_cutoff = 4.0;

double lj_sigma(int zi, int zj) { return zi == 28 && zj == 28 ? 2.25 : (zi == 29 && zj == 29 ? 2.30 : 2.28); }

// Energy and forces of a truncated, shifted Lennard-Jones potential, summing periodic images by
// brute force (cells are small, so several images lie within the cutoff).
void lennard_jones(const Structure& s, double& energy, Positions& forces) {
  const auto n = static_cast<Eigen::Index>(s.size());
  energy = 0.0;
  forces = Positions::Zero(n, 3);
  const int images = s.any_periodic() ? 2 : 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      for (int a = -images; a <= images; ++a) {
        for (int b = -images; b <= images; ++b) {
          for (int c = -images; c <= images; ++c) {
            if ((a != 0 && !s.pbc[0]) || (b != 0 && !s.pbc[1]) || (c != 0 && !s.pbc[2])) continue;
            if (i == j && a == 0 && b == 0 && c == 0) continue;
            const Eigen::Vector3d shift = a * s.cell.row(0) + b * s.cell.row(1) + c * s.cell.row(2);
            const Eigen::Vector3d d = s.positions.row(j).transpose() + shift - s.positions.row(i).transpose();
            const double r = d.norm();
            if (r >= lj_cutoff) continue;
            const double sg = lj_sigma(s.numbers[static_cast<std::size_t>(i)], s.numbers[static_cast<std::size_t>(j)]);
            const double eps = 0.2;
            const double sr6 = std::pow(sg / r, 6), sc6 = std::pow(sg / lj_cutoff, 6);
            energy += 0.5 * 4 * eps * ((sr6 * sr6 - sr6) - (sc6 * sc6 - sc6));
            const double dvdr = 4 * eps * (-12 * sr6 * sr6 + 6 * sr6) / r;
            forces.row(i) += (dvdr * d / r).transpose();  // -dE/dr_i for the pair, both halves
          }
        }
      }
    }
  }
}

// Structures: fcc-like 4-atom cells (periodic) and small clusters, Cu/Ni, randomly displaced.
std::vector<Structure> structures(int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> jitter(0.0, 0.08);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  std::vector<Structure> out;
  for (int k = 0; k < count; ++k) {
    Structure s;
    const bool periodic = k % 4 != 3;
    const double a = 3.55 + 0.1 * unit(rng);
    const int reps = periodic ? 1 : 2;  // clusters: 2 x 1 x 1 blocks of the cell
    for (int r = 0; r < reps; ++r) {
      for (const auto& p : basis) {
        s.numbers.push_back(unit(rng) < 0.5 ? 29 : 28);
        const Eigen::Index row = s.positions.rows();
        s.positions.conservativeResize(row + 1, 3);
        for (int d = 0; d < 3; ++d) s.positions(row, d) = a * (p[d] + (d == 0 ? r : 0)) + jitter(rng);
      }
    }
    if (periodic) {
      s.cell = matnn::Cell::Identity() * a;
      s.cell(0, 1) = 0.15 * unit(rng);  // slightly triclinic
      s.pbc = {true, true, true};
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Patterns on 10..50 degrees (201 points): a peak whose position sets "above_30" (class 1 above
// 30 degrees), a fixed weaker peak at 20, and a little noise; test_signals.c trains on them.
void write_spectra(const std::string& dir) {
  std::vector<double> axis(201);
  for (std::size_t i = 0; i < axis.size(); ++i) axis[i] = 10.0 + 0.2 * static_cast<double>(i);
  std::mt19937_64 rng(23);
  std::vector<Record> records;
  for (int k = 0; k < 96; ++k) {
    const double centre = 14.0 + 32.0 * static_cast<double>(rng() % 1000) / 1000.0;
    std::vector<float> v;
    for (double t : axis)
      v.push_back(static_cast<float>(std::exp(-0.5 * std::pow((t - centre) / 0.4, 2)) +
                                     0.3 * std::exp(-0.5 * std::pow((t - 20.0) / 0.4, 2)) +
                                     0.01 * static_cast<double>(rng() % 100) / 100.0));
    Record r;
    r.signals.emplace("xrd", matnn::make_spectrum(axis, std::move(v), "2theta", "degree"));
    r.properties["above_30"] = {centre > 30 ? 1.0 : 0.0};
    records.push_back(std::move(r));
  }
  matnn::write_dataset(dir + "/spectra.h5", records);
  const nlohmann::json cnn1d = {
      {"dataset", dir + "/spectra.h5"},
      {"seed", 5},
      {"model",
       {{"kind", "cnn1d"}, {"signal", "xrd"}, {"task", "classification"}, {"target", "above_30"},
        {"channels", {4, 8, 8}}, {"kernel", 5}, {"hidden", 8}, {"dropout", 0.1}, {"ensemble", 2}}},
      {"split", {{"kind", "random"}, {"validation", 0.1}, {"test", 0.1}}},
      {"training", {{"epochs", 20}, {"batch_size", 16}}},
      {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
      {"output", {{"model", dir + "/cnn1d.h5"}}}};
  std::ofstream(dir + "/cnn1d.json") << cnn1d.dump(2);
}

void write_data(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::vector<Record> records;
  for (const Structure& s : structures(24, 1)) {
    Record r;
    r.structure = s;
    double e = 0;
    Positions f;
    lennard_jones(s, e, f);
    r.properties["energy"] = {e};
    r.atom_properties["forces"] = f;
    double ni = 0;
    for (int z : s.numbers) ni += z == 28 ? 1.0 : 0.0;
    const double x = ni / static_cast<double>(s.size());
    r.properties["formation_energy"] = {-0.1 * x * (1 - x)};
    records.push_back(std::move(r));
  }
  matnn::DatasetWriteOptions options;
  options.units["formation_energy"] = "eV/atom";
  matnn::write_dataset(dir + "/data.h5", records, options);

  const nlohmann::json potential = {
      {"dataset", dir + "/data.h5"},
      {"seed", 3},
      {"model",
       {{"kind", "behler_parrinello"}, {"cutoff", 3.5}, {"hidden", {8}}, {"ensemble", 2},
        {"radial", {{"count", 4}}}}},
      {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.1}}},
      {"training", {{"epochs", 2}, {"batch_size", 8}}},
      {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
      {"output", {{"model", dir + "/unused.h5"}}}};
  const nlohmann::json property = {
      {"dataset", dir + "/data.h5"},
      {"seed", 3},
      {"model",
       {{"kind", "composition_mlp"}, {"target", "formation_energy"}, {"hidden", {8}}, {"dropout", 0.1},
        {"ensemble", 1}}},  // one member: any spread test_property.c sees comes from MC dropout
      {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.1}}},
      {"training", {{"epochs", 3}, {"batch_size", 8}}},
      {"output", {{"model", dir + "/property.h5"}}}};
  // A tiny CGCNN (the structure-based property model) on the same label.
  const nlohmann::json cgcnn = {
      {"dataset", dir + "/data.h5"},
      {"seed", 3},
      {"model",
       {{"kind", "cgcnn"}, {"target", "formation_energy"}, {"radius", 4.0}, {"atom_features", 8}, {"hidden", 8},
        {"n_conv", 1}, {"ensemble", 2}}},
      {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.1}}},
      {"training", {{"epochs", 2}, {"batch_size", 8}}},
      {"output", {{"model", dir + "/cgcnn.h5"}}}};
  // NequIP-style: two interaction blocks, so that compute_local's ghosts carry messages over two
  // hops (interaction range 2 x 3.2 = 6.4 Angstrom; test_compute.c expects these numbers), l_max 2
  // so that every coupling path up to l = 2 runs; 8 channels and 10 epochs keep training under a
  // second. The ensemble gives energy_sigma and force deviations that are not zero.
  const nlohmann::json nequip = {
      {"dataset", dir + "/data.h5"},
      {"seed", 3},
      {"model",
       {{"kind", "nequip"}, {"cutoff", 3.2}, {"channels", 8}, {"l_max", 2}, {"num_layers", 2}, {"num_basis", 6},
        {"radial_hidden", 8}, {"radial_layers", 1}, {"avg_num_neighbors", 10.0}, {"ensemble", 2}}},
      {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.1}}},
      {"training", {{"epochs", 10}, {"batch_size", 4}}},
      {"optimizer", {{"name", "adam"}, {"lr", 5e-3}}},
      {"output", {{"model", dir + "/nequip/potential.h5"}}}};
  std::filesystem::create_directories(dir + "/nequip");
  std::ofstream(dir + "/potential.json") << potential.dump(2);
  std::ofstream(dir + "/property.json") << property.dump(2);
  std::ofstream(dir + "/cgcnn.json") << cgcnn.dump(2);
  std::ofstream(dir + "/nequip/potential.json") << nequip.dump(2);
  // The Kalman filter, which trains on one MPI rank only (test_train_comm.c).
  nlohmann::json kalman = potential;
  kalman["optimizer"] = {{"name", "kalman"}};
  kalman["output"]["model"] = dir + "/kalman.h5";
  std::ofstream(dir + "/kalman.json") << kalman.dump(2);
  write_spectra(dir);
}

// One structure per line group, every number with 17 significant digits:
//   natoms periodic
//   cell (9), numbers (natoms), positions (natoms x 3)
//   energy energy_sigma max_force_deviation, energies, forces, stress (6; zeros when not periodic),
//   force_deviation
void write_reference(const std::string& dir) {
  matnn::potentials::Potential potential = matnn::potentials::Potential::load(dir + "/potential.h5");
  potential.to(matnn::ad::DType::f64);
  std::string text;
  const std::vector<Structure> cases = structures(4, 99);
  text += fmt::format("{}\n", cases.size());
  for (const Structure& s : cases) {
    const auto r = potential.compute(s);
    text += fmt::format("{} {}\n", s.size(), s.fully_periodic() ? 1 : 0);
    for (int i = 0; i < 9; ++i) text += fmt::format("{:.17g} ", s.cell(i / 3, i % 3));
    text += "\n";
    for (int z : s.numbers) text += fmt::format("{} ", z);
    text += "\n";
    for (Eigen::Index i = 0; i < s.positions.size(); ++i) text += fmt::format("{:.17g} ", s.positions(i / 3, i % 3));
    text += fmt::format("\n{:.17g} {:.17g} {:.17g}\n", r.energy, r.energy_sigma, r.max_force_deviation);
    for (Eigen::Index i = 0; i < r.energies.size(); ++i) text += fmt::format("{:.17g} ", r.energies[i]);
    text += "\n";
    for (Eigen::Index i = 0; i < r.forces.size(); ++i) text += fmt::format("{:.17g} ", r.forces(i / 3, i % 3));
    text += "\n";
    for (double v : r.stress) text += fmt::format("{:.17g} ", v);
    text += "\n";
    for (Eigen::Index i = 0; i < r.force_deviation.size(); ++i) text += fmt::format("{:.17g} ", r.force_deviation[i]);
    text += "\n";
  }
  std::ofstream(dir + "/reference.txt") << text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: capi_fixture data|reference DIR\n");
    return 2;
  }
  try {
    const std::string mode = argv[1];
    if (mode == "data") {
      write_data(argv[2]);
    } else if (mode == "reference") {
      write_reference(argv[2]);
    } else {
      std::fprintf(stderr, "unknown mode %s\n", argv[1]);
      return 2;
    }
  } catch (const matnn::Error& e) {
    std::fprintf(stderr, "capi_fixture: %s\n", e.what());
    return e.status();
  }
  return 0;
}
