#include "features/cgcnn_element_features.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <optional>

#include "matnn/elements.hpp"

namespace matnn::features {
namespace {

// Block order and widths as documented in the header; offsets follow from the widths.
constexpr std::array<CgcnnFeatureBlock, 9> blocks = [] {
  std::array<CgcnnFeatureBlock, 9> b{{{"group", 0, 18},
                                      {"period", 0, 7},
                                      {"electronegativity", 0, 10},
                                      {"covalent_radius", 0, 10},
                                      {"valence_electrons", 0, 12},
                                      {"first_ionization", 0, 10},
                                      {"electron_affinity", 0, 10},
                                      {"block", 0, 4},
                                      {"atomic_volume", 0, 10}}};
  std::int64_t offset = 0;
  for (auto& block : b) {
    block.offset = offset;
    offset += block.width;
  }
  return b;
}();

constexpr std::int64_t total_width = blocks.back().offset + blocks.back().width;
static_assert(total_width == 91, "CGCNN's Table S2 encoding has 91 values");

// Position of each block in `blocks`.
enum Slot : std::size_t {
  slot_group, slot_period, slot_electronegativity, slot_covalent_radius, slot_valence,
  slot_ionization, slot_affinity, slot_orbital_block, slot_volume, slot_count
};
static_assert(slot_count == blocks.size());

// Bin of x among `bins` equal, half-open bins [edge_k, edge_k+1) over [lo, hi]; outside values go
// to the end bin on their side; NaN (unknown) gives no bin.
std::optional<int> bin(double x, double lo, double hi, int bins) {
  if (std::isnan(x)) return std::nullopt;
  // Compare before dividing so that infinities and huge values cannot overflow the cast.
  if (x <= lo) return 0;
  if (x >= hi) return bins - 1;
  // Tabulated values often sit exactly on an edge (electronegativity 1.90 of Si, Cu; 1.20 of Eu,
  // Gd), where (x - lo) / width comes out a rounding error below the integer; the slack of 1e-9
  // bin widths puts them in the upper bin, as the decimal numbers say.
  constexpr double edge_slack = 1e-9;
  return std::min(bins - 1, static_cast<int>((x - lo) / (hi - lo) * bins + edge_slack));
}

// Category index of an integer property counted from `first`, clamped into the block; -1 (or any
// negative value, the table's "unknown") gives no bin.
std::optional<int> category(int value, int first, int count) {
  if (value < 0) return std::nullopt;
  return std::clamp(value - first, 0, count - 1);
}

// ln of a positive quantity; NaN for unknown or non-positive values (their block stays empty).
double log_or_nan(double x) { return x > 0.0 ? std::log(x) : NAN; }

bool is_f_series(const ElementData& e) { return e.group == 3 && e.period >= 6; }

// s = 0, p = 1, d = 2, f = 3 (see the header for the rule).
int orbital_block_of(const ElementData& e) {
  // He fills only an s shell, so it joins the s block although the table puts it in group 18.
  if (e.group == 1 || e.group == 2 || (e.group == 18 && e.valence_p == 0)) return 0;
  if (e.group >= 13) return 1;
  if (is_f_series(e)) {
    // Lu and Lr close the f shell and add a d or p electron: d block, under Sc and Y.
    const bool closes_f_shell = e.valence_f == 14 && e.valence_d + e.valence_p > 0;
    return closes_f_shell ? 2 : 3;
  }
  return 2;
}

// Valence electrons as defined in the header; -1 if a shell count is unknown.
int valence_electrons(const ElementData& e, int orbital_block) {
  if (e.valence_s < 0 || e.valence_p < 0 || e.valence_d < 0) return -1;
  const int outer = e.valence_s + e.valence_p;
  return orbital_block <= 1 ? outer : outer + e.valence_d;
}

}  // namespace

std::span<const CgcnnFeatureBlock> cgcnn_element_feature_blocks() noexcept { return blocks; }

std::int64_t cgcnn_element_feature_width() noexcept { return total_width; }

std::vector<float> cgcnn_element_features(int z) {
  const ElementData& e = element(z);  // throws for unknown z
  const int orbital_block = orbital_block_of(e);

  std::array<std::optional<int>, slot_count> hot;
  hot[slot_group] = category(e.group, 1, 18);
  hot[slot_period] = category(e.period, 1, 7);
  hot[slot_electronegativity] = bin(e.electronegativity, 0.5, 4.0, 10);
  hot[slot_covalent_radius] = bin(e.covalent_radius * 100.0, 25.0, 250.0, 10);  // Angstrom -> pm
  hot[slot_valence] = category(valence_electrons(e, orbital_block), 1, 12);
  hot[slot_ionization] = bin(log_or_nan(e.first_ionization), 1.3, 3.3, 10);
  hot[slot_affinity] = bin(e.electron_affinity, -3.0, 3.7, 10);
  hot[slot_orbital_block] = orbital_block;
  hot[slot_volume] = bin(log_or_nan(e.mass / e.density), 1.5, 4.3, 10);

  std::vector<float> features(static_cast<std::size_t>(total_width), 0.0f);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (hot[b]) features[static_cast<std::size_t>(blocks[b].offset + *hot[b])] = 1.0f;
  }
  return features;
}

}  // namespace matnn::features
