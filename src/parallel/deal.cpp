#include "parallel/deal.hpp"

#include <algorithm>
#include <cstddef>

#include "matnn/error.hpp"

namespace matnn::parallel {
namespace {

// Positions of the samples, largest cost first (stable: equal costs keep their order).
std::vector<std::size_t> largest_first(const std::vector<double>& costs) {
  std::vector<std::size_t> order(costs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  return order;
}

// Every sample still without an owner (-1), largest first, to the rank with the least load.
void deal_the_rest(const std::vector<double>& costs, const std::vector<std::size_t>& order, std::vector<double>& load,
                   std::vector<int>& owner) {
  for (std::size_t i : order) {
    if (owner[i] >= 0) continue;
    const auto lightest = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = lightest;
    load[static_cast<std::size_t>(lightest)] += costs[i];
  }
}

std::vector<std::size_t> owned_by(const std::vector<int>& owner, int rank) {
  std::vector<std::size_t> mine;
  for (std::size_t k = 0; k < owner.size(); ++k)
    if (owner[k] == rank) mine.push_back(k);
  return mine;
}

}  // namespace

std::vector<int> deal_to_ranks(const std::vector<double>& costs, int ranks) {
  return deal_to_ranks(costs, std::vector<int>(costs.size(), -1), ranks);
}

std::vector<int> deal_to_ranks(const std::vector<double>& costs, const std::vector<int>& homes, int ranks) {
  if (ranks < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "deal_to_ranks: {} ranks", ranks);
  if (homes.size() != costs.size()) {
    fail(MATNN_ERROR_INTERNAL, "deal_to_ranks: {} home ranks for {} samples", homes.size(), costs.size());
  }
  const std::vector<std::size_t> order = largest_first(costs);
  std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
  std::vector<int> owner(costs.size(), -1);
  double total = 0.0;
  for (double c : costs) total += c;
  // A relative slack so that an exactly equal share is not refused for its rounding.
  const double share = total / ranks * (1.0 + 1e-12);
  for (std::size_t i : order) {
    const int home = homes[i];
    if (home < 0) continue;
    if (home >= ranks) fail(MATNN_ERROR_INTERNAL, "deal_to_ranks: home rank {} of {} ranks", home, ranks);
    if (load[static_cast<std::size_t>(home)] + costs[i] <= share) {
      owner[i] = home;
      load[static_cast<std::size_t>(home)] += costs[i];
    }
  }
  deal_the_rest(costs, order, load, owner);
  return owner;
}

std::vector<std::size_t> dealt_to(const std::vector<double>& costs, int ranks, int rank) {
  return owned_by(deal_to_ranks(costs, ranks), rank);
}

std::vector<std::size_t> dealt_to(const std::vector<double>& costs, const std::vector<int>& homes, int ranks, int rank) {
  return owned_by(deal_to_ranks(costs, homes, ranks), rank);
}

}  // namespace matnn::parallel
