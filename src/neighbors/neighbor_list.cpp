// build_neighbor_list: scan the bins around each atom's bin (cell_grid.cpp builds the bins).
//
// Atoms are processed in blocks of consecutive indices; within a block, fixed chunks are shared
// among OpenMP threads and each chunk writes its own buffer, then the buffers are appended in
// chunk order. Every atom's neighbours are sorted by (j, S), so the output is the same for any
// number of threads.

#include "matnn/neighbor_list.hpp"

#include <algorithm>
#include <exception>

#include "cell_grid.hpp"
#include "matnn/error.hpp"

namespace matnn {
namespace {

using neighbors_detail::CellGrid;
using Shift = std::array<std::int32_t, 3>;

struct Entry {
  std::int32_t j;
  Shift shift;
};

bool lex_positive(const Shift& s) {
  if (s[0] != 0) return s[0] > 0;
  if (s[1] != 0) return s[1] > 0;
  return s[2] > 0;
}

/// One bin to visit along one axis: its index and the periodic image it stands for.
struct AxisStep {
  std::int64_t bin;
  std::int32_t image;
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

void axis_steps(const CellGrid& g, int k, std::int64_t b, std::vector<AxisStep>& out) {
  out.clear();
  const std::int64_t nb = g.nbins[k];
  for (std::int64_t o = -g.reach[k]; o <= g.reach[k]; ++o) {
    const std::int64_t raw = b + o;
    if (g.pbc[k]) {
      const std::int64_t t = floor_div(raw, nb);
      out.push_back({raw - t * nb, static_cast<std::int32_t>(t)});
    } else if (raw >= 0 && raw < nb) {
      out.push_back({raw, 0});
    }
  }
}

/// Per-thread working memory.
struct Scratch {
  std::array<std::vector<AxisStep>, 3> steps;
  std::vector<std::uint64_t> keys;
  std::vector<Entry> sorted;
  std::vector<double> r2;
};

struct Scan {
  const CellGrid& grid;
  const Structure& structure;
  double cutoff2;
  bool half;

  /// Appends the neighbours of atom i, sorted by (j, S), to `out`.
  void neighbours_of(std::int64_t i, Scratch& scratch, std::vector<Entry>& out) const {
    const CellGrid& g = grid;
    // Pairs this close to the cutoff are decided by the exact formula that pair_vectors uses.
    const double band_lo = cutoff2 * (1.0 - 1e-9), band_hi = cutoff2 * (1.0 + 1e-9);
    auto& steps = scratch.steps;
    for (int k = 0; k < 3; ++k) axis_steps(g, k, g.bin[i][k], steps[k]);
    const Eigen::Vector3d ri = g.wrapped_position(structure.positions, i);
    const Shift& wrap_i = g.wrap[i];
    const std::size_t begin = out.size();
    const std::int32_t i32 = static_cast<std::int32_t>(i);

    for (const AxisStep& s0 : steps[0]) {
      for (const AxisStep& s1 : steps[1]) {
        const Eigen::Vector3d t01 = static_cast<double>(s0.image) * g.lattice.row(0).transpose() +
                                    static_cast<double>(s1.image) * g.lattice.row(1).transpose() - ri;
        const std::int64_t row = (s0.bin * g.nbins[1] + s1.bin) * g.nbins[2];
        for (const AxisStep& s2 : steps[2]) {
          const Eigen::Vector3d base =
              t01 + static_cast<double>(s2.image) * g.lattice.row(2).transpose();
          const std::int64_t bin = row + s2.bin;
          const std::int64_t end = g.bin_start[bin + 1];
          std::int64_t first = g.bin_start[bin];
          if (half)  // a bin lists its atoms in increasing order: skip those before i
            first = std::lower_bound(g.sorted_atom.begin() + first, g.sorted_atom.begin() + end, i32) -
                    g.sorted_atom.begin();
          // Squared distances of the whole bin first (a loop the compiler vectorises), then
          // the few within range.
          const std::int64_t count = end - first;
          auto& r2s = scratch.r2;
          if (static_cast<std::int64_t>(r2s.size()) < count) r2s.resize(static_cast<std::size_t>(count));
          const double* xs = g.sorted_pos[0].data() + first;
          const double* ys = g.sorted_pos[1].data() + first;
          const double* zs = g.sorted_pos[2].data() + first;
          const double bx = base[0], by = base[1], bz = base[2];
          double* r2p = r2s.data();
          for (std::int64_t e = 0; e < count; ++e) {
            const double dx = xs[e] + bx, dy = ys[e] + by, dz = zs[e] + bz;
            r2p[e] = dx * dx + dy * dy + dz * dz;
          }
          for (std::int64_t e = 0; e < count; ++e) {
            const double r2 = r2p[e];
            if (r2 >= band_hi) continue;
            const std::int64_t slot = first + e;
            const std::int32_t j = g.sorted_atom[slot];
            const Shift& wrap_j = g.wrap[j];
            const Shift shift{s0.image + wrap_i[0] - wrap_j[0], s1.image + wrap_i[1] - wrap_j[1],
                              s2.image + wrap_i[2] - wrap_j[2]};
            if (j == i32) {
              if (shift[0] == 0 && shift[1] == 0 && shift[2] == 0) continue;  // the atom itself
              if (half && !lex_positive(shift)) continue;
            }
            if (r2 >= band_lo) {
              double d[3];
              neighbors_detail::exact_pair_vector(structure.positions, structure.cell, i, j, shift, d);
              if (!(d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < cutoff2)) continue;
            }
            out.push_back({j, shift});
          }
        }
      }
    }
    sort_by_neighbour(out, begin, scratch);
  }

