// The element feature vector of CGCNN, the initial atom embedding of a crystal graph
// (Xie & Grossman, Phys. Rev. Lett. 120, 145301 (2018), Supplementary Table S2), built from the
// one periodic table (matnn/elements.hpp), so that CGCNN and the composition features read the
// same element facts.
//
// Nine one-hot blocks, 91 values in this order (offset, width):
//
//   block                  offset width  categories
//   group                     0   18   1..18 (lanthanides and actinides: 3, as in the table)
//   period                   18    7   1..7
//   electronegativity        25   10   Pauling, 10 equal bins over 0.5..4.0
//   covalent radius          35   10   10 equal bins over 25..250 pm (the table stores Angstrom)
//   valence electrons        45   12   1..12, see below
//   first ionization energy  57   10   10 equal bins of ln(E / eV) over 1.3..3.3
//   electron affinity        67   10   10 equal bins over -3..3.7 eV
//   block                    77    4   s, p, d, f, see below
//   atomic volume            81   10   10 equal bins of ln(V / (cm^3/mol)) over 1.5..4.3,
//                                      V = molar mass / density
//
// Bins are half-open, [edge_k, edge_k+1): a value on an edge (Cu's electronegativity 1.90)
// belongs to the upper bin. A value outside a block's range falls into the end bin on its side.
// A property the table does not know (NaN, or -1 for integers) leaves its block all zero, so a
// block holds at most one 1: the noble gases He, Ne, Ar have no electronegativity, elements from
// Rf on no ionization energy, electron affinity or density.
//
// Definitions where the paper leaves a choice:
//   block    s: groups 1-2 and He; p: groups 13-18; d: groups 3-12, including Lu and Lr (f shell
//            full and a further d or p electron, like Sc and Y); f: the other lanthanides and
//            actinides La-Yb, Ac-No (group 3 of periods 6-7 in the table).
//   valence  electrons outside closed shells: s + p for the s and p block (the filled d10 of
//            Ga..Rn does not count), s + p + d for the d and f block (f electrons do not count).
//            So a transition metal has its group number (Cu 11, Zn 12, Pd 10, Pt 10), a main
//            group element its old group number (Al 3, O 6, Ne 8), an f-block element 2 to 4.
//   volume   density is the table's: for the elements that are gases at room temperature (H, He,
//            N, O, F, Ne, Cl, Ar, Kr, Xe, Rn) that is the ideal gas, so their molar volume
//            (about 24,500 cm^3/mol) lands in the last bin, unlike the condensed-phase volumes of
//            the reference code's table.
//
// The reference code (github.com/txie-93/cgcnn) ships its table as data/atom_init.json with 92
// columns per element; this encoding follows the paper's Table S2 (91 = 18+7+10+10+12+10+10+4+10)
// and is computed, not copied, so the two do not match value for value.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace matnn::features {

/// One one-hot block of the CGCNN element features: its name and where it sits in the vector.
struct CgcnnFeatureBlock {
  const char* name;  ///< "group", "period", "electronegativity", ...
  std::int64_t offset;
  std::int64_t width;
};

/// The nine blocks in vector order (the table above); their widths sum to the feature width.
std::span<const CgcnnFeatureBlock> cgcnn_element_feature_blocks() noexcept;

/// Length of the element feature vector: 91.
std::int64_t cgcnn_element_feature_width() noexcept;

/// The 0/1 feature vector of the element with atomic number z, length
/// cgcnn_element_feature_width(); throws matnn::Error(MATNN_ERROR_UNKNOWN_ELEMENT) outside 1..118.
std::vector<float> cgcnn_element_features(int z);

}  // namespace matnn::features
