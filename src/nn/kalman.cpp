#include "nn/kalman.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/dispatch.hpp"
#include "nn/kalman_covariance.hpp"

namespace matnn::nn {
namespace {

std::size_t count_weights(const NamedTensors& params) {
  std::size_t n = 0;
  for (const auto& [name, tensor] : params) n += static_cast<std::size_t>(tensor.numel());
  return n;
}

// Block sizes over the flattened weights: tensors are kept whole where they fit, so that a
// block is a layer (or several small ones); a tensor larger than a block is cut into chunks.
std::vector<std::size_t> block_sizes(const NamedTensors& params, std::size_t block_size) {
  std::vector<std::size_t> sizes;
  std::size_t open = 0;
  for (const auto& [name, tensor] : params) {
    auto t = static_cast<std::size_t>(tensor.numel());
    if (open > 0 && open + t > block_size) sizes.push_back(std::exchange(open, 0));
    while (open + t > block_size) {
      sizes.push_back(block_size);
      t -= block_size;
    }
    open += t;
  }
  if (open > 0) sizes.push_back(open);
  return sizes;
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
  if (o.block_size == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "Kalman filter: block_size must be at least 1");
  n_weights_ = count_weights(params_);
  if (n_weights_ == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "Kalman filter: no weights to train");
  const std::vector<std::size_t> sizes = block_sizes(params_, o.block_size);
  std::size_t doubles = 0;
  for (std::size_t size : sizes) doubles += size * size;
  if (doubles > max_covariance) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "Kalman filter: the model has {} trained weights; with optimizer.block_size {} its covariance would take "
         "{:.1f} GB (the limit is {:.1f} GB). Use a smaller block_size, or adam",
         n_weights_, o.block_size, static_cast<double>(doubles) * 8e-9, static_cast<double>(max_covariance) * 8e-9);
  }
  Eigen::Index begin = 0;
  for (std::size_t size : sizes) {
    const auto rows = static_cast<Eigen::Index>(size);
    Block block{begin, rows, {0, rows}, detail::LowerColumns(rows, 0, rows), Eigen::MatrixXd(rows, 0), 0.0};
    for (Eigen::Index j = 0; j < rows; ++j) block.covariance.column(j)[0] = 1.0 / o.epsilon;
    blocks_.push_back(std::move(block));
    begin += rows;
  }
  const double per_epoch = static_cast<double>(std::max<std::size_t>(updates_per_epoch, 1));
  q_factor_ = std::pow(o.q_decay, 1.0 / per_epoch);
  eta_factor_ = std::pow(o.eta_growth, 1.0 / per_epoch);
}

void KalmanFilter::distribute(const parallel::Communicator& comm) {
  if (updates_ > 0) fail(MATNN_ERROR_INTERNAL, "Kalman filter: distribute() before the first update");
  comm_ = comm;
  const auto r = static_cast<std::size_t>(comm.rank());
  for (Block& block : blocks_) {
    block.shares = detail::LowerColumns::shares(block.size, 0, block.size, comm.size());
    // Columns are packed one after another, so this rank's columns are one run of the whole's.
    detail::LowerColumns mine(block.size, block.shares[r], block.shares[r + 1]);
    std::copy_n(block.covariance.column(mine.first()), mine.values().size(), mine.values().begin());
    block.covariance = std::move(mine);
  }
}

std::size_t KalmanFilter::covariance_size() const noexcept {
  std::size_t n = 0;
  for (const Block& block : blocks_) n += block.covariance.values().size();
  return n;
}

Eigen::VectorXd KalmanFilter::weights() const {
  Eigen::VectorXd w(static_cast<Eigen::Index>(n_weights_));
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
  Eigen::RowVectorXd h(static_cast<Eigen::Index>(n_weights_));
  Eigen::Index k = 0;
  for (const ad::Tensor& g : grads) {
    for (double v : g.to_vector()) h[k++] = v;
  }
  return h;
}

