// A trained interatomic potential as a host code uses it: an ensemble of PotentialModel members
// with a per-species energy shift and a common scale,
//
//     E_i = scale * output_i + shift[species_i],     E = sum_i E_i,
//
// and energy, forces, stress and per-atom energies of a structure, with the ensemble's spread as
// the uncertainty. Units are ASE's: eV, Angstrom, eV/Angstrom, eV/Angstrom^3 (stress with ASE's
// sign, Voigt order xx yy zz yz xz xy).
//
// Stress convention: stress = (1/V) dE/d(strain), symmetrised, with V = |det(cell)| the volume
// of the whole cell (every lattice vector, the vacuum vector of a slab included) and the strain
// acting on cell and positions together. A fully periodic cell gets all six components. A slab
// (exactly two periodic directions, e.g. pbc = T T F) gets the components within its periodic
// plane and 0 for every component that involves the non-periodic Cartesian axis (for pbc = T T F:
// zz, yz and xz are 0; xx, yy and xy are set), as ASE's cell filters with a mask such as
// [1, 1, 0, 0, 0, 1] expect. The non-periodic lattice vector k pairs with Cartesian axis k, so a
// slab needs: a nonzero third vector (V > 0) and periodic lattice vectors with no component
// along axis k (for T T F: a and b in the xy plane, as ASE's surface builders make them). A
// structure with fewer than two periodic directions (a wire, a molecule) gets no stress.
// stress_unavailable_reason() says why a structure gets none.
//
// Thread safety: compute() only reads the model; each call builds its own graph, so several
// threads may call it at once on one Potential (the C ABI relies on this).
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "potentials/core_repulsion.hpp"
#include "potentials/potential_model.hpp"

namespace matnn::potentials {

struct PotentialResult {
  double energy = 0.0;           ///< eV, ensemble mean
  Eigen::VectorXd energies;      ///< per atom, eV (mean)
  Positions forces;              ///< natoms x 3, eV/Angstrom (mean)
  std::array<double, 6> stress{};  ///< eV/Angstrom^3, Voigt, ASE sign (mean); zeros unless has_stress
  bool has_stress = false;       ///< see stress_unavailable_reason(); slab: out-of-plane components 0
  // Uncertainty (zero for a single model):
  double energy_sigma = 0.0;     ///< std over members of the total energy, eV
  Eigen::VectorXd force_deviation;  ///< per atom: sqrt(mean_k |F_ik - <F_i>|^2), eV/Angstrom
  double max_force_deviation = 0.0; ///< max over atoms: DeePMD's model deviation
  /// Per-atom virials (mean), when asked for: atom i's share of dE/d(strain), Voigt, eV
  /// (forces_from_edge_gradient says how it is shared). They sum to the symmetrised virial, so
  /// for a fully periodic structure sum_i atom_virials_i / V = stress (ASE sign) before the
  /// slab masking; LAMMPS' `compute stress/atom` has the same sign.
  AtomVirials atom_virials;
};

struct ComputeRequest {
  bool forces = true;
  bool stress = true;   ///< ignored (has_stress = false) when stress_unavailable_reason() is not empty
  /// Empty: E = sum of all atoms' energies. Otherwise one weight per atom, E = sum_i w_i E_i,
  /// and forces and stress are those of that E: a domain-decomposed host passes 1 for its own
  /// atoms and 0 for ghosts, whose energies are wrong (their environments are cut off).
  /// Per-atom energies are meaningful for atoms of nonzero weight only: the environments of
  /// atoms that cannot change the weighted energy are left out (GraphOptions).
  std::span<const double> energy_weights{};
  /// A fully periodic structure with more atoms than this is evaluated in blocks of about this
  /// many atoms, each with ghosts out to the interaction range (atom_blocks.hpp): memory then
  /// depends on the block, not the structure. Results agree with one whole evaluation to
  /// round-off. 0: never split. Each block also evaluates its ghosts' environments out to the
  /// interaction range less one cutoff, so larger blocks cost less time per atom and more
  /// memory: with the NequIP-style defaults a 2^20-atom copper cell peaks at about 1.1 GB and
  /// costs 1.7 times the time per atom of a 4096-atom cell (blocks of 16384: 0.6 GB, 1.8 times;
  /// docs/results-potentials.md, session 20).
  std::size_t block_atoms = default_block_atoms;
  static constexpr std::size_t default_block_atoms = 65536;
  /// Per-atom virials (PotentialResult::atom_virials); they need the gradient, as forces do.
  bool atom_virials = false;
  /// The host's neighbour list (atom_graph.hpp) instead of matnn's own search; the structure
  /// must then be non-periodic with explicit ghosts. Empty: matnn searches.
  HostNeighbors neighbors{};
};

class Potential {
 public:
  static constexpr const char* file_kind = "potential";

