#include "data/prototype_label.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <vector>

#include <spglib.h>

#include "matnn/error.hpp"

namespace matnn::data {
namespace {

// spglib keeps its last error code in a global, not per thread: serialise our calls so that the
// message we report is the one of our call.
std::mutex spglib_mutex;

using Dataset = std::unique_ptr<SpglibDataset, decltype(&spg_free_dataset)>;
using Mat3i = std::array<std::array<int, 3>, 3>;

// A cell as spglib takes it: lattice vectors as the COLUMNS of `lattice` (matnn's Cell has them
// as rows), fractional positions, and a type per atom (the atomic number).
struct SpgCell {
  double lattice[3][3];
  std::vector<std::array<double, 3>> positions;
  std::vector<int> types;
};

// Takes a copy: spglib.h declares its inputs non-const in C++ (SPGCONST is empty there).
Dataset dataset_of(SpgCell cell, double symprec) {
  std::lock_guard<std::mutex> lock(spglib_mutex);
  SpglibDataset* d = spg_get_dataset(cell.lattice, reinterpret_cast<double(*)[3]>(cell.positions.data()),
                                     cell.types.data(), static_cast<int>(cell.types.size()), symprec);
  if (d == nullptr || d->spacegroup_number == 0) {
    const SpglibError code = spg_get_error_code();
    if (d != nullptr) spg_free_dataset(d);
    fail(MATNN_ERROR_GEOMETRY, "spglib found no space group ({}) with symprec {} Angstrom", spg_get_error_message(code),
         symprec);
  }
  return Dataset(d, &spg_free_dataset);
}

SpgCell spg_cell(const Structure& s) {
  SpgCell cell;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) cell.lattice[i][j] = s.cell(j, i);
  const Positions scaled = s.scaled_positions();
  cell.positions.resize(s.size());
  for (std::size_t a = 0; a < s.size(); ++a)
    for (int k = 0; k < 3; ++k) cell.positions[a][k] = scaled(static_cast<Eigen::Index>(a), k);
  cell.types = s.numbers;
  return cell;
}

// spglib's standardized conventional cell (idealised: exact metric of its lattice system).
SpgCell standard_cell(const SpglibDataset& d) {
  SpgCell cell;
  std::copy(&d.std_lattice[0][0], &d.std_lattice[0][0] + 9, &cell.lattice[0][0]);
  cell.positions.resize(static_cast<std::size_t>(d.n_std_atoms));
  for (int a = 0; a < d.n_std_atoms; ++a)
    for (int k = 0; k < 3; ++k) cell.positions[a][k] = d.std_positions[a][k];
  cell.types.assign(d.std_types, d.std_types + d.n_std_atoms);
  return cell;
}

double wrap(double x) {
  x -= std::floor(x);
  return x > 1 - 1e-9 ? 0.0 : x;
}

bool same_mod_1(double a, double b, double tol) {
  const double d = a - b - std::round(a - b);
  return std::abs(d) < tol;
}

Mat3i multiply(const Mat3i& a, const Mat3i& b) {
  Mat3i c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i][j] += a[i][k] * b[k][j];
  return c;
}

int determinant(const Mat3i& m) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

// Inverse of a unimodular integer matrix (det = +-1): the adjugate divided by the determinant.
Mat3i inverse(const Mat3i& m) {
  const int det = determinant(m);
  Mat3i inv{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
      inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) * det;
    }
  return inv;
}

// The space group of the standard cell as spglib found it, in the basis of that cell: each
// rotation with its translations (several for a centred cell: the centring vectors appear as
// operations with the identity rotation).
struct Operations {
  std::map<Mat3i, std::vector<std::array<double, 3>>> by_rotation;
  std::vector<std::array<double, 3>> centring;  ///< translations of the identity, (0, 0, 0) among them
};

Operations operations_of(const SpglibDataset& d) {
  Operations ops;
  const Mat3i identity{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
  for (int n = 0; n < d.n_operations; ++n) {
    Mat3i r;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) r[i][j] = d.rotations[n][i][j];
    ops.by_rotation[r].push_back({d.translations[n][0], d.translations[n][1], d.translations[n][2]});
  }
  ops.centring = ops.by_rotation[identity];
  return ops;
}

bool has_rotation(const Operations& ops, const Mat3i& r) { return ops.by_rotation.count(r) > 0; }

// True when x -> M x + t maps the group onto itself: every conjugated operation
// (M W M^-1, M w + t - M W M^-1 t) is again an operation of the group (modulo lattice vectors).
bool normalises(const Operations& ops, const Mat3i& m, const Mat3i& m_inverse, const std::array<double, 3>& t) {
  for (const auto& [rotation, translations] : ops.by_rotation) {
    const Mat3i w = multiply(multiply(m, rotation), m_inverse);
    const auto target = ops.by_rotation.find(w);
    if (target == ops.by_rotation.end()) return false;
    for (const auto& translation : translations) {
      std::array<double, 3> shifted{};
      for (int i = 0; i < 3; ++i) {
        shifted[i] = t[i];
        for (int k = 0; k < 3; ++k) shifted[i] += m[i][k] * translation[k] - w[i][k] * t[k];
      }
      const bool found = std::any_of(target->second.begin(), target->second.end(), [&](const auto& u) {
        return same_mod_1(u[0], shifted[0], 1e-6) && same_mod_1(u[1], shifted[1], 1e-6) && same_mod_1(u[2], shifted[2], 1e-6);
      });
      if (!found) return false;
    }
  }
  return true;
}

