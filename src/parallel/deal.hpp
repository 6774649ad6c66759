// Which rank owns which sample of a data-parallel job, by cost rather than by count: a
// 512-atom cell costs a potential eight 64-atom cells, so dealing structures evenly would leave
// ranks waiting for the one that drew the large ones.
#pragma once

#include <cstddef>
#include <vector>

namespace matnn::parallel {

/// The rank each of costs.size() samples belongs to: the largest cost first, each to the rank
/// with the least total so far (lowest rank on ties), so every rank gets a near-equal share.
/// Deterministic: every rank computes the same deal from the same costs.
std::vector<int> deal_to_ranks(const std::vector<double>& costs, int ranks);

/// The positions, in order, of the samples deal_to_ranks gives to `rank`.
std::vector<std::size_t> dealt_to(const std::vector<double>& costs, int ranks, int rank);

}  // namespace matnn::parallel
