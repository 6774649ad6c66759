#include "potentials/nequip/edge_convolution.hpp"

#include <algorithm>
#include <string>
#include <tuple>
#include <type_traits>

#include "autodiff/graph.hpp"
#include "autodiff/kernels.hpp"
#include "matnn/error.hpp"
#include "potentials/nequip/radial_table.hpp"

namespace matnn::potentials::nequip {
namespace {

using ad::detail::dispatch;
using ad::detail::parallel_for;
using Slot = ConvolutionSlot;

constexpr const char* kOp = "edge convolution";
constexpr std::array<const char*, 4> kSlotNames{"features", "harmonics", "weights", "messages"};

// Raw pointers and sizes of one call; `out` is the wanted slot, uninitialised: each kernel
// writes every element it owns (no separate pass to zero a large output).
template <typename T>
struct Views {
  const CouplingTable& table;
  const EdgeTopology& topo;
  int64_t c;
  const T* h;  // (n_sources, D_in, c)
  const T* y;  // (E, sh_cols)
  const T* w;  // (E, P, c)
  const T* g;  // (n_centers, D_out, c)
  T* out;
};

// A path's entries in one order, with coefficients of the kernel's type.
template <typename T>
struct Walk {
  const CouplingTable::Entry* entries;
  const T* coefficients;
};

template <typename T>
Walk<T> walk(const CouplingTable& t, CouplingTable::Order order) {
  const auto k = static_cast<std::size_t>(order);
  if constexpr (std::is_same_v<T, float>) return {t.ordered[k].data(), t.coefficients_f32[k].data()};
  else return {t.ordered[k].data(), nullptr};
}

template <typename T>
T coefficient(const Walk<T>& walk, int64_t q) {
  if constexpr (std::is_same_v<T, float>) return walk.coefficients[q];
  else return walk.entries[q].coefficient;
}

// Channels run innermost. C > 0: exactly C channels, known to the compiler, so each row is a
// few whole SIMD registers; C = 0: any count, in chunks of at most kChunk.
constexpr int64_t kChunk = 64;

template <int C>
int64_t chunk_length(int64_t c, int64_t k0) {
  if constexpr (C > 0) return C;
  else return std::min(kChunk, c - k0);
}

// Where a kernel reads each edge's weights W[e] (num_paths x c, contiguous). Each parallel task
// takes its own copy, so a tabulated source's buffers are the task's own.
template <typename T>
struct StoredWeights {
  const T* w;
  int64_t row;
  const T* operator()(int64_t edge) { return w + edge * row; }
};

// W[e] interpolated from the radial table at the edge's length when the kernel reaches the edge:
// a row of scratch per task instead of E x paths x c stored floats (radial_table.hpp).
template <typename T>
struct TabulatedWeights {
  const RadialTable* table;
  const T* lengths;
  std::vector<T> value, slope;
  TabulatedWeights(const RadialTable& t, const T* r)
      : table(&t), lengths(r), value(static_cast<std::size_t>(t.outputs())), slope(value.size()) {}
  const T* operator()(int64_t edge) {
    table->row(lengths[edge], value.data());
    return value.data();
  }
  // W[e], and dW/dr into `slope`.
  const T* with_slope(int64_t edge) {
    table->row(lengths[edge], value.data(), slope.data());
    return value.data();
  }
};

// The two node-valued slots are one kernel in two directions. Towards the centre, the messages
// M[i] sum over the edges of centre i the neighbour's features H; towards the neighbour, dS/dH[j]
// sums over the edges whose neighbour is j the centre's G. One target atom per task, so no write
// conflicts. The entries are walked in runs of one target row, summed in registers, then weighted
// and added once.
enum class Towards { center, neighbor };

template <typename T, int C, Towards D, typename Weights>
MATNN_TARGET_CLONES void node_range(const Views<T>& v, Weights weights, int64_t b, int64_t e) {
  constexpr bool to_center = D == Towards::center;
  const CouplingTable& t = v.table;
  const Walk<T> walk_ = walk<T>(t, to_center ? CouplingTable::by_out_row : CouplingTable::by_in_row);
  const int64_t c = C > 0 ? C : v.c, p_count = t.num_paths();
  const int64_t target_rows = to_center ? t.out_rows : t.in_rows, source_rows = to_center ? t.in_rows : t.out_rows;
  const T* source = to_center ? v.h : v.g;
  const std::vector<int64_t>& offsets = to_center ? v.topo.center_offsets : v.topo.neighbor_offsets;
  const std::vector<int32_t>& other_end = to_center ? v.topo.neighbor : v.topo.center;
  const auto target_row = [&](int64_t q) { return to_center ? walk_.entries[q].out_row : walk_.entries[q].in_row; };
  const auto source_row = [&](int64_t q) { return to_center ? walk_.entries[q].in_row : walk_.entries[q].out_row; };
  for (int64_t k0 = 0; k0 < c; k0 += C > 0 ? C : kChunk) {
    const int64_t len = chunk_length<C>(c, k0);
    for (int64_t atom = b; atom < e; ++atom) {
      T* __restrict o = v.out + atom * target_rows * c + k0;
      for (int64_t row = 0; row < target_rows; ++row) std::fill_n(o + row * c, len, T(0));
      for (int64_t r = offsets[atom]; r < offsets[atom + 1]; ++r) {
        const int64_t edge = to_center ? r : v.topo.by_neighbor[r];
        const T* __restrict x = source + other_end[edge] * source_rows * c + k0;
        const T* y = v.y + edge * t.sh_cols;
        const T* w_edge = weights(edge);
        for (int64_t p = 0; p < p_count; ++p) {
          const T* __restrict w = w_edge + p * c + k0;
          for (int64_t q = t.path_offsets[p], end = t.path_offsets[p + 1]; q < end;) {
            const int32_t row = target_row(q);
            T acc[C > 0 ? C : kChunk] = {};
            for (; q < end && target_row(q) == row; ++q) {
              const T s = coefficient(walk_, q) * y[walk_.entries[q].sh_col];
              const T* __restrict xx = x + source_row(q) * c;
#pragma omp simd
              for (int64_t k = 0; k < len; ++k) acc[k] += s * xx[k];
            }
            T* __restrict ox = o + row * c;
#pragma omp simd
            for (int64_t k = 0; k < len; ++k) ox[k] += acc[k] * w[k];
          }
        }
      }
    }
  }
}

// dS/dW[e, p]: per edge, no conflicts. Entries by output row: sum s H over a run, times G once.
template <typename T, int C>
MATNN_TARGET_CLONES void weights_range(const Views<T>& v, int64_t b, int64_t e) {
  const CouplingTable& t = v.table;
  const Walk<T> walk_ = walk<T>(t, CouplingTable::by_out_row);
  const int64_t c = C > 0 ? C : v.c, d_in = t.in_rows, d_out = t.out_rows, p_count = t.num_paths();
  for (int64_t k0 = 0; k0 < c; k0 += C > 0 ? C : kChunk) {
    const int64_t len = chunk_length<C>(c, k0);
    for (int64_t edge = b; edge < e; ++edge) {
      const T* __restrict h = v.h + v.topo.neighbor[edge] * d_in * c + k0;
      const T* __restrict g = v.g + v.topo.center[edge] * d_out * c + k0;
      const T* y = v.y + edge * t.sh_cols;
      for (int64_t p = 0; p < p_count; ++p) {
        T total[C > 0 ? C : kChunk] = {};
        for (int64_t q = t.path_offsets[p], end = t.path_offsets[p + 1]; q < end;) {
          const int32_t row = walk_.entries[q].out_row;
          T acc[C > 0 ? C : kChunk] = {};
          for (; q < end && walk_.entries[q].out_row == row; ++q) {
            const T s = coefficient(walk_, q) * y[walk_.entries[q].sh_col];
            const T* __restrict hx = h + walk_.entries[q].in_row * c;
#pragma omp simd
            for (int64_t k = 0; k < len; ++k) acc[k] += s * hx[k];
          }
          const T* __restrict gx = g + row * c;
#pragma omp simd
          for (int64_t k = 0; k < len; ++k) total[k] += acc[k] * gx[k];
        }
        std::copy_n(total, len, v.out + (edge * p_count + p) * c + k0);
      }
    }
  }
}

// dS/dY[e], per edge: entries by harmonic column, each run's H * G products summed over the
// channels once, weighted by W. With a tabulated source, also dS/dr[e] = sum_p dS/dW[e, p] .
// dW[e, p]/dr in the same walk (the force pass of an inference call needs both): the same run
// sums, scaled by Y, give dS/dW[e, p], which is contracted with the table's slope and dropped.
// v.out is dS/dY; dS/dr goes to out_r.
template <typename T, int C, typename Weights>
MATNN_TARGET_CLONES void edge_partials_range(const Views<T>& v, Weights weights, T* out_r, int64_t b, int64_t e) {
  constexpr bool with_lengths = std::is_same_v<Weights, TabulatedWeights<T>>;
  const CouplingTable& t = v.table;
  const Walk<T> walk_ = walk<T>(t, CouplingTable::by_sh_col);
  const int64_t c = C > 0 ? C : v.c, d_in = t.in_rows, d_out = t.out_rows, p_count = t.num_paths();
  for (int64_t k0 = 0; k0 < c; k0 += C > 0 ? C : kChunk) {
    const int64_t len = chunk_length<C>(c, k0);
    for (int64_t edge = b; edge < e; ++edge) {
      const T* __restrict h = v.h + v.topo.neighbor[edge] * d_in * c + k0;
      const T* __restrict g = v.g + v.topo.center[edge] * d_out * c + k0;
      const T* y = v.y + edge * t.sh_cols;
      T* o = v.out + edge * t.sh_cols;
      if (k0 == 0) std::fill_n(o, t.sh_cols, T(0));
      const T* w_edge;
      if constexpr (with_lengths) w_edge = weights.with_slope(edge);
      else w_edge = weights(edge);
      T length_gradient = 0;
      for (int64_t p = 0; p < p_count; ++p) {
        const T* __restrict w = w_edge + p * c + k0;
        T total[C > 0 ? C : kChunk] = {};
        for (int64_t q = t.path_offsets[p], end = t.path_offsets[p + 1]; q < end;) {
          const int32_t col = walk_.entries[q].sh_col;
          T acc[C > 0 ? C : kChunk] = {};
          for (; q < end && walk_.entries[q].sh_col == col; ++q) {
            const T s = coefficient(walk_, q);
            const T* __restrict hx = h + walk_.entries[q].in_row * c;
            const T* __restrict gx = g + walk_.entries[q].out_row * c;
#pragma omp simd
            for (int64_t k = 0; k < len; ++k) acc[k] += s * hx[k] * gx[k];
          }
          T dot = 0;
#pragma omp simd reduction(+ : dot)
          for (int64_t k = 0; k < len; ++k) dot += acc[k] * w[k];
          o[col] += dot;
          if constexpr (with_lengths) {
            const T yc = y[col];
#pragma omp simd
            for (int64_t k = 0; k < len; ++k) total[k] += yc * acc[k];
          }
        }
        if constexpr (with_lengths) {
          const T* __restrict dw = weights.slope.data() + p * c + k0;
#pragma omp simd reduction(+ : length_gradient)
          for (int64_t k = 0; k < len; ++k) length_gradient += total[k] * dw[k];
        }
      }
      if constexpr (with_lengths) out_r[edge] = (k0 == 0 ? T(0) : out_r[edge]) + length_gradient;
    }
  }
}

// Calls f with the channel count as a compile-time constant for the usual counts (code compiled
// for their exact width), 0 (any count, chunked) otherwise.
template <typename F>
void with_channels(int64_t c, F&& f) {
  switch (c) {
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    case 32: f(std::integral_constant<int, 32>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
  }
}

// The kernel of the wanted slot over all its targets (atoms or edges), in parallel.
template <typename T, int C>
void run(Slot wanted, const Views<T>& v) {
  const int64_t work = v.topo.n_edges * static_cast<int64_t>(v.table.entries.size()) * v.c;
  const StoredWeights<T> weights{v.w, v.table.num_paths() * v.c};
  switch (wanted) {
    case Slot::features:
      parallel_for(v.topo.n_sources, work,
                   [&](int64_t b, int64_t e) { node_range<T, C, Towards::neighbor>(v, weights, b, e); });
      break;
    case Slot::harmonics:
      parallel_for(v.topo.n_edges, work, [&](int64_t b, int64_t e) { edge_partials_range<T, C>(v, weights, nullptr, b, e); });
      break;
    case Slot::weights: parallel_for(v.topo.n_edges, work, [&](int64_t b, int64_t e) { weights_range<T, C>(v, b, e); }); break;
    case Slot::messages:
      parallel_for(v.topo.n_centers, work, [&](int64_t b, int64_t e) { node_range<T, C, Towards::center>(v, weights, b, e); });
      break;
  }
}

ad::Shape slot_shape(const CouplingTable& t, const EdgeTopology& topo, Slot slot, int64_t c) {
  switch (slot) {
    case Slot::features: return {topo.n_sources, t.in_rows, c};
    case Slot::harmonics: return {topo.n_edges, t.sh_cols};
    case Slot::weights: return {topo.n_edges, t.num_paths(), c};
    case Slot::messages: return {topo.n_centers, t.out_rows, c};
  }
  return {};
}

// The channel count, from the first given argument that has one; checks every given shape.
int64_t check_arguments(const CouplingTable& t, const EdgeTopology& topo, Slot wanted, const std::array<ad::Tensor, 4>& args) {
  int64_t c = -1;
  const ad::Tensor* first = nullptr;
  for (int s = 0; s < 4; ++s) {
    if (s == static_cast<int>(wanted)) continue;
    const ad::Tensor& a = args[static_cast<std::size_t>(s)];
    if (!a.defined()) ad::detail::invalid(kOp, fmt::format("the {} argument is missing", kSlotNames[static_cast<std::size_t>(s)]));
    if (first != nullptr) ad::detail::check_same_dtype(kOp, *first, a);
    first = &a;
    if (static_cast<Slot>(s) != Slot::harmonics && a.rank() == 3) c = a.dim(2);
  }
  for (int s = 0; s < 4; ++s) {
    if (s == static_cast<int>(wanted)) continue;
    const ad::Tensor& a = args[static_cast<std::size_t>(s)];
    const ad::Shape expected = slot_shape(t, topo, static_cast<Slot>(s), c);
    if (a.shape() != expected)
      ad::detail::invalid(kOp, fmt::format("{} of shape {}, expected {}", kSlotNames[static_cast<std::size_t>(s)],
                                           ad::shape_str(a.shape()), ad::shape_str(expected)));
  }
  return c;
}

}  // namespace

EdgeTopology::EdgeTopology(int64_t centers_count, int64_t sources_count, std::vector<int32_t> centers,
                           std::vector<int32_t> neighbors)
    : n_centers(centers_count),
      n_sources(sources_count),
      n_edges(static_cast<int64_t>(centers.size())),
      center(std::move(centers)),
      neighbor(std::move(neighbors)) {
  if (neighbor.size() != center.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "edge topology: {} centres but {} neighbours", center.size(), neighbor.size());
  if (n_centers < 0 || n_sources < 0)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "edge topology: {} centres and {} sources", n_centers, n_sources);
  center_offsets.assign(static_cast<std::size_t>(n_centers + 1), 0);
  neighbor_offsets.assign(static_cast<std::size_t>(n_sources + 1), 0);
  for (int64_t e = 0; e < n_edges; ++e) {
    const int32_t i = center[static_cast<std::size_t>(e)], j = neighbor[static_cast<std::size_t>(e)];
    if (i < 0 || i >= n_centers || j < 0 || j >= n_sources || (e > 0 && i < center[static_cast<std::size_t>(e - 1)]))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "edge topology: edge {} ({} -> {}) is out of range or not sorted by centre", e, i, j);
    ++center_offsets[static_cast<std::size_t>(i + 1)];
    ++neighbor_offsets[static_cast<std::size_t>(j + 1)];
  }
  for (int64_t i = 0; i < n_centers; ++i)
    center_offsets[static_cast<std::size_t>(i + 1)] += center_offsets[static_cast<std::size_t>(i)];
  for (int64_t j = 0; j < n_sources; ++j)
    neighbor_offsets[static_cast<std::size_t>(j + 1)] += neighbor_offsets[static_cast<std::size_t>(j)];
  // Counting sort by neighbour; stable, so each neighbour's edges stay in centre order.
  by_neighbor.resize(static_cast<std::size_t>(n_edges));
  std::vector<int64_t> next(neighbor_offsets.begin(), neighbor_offsets.end() - 1);
  for (int64_t e = 0; e < n_edges; ++e)
    by_neighbor[static_cast<std::size_t>(next[static_cast<std::size_t>(neighbor[static_cast<std::size_t>(e)])]++)] =
        static_cast<int32_t>(e);
}

