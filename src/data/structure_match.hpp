// Near-duplicate crystals: are two periodic structures the same crystal within a tolerance,
// whatever their translation, rotation, atom order and choice of (super)cell?
//
// Each structure is reduced once to a fingerprint, and fingerprints are compared:
//   - the reduced formula must be equal (exact: "Cu3Au" never matches "Cu2Au");
//   - the volume per atom must agree within a relative tolerance;
//   - the neighbour-distance profile must agree within a length tolerance (Angstrom), entry by
//     entry. For each ordered pair of species (A, B) and each rank k = 1..24, the distance from
//     an A atom to its k-th nearest B atom is taken for every A atom; those values, sorted over
//     the A atoms, are sampled at 8 fixed quantiles.
//
// Why it is invariant: distances do not change under rotation and translation; the per-atom
// values are sorted, so atom order does not enter; a supercell repeats every atom's
// environment n times, which leaves the volume per atom, the reduced formula and every
// quantile of the sorted values exactly unchanged.
// Why it is stable: moving every atom by at most d changes no entry by more than 2 d, so a
// noisy copy matches whenever 2 d is within the tolerance; there is no threshold cliff like the
// loss of a symmetry element. That is also why the matcher does not group by prototype label
// (spglib's symmetry at a fixed symprec flips for noise near symprec).
//
// Known limits: the fingerprint is not a complete invariant. Two different structures with the
// same composition, volume and neighbour-distance statistics up to rank 24 at these quantiles
// (homometric structures; two orderings of a large alloy cell whose local environments have the
// same distribution) are reported as duplicates; enantiomorphs (mirror images) are the same to
// it. Matching is not transitive: groups are connected components, so a chain of near
// duplicates can join structures further apart than the tolerance.
//
// Cost: the fingerprint is one neighbour list per structure (O(atoms)); grouping buckets by
// formula, sorts each bucket by volume per atom and compares only the pairs within the volume
// tolerance, each comparison a scan of at most a few thousand numbers that stops at the first
// difference. No pair is ever matched site by site.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "matnn/structure.hpp"

namespace matnn::data {

struct MatchTolerances {
  double length = 0.05;  ///< Angstrom, on each neighbour distance
  double volume = 0.01;  ///< relative, on the volume per atom
};

/// What "exact duplicate" means: the same crystal up to round-off (1e-4 Angstrom, 1e-6 in the
/// volume per atom), however it is oriented, numbered or repeated.
inline constexpr MatchTolerances exact_tolerances{1e-4, 1e-6};

struct Fingerprint {
  std::string formula;          ///< reduced formula, e.g. "AuCu3"
  double volume_per_atom = 0;   ///< Angstrom^3
  std::vector<double> distances;  ///< the neighbour-distance profile described above, Angstrom
};

/// Neighbours per species pair and quantiles over atoms in the fingerprint.
inline constexpr std::size_t fingerprint_ranks = 24;
inline constexpr std::size_t fingerprint_quantiles = 8;

/// The fingerprint of a structure periodic along all three axes. Throws matnn::Error:
/// MATNN_ERROR_INVALID_ARGUMENT for an empty or not fully periodic structure, and
/// Structure::validate()'s errors.
Fingerprint fingerprint(const Structure& s);

/// True when two fingerprints describe the same crystal within `tolerances` (see above).
bool fingerprints_match(const Fingerprint& a, const Fingerprint& b, const MatchTolerances& tolerances);

/// fingerprints_match(fingerprint(a), fingerprint(b), tolerances).
bool same_crystal(const Structure& a, const Structure& b, const MatchTolerances& tolerances = {});

/// Groups of two or more entries of `prints` that match (connected components of the match
/// relation), each sorted ascending, groups ordered by their first entry. Entries whose formula
/// is empty (structures not fingerprinted) are in no group.
std::vector<std::vector<std::size_t>> duplicate_groups(const std::vector<Fingerprint>& prints,
                                                       const MatchTolerances& tolerances);

/// Throws MATNN_ERROR_INVALID_ARGUMENT unless both tolerances are finite and >= 0.
void check_tolerances(const MatchTolerances& tolerances);

}  // namespace matnn::data