Eigen::MatrixXd KalmanFilter::jacobian(const ad::Tensor& residuals) const {
  if (residuals.shape().size() != 1) fail(MATNN_ERROR_INTERNAL, "Kalman filter: residuals must be a vector");
  const Eigen::Index m = residuals.numel();
  Eigen::MatrixXd out(m, static_cast<Eigen::Index>(n_weights_));
  for (Eigen::Index i = 0; i < m; ++i) out.row(i) = jacobian_row(residuals, i);
  return out;
}

void KalmanFilter::update(const ad::Tensor& residuals) {
  if (residuals.shape().size() != 1) fail(MATNN_ERROR_INTERNAL, "Kalman filter: residuals must be a vector");
  if (residuals.numel() == 0) return;
  const std::vector<double> values = residuals.to_vector();
  update(jacobian(residuals), Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size())));
}

void KalmanFilter::update(const Eigen::MatrixXd& jacobian, const Eigen::VectorXd& r) {
  const Eigen::Index m = r.size();
  if (jacobian.rows() != m || jacobian.cols() != static_cast<Eigen::Index>(n_weights_))
    fail(MATNN_ERROR_INTERNAL, "Kalman filter: a {}x{} Jacobian for {} measurements of {} weights", jacobian.rows(),
         jacobian.cols(), m, n_weights_);
  if (m == 0) return;
  for (Eigen::Index i = 0; i < m; ++i) {
    if (!std::isfinite(r[i]) || !jacobian.row(i).allFinite()) {
      fail(MATNN_ERROR_NON_FINITE, "Kalman filter: measurement {} of this update is not finite (residual {})", i, r[i]);
    }
  }

  // Only the lower triangle of each P_b is stored and updated: P_b - X_b A^-1 X_b^T = P_b -
  // W_b W_b^T with W_b = X_b L^-T (A = L L^T), a symmetric rank-m update at half the memory
  // traffic of a full one, and the weight step X_b (A^-1 r) needs no gain matrix. That downdate
  // is left pending and done in the same pass over P_b as the next update's X_b.
  eta_ = std::min(options_.eta_max, eta_ * eta_factor_);
  // X_b = P_b H_b^T, (n_b, m), for every block: this rank's columns' share, then summed over the
  // ranks, so every rank holds all of X and goes on with the same numbers.
  std::vector<double> x_all(n_weights_ * static_cast<std::size_t>(m));
  std::vector<Eigen::Map<Eigen::MatrixXd>> x;
  for (Block& block : blocks_) {
    const Eigen::Index rows = block.size;
    x.emplace_back(x_all.data() + block.begin * m, rows, m);
    const auto h = jacobian.middleCols(block.begin, rows);  // contiguous: the Jacobian is column-major
    detail::downdate_then_product(block.covariance, block.pending_root.data(), block.pending_root.cols(),
                                  block.pending_noise, h.data(), m, x.back().data());
    block.pending_root.resize(rows, 0);
    block.pending_noise = 0.0;
  }
  comm_.sum(std::span<double>(x_all));
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(m, m);
  for (std::size_t b = 0; b < blocks_.size(); ++b) a.noalias() += jacobian.middleCols(blocks_[b].begin, blocks_[b].size) * x[b];
  a.diagonal().array() += 1.0 / eta_;
  const Eigen::LLT<Eigen::MatrixXd> cholesky(a);
  if (cholesky.info() != Eigen::Success) {
    fail(MATNN_ERROR_NON_FINITE, "Kalman filter: the weight covariance is no longer positive definite after {} updates",
         updates_);
  }
  const Eigen::VectorXd solved = cholesky.solve(r);
  Eigen::VectorXd w = weights();
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    Block& block = blocks_[b];
    w.segment(block.begin, block.size) -= x[b] * solved;
    block.pending_root = cholesky.matrixL().solve(x[b].transpose()).transpose();  // X_b L^-T
    block.pending_noise = q_;
  }
  set_weights(w);
  q_ = std::max(options_.q_min, q_ * q_factor_);
  ++updates_;
}