  /// `architecture` and `model_config` go to make_potential_model(); members get seeds seed + k.
  Potential(std::string architecture, const nlohmann::json& model_config, std::vector<int> species, int ensemble,
            std::uint64_t seed);

  const std::string& architecture() const noexcept { return architecture_; }
  const std::vector<int>& species() const noexcept { return species_; }
  double cutoff() const;
  /// How far an atom's energy reaches (PotentialModel::interaction_range), Angstrom.
  double interaction_range() const;
  std::size_t ensemble_size() const noexcept { return members_.size(); }
  PotentialModel& member(std::size_t k) { return *members_.at(k); }
  ad::DType dtype() const noexcept { return dtype_; }
  /// Converts every member (float64 for finite-difference checks and exact host agreement).
  void to(ad::DType dtype);

  const std::vector<double>& shift() const noexcept { return shift_; }
  double scale() const noexcept { return scale_; }
  /// Per-species reference energies (eV, in species() order) and the output scale (eV).
  void set_energy_scaling(std::vector<double> shift, double scale);

  /// The ZBL core under the networks (core_repulsion.hpp); compute() includes it, the
  /// differentiable energies below do not (it does not depend on the weights).
  const CoreRepulsion& core_repulsion() const noexcept { return core_repulsion_; }
  void set_core_repulsion(const CoreRepulsion& core) { core_repulsion_ = core; }
  /// Per-atom energies E_i of member k on a graph, differentiable (n_atoms).
  ad::Tensor atomic_energies(std::size_t k, const AtomGraph& graph);
  /// Total energy per structure of member k, differentiable (n_structures).
  ad::Tensor structure_energies(std::size_t k, const AtomGraph& graph);

  /// Energy, forces, stress and per-atom energies of one structure, averaged over the ensemble.
  PotentialResult compute(const Structure& structure, const ComputeRequest& request = {}) const;

  /// Atomic write of a model file (kind "potential"); see docs/training-config.md.
  void save(const std::string& path, const nlohmann::json& provenance = nlohmann::json::object()) const;
  /// Throws MATNN_ERROR_MODEL for another kind, a newer format, or inconsistent content.
  static Potential load(const std::string& path);

 private:
  struct MemberResult {
    double energy = 0.0;
    Eigen::VectorXd energies;
    Positions forces;
    Eigen::Matrix3d virial = Eigen::Matrix3d::Zero();  // dE/d(strain)
    AtomVirials atom_virials;                          // when asked for
  };
  /// What evaluate_members computes besides energies.
  struct Needs {
    bool gradient = false;
    bool atom_virials = false;
    HostNeighbors neighbors{};
  };
  /// Message-passing hops of the members (interaction range / cutoff; 1 for a local model).
  int layers() const;
  /// Every member on one structure (weights as ComputeRequest::energy_weights, all given).
  std::vector<MemberResult> evaluate_members(const Structure& structure, std::span<const double> weights,
                                             const Needs& needs) const;
  /// The same, block by block (BlockPlan), summed.
  std::vector<MemberResult> evaluate_in_blocks(const Structure& structure, std::span<const double> weights,
                                               const Needs& needs, std::size_t block_atoms) const;

  std::string architecture_;
  nlohmann::json model_config_;
  std::vector<int> species_;
  std::vector<std::unique_ptr<PotentialModel>> members_;
  std::vector<double> shift_;
  double scale_ = 1.0;
  CoreRepulsion core_repulsion_;
  std::uint64_t seed_ = 0;
  ad::DType dtype_ = ad::DType::f32;
};

/// Empty when Potential::compute() gives stress for `s` (a fully periodic cell, or a slab that
/// meets the conditions of the stress convention at the top of this file); otherwise a sentence
/// saying why not (fewer than two periodic directions, a zero vacuum vector, a periodic lattice
/// vector with a component along the non-periodic axis).
std::string stress_unavailable_reason(const Structure& s);

/// eV/Angstrom^3 in GPa.
inline constexpr double ev_per_a3_in_gpa = 160.21766208;

}  // namespace matnn::potentials
