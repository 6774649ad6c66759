// An E(3)-equivariant message-passing potential of the NequIP family (Batzner et al., Nat.
// Commun. 13, 2453 (2022)), built from the differentiable ops of autodiff/ops.hpp.
//
// Architecture:
//  1. embedding: one-hot species -> linear -> `channels` even scalars (0e) per atom;
//  2. per edge: real spherical harmonics Y^0..Y^l_max of the unit edge vector (component
//     normalisation, m = -l..l; spherical_harmonics.hpp) and `num_basis` Bessel functions times
//     the polynomial envelope (radial_basis.hpp), zero with two zero derivatives at the cutoff;
//  3. `num_layers` interaction blocks (interaction.hpp): linear, Clebsch-Gordan convolution
//     with per-edge, per-channel, per-path weights from a radial MLP, sum over neighbours
//     divided by avg_num_neighbors, linear, species-dependent self-connection, gate;
//  4. readout: the final even scalars -> linear (no bias) -> one output per atom; or, with
//     readout_hidden > 0, linear -> silu -> linear (MACE's nonlinear last readout), so that the
//     energy can be a nonlinear function of the centre's last features, as an EAM's embedding
//     energy F(rho_i) is of its density.
// Features are (n_atoms, 2l+1, channels) tensors per irrep (irreps.hpp).
//
// Config keys (all optional):
//   channels           16    multiplicity of every irrep of the hidden features
//   l_max              2     highest l of the harmonics and of the features (0..6)
//   num_layers         3     interaction blocks
//   num_basis          8     Bessel functions
//   cutoff             4.0   Angstrom
//   envelope_p         6     exponent p of the polynomial envelope
//   radial_hidden      32    width of the radial MLP's hidden layers
//   radial_layers      2     hidden layers of the radial MLP (silu, no biases)
//   avg_num_neighbors  12.0  messages summed over neighbours are divided by this number (set it
//                            to the training set's mean neighbour count, so that the summed
//                            messages are of order one whatever the density)
//   parity             true  true: O(3) model, irreps carry parity (1o and 1e are separate,
//                            paths obey p3 = p1 (-1)^l2) and the energy is invariant under
//                            rotations and inversion, as a physical energy must be (a mirror
//                            image has the same energy); false: SO(3) only, cheaper (half the
//                            irreps) but the energy may then tell a structure from its mirror
//                            image (e.g. through triple products r1 . (r2 x r3)).
//   resnet             false add the block's input to its output where the irreps agree
//   readout_hidden     0     width of the readout's hidden layer; 0: a linear readout
// Unknown keys are errors; config() returns every key, so it rebuilds the same model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "potentials/nequip/interaction.hpp"
#include "potentials/nequip/spherical_harmonics.hpp"
#include "potentials/potential_model.hpp"

namespace matnn::potentials {

struct NequipOptions {
  int64_t channels = 16;
  int l_max = 2;
  int64_t num_layers = 3;
  int64_t num_basis = 8;
  double cutoff = 4.0;
  int envelope_p = 6;
  int64_t radial_hidden = 32;
  int64_t radial_layers = 2;
  double avg_num_neighbors = 12.0;
  bool parity = true;
  bool resnet = false;
  int64_t readout_hidden = 0;

  /// Parses a config (defaults for absent keys; MATNN_ERROR_INVALID_ARGUMENT naming a bad or
  /// unknown key).
  static NequipOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

/// Parameters, in this order: "embedding" (n_species, channels), "readout" (channels, 1; with
/// readout_hidden h > 0: (channels, h) followed by "readout_output" (h, 1)), then per
/// block k "interaction_k." + linear_1.<irrep> (c, c), radial.<i>.weight, linear_2.<irrep>
/// (c * paths into the irrep, c or c * (1 + gated irreps) for 0e), self_connection.<irrep>
/// (c * n_species, same). Irrep names as Irrep::name(): "0e", "1o", ...
class NequipModel : public PotentialModel {
 public:
  static constexpr const char* kKind = "nequip";

  NequipModel(const nlohmann::json& config, const std::vector<int>& species, std::uint64_t seed);

  std::string kind() const override { return kKind; }
  double cutoff() const override { return options_.cutoff; }
  double interaction_range() const override { return options_.cutoff * static_cast<double>(options_.num_layers); }
  const std::vector<int>& species() const override { return species_; }
  nlohmann::json config() const override { return options_.to_json(); }
  ad::Tensor atomic_outputs(const AtomGraph& graph) override;
  std::string type_name() const override { return "NequipModel"; }

  const NequipOptions& options() const noexcept { return options_; }
  /// The irreps of the node features after each block.
  std::vector<std::vector<nequip::Irrep>> layer_irreps() const;

 private:
  NequipOptions options_;
  std::vector<int> species_;
  nequip::SphericalHarmonics sh_;
  ad::Tensor embedding_;
  ad::Tensor readout_;
  ad::Tensor readout_output_;  // defined when readout_hidden > 0
  std::vector<std::unique_ptr<nequip::Interaction>> layers_;
};

}  // namespace matnn::potentials
