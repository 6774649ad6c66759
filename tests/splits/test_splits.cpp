#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "data/splits.hpp"
#include "matnn/error.hpp"

namespace matnn::data {
namespace {

std::vector<SplitKey> keys_with_groups(std::size_t n, std::size_t n_groups) {
  std::vector<SplitKey> keys(n);
  for (std::size_t i = 0; i < n; ++i) {
    keys[i].group = "G" + std::to_string(i % n_groups);
    keys[i].timestamp = static_cast<std::int64_t>(1000 + (i * 7919) % n);  // a permutation of times
  }
  return keys;
}

void expect_partition(const Split& s, std::size_t n) {
  std::vector<std::size_t> all;
  for (const auto* subset : {&s.train, &s.validation, &s.test}) {
    EXPECT_TRUE(std::is_sorted(subset->begin(), subset->end()));
    all.insert(all.end(), subset->begin(), subset->end());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(n);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
}

TEST(Splits, RandomSplitHasTheRequestedSizesAndIsReproducible) {
  const auto keys = keys_with_groups(1000, 1000);
  const SplitOptions options{SplitKind::random, 0.1, 0.2, 42};
  const Split a = make_split(keys, options);
  expect_partition(a, 1000);
  EXPECT_EQ(a.test.size(), 200u);
  EXPECT_EQ(a.validation.size(), 100u);
  const Split b = make_split(keys, options);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.validation, b.validation);
  const Split c = make_split(keys, {SplitKind::random, 0.1, 0.2, 43});
  EXPECT_NE(a.test, c.test);
}

TEST(Splits, GroupSplitsNeverShareAGroup) {
  const auto keys = keys_with_groups(600, 37);
  for (SplitKind kind : {SplitKind::formula, SplitKind::prototype}) {
    const Split s = make_split(keys, {kind, 0.15, 0.15, 7});
    expect_partition(s, 600);
    EXPECT_TRUE(leaked_groups(keys, s).empty());
    EXPECT_NEAR(static_cast<double>(s.test.size()) / 600, 0.15, 0.05);
    EXPECT_NEAR(static_cast<double>(s.validation.size()) / 600, 0.15, 0.05);
  }
  // A random split of the same data leaks almost every group: the audit finds it.
  const Split random = make_split(keys, {SplitKind::random, 0.15, 0.15, 7});
  EXPECT_GT(leaked_groups(keys, random).size(), 30u);
}

TEST(Splits, RandomValidationOfAGroupedSplitIsInDistribution) {
  // Test holds whole groups; validation is drawn from the remaining groups' structures, so it
  // shares groups with train (in distribution) and none with test.
  const auto keys = keys_with_groups(600, 37);
  SplitOptions options{SplitKind::prototype, 0.1, 0.2, 7};
  options.validation_grouped = false;
  const Split s = make_split(keys, options);
  expect_partition(s, 600);
  EXPECT_EQ(s.validation.size(), 60u);
  std::set<std::string> train_groups, test_groups;
  for (std::size_t i : s.train) train_groups.insert(keys[i].group);
  for (std::size_t i : s.test) test_groups.insert(keys[i].group);
  for (std::size_t i : s.validation) {
    EXPECT_EQ(test_groups.count(keys[i].group), 0u);
    EXPECT_EQ(train_groups.count(keys[i].group), 1u);
  }
  for (const std::string& g : test_groups) EXPECT_EQ(train_groups.count(g), 0u);
  // The test groups are those of the fully grouped split with the same seed.
  const Split grouped = make_split(keys, {SplitKind::prototype, 0.0, 0.2, 7});
  EXPECT_EQ(s.test, grouped.test);
}

TEST(Splits, FoldsPartitionTheDataAndKeepGroupsWhole) {
  const auto keys = keys_with_groups(600, 37);
  for (SplitKind kind : {SplitKind::random, SplitKind::prototype}) {
    const auto folds = make_folds(keys, kind, 5, 3);
    ASSERT_EQ(folds.size(), 5u);
    std::vector<std::size_t> all;
    for (const auto& fold : folds) {
      EXPECT_TRUE(std::is_sorted(fold.begin(), fold.end()));
      EXPECT_NEAR(static_cast<double>(fold.size()), 120.0, kind == SplitKind::random ? 0.0 : 17.0);
      all.insert(all.end(), fold.begin(), fold.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> expected(600);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(all, expected);
    if (kind == SplitKind::prototype) {
      std::map<std::string, std::set<std::size_t>> folds_of_group;
      for (std::size_t f = 0; f < folds.size(); ++f)
        for (std::size_t i : folds[f]) folds_of_group[keys[i].group].insert(f);
      for (const auto& [group, where] : folds_of_group) EXPECT_EQ(where.size(), 1u) << group;
    }
    EXPECT_EQ(make_folds(keys, kind, 5, 3), folds);  // seeded
  }
  EXPECT_THROW(make_folds(keys, SplitKind::prototype, 38, 3), Error);  // 37 groups
  EXPECT_THROW(make_folds(keys, SplitKind::time, 5, 3), Error);
  EXPECT_THROW(make_folds(keys, SplitKind::random, 1, 3), Error);
}

TEST(Splits, KmeansFindsSeparatedClusters) {
  // Three tight blobs far apart: every seed recovers them exactly (up to the labels' names).
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0.0, 0.1);
  const double centres[3][2] = {{0, 0}, {10, 0}, {0, 10}};
  Eigen::MatrixXd points(90, 2);
  for (int i = 0; i < 90; ++i) {
    points(i, 0) = centres[i % 3][0] + noise(rng);
    points(i, 1) = centres[i % 3][1] + noise(rng);
  }
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const std::vector<int> labels = kmeans_labels(points, 3, seed);
    for (int i = 3; i < 90; ++i) EXPECT_EQ(labels[static_cast<std::size_t>(i)], labels[static_cast<std::size_t>(i % 3)]);
    EXPECT_NE(labels[0], labels[1]);
    EXPECT_NE(labels[1], labels[2]);
    EXPECT_NE(labels[0], labels[2]);
  }
  EXPECT_EQ(kmeans_labels(points, 3, 5), kmeans_labels(points, 3, 5));
  EXPECT_THROW(kmeans_labels(points, 0, 1), Error);
  EXPECT_THROW(kmeans_labels(points, 91, 1), Error);
}

TEST(Splits, KindNames) {
  EXPECT_EQ(split_kind_from_name("formula"), SplitKind::formula);
  EXPECT_EQ(split_kind_from_name("composition"), SplitKind::formula);  // the older name
  EXPECT_STREQ(split_kind_name(split_kind_from_name("chemical-system")), "chemical-system");
  EXPECT_STREQ(split_kind_name(split_kind_from_name("cluster")), "cluster");
  EXPECT_THROW(split_kind_from_name("kfold"), Error);
}

TEST(Splits, TimeSplitTrainsOnThePast) {
  const auto keys = keys_with_groups(500, 5);
  const Split s = make_split(keys, {SplitKind::time, 0.1, 0.2, 0});
  expect_partition(s, 500);
  std::int64_t newest_train = 0, oldest_validation = INT64_MAX, newest_validation = 0, oldest_test = INT64_MAX;
  for (auto i : s.train) newest_train = std::max(newest_train, *keys[i].timestamp);
  for (auto i : s.validation) {
    oldest_validation = std::min(oldest_validation, *keys[i].timestamp);
    newest_validation = std::max(newest_validation, *keys[i].timestamp);
  }
  for (auto i : s.test) oldest_test = std::min(oldest_test, *keys[i].timestamp);
  EXPECT_LT(newest_train, oldest_validation);
  EXPECT_LT(newest_validation, oldest_test);
  EXPECT_EQ(s.test.size(), 100u);
}

TEST(Splits, StructuresWithoutGroupAreTheirOwnGroup) {
  std::vector<SplitKey> keys(100);
  const Split s = make_split(keys, {SplitKind::prototype, 0.2, 0.2, 1});
  expect_partition(s, 100);
  EXPECT_EQ(s.test.size(), 20u);
}

TEST(Splits, BootstrapResamplesDifferPerMemberAndRepeat) {
  std::vector<std::size_t> rows(2000);
  std::iota(rows.begin(), rows.end(), std::size_t{10});
  const std::vector<std::size_t> a = bootstrap_resample(rows, 5, 0), b = bootstrap_resample(rows, 5, 1);
  ASSERT_EQ(a.size(), rows.size());
  EXPECT_EQ(a, bootstrap_resample(rows, 5, 0));  // a resumed member draws the same rows
  EXPECT_NE(a, b);
  EXPECT_NE(a, bootstrap_resample(rows, 6, 0));
  for (std::size_t r : a) EXPECT_TRUE(r >= 10 && r < 2010) << r;
  // With replacement: about 1 - 1/e = 63.2 % distinct rows (standard deviation 0.7 % here).
  const double distinct = static_cast<double>(std::set<std::size_t>(a.begin(), a.end()).size()) / 2000.0;
  EXPECT_NEAR(distinct, 1.0 - std::exp(-1.0), 0.03);
  EXPECT_TRUE(bootstrap_resample({}, 5, 0).empty());
}

TEST(Splits, BadOptionsAreRejected) {
  const auto keys = keys_with_groups(10, 2);
  auto status = [&](SplitOptions o) {
    try {
      make_split(keys, o);
    } catch (const Error& e) {
      return e.status();
    }
    return MATNN_SUCCESS;
  };
  EXPECT_EQ(status({SplitKind::random, 0.6, 0.5, 0}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status({SplitKind::random, -0.1, 0.1, 0}), MATNN_ERROR_INVALID_ARGUMENT);
  std::vector<SplitKey> no_time(3);
  EXPECT_THROW(make_split(no_time, {SplitKind::time, 0.1, 0.1, 0}), Error);
  EXPECT_THROW(split_kind_from_name("scaffold"), Error);
  EXPECT_EQ(split_kind_from_name("time"), SplitKind::time);
}

}  // namespace
}  // namespace matnn::data
