#include "parallel/deal.hpp"

#include <algorithm>
#include <cstddef>

#include "matnn/error.hpp"

namespace matnn::parallel {

std::vector<int> deal_to_ranks(const std::vector<double>& costs, int ranks) {
  if (ranks < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "deal_to_ranks: {} ranks", ranks);
  std::vector<std::size_t> order(costs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
  std::vector<int> owner(costs.size(), 0);
  for (std::size_t i : order) {
    const auto lightest = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = lightest;
    load[static_cast<std::size_t>(lightest)] += costs[i];
  }
  return owner;
}

std::vector<std::size_t> dealt_to(const std::vector<double>& costs, int ranks, int rank) {
  const std::vector<int> owner = deal_to_ranks(costs, ranks);
  std::vector<std::size_t> mine;
  for (std::size_t k = 0; k < owner.size(); ++k)
    if (owner[k] == rank) mine.push_back(k);
  return mine;
}

}  // namespace matnn::parallel
