// One interaction block (convolution layer) of the NequIP-style model.
//
//     h     = linear_1(x)                              per irrep, channels -> channels
//     w     = radial(basis(r_e))                       (E, n_paths, channels): per edge, path, channel
//     m_i   = sum_{e: center i} TP_w(h_{neighbor(e)}, Y(r_e)) / avg_num_neighbors
//     y     = linear_2(m) + self_connection(x (x) onehot(species))
//     x_out = gate(y)     (silu of the scalars only in the last block)  [+ x when resnet]
//
// The radial MLP has no biases and silu activations (silu(0) = 0), so zero basis (an edge at
// the cutoff) gives zero weights and a vanishing message. The self-connection is
// species-dependent (a linear map per species, as NequIP's tensor product with the one-hot
// species), the conv and self-connection outputs are summed before the gate.
// Output irreps: all irreps with l <= l_max (both parities with parity on) that some path
// reaches, except in the last block, which produces only the even scalars the readout needs.
#pragma once

#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include "nn/linear.hpp"
#include "potentials/nequip/irreps.hpp"
#include "potentials/nequip/radial_table.hpp"
#include "potentials/nequip/tensor_product.hpp"

namespace matnn::potentials::nequip {

/// Per-edge inputs of one interaction block. Either the basis (the radial networks run on it)
/// or, for inference, the lengths (the blocks interpolate their tabulated networks;
/// radial_table.hpp). The block reads features of n_sources atoms and writes features of the
/// first n_centers of them (EdgeTopology; the same count unless far atoms are left out).
struct EdgeInputs {
  ad::Tensor harmonics;  ///< (E, (l_max + 1)^2)
  ad::Tensor basis;      ///< (E, num_basis), or undefined
  ad::Tensor lengths;    ///< (E, 1) when basis is undefined
  std::shared_ptr<const EdgeTopology> topology;  ///< null when there are no edges
  int64_t n_edges = 0;
  int64_t n_centers = 0;
  int64_t n_sources = 0;
};

struct InteractionOptions {
  int64_t channels = 16;
  int l_max = 2;
  int64_t num_basis = 8;
  double cutoff = 4.0;  ///< of the basis (radial_basis.hpp), for the radial tables
  int envelope_p = 6;
  int64_t radial_hidden = 32;
  int64_t radial_layers = 2;
  double avg_num_neighbors = 12.0;
  bool parity = true;
  bool resnet = false;
  int64_t n_species = 1;
};

/// Bias-free MLP num_basis -> hidden (silu) x layers -> out; children "0", "1", ... (Linear).
class RadialMlp : public nn::Module {
 public:
  RadialMlp(int64_t in, int64_t hidden, int64_t layers, int64_t out, std::mt19937_64& rng);
  ad::Tensor forward(const ad::Tensor& x) override;
  /// The activations that enter the last layer, (n, hidden) (x itself without hidden layers).
  ad::Tensor last_hidden(const ad::Tensor& x);
  /// The outputs `columns` of the last layer from last_hidden(x): (n, columns), in that order.
  ad::Tensor output_columns(const ad::Tensor& hidden, const ad::Index& columns);
  std::string type_name() const override { return "RadialMlp"; }
  /// The weights (in, out) in float64, the last one restricted to `columns` (in that order).
  std::vector<Eigen::MatrixXd> weight_matrices(const std::vector<int32_t>& columns) const;

 private:
  std::vector<std::unique_ptr<nn::Linear>> layers_;
};

class Interaction : public nn::Module {
 public:
  Interaction(const std::vector<Irrep>& in_irreps, bool last, const InteractionOptions& options, std::mt19937_64& rng);

  const std::vector<Irrep>& out_irreps() const noexcept { return out_irreps_; }
  const TensorProduct& tensor_product() const noexcept { return *tp_; }
  /// x: (edges.n_sources, 2l+1, channels) per input irrep; onehot: (edges.n_centers, n_species)
  /// of x's dtype. The outputs are the features of the first edges.n_centers atoms.
  Features forward_features(const Features& x, const EdgeInputs& edges, const ad::Tensor& onehot) const;
  std::string type_name() const override { return "Interaction"; }

 private:
  /// Per output group, the table of its radial weights (radial_table.hpp), tabulated from the
  /// current radial weights: rebuilt when they changed since the last call (training, loading).
  std::vector<std::shared_ptr<const RadialTable>> radial_tables() const;

  InteractionOptions options_;
  bool last_;
  std::vector<Irrep> out_irreps_;
  std::unique_ptr<TensorProduct> tp_;
  std::unique_ptr<IrrepsLinear> linear_1_;
  std::unique_ptr<RadialMlp> radial_;
  std::unique_ptr<IrrepsLinear> linear_2_;
  std::unique_ptr<IrrepsLinear> self_connection_;
  std::vector<ad::Index> group_columns_;  // per output group: its radial outputs, path-major
  mutable std::mutex tables_mutex_;       // guards the two below (compute may run on several threads)
  mutable std::vector<unsigned char> tabulated_weights_;  // the radial weights' bytes when tabulated
  mutable std::vector<std::shared_ptr<const RadialTable>> tables_;
};

}  // namespace matnn::potentials::nequip
