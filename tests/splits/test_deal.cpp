// Dealing the samples of a mini-batch to MPI ranks by cost, and by cost and home rank
// (parallel/deal.hpp): the shares are even, and with home ranks the fewest samples leave home.
#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "matnn/error.hpp"
#include "parallel/deal.hpp"

namespace {

using matnn::parallel::deal_to_ranks;

std::vector<double> loads(const std::vector<double>& costs, const std::vector<int>& owner, int ranks) {
  std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
  for (std::size_t i = 0; i < costs.size(); ++i) load[static_cast<std::size_t>(owner[i])] += costs[i];
  return load;
}

TEST(Deal, LargestFirstToTheLightestRank) {
  // 96 to rank 0, 64 to rank 1, 64 to rank 1 (64 < 96), 32 to rank 0 (128 = 128: the lower rank).
  EXPECT_EQ(deal_to_ranks({64, 96, 64, 32}, 2), (std::vector<int>{1, 0, 1, 0}));
  EXPECT_EQ(deal_to_ranks({64, 96, 64, 32}, std::vector<int>(4, -1), 2), deal_to_ranks({64, 96, 64, 32}, 2));
}

TEST(Deal, SamplesStayHomeUpToAnEqualShare) {
  // All four at home on rank 0 of 2: two stay, two go.
  EXPECT_EQ(deal_to_ranks({64, 64, 64, 64}, {0, 0, 0, 0}, 2), (std::vector<int>{0, 0, 1, 1}));
  // Homes that are already even: nobody moves, although plain dealing would move half.
  const std::vector<int> homes{1, 1, 0, 0};
  EXPECT_EQ(deal_to_ranks({64, 64, 64, 64}, homes, 2), homes);
  EXPECT_NE(deal_to_ranks({64, 64, 64, 64}, 2), homes);
}

TEST(Deal, HomesKeepTheSharesEvenAndMoveFew) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> size(0, 2);
  for (int ranks : {2, 3, 16}) {
    std::uniform_int_distribution<int> rank(0, ranks - 1);
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<double> costs;
      std::vector<int> homes;
      for (int i = 0; i < 64; ++i) {
        costs.push_back(std::vector<double>{64, 96, 216}[static_cast<std::size_t>(size(rng))]);
        homes.push_back(rank(rng));
      }
      const std::vector<int> owner = deal_to_ranks(costs, homes, ranks);
      const double total = std::accumulate(costs.begin(), costs.end(), 0.0);
      const std::vector<double> load = loads(costs, owner, ranks);
      EXPECT_LE(*std::max_element(load.begin(), load.end()), total / ranks + 216) << ranks << " ranks";
      // A sample leaves home only when its home is full: no rank below an equal share minus
      // the largest cost keeps a sample from elsewhere while one of its own went away.
      for (std::size_t i = 0; i < owner.size(); ++i) {
        if (owner[i] == homes[i]) continue;
        EXPECT_GT(load[static_cast<std::size_t>(homes[i])] + costs[i], total / ranks) << "sample " << i;
      }
    }
  }
}

TEST(Deal, RefusesAHomeOutsideTheRanks) {
  EXPECT_THROW(deal_to_ranks({1, 1}, {0, 2}, 2), matnn::Error);
  EXPECT_THROW(deal_to_ranks({1, 1}, {0}, 2), matnn::Error);
}

}  // namespace
