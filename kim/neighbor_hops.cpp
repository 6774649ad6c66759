#include "neighbor_hops.hpp"

#include <cstddef>

namespace matnn::kim {

bool HopLists::gather(const NeighborSource& source, int n, int const* seeds, double const* positions, double cutoff,
                      int depth) {
  const auto count_of = static_cast<std::size_t>(n);
  hops.assign(count_of, depth);
  std::vector<int> frontier;
  for (int i = 0; i < n; ++i) {
    if (seeds[i] != 0) {
      hops[static_cast<std::size_t>(i)] = 0;
      frontier.push_back(i);
    }
  }
  // Copied at once: a simulator may reuse the memory of one particle's list for the next.
  std::vector<std::vector<int>> lists(count_of);
  // Particles at hop h < depth get their lists, which give those at hop h + 1.
  for (int hop = 0; hop < depth && !frontier.empty(); ++hop) {
    std::vector<int> next;
    for (int i : frontier) {
      int count = 0;
      int const* list = nullptr;
      if (source(i, &count, &list)) return true;
      lists[static_cast<std::size_t>(i)].assign(list, list + count);
      for (int k = 0; k < count; ++k) {
        const int j = list[k];
        if (hops[static_cast<std::size_t>(j)] <= hop + 1) continue;
        double r2 = 0.0;
        for (int a = 0; a < 3; ++a) {
          const double d = positions[3 * j + a] - positions[3 * i + a];
          r2 += d * d;
        }
        if (r2 >= cutoff * cutoff) continue;
        hops[static_cast<std::size_t>(j)] = hop + 1;
        if (hop + 1 < depth) next.push_back(j);
      }
    }
    frontier = std::move(next);
  }
  neighbor_offsets.assign(count_of + 1, 0);
  neighbors.clear();
  for (std::size_t i = 0; i < count_of; ++i) {
    neighbors.insert(neighbors.end(), lists[i].begin(), lists[i].end());
    neighbor_offsets[i + 1] = static_cast<int>(neighbors.size());
  }
  return false;
}

}  // namespace matnn::kim
