// Atom-centred symmetry functions (Behler & Parrinello 2007, Behler 2011), element-resolved as
// in n2p2, computed from AtomGraph::edge_vectors with differentiable ops only, so that forces,
// stress and force training work through them.
//
// Cutoff functions fc(r), zero for r >= rc (x = r / rc):
//   cosine      0.5 (cos(pi x) + 1)              value and slope vanish at rc (energy and
//                                                 forces continuous; the curvature jumps)
//   polynomial  1 - 10 x^3 + 15 x^4 - 6 x^5      value, slope and curvature vanish at rc
//                                                 (energy, forces and force constants
//                                                 continuous). The default.
//
// Radial functions (G2), one set per neighbour element b:
//   G2[b, m]_i = sum_{j != i, species(j) = b} exp(-eta_m (r_ij - rs_m)^2) fc(r_ij)
// on the "shifted" grid used by the n2p2 / RuNNer parameter generators: `count` centres rs_m
// evenly spaced over [r_min, rc], each a Gaussian of width dr = (rc - r_min) / (count - 1),
// eta = 1 / (2 dr^2) (count = 1: rs = r_min, dr = rc - r_min).
//
// Angular functions, one set per unordered pair of neighbour elements {b, c} (b <= c), summed
// over unordered pairs of distinct neighbours j, k of i (distinct edges: periodic images of
// one atom count separately), with prefactor 2^(1 - zeta):
//   narrow (G4): (1 + lambda cos t_ijk)^zeta exp(-eta (r_ij^2 + r_ik^2 + r_jk^2)) fc(r_ij) fc(r_ik) fc(r_jk)
//   wide   (G5): (1 + lambda cos t_ijk)^zeta exp(-eta (r_ij^2 + r_ik^2)) fc(r_ij) fc(r_ik)
// for every combination of lambda (+1, -1), zeta (positive integers) and eta (>= 0, 1/A^2).
//
// Feature layout per atom (n_features columns):
//   [radial: for b in species: for m in 0..count)]
//   [angular: for (b <= c) in species pairs: for eta: for lambda: for zeta]
// Species pairs are ordered (0,0), (0,1), ..., (0,S-1), (1,1), ..., (S-1,S-1).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autodiff/tensor.hpp"
#include "potentials/atom_graph.hpp"
#include "train/config.hpp"

namespace matnn::potentials {

enum class CutoffFunction { cosine, polynomial };
enum class AngularKind { narrow, wide };

const char* cutoff_function_name(CutoffFunction f) noexcept;
const char* angular_kind_name(AngularKind k) noexcept;

/// Hyperparameters of the symmetry-function set, with the defaults used when a key is absent.
struct SymmetryFunctionConfig {
  double cutoff = 5.0;                                      ///< rc, Angstrom
  CutoffFunction cutoff_function = CutoffFunction::polynomial;
  std::int64_t radial_count = 8;                            ///< G2 per neighbour element (>= 1)
  double radial_r_min = 0.5;                                ///< first centre, Angstrom (< rc)
  AngularKind angular = AngularKind::narrow;
  std::vector<double> angular_eta;                          ///< 1/A^2; read() defaults to {0, 1/rc^2, 4/rc^2}
  std::vector<std::int64_t> zeta{1, 2, 4, 16};              ///< positive integers
  // An empty eta, zeta or lambda list means no angular functions.
  std::vector<std::int64_t> lambda{1, -1};                  ///< each +1 or -1, no repeats

  /// Reads the keys cutoff, cutoff_function, radial {count, r_min} and angular {type, eta,
  /// zeta, lambda} of `root` (whose raw JSON is `raw`, needed for the list of numbers "eta"),
  /// checking types and ranges (MATNN_ERROR_INVALID_ARGUMENT naming the key). The radial and
  /// angular sub-sections are finished (unknown keys rejected); `root` is not.
  static SymmetryFunctionConfig read(const train::ConfigSection& root, const nlohmann::json& raw);
  /// Adds the keys above to `out` with every default filled in.
  void write(nlohmann::json& out) const;
};

/// Index lists of the angular triplets of a graph (pairs of edges e1 < e2 of one center).
struct Triplets {
  std::int64_t count = 0;
  ad::Index edge1;    ///< first edge (into the edge set the functions use)
  ad::Index edge2;    ///< second edge
  ad::Index target;   ///< row of the scatter target: center * n_pairs + pair_channel(s_j, s_k)
};

/// The symmetry functions of a species list (no trainable state).
class SymmetryFunctions {
 public:
  SymmetryFunctions(SymmetryFunctionConfig config, std::int64_t n_species);

