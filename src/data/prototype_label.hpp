// Structure prototype labels in the AFLOW style, computed with spglib, so that a dataset can be
// grouped (and split) by crystal structure type even when it carries no `prototype` tag:
//
//     AB3_cP4_221_a_c      L1_2 (Cu3Au)        A_cF4_225_a     fcc (Cu)
//     AB_cP2_221_a_b       B2 (CsCl)           A_hP2_194_c     hcp (Mg)
//
// Fields, joined by '_':
//   1. the anonymous stoichiometry: species counts reduced by their greatest common divisor,
//      species ordered by increasing count and named A, B, C, ... ("AB3": one minority species,
//      three of the other; a count of 1 is not written). Ties are broken by the Wyckoff letters
//      below, so the label does not depend on which elements are present (Cu3Au and Ni3Al
//      share AB3_cP4_221_a_c). AFLOW orders species alphabetically instead; its labels
//      therefore differ for some chemistries of one prototype, ours never do.
//   2. the Pearson symbol: crystal family (a triclinic, m monoclinic, o orthorhombic,
//      t tetragonal, h trigonal and hexagonal, c cubic), centring (P, C for A/B/C-centred,
//      I, F, R) and the number of atoms in the conventional cell (in the primitive cell for R,
//      as Pearson symbols count them: corundum is hR10);
//   3. the space-group number (1-230);
//   4. one field per species, in the order A, B, ...: the Wyckoff letters of its orbits, sorted,
//      a letter that occurs n > 1 times written "n" + letter ("2e").
//
// Wyckoff letters depend on the choice of origin and axes among equally valid standard
// settings (for L1_2 both "a_c" and "b_d" are correct). spglib picks one of them, and which one
// can change with a translation or rotation of the input. The label takes, among the
// descriptions reachable through the translations and lattice-preserving rotations that map the
// space group onto itself (the Euclidean normaliser for the cell's metric), the one whose label
// sorts first; it is therefore invariant to rotation, translation, atom order and supercell.
#pragma once

#include <string>

#include "matnn/structure.hpp"

namespace matnn::data {

/// spglib's distance tolerance for prototype labels, Angstrom. Looser than spglib's own
/// examples (1e-5, for ideal inputs) so that relaxed structures written with 8 decimals and
/// copies with 0.1 % noise keep their symmetry; tighter than the 1 % strains that do break it
/// (0.036 Angstrom on a 3.6 Angstrom cell). pymatgen's SpacegroupAnalyzer uses the same default.
inline constexpr double default_symprec = 0.01;

/// The AFLOW-style prototype label of a structure (see above), e.g. "AB3_cP4_221_a_c".
/// `symprec` is spglib's distance tolerance in Angstrom.
/// Throws matnn::Error: MATNN_ERROR_INVALID_ARGUMENT for a structure that is not periodic along
/// all three axes, an empty structure, or symprec <= 0; Structure::validate()'s errors; and
/// MATNN_ERROR_GEOMETRY with spglib's message when spglib finds no symmetry (atoms too close,
/// a degenerate cell).
std::string prototype_label(const matnn::Structure& s, double symprec = default_symprec);

/// The same label with the space group and Pearson symbol also returned, for reports.
struct PrototypeInfo {
  std::string label;
  int space_group = 0;           ///< 1-230
  std::string international;     ///< Hermann-Mauguin short symbol, e.g. "Pm-3m"
  std::string pearson;           ///< e.g. "cP4"
  std::size_t primitive_atoms = 0;
};
PrototypeInfo prototype_info(const matnn::Structure& s, double symprec = default_symprec);

}  // namespace matnn::data
