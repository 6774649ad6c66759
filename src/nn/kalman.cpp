#include "nn/kalman.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
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
    blocks_.push_back({begin, rows, 0, Eigen::MatrixXd::Identity(rows, rows) / o.epsilon, Eigen::MatrixXd(rows, 0), 0.0});
    begin += rows;
  }
  const double per_epoch = static_cast<double>(std::max<std::size_t>(updates_per_epoch, 1));
  q_factor_ = std::pow(o.q_decay, 1.0 / per_epoch);
  eta_factor_ = std::pow(o.eta_growth, 1.0 / per_epoch);
}

void KalmanFilter::distribute(const parallel::Communicator& comm) {
  if (updates_ > 0) fail(MATNN_ERROR_INTERNAL, "Kalman filter: distribute() before the first update");
  comm_ = comm;
  std::vector<std::size_t> order(blocks_.size());
  for (std::size_t b = 0; b < order.size(); ++b) order[b] = b;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return blocks_[x].size > blocks_[y].size; });
  std::vector<double> load(static_cast<std::size_t>(comm.size()), 0.0);
  for (std::size_t b : order) {
    const auto least = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    blocks_[b].owner = least;
    load[static_cast<std::size_t>(least)] += static_cast<double>(blocks_[b].size) * static_cast<double>(blocks_[b].size);
  }
  for (Block& block : blocks_) {
    if (mine(block)) continue;
    block.covariance.resize(0, 0);
    block.pending_root.resize(0, 0);
  }
}

void KalmanFilter::gather_blocks(const std::vector<double>& mine_packed,
                                 const std::function<Eigen::Index(const Block&)>& length,
                                 const std::function<void(std::size_t, const double*)>& use) const {
  const std::vector<std::vector<double>> all = comm_.all_gather(std::span<const double>(mine_packed));
  std::vector<std::size_t> at(all.size(), 0);
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const auto owner = static_cast<std::size_t>(blocks_[b].owner);
    const auto n = static_cast<std::size_t>(length(blocks_[b]));
    if (at[owner] + n > all[owner].size()) fail(MATNN_ERROR_INTERNAL, "Kalman filter: rank {} sent too few values", owner);
    use(b, all[owner].data() + at[owner]);
    at[owner] += n;
  }
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
  std::vector<Eigen::MatrixXd> x(blocks_.size());  // X_b = P_b H_b^T, (n_b, m)
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(m, m);
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    Block& block = blocks_[b];
    if (!mine(block)) continue;
    const Eigen::Index rows = block.size;
    const auto h = jacobian.middleCols(block.begin, rows);  // contiguous: the Jacobian is column-major
    x[b].resize(rows, m);
    detail::downdate_then_product(block.covariance.data(), rows, block.pending_root.data(), block.pending_root.cols(),
                                  block.pending_noise, h.data(), m, x[b].data());
    block.pending_root.resize(rows, 0);
    block.pending_noise = 0.0;
    a.noalias() += h * x[b];
  }
  comm_.sum(std::span<double>(a.data(), static_cast<std::size_t>(a.size())));
  a.diagonal().array() += 1.0 / eta_;
  const Eigen::LLT<Eigen::MatrixXd> cholesky(a);
  if (cholesky.info() != Eigen::Success) {
    fail(MATNN_ERROR_NON_FINITE, "Kalman filter: the weight covariance is no longer positive definite after {} updates",
         updates_);
  }
  const Eigen::VectorXd solved = cholesky.solve(r);
  Eigen::VectorXd w = weights();
  std::vector<double> moved;  // this rank's blocks' new weights, in block order
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    Block& block = blocks_[b];
    if (!mine(block)) continue;
    w.segment(block.begin, block.size) -= x[b] * solved;
    block.pending_root = cholesky.matrixL().solve(x[b].transpose()).transpose();  // X_b L^-T
    block.pending_noise = q_;
    if (comm_.size() > 1) moved.insert(moved.end(), w.data() + block.begin, w.data() + block.begin + block.size);
  }
  if (comm_.size() > 1) {
    gather_blocks(moved, [](const Block& block) { return block.size; },
                  [&](std::size_t b, const double* values) {
                    std::copy_n(values, blocks_[b].size, w.data() + blocks_[b].begin);
                  });
  }
  set_weights(w);
  q_ = std::max(options_.q_min, q_ * q_factor_);
  ++updates_;
}

std::vector<Eigen::MatrixXd> KalmanFilter::settled_blocks() const {
  std::vector<Eigen::MatrixXd> out(blocks_.size());
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = blocks_[b];
    if (!mine(block)) continue;
    Eigen::MatrixXd settled = block.covariance;  // with the pending downdate, as the next update will see it
    detail::symmetric_downdate(settled.data(), block.size, block.pending_root.data(), block.pending_root.cols(),
                               block.pending_noise);
    out[b] = settled.selfadjointView<Eigen::Lower>();  // the upper triangle is stale
  }
  if (comm_.size() == 1) return out;
  std::vector<double> packed;
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    if (mine(blocks_[b])) packed.insert(packed.end(), out[b].data(), out[b].data() + out[b].size());
  gather_blocks(packed, [](const Block& block) { return block.size * block.size; },
                [&](std::size_t b, const double* values) {
                  out[b] = Eigen::Map<const Eigen::MatrixXd>(values, blocks_[b].size, blocks_[b].size);
                });
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
  std::vector<Eigen::MatrixXd> loaded;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Eigen::Index rows = blocks_[b].size;
    const auto it = state.tensors.find("covariance." + std::to_string(b));
    if (it == state.tensors.end() || it->second.shape() != ad::Shape{rows, rows}) {
      fail(MATNN_ERROR_MODEL, "Kalman filter state: no covariance block {} of {} x {} weights", b, rows, rows);
    }
    if (!mine(blocks_[b])) {
      loaded.emplace_back();  // another rank keeps it
      continue;
    }
    const std::vector<double> p = it->second.to_vector();
    loaded.push_back(Eigen::Map<const Eigen::MatrixXd>(p.data(), rows, rows));
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
    blocks_[b].pending_root.resize(blocks_[b].covariance.rows(), 0);
    blocks_[b].pending_noise = 0.0;
  }
}

}  // namespace matnn::nn
