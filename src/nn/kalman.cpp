#include "nn/kalman.hpp"

#include <cmath>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/dispatch.hpp"

namespace matnn::nn {
namespace {

std::size_t count_weights(const NamedTensors& params) {
  std::size_t n = 0;
  for (const auto& [name, tensor] : params) n += static_cast<std::size_t>(tensor.numel());
  return n;
}

}  // namespace

KalmanFilter::KalmanFilter(NamedTensors params, const KalmanOptions& options, std::size_t updates_per_epoch)
    : params_(std::move(params)), options_(options), q_(options.q0), eta_(options.eta0) {
  const auto& o = options_;
  if (!(o.epsilon > 0) || !(o.q0 >= 0) || !(o.q_min >= 0) || !(o.q_decay > 0 && o.q_decay <= 1) || !(o.eta0 > 0) ||
      !(o.eta_max >= o.eta0) || !(o.eta_growth >= 1)) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "Kalman filter: need epsilon > 0, q0 >= 0, q_min >= 0, 0 < q_decay <= 1, eta0 > 0, eta_max >= eta0 and "
         "eta_growth >= 1");
  }
  const std::size_t n = count_weights(params_);
  if (n == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "Kalman filter: no weights to train");
  if (n > max_weights) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "Kalman filter: the model has {} trained weights; its covariance would take {:.1f} GB (the limit is {} "
         "weights). Use adam for larger models",
         n, static_cast<double>(n) * static_cast<double>(n) * 8e-9, max_weights);
  }
  const double per_epoch = static_cast<double>(std::max<std::size_t>(updates_per_epoch, 1));
  q_factor_ = std::pow(o.q_decay, 1.0 / per_epoch);
  eta_factor_ = std::pow(o.eta_growth, 1.0 / per_epoch);
  const auto size = static_cast<Eigen::Index>(n);
  covariance_ = Eigen::MatrixXd::Identity(size, size) / o.epsilon;
}

Eigen::VectorXd KalmanFilter::weights() const {
  Eigen::VectorXd w(covariance_.rows());
  Eigen::Index k = 0;
  for (const auto& param : params_) {
    const ad::Tensor& tensor = param.second;  // not a structured binding: lambdas capture it (clang)
    detail::with_dtype(tensor.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* p = tensor.template data<T>();
      for (std::int64_t j = 0; j < tensor.numel(); ++j) w[k++] = static_cast<double>(p[j]);
    });
  }
  return w;
}

void KalmanFilter::set_weights(const Eigen::VectorXd& w) const {
  Eigen::Index k = 0;
  for (const auto& param : params_) {
    const ad::Tensor& tensor = param.second;
    detail::with_dtype(tensor.dtype(), [&](auto zero) {
      using T = decltype(zero);
      T* p = tensor.template data<T>();
      for (std::int64_t j = 0; j < tensor.numel(); ++j) p[j] = static_cast<T>(w[k++]);
    });
  }
}

Eigen::RowVectorXd KalmanFilter::jacobian_row(const ad::Tensor& residuals, Eigen::Index row) const {
  // One reverse pass per measurement, seeded with the unit vector of its row.
  std::vector<double> seed(static_cast<std::size_t>(residuals.numel()), 0.0);
  seed[static_cast<std::size_t>(row)] = 1.0;
  const ad::Tensor seed_tensor = ad::to(ad::from_vector(seed, residuals.shape()), residuals.dtype());
  const std::vector<ad::Tensor> grads = ad::grad({residuals}, tensors_of(params_), {seed_tensor}, false, true);
  Eigen::RowVectorXd h(covariance_.rows());
  Eigen::Index k = 0;
  for (const ad::Tensor& g : grads) {
    for (double v : g.to_vector()) h[k++] = v;
  }
  return h;
}

void KalmanFilter::update(const ad::Tensor& residuals) {
  if (residuals.shape().size() != 1) fail(MATNN_ERROR_INTERNAL, "Kalman filter: residuals must be a vector");
  const Eigen::Index m = residuals.numel();
  if (m == 0) return;
  const Eigen::Index n = covariance_.rows();
  Eigen::MatrixXd jacobian(m, n);
  for (Eigen::Index i = 0; i < m; ++i) jacobian.row(i) = jacobian_row(residuals, i);
  const std::vector<double> values = residuals.to_vector();
  const Eigen::Map<const Eigen::VectorXd> r(values.data(), m);
  for (Eigen::Index i = 0; i < m; ++i) {
    if (!std::isfinite(r[i]) || !jacobian.row(i).allFinite()) {
      fail(MATNN_ERROR_NON_FINITE, "Kalman filter: measurement {} of this update is not finite (residual {})", i, r[i]);
    }
  }

  // Only the lower triangle of P is stored and updated: P - X A^-1 X^T = P - W W^T with
  // W = X L^-T (A = L L^T), a symmetric rank-m update at half the memory traffic of a full one,
  // and the weight step K r = X (A^-1 r) needs no gain matrix.
  eta_ = std::min(options_.eta_max, eta_ * eta_factor_);
  const Eigen::MatrixXd x = covariance_.selfadjointView<Eigen::Lower>() * jacobian.transpose();  // (n, m)
  Eigen::MatrixXd a = jacobian * x;
  a.diagonal().array() += 1.0 / eta_;
  const Eigen::LLT<Eigen::MatrixXd> cholesky(a);
  if (cholesky.info() != Eigen::Success) {
    fail(MATNN_ERROR_NON_FINITE, "Kalman filter: the weight covariance is no longer positive definite after {} updates",
         updates_);
  }
  const Eigen::MatrixXd w = cholesky.matrixL().solve(x.transpose()).transpose();  // X L^-T
  const Eigen::VectorXd step = x * cholesky.solve(r);
  covariance_.selfadjointView<Eigen::Lower>().rankUpdate(w, -1.0);
  covariance_.diagonal().array() += q_;
  set_weights(weights() - step);
  q_ = std::max(options_.q_min, q_ * q_factor_);
  ++updates_;
}

TrainingState KalmanFilter::state() const {
  TrainingState s;
  const Eigen::Index n = covariance_.rows();
  Eigen::MatrixXd full = covariance_.selfadjointView<Eigen::Lower>();  // the upper triangle is not kept up to date
  std::vector<double> p(full.data(), full.data() + n * n);
  s.tensors["covariance"] = ad::from_vector(p, {n, n});
  s.scalars = {{"updates", static_cast<double>(updates_)}, {"q", q_}, {"eta", eta_}};
  return s;
}

void KalmanFilter::load_state(const TrainingState& state) {
  const auto it = state.tensors.find("covariance");
  const Eigen::Index n = covariance_.rows();
  if (it == state.tensors.end() || it->second.shape() != ad::Shape{n, n}) {
    fail(MATNN_ERROR_MODEL, "Kalman filter state: no covariance of {} x {} weights", n, n);
  }
  const std::vector<double> p = it->second.to_vector();
  covariance_ = Eigen::Map<const Eigen::MatrixXd>(p.data(), n, n);
  updates_ = static_cast<std::int64_t>(require_scalar(state, "updates", "Kalman filter"));
  q_ = require_scalar(state, "q", "Kalman filter");
  eta_ = require_scalar(state, "eta", "Kalman filter");
}

}  // namespace matnn::nn
