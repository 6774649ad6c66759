// Behler-Parrinello training from cached descriptors, as n2p2 trains: the symmetry functions G of
// a training structure and their Jacobian dG/d(edge vectors) do not depend on the weights, so
// they are computed once (symmetry_functions_direct.cpp) and every epoch only runs the element
// networks and the chain rule
//
//     dE/dv_e    = sum_f dE/dG[c(e), f] * J[e, :, f]          (e: edge from c(e) to n(e))
//     forces_j   = sum_{e: c(e) = j} dE/dv_e - sum_{e: n(e) = j} dE/dv_e
//     dE/dstrain = sum_e v_e (x) dE/dv_e                       (per structure)
//
// written in the engine's ops, so the loss stays differentiable in the weights (force training
// needs the gradient of dE/dG). The numbers equal the graph path's (tests check both to 1e-10
// in float64); the speed comes from never rebuilding graphs, triplets or symmetry functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "autodiff/tensor.hpp"
#include "matnn/structure.hpp"
#include "potentials/behler_parrinello.hpp"
#include "potentials/core_repulsion.hpp"

namespace matnn::potentials {

/// One structure's descriptors, in the model's dtype. Only edges inside the cutoff are kept.
struct DescribedStructure {
  std::int64_t n_atoms = 0;
  std::vector<std::int32_t> species;        ///< per atom, index into the model's species
  std::vector<std::int32_t> center, neighbor;  ///< per kept edge, atom indices in this structure
  ad::Tensor features;                      ///< (n_atoms, F) raw symmetry functions
  ad::Tensor jacobian;                      ///< (n_edges, 3, F)
  ad::Tensor edge_vectors;                  ///< (n_edges, 3)
  double volume = 0.0;                      ///< 0 unless fully periodic
  PairTotals core;                          ///< the potential's core repulsion (constant in training)
  std::size_t bytes() const;
};

DescribedStructure describe(const BehlerParrinello& model, const Structure& structure, ad::DType dtype,
                            const CoreRepulsion& core = {});

/// Network outputs of a batch and, with `derivatives`, their gradients (differentiable in the
/// weights when the engine records): per atom outputs (N), per structure output sums (S),
/// d(sum of outputs)/d(positions) (N, 3) and d(sum of outputs)/d(strain) (S, 3, 3).
struct DescribedOutputs {
  ad::Tensor atomic, structure, position_gradient, strain_gradient;
  std::vector<std::int64_t> atom_offsets;  ///< S + 1
};

DescribedOutputs evaluate_described(BehlerParrinello& model, std::span<const DescribedStructure* const> batch,
                                    bool derivatives, bool create_graph);

}  // namespace matnn::potentials
