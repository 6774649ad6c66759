// Train / validation / test splits that keep related structures together, so that held-out
// metrics measure generalisation instead of memory:
//   random           structures shuffled individually (the optimistic baseline)
//   formula          all structures of one reduced formula fall in the same subset ("composition"
//                    is the older name, still read)
//   chemical-system  all structures of one set of elements (Cu-Ni, whatever the ratio) together
//   prototype        all structures of one structure prototype together
//   cluster          all structures of one k-means cluster of composition features together
//   time             the oldest structures train, the newest test (no shuffling): "train on the
//                    past, predict the future", as a screening campaign would
// and the same groups dealt into k folds for cross-validation (k-fold over structures for
// random, group k-fold otherwise, leave-one-cluster-out for cluster with as many clusters as
// folds). Every split is a deterministic function of the keys, the fractions and the seed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace matnn::data {

enum class SplitKind { random, formula, chemical_system, prototype, cluster, time };

/// "random" | "formula" (or "composition") | "chemical-system" | "prototype" | "cluster" | "time";
/// throws MATNN_ERROR_INVALID_ARGUMENT otherwise.
SplitKind split_kind_from_name(const std::string& name);
const char* split_kind_name(SplitKind kind) noexcept;

struct SplitOptions {
  SplitKind kind = SplitKind::random;
  double validation_fraction = 0.1;
  double test_fraction = 0.1;
  std::uint64_t seed = 0;
  /// Grouped splits (composition, prototype, time): true holds whole groups out for validation
  /// too; false draws validation at random from the structures left after the test groups, so
  /// that validation is in distribution and test is not (what early stopping, the sigma
  /// recalibration and an OOD threshold need to be measured against a held-out group).
  bool validation_grouped = true;
  /// Cluster splits: the number of k-means clusters of composition features.
  int clusters = 10;
};

/// What each structure is grouped or ordered by. `group` is the reduced formula, the chemical
/// system, the prototype or the cluster, as the split kind says (empty: the structure is its own
/// group); `timestamp` is needed for time splits.
struct SplitKey {
  std::string group;
  std::optional<std::int64_t> timestamp;
};

struct Split {
  std::vector<std::size_t> train, validation, test;  ///< indices, each sorted ascending
};

/// Splits structures 0..keys.size()-1. Fractions are of structures (group splits get as close as
/// whole groups allow, filling test first, then validation). Throws MATNN_ERROR_INVALID_ARGUMENT
/// for fractions outside [0, 1) or summing to >= 1, and for a time split with a missing timestamp.
Split make_split(const std::vector<SplitKey>& keys, const SplitOptions& options);

/// The structures dealt into `folds` folds for cross-validation: whole groups (of keys[i].group;
/// every structure its own group for random) in a seeded order, largest first, each into the
/// fold that holds the fewest structures so far. Each fold is sorted. Throws
/// MATNN_ERROR_INVALID_ARGUMENT for fewer than 2 folds, more folds than groups, or a time split.
std::vector<std::vector<std::size_t>> make_folds(const std::vector<SplitKey>& keys, SplitKind kind, std::size_t folds,
                                                 std::uint64_t seed);

/// Cluster labels of the rows of `points` (n x d) by k-means with k-means++ seeding from `seed`
/// (Lloyd iterations until no label changes, at most 300). Deterministic; every cluster keeps at
/// least one point unless points coincide. Throws MATNN_ERROR_INVALID_ARGUMENT for k < 1 or k > n.
std::vector<int> kmeans_labels(const Eigen::MatrixXd& points, int k, std::uint64_t seed);

/// `count` of `rows` drawn at random without replacement (a seeded shuffle, the same on every
/// platform) and the rest, each sorted: validation drawn from what a grouped test set leaves,
/// or a sample of training rows. `count` beyond the rows takes them all.
struct RandomPick {
  std::vector<std::size_t> picked, rest;
};
RandomPick pick_at_random(std::vector<std::size_t> rows, std::size_t count, std::uint64_t seed);

/// Member `member`'s bootstrap resample of `rows` (bagging an ensemble): as many rows, drawn with
/// replacement from a stream of its own (seed and member), so members train on different data
/// and a resumed member on the same. About 1/e (37 %) of the rows are left out of each resample.
/// The draw uses no std:: distribution (their algorithms are the implementation's), so a seed
/// gives the same rows on every platform. Empty rows give an empty resample.
std::vector<std::size_t> bootstrap_resample(const std::vector<std::size_t>& rows, std::uint64_t seed,
                                            std::size_t member);

/// Groups that occur in more than one subset: empty for composition and prototype splits by
/// construction; the leakage audit of any other split (e.g. a random one) in terms of `group`.
std::vector<std::string> leaked_groups(const std::vector<SplitKey>& keys, const Split& split);

}  // namespace matnn::data
