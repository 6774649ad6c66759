// Which of a simulator's particles need their neighbours listed for matnn, and the CSR list.
//
// With L message-passing layers (L = interaction range / cutoff; 1 for a local model), the energy
// of a counted particle reads the layer-(L-1) features of its neighbours, which read those of
// theirs, down to the plain species L hops away (a hop: an edge shorter than the cutoff). So the
// particles fewer than L hops from a counted one need their lists and no other particle does;
// counting every particle within L hops of the owned ones instead (the model deviation's exact
// forces, kim/README.md) needs lists 2L - 1 hops deep.
#pragma once

#include <functional>
#include <vector>

namespace matnn::kim {

/// The simulator's list of particle i: count and pointer; true on failure (KIM's convention).
using NeighborSource = std::function<bool(int i, int* count, int const** neighbors)>;

struct HopLists {
  std::vector<int> hops;              ///< per particle: hops from the nearest seed, `depth` if farther
  std::vector<int> neighbor_offsets;  ///< n + 1, for matnn_potential_compute_local2
  std::vector<int> neighbors;

  /// Breadth first from the particles with seeds[i] != 0: those fewer than `depth` hops away get
  /// their lists. Candidates at or beyond `cutoff` are not hops (simulators' lists carry a skin).
  /// True if `source` failed.
  bool gather(const NeighborSource& source, int n, int const* seeds, double const* positions, double cutoff, int depth);
};

}  // namespace matnn::kim