  const SymmetryFunctionConfig& config() const noexcept { return config_; }
  std::int64_t n_species() const noexcept { return n_species_; }
  std::int64_t n_radial() const noexcept { return config_.radial_count; }
  /// Angular functions per species pair: lambda.size() * zeta.size() * eta.size().
  std::int64_t n_angular() const noexcept { return n_angular_; }
  std::int64_t n_pairs() const noexcept { return n_species_ * (n_species_ + 1) / 2; }
  std::int64_t n_features() const noexcept { return n_species_ * n_radial() + n_pairs() * n_angular(); }

  /// Centres rs_m and widths eta_m of the radial functions.
  const std::vector<double>& radial_shift() const noexcept { return radial_rs_; }
  const std::vector<double>& radial_eta() const noexcept { return radial_eta_; }
  /// Channel of the unordered species pair {a, b} in the feature layout.
  std::int64_t pair_channel(std::int64_t a, std::int64_t b) const noexcept;
  /// fc(r) in plain double (for references and tests).
  double cutoff_value(double r) const noexcept;

  /// The (n_atoms, n_features) symmetry functions of `graph`, in the graph's dtype,
  /// differentiable w.r.t. graph.edge_vectors. The graph's cutoff must be >= the functions'
  /// cutoff (longer edges are dropped). Triplets are built once per call.
  ad::Tensor compute(const AtomGraph& graph) const;

  /// The same functions evaluated directly in double precision, outside the autodiff engine
  /// (symmetry_functions_direct.cpp): row-major (n_atoms, n_features). For inference.
  std::vector<double> values(const AtomGraph& graph) const;
  /// dE/dG of the atoms [first, first + count), row-major (count, n_features), from their values.
  using BlockGradient = std::function<void(std::int64_t first, std::int64_t count, const double* values,
                                           double* feature_gradient)>;
  /// values() and dE/d(edge_vectors) in one pass, for an energy that is a sum of per-atom terms of
  /// each atom's own functions (a Behler-Parrinello model): the centers go in blocks of `block`
  /// atoms; once a block's functions are formed, `block_gradient` gives their dE/dG, and the
  /// block's per-center terms, still held, are contracted with it on the fly into the edge
  /// gradient. Writes `values` (n_atoms, n_features) and `gradient` (n_edges, 3; zero for edges
  /// beyond the cutoff).
  void values_and_edge_gradient(const AtomGraph& graph, std::int64_t block, const BlockGradient& block_gradient,
                                std::vector<double>& values, std::vector<double>& gradient) const;
  /// The full Jacobian dG[center(e), f] / d(edge_vectors[e]), row-major (n_edges, 3, n_features),
  /// in one pass over the triplets. For training, where it is computed once per structure and
  /// reused every epoch.
  std::vector<double> jacobian(const AtomGraph& graph) const;

 private:
  class CenterKernel;  // one center's structure-of-arrays evaluation (symmetry_functions_direct.cpp)
  /// Forward (features += G) or Jacobian (out = dG/dv, (n_edges, 3, F)) over every center.
  enum class DirectPass { forward, jacobian };
  template <DirectPass Pass>
  void direct_pass(const AtomGraph& graph, const double* edge_vectors, double* out) const;
  ad::Tensor cutoff_function(const ad::Tensor& r) const;
  ad::Tensor angular_terms(const ad::Tensor& vectors, const ad::Tensor& r, const ad::Tensor& fc,
                           const Triplets& triplets, std::int64_t n_atoms) const;

  SymmetryFunctionConfig config_;
  std::int64_t n_species_;
  std::int64_t n_angular_;
  std::vector<double> radial_rs_;
  std::vector<double> radial_eta_;
};

}  // namespace matnn::potentials
