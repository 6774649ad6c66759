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

/// The same with a home rank per sample (homes[i] in [0, ranks), or -1 for none): the rank that
/// holds the sample in memory, where it costs no read. Largest first, each sample stays at home
/// while its home's total stays within an equal share (total / ranks); the samples left over
/// then go, largest first, each to the rank with the least total. So the shares are as even as
/// deal_to_ranks makes them (each within the largest left-over cost of an equal share) and the
/// fewest samples leave home. Deterministic, as deal_to_ranks.
std::vector<int> deal_to_ranks(const std::vector<double>& costs, const std::vector<int>& homes, int ranks);

/// The positions, in order, of the samples deal_to_ranks gives to `rank`.
std::vector<std::size_t> dealt_to(const std::vector<double>& costs, int ranks, int rank);
/// The same with home ranks.
std::vector<std::size_t> dealt_to(const std::vector<double>& costs, const std::vector<int>& homes, int ranks, int rank);

}  // namespace matnn::parallel