void CouplingTable::prepare() {
  for (std::size_t k = 0; k < 3; ++k) {
    const auto key = [k](const Entry& x) {
      const int32_t first = k == by_out_row ? x.out_row : k == by_in_row ? x.in_row : x.sh_col;
      return std::array<int32_t, 4>{first, x.out_row, x.in_row, x.sh_col};
    };
    ordered[k] = entries;
    for (int64_t p = 0; p < num_paths(); ++p)
      std::sort(ordered[k].begin() + path_offsets[static_cast<std::size_t>(p)],
                ordered[k].begin() + path_offsets[static_cast<std::size_t>(p + 1)],
                [&](const Entry& x, const Entry& y) { return key(x) < key(y); });
    coefficients_f32[k].clear();
    for (const Entry& x : ordered[k]) coefficients_f32[k].push_back(static_cast<float>(x.coefficient));
  }
}

ad::Tensor convolution_partial(const std::shared_ptr<const CouplingTable>& table,
                               const std::shared_ptr<const EdgeTopology>& topology, ConvolutionSlot wanted,
                               const std::array<ad::Tensor, 4>& args) {
  const CouplingTable& t = *table;
  const EdgeTopology& topo = *topology;
  const int64_t c = check_arguments(t, topo, wanted, args);
  const ad::Tensor& any = args[wanted == Slot::features ? 1 : 0];
  ad::Tensor out = ad::empty(slot_shape(t, topo, wanted, c), any.dtype());
  const auto ptr = [&](Slot s, auto zero) {
    using T = decltype(zero);
    return s == wanted ? static_cast<const T*>(nullptr) : args[static_cast<std::size_t>(s)].template data<T>();
  };
  dispatch(any.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const Views<T> v{t,
                     topo,
                     c,
                     ptr(Slot::features, zero),
                     ptr(Slot::harmonics, zero),
                     ptr(Slot::weights, zero),
                     ptr(Slot::messages, zero),
                     out.template data<T>()};
    with_channels(c, [&](auto channels) { run<T, decltype(channels)::value>(wanted, v); });
  });

  std::vector<ad::Tensor> inputs;
  std::vector<Slot> slots;
  for (int s = 0; s < 4; ++s) {
    if (s == static_cast<int>(wanted)) continue;
    inputs.push_back(args[static_cast<std::size_t>(s)]);
    slots.push_back(static_cast<Slot>(s));
  }
  return ad::record(out, "edge_convolution", std::move(inputs), [table, topology, wanted, slots](const ad::BackwardContext& ctx) {
    // d<U, dS/dX>/dZ = dS/dZ with X's slot filled by U (the upstream gradient).
    std::array<ad::Tensor, 4> args;
    for (std::size_t k = 0; k < slots.size(); ++k) args[static_cast<std::size_t>(slots[k])] = ctx.inputs[k];
    args[static_cast<std::size_t>(wanted)] = ctx.grad_output;
    std::vector<ad::Tensor> grads(slots.size());
    for (std::size_t k = 0; k < slots.size(); ++k) {
      if (!ctx.needs[k]) continue;
      std::array<ad::Tensor, 4> a = args;
      a[static_cast<std::size_t>(slots[k])] = ad::Tensor();
      grads[k] = convolution_partial(table, topology, slots[k], a);
    }
    return grads;
  }, ad::kReadsOtherInputs);
}

