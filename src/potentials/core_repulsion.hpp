// A repulsive core under a machine-learned potential: the Ziegler-Biersack-Littmark (ZBL)
// universal screened-Coulomb pair energy, switched on only at distances shorter than any the
// training data contain.
//
// A network knows nothing about two atoms closer than its training data brought them: in MD
// above the training temperatures its energy may keep falling as they approach and the atoms
// fuse (the Cu model of docs/results-potentials.md did at 1440 K). MACE and ACE add ZBL for the
// same reason. Here
//
//     E_pair = sum over pairs  u(r),   u(r) = (Z_i Z_j e^2 / r) phi(r / a) s(r),
//     a = 0.46850 A / (Z_i^0.23 + Z_j^0.23),
//     phi(x) = 0.18175 e^-3.19980x + 0.50986 e^-0.94229x + 0.28022 e^-0.40290x + 0.02817 e^-0.20162x,
//
// with s = 1 below `inner`, s = 0 beyond `outer` and the C2 polynomial 1 - 10t^3 + 15t^4 - 6t^5,
// t = (r - inner) / (outer - inner), between. Training puts `outer` at or below the shortest
// distance of its data, so the term is exactly zero on every training structure and the
// network's fit is untouched. Each atom carries half of each of its pairs' energy (per-atom
// energies, and a domain-decomposed host that counts only its own atoms counts each pair once).
#pragma once

#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "potentials/atom_graph.hpp"

namespace matnn::potentials {

/// The pair term on a graph: per-atom energies (eV) and the gradient of sum_i w_i E_i with
/// respect to the edge vectors ((n_edges, 3) row-major; empty unless asked).
struct PairContribution {
  std::vector<double> atom_energies;
  std::vector<double> edge_gradient;
};

/// The term summed per structure of a graph: energies (S), forces (N x 3) and virials
/// dE/d(strain) (S, 3 x 3), for the training loss, where it is a constant.
struct PairTotals {
  std::vector<double> energies;
  Positions forces;
  std::vector<Eigen::Matrix3d> virials;
};

struct CoreRepulsion {
  double inner = 0.0;  ///< Angstrom; full ZBL below
  double outer = 0.0;  ///< Angstrom; zero beyond. 0: no core repulsion

  bool enabled() const noexcept { return outer > 0.0; }
  /// {"kind": "zbl", "inner": ..., "outer": ...}, or null when disabled (model files).
  nlohmann::json to_json() const;
  /// Inverse of to_json(); MATNN_ERROR_MODEL for anything else.
  static CoreRepulsion from_json(const nlohmann::json& json);

  /// u(r) and du/dr for atomic numbers z1, z2.
  static void pair(int z1, int z2, double r, double inner, double outer, double* energy, double* derivative);

  /// The term on `graph` (whose species index `species_z`); `weights` as Potential::compute's
  /// energy weights (empty: all 1), `gradient` whether to fill edge_gradient.
  PairContribution evaluate(const AtomGraph& graph, const std::vector<int>& species_z, std::span<const double> weights,
                            bool gradient) const;
  PairTotals totals(const AtomGraph& graph, const std::vector<int>& species_z) const;
};

}  // namespace matnn::potentials
