#include "data/structure_match.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "matnn/error.hpp"
#include "matnn/neighbor_list.hpp"

namespace matnn::data {
namespace {

constexpr double pi = 3.14159265358979323846;

// Union-find over entry indices, for connected components of the match relation.
struct Components {
  std::vector<std::size_t> parent;
  explicit Components(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t root(std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  }
  void join(std::size_t a, std::size_t b) {
    a = root(a), b = root(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

}  // namespace

void check_tolerances(const MatchTolerances& t) {
  if (!(t.length >= 0) || !std::isfinite(t.length))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "the length tolerance {} Angstrom must be a finite number >= 0", t.length);
  if (!(t.volume >= 0) || !std::isfinite(t.volume))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "the volume tolerance {} must be a finite number >= 0", t.volume);
}

Fingerprint fingerprint(const Structure& s) {
  if (s.size() == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "a structure fingerprint needs at least one atom");
  if (!s.fully_periodic())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "a structure fingerprint needs a structure periodic along all three axes");
  s.validate();

  Fingerprint out;
  out.formula = s.composition().reduced_formula();
  out.volume_per_atom = s.volume() / static_cast<double>(s.size());

  // Species in increasing atomic number, and each atom's species slot.
  std::map<int, std::size_t> slot;
  for (int z : s.numbers) slot.emplace(z, 0);
  std::vector<std::size_t> count(slot.size(), 0);
  {
    std::size_t k = 0;
    for (auto& [z, index] : slot) index = k++;
  }
  std::vector<std::size_t> species(s.size());
  for (std::size_t a = 0; a < s.size(); ++a) ++count[species[a] = slot[s.numbers[a]]];

  // A cutoff that holds at least `fingerprint_ranks` neighbours of the rarest species around
  // every atom: the radius of a sphere holding that many of its atoms at the average density,
  // widened until every atom has them (a very anisotropic cell may need more than the average).
  const std::size_t rarest = *std::min_element(count.begin(), count.end());
  double cutoff = 1.3 * std::cbrt(3.0 * static_cast<double>(fingerprint_ranks + 1) * s.volume() /
                                  (4.0 * pi * static_cast<double>(rarest)));
  const std::size_t n_species = count.size();
  std::vector<std::vector<double>> near;  // [atom * n_species + species]: distances
  for (int attempt = 0;; ++attempt) {
    const NeighborList list = build_neighbor_list(s, cutoff);
    const Eigen::VectorXd d = pair_distances(pair_vectors(s, list));
    near.assign(s.size() * n_species, {});
    for (std::size_t p = 0; p < list.size(); ++p) {
      const auto i = static_cast<std::size_t>(list.first[p]), j = static_cast<std::size_t>(list.second[p]);
      near[i * n_species + species[j]].push_back(d[static_cast<Eigen::Index>(p)]);
    }
    const bool enough = std::all_of(near.begin(), near.end(), [](const auto& v) { return v.size() >= fingerprint_ranks; });
    if (enough) break;
    if (attempt == 8)
      fail(MATNN_ERROR_GEOMETRY, "a structure fingerprint found fewer than {} neighbours of each species within {} Angstrom",
           fingerprint_ranks, cutoff);
    cutoff *= 1.4;
  }
  for (auto& v : near) std::partial_sort(v.begin(), v.begin() + fingerprint_ranks, v.end());

  // Per (A, B, rank): the values over the A atoms, sorted, sampled at quantiles (q + 1/2) / Q.
  // A supercell repeats every value n times, which maps each sampled index into the block of
  // the same value: the samples are exactly those of the primitive cell.
  out.distances.reserve(n_species * n_species * fingerprint_ranks * fingerprint_quantiles);
  std::vector<double> values;
  for (std::size_t a = 0; a < n_species; ++a) {
    for (std::size_t b = 0; b < n_species; ++b) {
      for (std::size_t k = 0; k < fingerprint_ranks; ++k) {
        values.clear();
        for (std::size_t i = 0; i < s.size(); ++i)
          if (species[i] == a) values.push_back(near[i * n_species + b][k]);
        std::sort(values.begin(), values.end());
        for (std::size_t q = 0; q < fingerprint_quantiles; ++q) {
          const auto index = static_cast<std::size_t>((2.0 * static_cast<double>(q) + 1.0) * static_cast<double>(values.size()) /
                                                      (2.0 * fingerprint_quantiles));
          out.distances.push_back(values[std::min(index, values.size() - 1)]);
        }
      }
    }
  }
  return out;
}

bool fingerprints_match(const Fingerprint& a, const Fingerprint& b, const MatchTolerances& t) {
  if (a.formula != b.formula || a.distances.size() != b.distances.size()) return false;
  const double mean_volume = 0.5 * (a.volume_per_atom + b.volume_per_atom);
  if (std::abs(a.volume_per_atom - b.volume_per_atom) > t.volume * mean_volume) return false;
  for (std::size_t i = 0; i < a.distances.size(); ++i)
    if (std::abs(a.distances[i] - b.distances[i]) > t.length) return false;
  return true;
}

bool same_crystal(const Structure& a, const Structure& b, const MatchTolerances& tolerances) {
  check_tolerances(tolerances);
  return fingerprints_match(fingerprint(a), fingerprint(b), tolerances);
}

std::vector<std::vector<std::size_t>> duplicate_groups(const std::vector<Fingerprint>& prints,
                                                       const MatchTolerances& tolerances) {
  check_tolerances(tolerances);
  std::map<std::string, std::vector<std::size_t>> buckets;
  for (std::size_t i = 0; i < prints.size(); ++i)
    if (!prints[i].formula.empty()) buckets[prints[i].formula].push_back(i);
  Components components(prints.size());
  for (auto& [formula, members] : buckets) {
    std::sort(members.begin(), members.end(), [&](std::size_t x, std::size_t y) {
      return std::pair(prints[x].volume_per_atom, x) < std::pair(prints[y].volume_per_atom, y);
    });
    // Sorted by volume, the candidates of x are the entries after it up to the first whose volume
    // is beyond the tolerance (relative to the mean of the two, as fingerprints_match checks).
    for (std::size_t p = 0; p < members.size(); ++p) {
      const double v = prints[members[p]].volume_per_atom;
      for (std::size_t q = p + 1; q < members.size(); ++q) {
        const double w = prints[members[q]].volume_per_atom;
        if (w - v > tolerances.volume * 0.5 * (v + w)) break;
        if (fingerprints_match(prints[members[p]], prints[members[q]], tolerances)) components.join(members[p], members[q]);
      }
    }
  }
  std::map<std::size_t, std::vector<std::size_t>> by_root;
  for (std::size_t i = 0; i < prints.size(); ++i)
    if (!prints[i].formula.empty()) by_root[components.root(i)].push_back(i);
  std::vector<std::vector<std::size_t>> groups;
  for (auto& [root, members] : by_root)
    if (members.size() > 1) groups.push_back(std::move(members));
  return groups;  // roots are the smallest members, so groups come ordered by their first entry
}

}  // namespace matnn::data