  /// Sorts out[begin:] by (j, S). The scan visits the images of a given j in increasing
  /// lexicographic order of the image t, and S = t + n_i - n_j, so the entries of one j already
  /// come sorted by S: a stable sort by j is enough. It sorts integer keys (j, position).
  static void sort_by_neighbour(std::vector<Entry>& out, std::size_t begin, Scratch& scratch) {
    const std::size_t count = out.size() - begin;
    if (count < 2) return;
    auto& keys = scratch.keys;
    keys.resize(count);
    bool sorted = true;
    for (std::size_t e = 0; e < count; ++e) {
      keys[e] = (static_cast<std::uint64_t>(out[begin + e].j) << 32) | e;
      sorted = sorted && (e == 0 || keys[e - 1] < keys[e]);
    }
    if (sorted) return;
    std::sort(keys.begin(), keys.end());
    auto& tmp = scratch.sorted;
    tmp.resize(count);
    for (std::size_t e = 0; e < count; ++e) tmp[e] = out[begin + (keys[e] & 0xffffffffu)];
    std::copy(tmp.begin(), tmp.end(), out.begin() + static_cast<std::ptrdiff_t>(begin));
  }
};

/// Grows the list to `needed` pairs, reserving for the whole list from the pairs per atom so far
/// so that the arrays are reallocated rarely (memory: one copy of the list, not two).
void grow(NeighborList& list, std::size_t needed, std::int64_t processed, std::int64_t natoms) {
  if (needed > list.first.capacity()) {
    const double per_atom = static_cast<double>(needed) / static_cast<double>(processed);
    const auto estimate =
        static_cast<std::size_t>(per_atom * static_cast<double>(natoms) * 1.05) + 1024;
    const std::size_t capacity = std::max(needed, estimate);
    list.first.reserve(capacity);
    list.second.reserve(capacity);
    list.shifts.reserve(capacity);
  }
  list.first.resize(needed);
  list.second.resize(needed);
  list.shifts.resize(needed);
}

}  // namespace

NeighborList build_neighbor_list(const Structure& s, double cutoff, NeighborListKind kind,
                                 std::size_t max_neighbors_per_atom) {
  const CellGrid grid = neighbors_detail::make_cell_grid(s, cutoff);
  if (max_neighbors_per_atom > 0) {
    // Twice the limit: an estimate must not refuse what the exact count would accept.
    const double estimate = neighbors_detail::estimated_neighbors_per_atom(grid, cutoff);
    if (estimate > 2.0 * static_cast<double>(max_neighbors_per_atom))
      fail(MATNN_ERROR_GEOMETRY,
           "neighbour list: about {:.0f} neighbours per atom within the {} Angstrom cutoff (at most {}), estimated "
           "from the density of the {} atoms before building the list: the cell is far smaller than the cutoff or "
           "the atoms are packed unphysically densely",
           estimate, cutoff, max_neighbors_per_atom, s.size());
  }
  NeighborList list;
  list.cutoff = cutoff;
  list.kind = kind;
  const std::int64_t n = s.positions.rows();
  const Scan scan{grid, s, cutoff * cutoff, kind == NeighborListKind::half};

  // Threads only when there is enough work (an estimate of the candidates examined): starting
  // them costs more than a small list, and far more when the cores are busy with other work.
  const double scanned = static_cast<double>((2 * grid.reach[0] + 1) * (2 * grid.reach[1] + 1) *
                                             (2 * grid.reach[2] + 1));
  const double per_bin = static_cast<double>(n) / static_cast<double>(grid.bin_start.size() - 1);
  const bool threads = static_cast<double>(n) * scanned * per_bin > 1e6;

  constexpr std::int64_t kBlock = 1 << 16;
  constexpr int kChunks = 64;
  std::vector<std::vector<Entry>> buffers(kChunks);
  std::vector<std::vector<std::int32_t>> counts(kChunks);
  std::vector<std::size_t> offset(kChunks + 1);

  for (std::int64_t start = 0; start < n; start += kBlock) {
    const std::int64_t stop = std::min(n, start + kBlock);
    const std::int64_t chunk = (stop - start + kChunks - 1) / kChunks;
    std::exception_ptr error;

#pragma omp parallel if (threads)
    {
      Scratch scratch;
#pragma omp for schedule(dynamic, 1)
      for (int c = 0; c < kChunks; ++c) {
        try {
          buffers[c].clear();
          counts[c].clear();
          const std::int64_t lo = std::min(stop, start + c * chunk);
          const std::int64_t hi = std::min(stop, lo + chunk);
          for (std::int64_t i = lo; i < hi; ++i) {
            const std::size_t before = buffers[c].size();
            scan.neighbours_of(i, scratch, buffers[c]);
            counts[c].push_back(static_cast<std::int32_t>(buffers[c].size() - before));
          }
        } catch (...) {
#pragma omp critical(matnn_neighbor_list_error)
          if (!error) error = std::current_exception();
        }
      }
    }
    if (error) std::rethrow_exception(error);

    offset[0] = list.size();
    for (int c = 0; c < kChunks; ++c) offset[c + 1] = offset[c] + buffers[c].size();
    grow(list, offset[kChunks], stop, n);

#pragma omp parallel for schedule(dynamic, 1) if (threads)
    for (int c = 0; c < kChunks; ++c) {
      std::size_t p = offset[c];
      std::int32_t i = static_cast<std::int32_t>(std::min(stop, start + c * chunk));
      std::size_t e = 0;
      for (const std::int32_t count : counts[c]) {
        for (std::int32_t m = 0; m < count; ++m, ++p, ++e) {
          list.first[p] = i;
          list.second[p] = buffers[c][e].j;
          list.shifts[p] = buffers[c][e].shift;
        }
        ++i;
      }
    }
  }
  return list;
}

PairVectors pair_vectors(const Structure& s, const NeighborList& list) {
  const std::size_t m = list.size();
  if (list.second.size() != m || list.shifts.size() != m)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "pair_vectors: the list has {} first, {} second and {} shifts",
         m, list.second.size(), list.shifts.size());
  const std::int64_t n = s.positions.rows();
  for (std::size_t p = 0; p < m; ++p)
    if (list.first[p] < 0 || list.first[p] >= n || list.second[p] < 0 || list.second[p] >= n)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "pair_vectors: pair {} names atom {} or {} of {}", p,
           list.first[p], list.second[p], n);
  PairVectors out(static_cast<Eigen::Index>(m), 3);
  const auto count = static_cast<std::int64_t>(m);
#pragma omp parallel for schedule(static) if (count > 100000)
  for (std::int64_t p = 0; p < count; ++p)
    neighbors_detail::exact_pair_vector(s.positions, s.cell, list.first[p], list.second[p],
                                        list.shifts[p], &out(p, 0));
  return out;
}

Eigen::VectorXd pair_distances(const PairVectors& vectors) {
  return vectors.rowwise().norm();
}

std::vector<std::int64_t> neighbor_offsets(const NeighborList& list, std::size_t natoms) {
  std::vector<std::int64_t> offsets(natoms + 1, 0);
  std::int32_t previous = 0;
  for (std::size_t p = 0; p < list.first.size(); ++p) {
    const std::int32_t i = list.first[p];
    if (i < previous || static_cast<std::size_t>(i) >= natoms)
      fail(MATNN_ERROR_INVALID_ARGUMENT,
           "neighbor_offsets: pair {} has first atom {} (of {}) after {}: not a sorted list", p, i,
           natoms, previous);
    previous = i;
    ++offsets[static_cast<std::size_t>(i) + 1];
  }
  for (std::size_t i = 0; i < natoms; ++i) offsets[i + 1] += offsets[i];
  return offsets;
}

}  // namespace matnn
