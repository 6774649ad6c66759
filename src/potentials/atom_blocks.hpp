// Blocks of atoms, so that a large periodic structure is evaluated with memory that depends on the
// block, not on the structure.
//
// A fully periodic cell is cut along its lattice vectors into a grid of blocks of about
// `target_atoms` atoms each. Block b owns the atoms whose wrapped fractional coordinates fall in
// its part of the cell; its cluster adds, as ghosts, every periodic image of every atom within
// the potential's interaction range of that part (a superset: the padded fractional box). A
// potential evaluated on the cluster with energy weight 1 on the owned atoms and 0 on the ghosts
// gives exactly the owned atoms' energies, and forces on every cluster atom whose sum over
// blocks, mapped back to the original atoms, is the force of the whole structure (the same
// bookkeeping as a domain-decomposed MD code's ghost atoms).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "matnn/structure.hpp"

namespace matnn::potentials {

struct AtomBlock {
  Structure cluster;                  ///< owned atoms first, then ghosts; no cell, no periodicity
  std::size_t owned = 0;              ///< cluster atoms [0, owned) are owned by this block
  std::vector<std::size_t> original;  ///< cluster atom -> its atom in the whole structure
};

class BlockPlan {
 public:
  /// Plans blocks of about `target_atoms` owned atoms for a fully periodic `structure` (which
  /// must outlive the plan), with ghosts out to `range` Angstrom. One block when the structure
  /// has at most target_atoms atoms or is not fully periodic.
  BlockPlan(const Structure& structure, double range, std::size_t target_atoms);

  std::size_t size() const noexcept { return static_cast<std::size_t>(grid_[0] * grid_[1] * grid_[2]); }
  /// Block i (0 <= i < size()), built on demand.
  AtomBlock block(std::size_t i) const;

 private:
  const Structure& structure_;
  std::array<long, 3> grid_{1, 1, 1};
  std::array<double, 3> padding_{};           // the range in fractional units, per axis
  Positions wrapped_;                         // fractional coordinates in [0, 1)
  std::vector<std::array<long, 3>> shift_;    // integer lattice shift from the atom to its wrapped image
  std::vector<std::vector<std::size_t>> bins_;  // atoms per block
};

}  // namespace matnn::potentials
