// Datasets whose targets are known functions of composition, written as matnn HDF5 files.
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "matnn/dataset.hpp"
#include "matnn/elements.hpp"

namespace matnn::testing {

/// Random compositions of 1 to 3 elements from `pool` with integer counts 1..6, each written as a
/// free cluster (the composition model looks at composition only) labelled `label(fractions)`.
inline void write_composition_dataset(const std::string& path, std::size_t n, std::uint64_t seed,
                                      const std::vector<int>& pool, const std::string& target,
                                      const std::function<double(const std::map<int, double>&)>& label) {
  std::mt19937_64 rng(seed);
  std::vector<Record> records;
  for (std::size_t s = 0; s < n; ++s) {
    const std::size_t n_elements = 1 + rng() % 3;
    std::map<int, int> counts;
    while (counts.size() < n_elements) counts[pool[rng() % pool.size()]] = 1 + static_cast<int>(rng() % 6);
    Record r;
    int total = 0;
    for (const auto& [z, c] : counts) {
      for (int k = 0; k < c; ++k) r.structure.numbers.push_back(z);
      total += c;
    }
    r.structure.positions = Positions::Zero(total, 3);
    for (int i = 0; i < total; ++i) r.structure.positions(i, 0) = 2.5 * i;
    std::map<int, double> fractions;
    for (const auto& [z, c] : counts) fractions[z] = static_cast<double>(c) / total;
    r.properties[target] = {label(fractions)};
    r.tags["id"] = "synthetic-" + std::to_string(s);
    records.push_back(std::move(r));
  }
  write_dataset(path, records);
}

/// A regular-solution-like energy with a nonlinear term: sum_i f_i a_i + sum_{i<j} f_i f_j b_ij
/// + sin(3 * mean electronegativity).
inline double synthetic_energy(const std::map<int, double>& f) {
  double y = 0.0, chi = 0.0;
  for (const auto& [z, x] : f) {
    y += x * std::sin(0.37 * z);
    chi += x * element(z).electronegativity;
    for (const auto& [z2, x2] : f) {
      if (z2 > z) y += 4.0 * x * x2 * std::cos(0.11 * (z + 2 * z2));
    }
  }
  return y + std::sin(3.0 * chi);
}

}  // namespace matnn::testing
