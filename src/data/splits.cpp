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

// The structures of each group (a structure without a group is a group of its own), in the
// order of the group names.
std::vector<std::vector<std::size_t>> groups_of(const std::vector<SplitKey>& keys) {
  std::map<std::string, std::vector<std::size_t>> by_group;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& g = keys[i].group;
    by_group[g.empty() ? "\x01structure " + std::to_string(i) : g].push_back(i);
  }
  std::vector<std::vector<std::size_t>> groups;
  for (auto& entry : by_group) groups.push_back(std::move(entry.second));
  return groups;
}

}  // namespace

SplitKind split_kind_from_name(const std::string& name) {
  if (name == "random") return SplitKind::random;
  if (name == "formula" || name == "composition") return SplitKind::formula;
  if (name == "chemical-system") return SplitKind::chemical_system;
  if (name == "prototype") return SplitKind::prototype;
  if (name == "cluster") return SplitKind::cluster;
  if (name == "time") return SplitKind::time;
  fail(MATNN_ERROR_INVALID_ARGUMENT,
       "unknown split \"{}\" (use random, formula, chemical-system, prototype, cluster or time)", name);
}

const char* split_kind_name(SplitKind kind) noexcept {
  switch (kind) {
    case SplitKind::random: return "random";
    case SplitKind::formula: return "formula";
    case SplitKind::chemical_system: return "chemical-system";
    case SplitKind::prototype: return "prototype";
    case SplitKind::cluster: return "cluster";
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
    groups = groups_of(keys);
    shuffle(groups, options.seed);
  }
  if (options.validation_grouped || options.kind == SplitKind::random) return assign_groups(groups, n, options);

  // Test groups as above, then validation at random from what is left.
  SplitOptions test_only = options;
  test_only.validation_fraction = 0.0;
  Split split = assign_groups(groups, n, test_only);
  const auto n_validation = static_cast<std::size_t>(std::llround(options.validation_fraction * static_cast<double>(n)));
  RandomPick validation = pick_at_random(std::move(split.train), n_validation, options.seed ^ 0x76616C6964ULL);
  split.validation = std::move(validation.picked);
  split.train = std::move(validation.rest);
  return split;
}

RandomPick pick_at_random(std::vector<std::size_t> rows, std::size_t count, std::uint64_t seed) {
  shuffle(rows, seed);
  count = std::min(count, rows.size());
  RandomPick out;
  out.picked.assign(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(count));
  out.rest.assign(rows.begin() + static_cast<std::ptrdiff_t>(count), rows.end());
  std::sort(out.picked.begin(), out.picked.end());
  std::sort(out.rest.begin(), out.rest.end());
  return out;
}

std::vector<std::vector<std::size_t>> make_folds(const std::vector<SplitKey>& keys, SplitKind kind, std::size_t folds,
                                                 std::uint64_t seed) {
  if (kind == SplitKind::time)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "cross-validation folds of a time split would train on the future; use another kind");
  if (folds < 2) fail(MATNN_ERROR_INVALID_ARGUMENT, "cross-validation needs at least 2 folds, got {}", folds);
  std::vector<std::vector<std::size_t>> groups;
  if (kind == SplitKind::random) {
    for (std::size_t i = 0; i < keys.size(); ++i) groups.push_back({i});
  } else {
    groups = groups_of(keys);
  }
  if (groups.size() < folds)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} folds need at least as many groups; the {} split has {}", folds,
         split_kind_name(kind), groups.size());
  shuffle(groups, seed);
  // Largest first (stable, so equal sizes keep the seeded order), each to the emptiest fold.
  std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::vector<std::vector<std::size_t>> out(folds);
  for (const auto& members : groups) {
    auto emptiest = std::min_element(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() < b.size(); });
    emptiest->insert(emptiest->end(), members.begin(), members.end());
  }
  for (auto& fold : out) std::sort(fold.begin(), fold.end());
  return out;
}

std::vector<int> kmeans_labels(const Eigen::MatrixXd& points, int k, std::uint64_t seed) {
  const Eigen::Index n = points.rows();
  if (k < 1 || k > n) fail(MATNN_ERROR_INVALID_ARGUMENT, "k-means: {} clusters of {} points", k, n);
  std::mt19937_64 rng(seed ^ 0x6B6D65616E73ULL);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  // k-means++: each next centre drawn with probability proportional to the squared distance
  // to the nearest centre chosen so far.
  Eigen::MatrixXd centres(k, points.cols());
  centres.row(0) = points.row(static_cast<Eigen::Index>(rng() % static_cast<std::uint64_t>(n)));
  Eigen::VectorXd nearest = (points.rowwise() - centres.row(0)).rowwise().squaredNorm();
  for (int c = 1; c < k; ++c) {
    const double total = nearest.sum();
    Eigen::Index pick = 0;
    if (total > 0) {
      double target = uniform() * total;
      while (pick + 1 < n && (target -= nearest[pick]) > 0) ++pick;
    } else {
      pick = static_cast<Eigen::Index>(rng() % static_cast<std::uint64_t>(n));
    }
    centres.row(c) = points.row(pick);
    nearest = nearest.cwiseMin((points.rowwise() - centres.row(c)).rowwise().squaredNorm());
  }
  std::vector<int> labels(static_cast<std::size_t>(n), -1);
  for (int iteration = 0; iteration < 300; ++iteration) {
    bool changed = false;
    for (Eigen::Index i = 0; i < n; ++i) {
      Eigen::Index best = 0;
      (centres.rowwise() - points.row(i)).rowwise().squaredNorm().minCoeff(&best);
      changed |= labels[static_cast<std::size_t>(i)] != static_cast<int>(best);
      labels[static_cast<std::size_t>(i)] = static_cast<int>(best);
    }
    if (!changed) break;
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, points.cols());
    std::vector<Eigen::Index> counts(static_cast<std::size_t>(k), 0);
    for (Eigen::Index i = 0; i < n; ++i) {
      sums.row(labels[static_cast<std::size_t>(i)]) += points.row(i);
      ++counts[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])];
    }
    for (int c = 0; c < k; ++c) {
      if (counts[static_cast<std::size_t>(c)] > 0) {
        centres.row(c) = sums.row(c) / static_cast<double>(counts[static_cast<std::size_t>(c)]);
      } else {
        // An emptied cluster restarts at the point furthest from its centre.
        Eigen::Index far = 0;
        Eigen::VectorXd d(n);
        for (Eigen::Index i = 0; i < n; ++i) d[i] = (points.row(i) - centres.row(labels[static_cast<std::size_t>(i)])).squaredNorm();
        d.maxCoeff(&far);
        centres.row(c) = points.row(far);
        labels[static_cast<std::size_t>(far)] = c;
      }
    }
  }
  return labels;
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
