#include "data/splits.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "matnn/error.hpp"

namespace matnn::data {
namespace {

void check_fractions(const SplitOptions& o) {
  const bool valid = o.validation_fraction >= 0 && o.validation_fraction < 1 && o.test_fraction >= 0 &&
                     o.test_fraction < 1 && o.validation_fraction + o.test_fraction < 1;
  if (!valid) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "split fractions validation = {} and test = {} must each be in [0, 1) with a sum below 1",
         o.validation_fraction, o.test_fraction);
  }
}

// Deterministic shuffle: std::shuffle's use of the engine is implementation-defined, so draw
// the Fisher-Yates swaps ourselves from the 64-bit Mersenne twister, whose sequence is fixed.
template <typename T>
void shuffle(std::vector<T>& items, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::size_t i = items.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(items[i - 1], items[j]);
  }
}

// Assigns whole groups (in the given order) to test, then validation, then train, each until it
// holds its share of structures.
Split assign_groups(const std::vector<std::vector<std::size_t>>& groups, std::size_t n, const SplitOptions& o) {
  const double test_target = o.test_fraction * static_cast<double>(n);
  const double validation_target = o.validation_fraction * static_cast<double>(n);
  Split split;
  for (const auto& members : groups) {
    // Put the group where it brings the count closest to the target without overshooting by more
    // than half of the group.
    auto wants = [&](const std::vector<std::size_t>& subset, double target) {
      return static_cast<double>(subset.size()) + 0.5 * static_cast<double>(members.size()) <= target;
    };
    std::vector<std::size_t>& into = wants(split.test, test_target)             ? split.test
                                     : wants(split.validation, validation_target) ? split.validation
                                                                                  : split.train;
    into.insert(into.end(), members.begin(), members.end());
  }
  for (auto* subset : {&split.train, &split.validation, &split.test}) std::sort(subset->begin(), subset->end());
  return split;
}

}  // namespace

SplitKind split_kind_from_name(const std::string& name) {
  if (name == "random") return SplitKind::random;
  if (name == "composition") return SplitKind::composition;
  if (name == "prototype") return SplitKind::prototype;
  if (name == "time") return SplitKind::time;
  fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown split \"{}\" (use random, composition, prototype or time)", name);
}

const char* split_kind_name(SplitKind kind) noexcept {
  switch (kind) {
    case SplitKind::random: return "random";
    case SplitKind::composition: return "composition";
    case SplitKind::prototype: return "prototype";
    case SplitKind::time: return "time";
  }
  return "unknown";
}

Split make_split(const std::vector<SplitKey>& keys, const SplitOptions& options) {
  check_fractions(options);
  const std::size_t n = keys.size();
  std::vector<std::vector<std::size_t>> groups;

  if (options.kind == SplitKind::random) {
    for (std::size_t i = 0; i < n; ++i) groups.push_back({i});
    shuffle(groups, options.seed);
  } else if (options.kind == SplitKind::time) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i : order) {
      if (!keys[i].timestamp) fail(MATNN_ERROR_INVALID_ARGUMENT, "time split: structure {} has no timestamp", i);
    }
    // Newest first, so that assign_groups fills test with the newest structures; structures with
    // equal timestamps stay together.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return *keys[a].timestamp > *keys[b].timestamp;
    });
    for (std::size_t k = 0; k < n; ++k) {
      if (k > 0 && keys[order[k]].timestamp == keys[order[k - 1]].timestamp) {
        groups.back().push_back(order[k]);
      } else {
        groups.push_back({order[k]});
      }
    }
    // Fill test with the newest, then validation: assign_groups walks groups in order.
  } else {
    std::map<std::string, std::vector<std::size_t>> by_group;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& g = keys[i].group;
      by_group[g.empty() ? "\x01structure " + std::to_string(i) : g].push_back(i);
    }
    for (auto& entry : by_group) groups.push_back(std::move(entry.second));
    shuffle(groups, options.seed);
  }
  if (options.validation_grouped || options.kind == SplitKind::random) return assign_groups(groups, n, options);

  // Test groups as above, then validation at random from what is left.
  SplitOptions test_only = options;
  test_only.validation_fraction = 0.0;
  Split split = assign_groups(groups, n, test_only);
  std::vector<std::size_t> pool = split.train;
  shuffle(pool, options.seed ^ 0x76616C6964ULL);
  const auto n_validation = std::min(
      pool.size(), static_cast<std::size_t>(std::llround(options.validation_fraction * static_cast<double>(n))));
  split.validation.assign(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n_validation));
  split.train.assign(pool.begin() + static_cast<std::ptrdiff_t>(n_validation), pool.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

std::vector<std::size_t> bootstrap_resample(const std::vector<std::size_t>& rows, std::uint64_t seed,
                                            std::size_t member) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 0xB5297A4DULL * (member + 1));
  std::vector<std::size_t> out(rows.size());
  // rng() % n: the bias is below n / 2^64, nothing next to the resampling itself.
  for (std::size_t& r : out) r = rows[static_cast<std::size_t>(rng() % rows.size())];
  return out;
}

std::vector<std::string> leaked_groups(const std::vector<SplitKey>& keys, const Split& split) {
  std::map<std::string, std::set<int>> subsets_of_group;
  const std::vector<std::size_t>* subsets[] = {&split.train, &split.validation, &split.test};
  for (int s = 0; s < 3; ++s) {
    for (std::size_t i : *subsets[s]) {
      if (i >= keys.size()) fail(MATNN_ERROR_INVALID_ARGUMENT, "split index {} out of range", i);
      if (!keys[i].group.empty()) subsets_of_group[keys[i].group].insert(s);
    }
  }
  std::vector<std::string> leaked;
  for (const auto& [group, subsets_seen] : subsets_of_group) {
    if (subsets_seen.size() > 1) leaked.push_back(group);
  }
  return leaked;
}

}  // namespace matnn::data
