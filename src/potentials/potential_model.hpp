// The interface every interatomic-potential architecture implements (Behler-Parrinello,
// NequIP-style equivariant message passing, ...).
//
// A model maps an AtomGraph to one unscaled output per atom. It must read atomic positions only
// through graph.edge_vectors (and species through graph.species / species_index), and must be
// built from differentiable ops only (autodiff/ops.hpp), so that the Potential wrapper gets
// forces and stress by differentiating, and training on forces differentiates once more.
// The wrapper turns outputs into per-atom energies, E_i = scale * output_i + shift[species_i],
// with the per-species shift and the scale fitted from the training data; a model therefore
// aims at outputs of order one and needs no energy statistics of its own.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/module.hpp"
#include "parallel/communicator.hpp"
#include "potentials/atom_graph.hpp"

namespace matnn::potentials {

/// What PotentialModel::evaluate() returns.
struct AtomicEvaluation {
  std::vector<double> outputs;        ///< one per atom
  std::vector<double> edge_gradient;  ///< (n_edges, 3) row-major: d(sum_i w_i output_i) / d(edge_vectors); empty unless asked
};

class PotentialModel : public nn::Module {
 public:
  /// "behler_parrinello", "nequip", ...: what model files record.
  virtual std::string kind() const = 0;
  /// Interaction cutoff, Angstrom; the model's energy must go smoothly to zero there.
  virtual double cutoff() const = 0;
  /// How far an atom's energy reaches, Angstrom: the cutoff times the message-passing steps.
  /// Domain decomposition and blocked evaluation give each atom ghosts out to this distance.
  virtual double interaction_range() const { return cutoff(); }
  /// Atomic numbers the model was built for, in the order graph.species indexes them.
  virtual const std::vector<int>& species() const = 0;
  /// The architecture's hyperparameters, enough to rebuild the model with make_potential_model().
  virtual nlohmann::json config() const = 0;
  /// One output per atom, shape (n_atoms), in the graph's dtype.
  virtual ad::Tensor atomic_outputs(const AtomGraph& graph) = 0;
  /// Inference: the outputs and, when `gradient` is set, the gradient of sum_i weights_i output_i
  /// with respect to every edge vector (forces and stress follow from it, atom_graph.hpp). The
  /// default differentiates atomic_outputs() with the engine; an architecture may override it
  /// with a hand-written pass that gives the same numbers faster (Behler-Parrinello does).
  /// `weights` has one entry per atom.
  virtual AtomicEvaluation evaluate(const AtomGraph& graph, std::span<const double> weights, bool gradient);
  /// Called once before training with a graph of (a sample of) the training structures, for
  /// models that standardise their inputs (Behler-Parrinello symmetry functions); the statistics
  /// must be kept as buffers so that model files carry them. Collective over `comm`: each rank
  /// passes its own share of the structures, and the statistics are those of all of them
  /// (a serial Communicator for one process). Default: nothing to fit.
  virtual void fit_input_statistics(const AtomGraph& graph, const parallel::Communicator& comm) {
    (void)graph;
    (void)comm;
  }

 protected:
  /// sum_i weights_i outputs_i, differentiable; fails unless there is one weight per output.
  static ad::Tensor weighted_sum(const ad::Tensor& outputs, std::span<const double> weights);
};

/// Builds a model of `kind` from its config (as config() returns it, or as a user writes it in a
/// training config, with defaults for absent keys), for the given species. Parameters are
/// initialised from `seed`; the model is float32 until to(DType) is called. Throws
/// MATNN_ERROR_INVALID_ARGUMENT for an unknown kind or a bad config value (naming the key).
std::unique_ptr<PotentialModel> make_potential_model(const std::string& kind, const nlohmann::json& config,
                                                     const std::vector<int>& species, std::uint64_t seed);

}  // namespace matnn::potentials