std::vector<Eigen::MatrixXd> KalmanFilter::settled_blocks() const {
  // This rank's columns of every block, with the pending downdate applied as the next update
  // would apply it, packed one block after another; then every rank's, into square matrices.
  std::vector<double> packed;
  for (const Block& block : blocks_) {
    detail::LowerColumns settled = block.covariance;
    detail::symmetric_downdate(settled, block.pending_root.data(), block.pending_root.cols(), block.pending_noise);
    packed.insert(packed.end(), settled.values().begin(), settled.values().end());
  }
  const std::vector<std::vector<double>> all =
      comm_.size() > 1 ? comm_.all_gather(std::span<const double>(packed)) : std::vector<std::vector<double>>{packed};
  std::vector<Eigen::MatrixXd> out;
  for (const Block& block : blocks_) out.emplace_back(block.size, block.size);
  for (std::size_t rank = 0; rank < all.size(); ++rank) {
    std::size_t at = 0;  // into all[rank]
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      const std::int64_t n = blocks_[b].size, first = blocks_[b].shares[rank], last = blocks_[b].shares[rank + 1];
      if (at + detail::LowerColumns::count(n, first, last) > all[rank].size())
        fail(MATNN_ERROR_INTERNAL, "Kalman filter: rank {} sent too few covariance values", rank);
      for (std::int64_t j = first; j < last; ++j) {
        for (std::int64_t i = j; i < n; ++i) out[b](i, j) = out[b](j, i) = all[rank][at + static_cast<std::size_t>(i - j)];
        at += static_cast<std::size_t>(n - j);
      }
    }
  }
  return out;
}

TrainingState KalmanFilter::state() const {
  TrainingState s;
  const std::vector<Eigen::MatrixXd> settled = settled_blocks();
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Eigen::Index rows = blocks_[b].size;
    std::vector<double> p(settled[b].data(), settled[b].data() + rows * rows);
    s.tensors["covariance." + std::to_string(b)] = ad::from_vector(p, {rows, rows});
  }
  s.scalars = {{"updates", static_cast<double>(updates_)}, {"q", q_}, {"eta", eta_}};
  return s;
}

void KalmanFilter::load_state(const TrainingState& state) {
  std::vector<detail::LowerColumns> loaded;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Eigen::Index rows = blocks_[b].size;
    const auto it = state.tensors.find("covariance." + std::to_string(b));
    if (it == state.tensors.end() || it->second.shape() != ad::Shape{rows, rows}) {
      fail(MATNN_ERROR_MODEL, "Kalman filter state: no covariance block {} of {} x {} weights", b, rows, rows);
    }
    const std::vector<double> p = it->second.to_vector();
    const auto r = static_cast<std::size_t>(comm_.rank());
    detail::LowerColumns mine(rows, blocks_[b].shares[r], blocks_[b].shares[r + 1]);
    for (std::int64_t j = mine.first(); j < mine.last(); ++j)
      std::copy_n(p.data() + j * rows + j, rows - j, mine.column(j));  // column j of the square, from its diagonal
    loaded.push_back(std::move(mine));
  }
  if (state.tensors.size() != blocks_.size()) {
    fail(MATNN_ERROR_MODEL, "Kalman filter state: {} covariance blocks, this filter has {}", state.tensors.size(),
         blocks_.size());
  }
  updates_ = static_cast<std::int64_t>(require_scalar(state, "updates", "Kalman filter"));
  q_ = require_scalar(state, "q", "Kalman filter");
  eta_ = require_scalar(state, "eta", "Kalman filter");
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    blocks_[b].covariance = std::move(loaded[b]);
    blocks_[b].pending_root.resize(blocks_[b].size, 0);
    blocks_[b].pending_noise = 0.0;
  }
}

}  // namespace matnn::nn
