// The Behler-Parrinello high-dimensional neural-network potential (as in n2p2 and RuNNer):
// element-resolved atom-centred symmetry functions (symmetry_functions.hpp), standardised per
// element, fed to one feed-forward network per element whose scalar output is the atom's
// (unscaled) contribution to the energy.
//
// Config keys (all optional; unknown keys fail with MATNN_ERROR_INVALID_ARGUMENT naming them):
//   cutoff           5.0            rc in Angstrom
//   cutoff_function  "polynomial"   or "cosine" (see symmetry_functions.hpp; the polynomial one
//                                    has zero value, slope and curvature at rc, so energy,
//                                    forces and force constants are continuous)
//   radial           {count: 8, r_min: 0.5}
//                                   G2 per neighbour element, centres spread over [r_min, rc],
//                                    eta = 1 / (2 spacing^2) ("shifted" grid)
//   angular          {type: "narrow", eta: [0, 1/rc^2, 4/rc^2], zeta: [1, 2, 4, 16], lambda: [1, -1]}
//                                   type "narrow" (G4, with r_jk) or "wide" (G5); eta in 1/A^2;
//                                    an empty eta or zeta list disables the angular functions
//   hidden           [24, 24]       hidden layer widths of every element network
//   activation       "tanh"         any smooth activation of nn/activation.hpp; "relu" is
//                                    rejected (its kink makes forces discontinuous)
//   input_scaling    "range"        how fit_input_statistics() scales each symmetry function:
//                                    "range" divides by its range (max - min) over the training
//                                    atoms, as n2p2's scale_symmetry_functions with
//                                    center_symmetry_functions; "standard" by its standard
//                                    deviation (what a model file that does not say was fitted with)
//
// Tensors: buffers "input_mean" and "input_std" (the scale, whichever input_scaling chose),
// (n_species, n_features), set by fit_input_statistics() (mean 0, scale 1 until then); the
// networks are children of "network", named by element symbol: "network.Cu.layers.0.weight", ...
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/mlp.hpp"
#include "potentials/potential_model.hpp"
#include "potentials/symmetry_functions.hpp"

namespace matnn::potentials {

/// A module that only holds named children (the per-element networks).
class ModuleDict : public nn::Module {
 public:
  void add(const std::string& name, std::shared_ptr<nn::Module> child) {
    modules_.push_back(child);
    register_module(name, child.get());
  }
  std::string type_name() const override { return "ModuleDict"; }

 private:
  std::vector<std::shared_ptr<nn::Module>> modules_;
};

class BehlerParrinello : public PotentialModel {
 public:
  /// `species`: the atomic numbers graph.species indexes (distinct, non-empty). Network weights
  /// of an element depend on `seed` and its atomic number only.
  BehlerParrinello(const nlohmann::json& config, const std::vector<int>& species, std::uint64_t seed);

  std::string kind() const override { return "behler_parrinello"; }
  std::string type_name() const override { return "BehlerParrinello"; }
  double cutoff() const override { return functions_.config().cutoff; }
  const std::vector<int>& species() const override { return species_; }
  nlohmann::json config() const override;
  ad::Tensor atomic_outputs(const AtomGraph& graph) override;
  /// The same numbers as the engine's path, with the symmetry functions and their gradients
  /// computed directly (symmetry_functions_direct.cpp): several times faster for inference.
  AtomicEvaluation evaluate(const AtomGraph& graph, std::span<const double> weights, bool gradient) override;
  /// Per element: mean and scale of every symmetry function over the graph's atoms of that
  /// element; the scale is the (population) standard deviation or, with input_scaling "range",
  /// max - min. A scale below 1e-6 |mean| is raised to it, and a function that is (almost) zero
  /// on every such atom (scale and |mean| below 1e-12) gets scale 1; an element without atoms in
  /// the graph gets mean 0, scale 1.
  void fit_input_statistics(const AtomGraph& graph, const parallel::Communicator& comm) override;

  const SymmetryFunctions& symmetry_functions() const noexcept { return functions_; }
  std::int64_t n_features() const noexcept { return functions_.n_features(); }
  /// Raw symmetry functions, (n_atoms, n_features).
  ad::Tensor symmetry_function_values(const AtomGraph& graph) const;
  /// (G - mean[species]) / scale[species], (n_atoms, n_features): what the networks see.
  ad::Tensor standardized_inputs(const AtomGraph& graph) const;
  /// Standardises the (n_atoms, n_features) symmetry functions x and runs each atom's network
  /// (species: index into species() per atom): the outputs, (n_atoms), differentiable in x and
  /// the weights. Training from cached descriptors (descriptor_cache.hpp) enters here.
  ad::Tensor outputs_from_features(const ad::Tensor& x, std::span<const std::int32_t> species);
  nn::Mlp& network(std::size_t species_index) { return *networks_[species_index]; }
  const ad::Tensor& input_mean() const noexcept { return input_mean_; }
  const ad::Tensor& input_std() const noexcept { return input_std_; }

 private:
  enum class InputScaling { standard, range };
  struct Options {
    SymmetryFunctionConfig functions;
    std::vector<std::int64_t> hidden;
    nn::ActivationKind activation;
    InputScaling input_scaling;
  };
  static Options parse(const nlohmann::json& config);
  BehlerParrinello(Options options, const std::vector<int>& species, std::uint64_t seed);
  void check_graph(const AtomGraph& graph) const;

  std::vector<int> species_;
  SymmetryFunctions functions_;
  std::vector<std::int64_t> hidden_;
  nn::ActivationKind activation_;
  InputScaling input_scaling_;
  ad::Tensor input_mean_;
  ad::Tensor input_std_;
  ModuleDict network_dict_;
  std::vector<std::shared_ptr<nn::Mlp>> networks_;
};

}  // namespace matnn::potentials