// The representative of t modulo the centring vectors: the smallest of t + c (mod 1).
std::array<double, 3> modulo_centring(const Operations& ops, const std::array<double, 3>& t) {
  std::array<double, 3> best{2, 2, 2};
  for (const auto& c : ops.centring) {
    std::array<double, 3> u{};
    for (int i = 0; i < 3; ++i) u[i] = std::round(wrap(t[i] + c[i]) * 24) / 24;  // candidates are multiples of 1/24
    for (double& x : u) x = x >= 1 ? 0 : x;
    best = std::min(best, u);
  }
  return best;
}

// Integer matrices with entries in {-1, 0, 1} that preserve the metric of the standard lattice
// (its holohedry in the conventional basis, which always has such entries) and are not in the
// point group of the crystal up to what is already listed: one representative per coset, the
// identity first. Rotations of the crystal itself give nothing new, so they are skipped.
std::vector<Mat3i> lattice_rotations(const double lattice[3][3], const Operations& ops) {
  double metric[3][3];
  double scale = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      metric[i][j] = 0;
      for (int k = 0; k < 3; ++k) metric[i][j] += lattice[k][i] * lattice[k][j];
      scale = std::max(scale, std::abs(metric[i][j]));
    }
  std::vector<Mat3i> representatives{Mat3i{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}};
  for (int code = 0; code < 19683; ++code) {
    Mat3i m;
    int c = code;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j, c /= 3) m[i][j] = c % 3 - 1;
    if (std::abs(determinant(m)) != 1) continue;
    bool preserves = true;
    for (int i = 0; i < 3 && preserves; ++i)
      for (int j = 0; j < 3 && preserves; ++j) {
        double g = 0;
        for (int k = 0; k < 3; ++k)
          for (int l = 0; l < 3; ++l) g += m[k][i] * metric[k][l] * m[l][j];
        preserves = std::abs(g - metric[i][j]) <= 1e-6 * scale;
      }
    if (!preserves) continue;
    // Same coset as a representative R when R^-1 M is a rotation of the crystal.
    bool known = false;
    for (const Mat3i& r : representatives) {
      const Mat3i q = multiply(inverse(r), m);
      known = known || has_rotation(ops, q);
    }
    if (!known) representatives.push_back(m);
  }
  return representatives;
}

// Origin shifts worth trying: every component in {0, 1/8, ..., 7/8, 1/3, 2/3} (the translations
// of Euclidean normalisers of the standard settings are among these), except along a direction
// that no rotation moves (a polar axis): a shift along it changes no Wyckoff letter.
std::vector<std::array<double, 3>> candidate_shifts(const Operations& ops) {
  std::array<bool, 3> free_axis{true, true, true};
  for (const auto& [w, translations] : ops.by_rotation)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        if (w[i][j] != (i == j ? 1 : 0)) free_axis[j] = false;
  std::vector<double> values{0.0};
  for (int k = 1; k < 8; ++k) values.push_back(k / 8.0);
  values.push_back(1.0 / 3);
  values.push_back(2.0 / 3);
  std::vector<std::array<double, 3>> shifts;
  for (double x : free_axis[0] ? std::vector<double>{0.0} : values)
    for (double y : free_axis[1] ? std::vector<double>{0.0} : values)
      for (double z : free_axis[2] ? std::vector<double>{0.0} : values) shifts.push_back({x, y, z});
  return shifts;
}

std::string wyckoff_field(std::vector<int> letters) {
  std::sort(letters.begin(), letters.end());
  std::string field;
  for (std::size_t i = 0; i < letters.size();) {
    std::size_t j = i;
    while (j < letters.size() && letters[j] == letters[i]) ++j;
    if (j - i > 1) field += std::to_string(j - i);
    // spglib numbers Wyckoff positions from 0 = 'a'; the 27th of Pmmm (index 26) is 'A'.
    field += letters[i] < 26 ? static_cast<char>('a' + letters[i]) : 'A';
    i = j;
  }
  return field;
}

char family_letter(int space_group) {
  if (space_group <= 2) return 'a';
  if (space_group <= 15) return 'm';
  if (space_group <= 74) return 'o';
  if (space_group <= 142) return 't';
  if (space_group <= 194) return 'h';
  return 'c';
}

std::string stoichiometry_letter(std::size_t k) {
  std::string name;
  for (++k; k > 0; k = (k - 1) / 26) name.insert(name.begin(), static_cast<char>('A' + (k - 1) % 26));
  return name;
}

}  // namespace

