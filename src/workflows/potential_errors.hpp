// Errors of a potential against reference labels: overall, per config_type, and, for an
// ensemble, how well its uncertainty tracks the error.
#pragma once

#include <array>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "matnn/record.hpp"
#include "parallel/communicator.hpp"
#include "potentials/potential.hpp"
#include "workflows/dataset_rows.hpp"

namespace matnn::workflows {

/// Error sums; metrics() reports energy MAE/RMSE in meV/atom, force MAE/RMSE in meV/Angstrom
/// (per component) and stress MAE/RMSE in GPa, each over the structures that carry that label.
class PotentialErrors {
 public:
  void add_energy(double predicted, double reference, std::size_t n_atoms);
  void add_forces(const Positions& predicted, const AtomValues& reference);
  void add_stress(const std::array<double, 6>& predicted, const std::vector<double>& reference);
  /// The errors of a training batch: energies (S), forces (N, 3) and stress (S, 6) as tensors.
  void add_batch(const std::vector<const Record*>& records, const ad::Tensor& energies, const ad::Tensor& forces,
                 const ad::Tensor& stress, const std::vector<std::int64_t>& atom_offsets);
  std::map<std::string, double> metrics() const;
  /// Each error sum <- its sum over the ranks of `comm` (each rank having added its own
  /// structures), on every rank.
  void sum_over(const parallel::Communicator& comm);

 private:
  double energy_abs_ = 0, energy_sq_ = 0, force_abs_ = 0, force_sq_ = 0, stress_abs_ = 0, stress_sq_ = 0;
  std::size_t energies_ = 0, force_components_ = 0, stress_components_ = 0;
};

struct PotentialEvaluation {
  std::map<std::string, double> overall;  ///< metrics() of every structure, plus "n"
  /// The same per config_type tag (structures without one under "-"); empty when no structure
  /// has a config_type.
  std::map<std::string, std::map<std::string, double>> by_config_type;
  /// Ensembles only: Spearman rank correlation of the energy sigma with |energy error| per atom
  /// and of the mean force deviation with the force MAE per structure ("energy_sigma_spearman",
  /// "force_deviation_spearman"), mean sigma and deviation.
  std::map<std::string, double> uncertainty;
  /// Per evaluated structure: the ensemble's energy sigma per atom (eV) and its largest per-atom
  /// force deviation (eV/Angstrom); zeros for a single model.
  std::vector<double> energy_sigma_per_atom, max_force_deviation;
};

/// How well the ensemble's uncertainty separates out-of-distribution structures (`ood`) from
/// in-distribution ones (`in`): ROC-AUC of the energy sigma per atom ("ood_auroc_energy_sigma")
/// and of the maximum force deviation ("ood_auroc_force_deviation"); 0.5 is chance, 1 perfect.
std::map<std::string, double> ood_separation(const PotentialEvaluation& in, const PotentialEvaluation& ood);

/// Errors of the ensemble mean (Potential::compute, the path hosts call) on the rows of `data` (all when
/// `rows` is empty). Isolated-atom frames (reference_energies.hpp) are skipped. The structures are
/// shared among the ranks of `comm` (potential_on_ranks.hpp); rank 0 sums the errors and every
/// rank returns its evaluation, the serial run's bit for bit.
PotentialEvaluation evaluate_potential_on(const potentials::Potential& potential, DatasetRows& data,
                                          const std::vector<std::size_t>& rows = {},
                                          const parallel::Communicator& comm = {});

}  // namespace matnn::workflows