ad::Tensor tabulated_messages(const std::shared_ptr<const CouplingTable>& table,
                              const std::shared_ptr<const EdgeTopology>& topology,
                              const std::shared_ptr<const RadialTable>& radial, const ad::Tensor& features,
                              const ad::Tensor& harmonics, const ad::Tensor& lengths) {
  const CouplingTable& t = *table;
  const EdgeTopology& topo = *topology;
  if (!features.defined() || !harmonics.defined() || !lengths.defined())
    ad::detail::invalid(kOp, "tabulated messages need features, harmonics and lengths");
  ad::detail::check_same_dtype(kOp, features, harmonics);
  ad::detail::check_same_dtype(kOp, features, lengths);
  const int64_t c = features.rank() == 3 ? features.dim(2) : -1;
  const std::array<std::pair<const ad::Tensor*, ad::Shape>, 3> expected{
      {{&features, slot_shape(t, topo, Slot::features, c)},
       {&harmonics, slot_shape(t, topo, Slot::harmonics, c)},
       {&lengths, ad::Shape{topo.n_edges, 1}}}};
  for (const auto& [tensor, shape] : expected)
    if (tensor->shape() != shape)
      ad::detail::invalid(kOp, fmt::format("tabulated messages: an argument of shape {}, expected {}",
                                           ad::shape_str(tensor->shape()), ad::shape_str(shape)));
  if (radial->outputs() != t.num_paths() * c)
    ad::detail::invalid(kOp, fmt::format("the radial table gives {} weights per edge, the paths need {}",
                                         radial->outputs(), t.num_paths() * c));
  const int64_t work = topo.n_edges * static_cast<int64_t>(t.entries.size()) * c;

  ad::Tensor out = ad::empty(slot_shape(t, topo, Slot::messages, c), features.dtype());
  dispatch(features.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const Views<T> v{t, topo, c, features.data<T>(), harmonics.data<T>(), nullptr, nullptr, out.template data<T>()};
    with_channels(c, [&](auto channels) {
      constexpr int C = decltype(channels)::value;
      parallel_for(topo.n_centers, work, [&](int64_t b, int64_t e) {
        node_range<T, C, Towards::center>(v, TabulatedWeights<T>(*radial, lengths.data<T>()), b, e);
      });
    });
  });

  return ad::record(out, "edge_convolution_tabulated", {features, harmonics, lengths},
                    [table, topology, radial, work](const ad::BackwardContext& ctx) {
    if (ad::grad_mode_enabled())
      fail(MATNN_ERROR_INTERNAL,
           "edge convolution: the tabulated radial weights are differentiable once (inference); training "
           "evaluates the radial networks themselves");
    const CouplingTable& t = *table;
    const EdgeTopology& topo = *topology;
    const ad::Tensor &h = ctx.inputs[0], &y = ctx.inputs[1], &r = ctx.inputs[2], &g = ctx.grad_output;
    const int64_t c = h.dim(2);
    std::vector<ad::Tensor> grads(3);
    dispatch(h.dtype(), [&](auto zero) {
      using T = decltype(zero);
      with_channels(c, [&](auto channels) {
        constexpr int C = decltype(channels)::value;
        if (ctx.needs[0]) {
          grads[0] = ad::empty(h.shape(), h.dtype());
          const Views<T> v{t, topo, c, nullptr, y.data<T>(), nullptr, g.data<T>(), grads[0].template data<T>()};
          parallel_for(topo.n_sources, work, [&](int64_t b, int64_t e) {
            node_range<T, C, Towards::neighbor>(v, TabulatedWeights<T>(*radial, r.data<T>()), b, e);
          });
        }
        if (ctx.needs[1] || ctx.needs[2]) {
          // Both edge gradients come from one walk; the one not asked for costs little.
          grads[1] = ad::empty(y.shape(), y.dtype());
          grads[2] = ad::empty(r.shape(), r.dtype());
          const Views<T> v{t, topo, c, h.data<T>(), y.data<T>(), nullptr, g.data<T>(), grads[1].template data<T>()};
          T* out_r = grads[2].template data<T>();
          parallel_for(topo.n_edges, work, [&](int64_t b, int64_t e) {
            edge_partials_range<T, C>(v, TabulatedWeights<T>(*radial, r.data<T>()), out_r, b, e);
          });
        }
      });
    });
    return grads;
  }, ad::kReadsInputs);
}

}  // namespace matnn::potentials::nequip