PrototypeInfo prototype_info(const Structure& s, double symprec) {
  if (!(symprec > 0) || !std::isfinite(symprec))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "the symmetry tolerance symprec = {} Angstrom must be a positive number", symprec);
  if (s.size() == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "a prototype label needs at least one atom");
  if (!s.fully_periodic())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "a prototype label needs a structure periodic along all three axes (pbc = {} {} {})",
         s.pbc[0] ? "T" : "F", s.pbc[1] ? "T" : "F", s.pbc[2] ? "T" : "F");
  s.validate();

  const Dataset input = dataset_of(spg_cell(s), symprec);
  const SpgCell standard = standard_cell(*input);
  // The group's operations in the basis of the standard cell: the dataset of that cell itself.
  const Dataset reference = dataset_of(standard, symprec);
  const Operations ops = operations_of(*reference);

  PrototypeInfo info;
  info.space_group = reference->spacegroup_number;
  info.international = reference->international_symbol;
  std::map<int, long> counts;
  for (int z : s.numbers) ++counts[z];
  long divisor = 0;
  for (const auto& [z, n] : counts) divisor = std::gcd(divisor, n);
  for (auto& [z, n] : counts) n /= divisor;
  // Every atom of the input maps to one of the primitive cell; the number of distinct images is
  // the size of the primitive cell.
  std::vector<int> images(input->mapping_to_primitive, input->mapping_to_primitive + input->n_atoms);
  std::sort(images.begin(), images.end());
  info.primitive_atoms = static_cast<std::size_t>(std::unique(images.begin(), images.end()) - images.begin());
  const char centring = info.international.empty() ? 'P' : info.international[0];
  const char centring_letter = (centring == 'A' || centring == 'B') ? 'C' : centring;
  const std::size_t pearson_atoms =
      centring == 'R' ? standard.types.size() / 3 : standard.types.size();
  info.pearson = fmt::format("{}{}{}", family_letter(info.space_group), centring_letter, pearson_atoms);

  // Every description reachable by a normaliser element (M, t): the cell x -> M x + t, which is
  // the same crystal rotated and moved (M preserves the metric) with the same operations, so
  // spglib describes it in the same setting but possibly with other Wyckoff letters.
  std::vector<std::string> labels;
  // P1 has one Wyckoff position: nothing to choose.
  const bool triclinic_p1 = ops.by_rotation.size() == 1;
  const std::vector<std::array<double, 3>> shifts =
      triclinic_p1 ? std::vector<std::array<double, 3>>{{0, 0, 0}} : candidate_shifts(ops);
  const std::vector<Mat3i> rotations =
      triclinic_p1 ? std::vector<Mat3i>{Mat3i{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}} : lattice_rotations(standard.lattice, ops);
  for (const Mat3i& m : rotations) {
    const Mat3i m_inverse = inverse(m);
    std::set<std::array<double, 3>> tried;  // shifts that differ by a centring vector give one description
    for (const auto& t : shifts) {
      if (!tried.insert(modulo_centring(ops, t)).second || !normalises(ops, m, m_inverse, t)) continue;
      // The identity is the standard cell itself, whose dataset we have (spglib takes ~20 ms per
      // call on a cubic cell: the calls are the cost of a label).
      const bool identity = m == rotations.front() && t == std::array<double, 3>{0, 0, 0};
      SpgCell moved = standard;
      for (std::size_t a = 0; a < moved.positions.size() && !identity; ++a)
        for (int i = 0; i < 3; ++i) {
          double x = t[i];
          for (int k = 0; k < 3; ++k) x += m[i][k] * standard.positions[a][k];
          moved.positions[a][i] = wrap(x);
        }
      const Dataset d = identity ? Dataset(nullptr, &spg_free_dataset) : dataset_of(moved, symprec);
      const SpglibDataset& described = identity ? *reference : *d;
      if (described.spacegroup_number != info.space_group) continue;  // a tolerance edge: not this group
      std::map<int, std::vector<int>> letters;  // species -> a Wyckoff letter per orbit
      for (int a = 0; a < described.n_atoms; ++a)
        if (described.crystallographic_orbits[a] == a) letters[moved.types[a]].push_back(described.wyckoffs[a]);
      // Species by increasing reduced count, ties by their Wyckoff letters: no element enters.
      std::vector<std::pair<long, std::string>> species;
      for (const auto& [z, n] : counts) species.emplace_back(n, wyckoff_field(letters[z]));
      std::sort(species.begin(), species.end());
      std::string stoichiometry, sites;
      for (std::size_t k = 0; k < species.size(); ++k) {
        stoichiometry += stoichiometry_letter(k);
        if (species[k].first > 1) stoichiometry += std::to_string(species[k].first);
        sites += "_" + species[k].second;
      }
      labels.push_back(fmt::format("{}_{}_{}{}", stoichiometry, info.pearson, info.space_group, sites));
    }
  }
  if (labels.empty())
    fail(MATNN_ERROR_INTERNAL, "no description of space group {} passed the checks of its own operations", info.space_group);
  info.label = *std::min_element(labels.begin(), labels.end());
  return info;
}

std::string prototype_label(const Structure& s, double symprec) { return prototype_info(s, symprec).label; }

}  // namespace matnn::data
