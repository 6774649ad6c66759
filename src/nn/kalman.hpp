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
// epoch, as in n2p2's standard filter. P has n^2 doubles, so the filter is for small networks
// (Behler-Parrinello element networks), not for models with 10^5 weights.
//
// Checkpointing follows the Optimizer convention: state() holds P ("covariance") and the
// scalars "updates", "q" and "eta"; load_state() makes the following updates bit-identical.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <Eigen/Dense>

#include "nn/state.hpp"

namespace matnn::nn {

struct KalmanOptions {
  double epsilon = 1e-2;  ///< P starts as I / epsilon
  double q0 = 1e-2;       ///< initial process noise
  double q_min = 1e-6;    ///< floor of the process noise
  double q_decay = 0.1;   ///< factor applied to q over one epoch
  double eta0 = 1e-2;     ///< initial inverse measurement noise
  double eta_max = 1.0;   ///< ceiling of eta
  double eta_growth = 10; ///< factor applied to eta over one epoch
};

class KalmanFilter {
 public:
  /// Largest number of weights accepted: P then takes about 1.2 GB.
  static constexpr std::size_t max_weights = 12000;

  /// `params` as for Optimizer; `updates_per_epoch` turns the per-epoch factors into per-update ones.
  KalmanFilter(NamedTensors params, const KalmanOptions& options, std::size_t updates_per_epoch);

  /// One update from the measurements `residuals` (1-D, prediction minus reference, recorded
  /// by the engine so that their Jacobian in the weights can be taken). Writes the new
  /// weights into the parameters' storage. Measurements that do not depend on a parameter
  /// give it zero Jacobian.
  void update(const ad::Tensor& residuals);

  std::size_t n_weights() const noexcept { return static_cast<std::size_t>(covariance_.rows()); }
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

  NamedTensors params_;
  KalmanOptions options_;
  Eigen::MatrixXd covariance_;
  double q_, eta_;
  double q_factor_, eta_factor_;  ///< per update
  std::int64_t updates_ = 0;
};

}  // namespace matnn::nn
