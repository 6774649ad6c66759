// A global extended Kalman filter over a model's weights, the optimiser with which n2p2 trains
// Behler-Parrinello networks (Blank and Brown 1994; Singraber et al., JCTC 15, 3075, 2019).
//
// Training is read as estimating the weights w from noisy measurements r(w) = prediction -
// reference (an energy, force components, stress components), each linearised around the
// current weights with its Jacobian H = dr/dw. The filter keeps P, the covariance of the weight
// estimate, and for m measurements at once updates
//
//     X = P H^T                    (n x m)
//     A = H X + I / eta            (m x m; 1/eta is the measurement noise)
//     K = X A^-1                   (the Kalman gain)
//     w <- w - K r,   P <- P - K X^T + q I
//
// so every weight step is scaled by what the past measurements already fixed: a second-order
// method at O(n^2 m) per update. P starts as I / epsilon. The process noise q decays
// geometrically from q0 to q_min and eta grows from eta0 to eta_max, both by a factor per
// epoch, as in n2p2's standard filter.
//
// P has n^2 doubles, which a Behler-Parrinello element network (about 2000 weights) affords
// but a message-passing model (10^4 to 10^5) does not. Such models are filtered layer-wise
// (the reorganised layer-wise filter of Hu et al., "RLEKF", AAAI 2023, as in DeePMD-kit): the
// weights, in parameter order, fall into blocks of at most `block_size`, and P is kept only on
// its diagonal blocks P_b, as if the blocks' estimates were uncorrelated. Every block still
// sees every measurement through the one innovation matrix
//
//     X_b = P_b H_b^T,   A = sum_b H_b X_b + I / eta,   w_b <- w_b - X_b A^-1 r,
//     P_b <- P_b - X_b A^-1 X_b^T + q I,
//
// so a model of one block is the global filter. Memory and work per update fall from n^2 to
// about n * block_size.
//
// Only the lower triangle of each P_b is kept, packed (n_b (n_b + 1) / 2 doubles). Across the
// ranks of a data-parallel run (distribute()), every block's columns are shared among the ranks
// in shares of equal area: each rank downdates its own columns and computes their share of X_b,
// the shares are summed over the ranks, and every rank then solves the same m x m system and
// takes the same weight step. So the covariance memory and work divide by the ranks whatever the
// blocks, a single block (the global filter) included, for one sum of n x m values per update.
//
// Checkpointing follows the Optimizer convention: state() holds every P_b ("covariance.<b>",
// square) and the scalars "updates", "q" and "eta"; load_state() makes the following updates
// bit-identical. Once distributed, both must be called on every rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "nn/kalman_covariance.hpp"
#include "nn/state.hpp"
#include "parallel/communicator.hpp"

namespace matnn::nn {

struct KalmanOptions {
  double epsilon = 1e-2;  ///< P starts as I / epsilon
  double q0 = 1e-2;       ///< initial process noise
  double q_min = 1e-6;    ///< floor of the process noise
  double q_decay = 0.1;   ///< factor applied to q over one epoch
  double eta0 = 1e-2;     ///< initial inverse measurement noise
  double eta_max = 1.0;   ///< ceiling of eta
  double eta_growth = 10; ///< factor applied to eta over one epoch
  std::size_t block_size = 5120;  ///< most weights per covariance block (DeePMD-kit's default)
};

class KalmanFilter {
 public:
  /// Largest covariance accepted, in doubles (2.1 GB): the sum of the blocks' squared sizes,
  /// about n * block_size. That is what state() and a checkpoint hold; the filter itself keeps
  /// the lower triangles, about half, divided among the ranks.
  static constexpr std::size_t max_covariance = std::size_t{1} << 28;

  /// `params` as for Optimizer; `updates_per_epoch` turns the per-epoch factors into per-update ones.
  KalmanFilter(NamedTensors params, const KalmanOptions& options, std::size_t updates_per_epoch);

  /// One update from the measurements `residuals` (1-D, prediction minus reference, recorded
  /// by the engine so that their Jacobian in the weights can be taken). Writes the new
  /// weights into the parameters' storage. Measurements that do not depend on a parameter
  /// give it zero Jacobian.
  void update(const ad::Tensor& residuals);
  /// The same in two steps, for measurements taken on several ranks: jacobian() takes each
  /// rank's rows of H (m x n_weights, one reverse pass per measurement), and every rank then
  /// updates with all ranks' rows and residual values stacked in the same order. The order of
  /// the rows does not change the update beyond round-off.
  Eigen::MatrixXd jacobian(const ad::Tensor& residuals) const;
  void update(const Eigen::MatrixXd& jacobian, const Eigen::VectorXd& residuals);

  /// Shares every covariance block's columns among the ranks of `comm`. Every rank must then
  /// make the same update() calls, with the same measurements (as the data-parallel trainer
  /// does), and call state() and load_state() together. One rank: nothing changes.
  void distribute(const parallel::Communicator& comm);
  /// Covariance values this rank keeps (its columns of every block's lower triangle).
  std::size_t covariance_size() const noexcept;

  std::size_t n_weights() const noexcept { return n_weights_; }
  /// Number of covariance blocks (1: the global filter).
  std::size_t n_blocks() const noexcept { return blocks_.size(); }
  double eta() const noexcept { return eta_; }
  double process_noise() const noexcept { return q_; }
  std::int64_t updates() const noexcept { return updates_; }

  TrainingState state() const;
  /// Restores state(); MATNN_ERROR_MODEL when P's size differs or scalars are missing.
  void load_state(const TrainingState& state);

 private:
  Eigen::RowVectorXd jacobian_row(const ad::Tensor& residuals, Eigen::Index row) const;
  Eigen::VectorXd weights() const;
  void set_weights(const Eigen::VectorXd& w) const;

  /// A diagonal block of P: weights [begin, begin + rows) of the flattened weight vector.
  struct Block {
    Eigen::Index begin = 0;
    Eigen::Index size = 0;  ///< weights in the block
    /// Rank r keeps columns [shares[r], shares[r + 1]) of the lower triangle ({0, size} alone).
    std::vector<std::int64_t> shares;
    detail::LowerColumns covariance;  ///< this rank's columns
    /// The last update's downdate, not yet applied: P_b is covariance - W W^T + q I with
    /// W = pending_root (rows x 0 when none) and q = pending_noise. The same on every rank.
    Eigen::MatrixXd pending_root;
    double pending_noise = 0.0;
  };

  /// Each block's covariance with its pending downdate applied, square and symmetric, on every
  /// rank (collective once distributed).
  std::vector<Eigen::MatrixXd> settled_blocks() const;

  NamedTensors params_;
  KalmanOptions options_;
  parallel::Communicator comm_;  ///< one rank unless distributed
  std::size_t n_weights_ = 0;
  std::vector<Block> blocks_;
  double q_, eta_;
  double q_factor_, eta_factor_;  ///< per update
  std::int64_t updates_ = 0;
};

}  // namespace matnn::nn
