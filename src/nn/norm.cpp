#include "nn/norm.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "autodiff/graph.hpp"
#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/dispatch.hpp"

namespace matnn::nn {

namespace {

// Per-column mean and 1 / sqrt(biased variance + eps) of x (n, f), in double.
struct ColumnStatistics {
  std::vector<double> mean, inv_std, var;
  double rows = 0;  // of the whole batch: all ranks' rows when synchronised
};

// The loops over (n, f), column-wise, each compiled for the CPU it runs on (kernels.hpp).
// sum[j] += x - shift[j] and square[j] += (x - shift[j])^2 over the rows, in one pass. Shifted by
// a row of the data, the sums keep the variance exact in double where sum(x^2) - n mean^2 would
// cancel for columns whose mean is large next to their spread.
template <typename T>
MATNN_TARGET_CLONES void add_shifted_sums(const T* __restrict x, int64_t n, int64_t f, const double* __restrict shift,
                                          double* __restrict sum, double* __restrict square) {
  for (int64_t i = 0; i < n; ++i) {
    const T* row = x + i * f;
#pragma omp simd
    for (int64_t j = 0; j < f; ++j) {
      const double d = static_cast<double>(row[j]) - shift[j];
      sum[j] += d;
      square[j] += d * d;
    }
  }
}

// out = in * scale + shift, per column.
template <typename T>
MATNN_TARGET_CLONES void scale_columns(const T* __restrict in, int64_t n, int64_t f, const T* __restrict scale,
                                       const T* __restrict shift, T* __restrict out) {
  for (int64_t i = 0; i < n; ++i) {
#pragma omp simd
    for (int64_t j = 0; j < f; ++j) out[i * f + j] = in[i * f + j] * scale[j] + shift[j];
  }
}

// sum_dy[j] += dy, sum_dy_xhat[j] += dy (x - mean) / sigma.
template <typename T>
MATNN_TARGET_CLONES void backward_sums(const T* __restrict x, const T* __restrict dy, int64_t n, int64_t f,
                                       const double* __restrict mean, const double* __restrict inv_std,
                                       double* __restrict sum_dy, double* __restrict sum_dy_xhat) {
  for (int64_t i = 0; i < n; ++i) {
#pragma omp simd
    for (int64_t j = 0; j < f; ++j) {
      const double d = static_cast<double>(dy[i * f + j]);
      sum_dy[j] += d;
      sum_dy_xhat[j] += d * (static_cast<double>(x[i * f + j]) - mean[j]) * inv_std[j];
    }
  }
}

// dx = k_dy dy + k_x x + k_0, per column.
template <typename T>
MATNN_TARGET_CLONES void backward_rows(const T* __restrict x, const T* __restrict dy, int64_t n, int64_t f,
                                       const T* __restrict k_dy, const T* __restrict k_x, const T* __restrict k_0,
                                       T* __restrict dx) {
  for (int64_t i = 0; i < n; ++i) {
#pragma omp simd
    for (int64_t j = 0; j < f; ++j) dx[i * f + j] = k_dy[j] * dy[i * f + j] + k_x[j] * x[i * f + j] + k_0[j];
  }
}

// Mean and biased variance over the rows of every rank of `comm` (this process's rows when null),
// from one pass over this rank's rows: its mean and squared deviations about it, then two sums
// over the ranks, of the columns and of the squared deviations moved to the global mean
// (M2 = sum over ranks of M2_r + n_r (mean_r - mean)^2).
//
// When synchronised, the first sum also carries the failure flag (this rank's `failed`, 0 or 1):
// it sets `made` and throws parallel::PeerFailure on every rank when any rank's flag is set.
template <typename T>
ColumnStatistics column_statistics(const T* x, int64_t n, int64_t f, double eps, const parallel::Communicator* comm,
                                   bool* made = nullptr, double failed = 0.0) {
  const auto columns = static_cast<std::size_t>(f);
  std::vector<double> shift(columns, 0.0), sum(columns, 0.0), square(columns, 0.0);
  if (n > 0)
    for (std::size_t j = 0; j < columns; ++j) shift[j] = static_cast<double>(x[j]);
  add_shifted_sums(x, n, f, shift.data(), sum.data(), square.data());
  const auto rows = static_cast<double>(n);
  std::vector<double> local_mean(columns, 0.0), local_m2(columns, 0.0);
  for (std::size_t j = 0; j < columns && n > 0; ++j) {
    local_mean[j] = shift[j] + sum[j] / rows;
    local_m2[j] = std::max(0.0, square[j] - sum[j] * sum[j] / rows);
  }
  ColumnStatistics s;
  std::vector<double> totals(columns + 2);
  for (std::size_t j = 0; j < columns; ++j) totals[j] = rows * local_mean[j];
  totals[columns] = rows;
  totals[columns + 1] = failed;
  if (comm) {
    comm->sum(totals);
    if (made) *made = true;
    if (totals[columns + 1] > 0) throw parallel::PeerFailure();
  }
  s.rows = totals[columns];
  s.mean.assign(totals.begin(), totals.begin() + f);
  for (double& m : s.mean) m /= s.rows;
  s.var.resize(columns);
  for (std::size_t j = 0; j < columns; ++j) {
    const double offset = local_mean[j] - s.mean[j];
    s.var[j] = n > 0 ? local_m2[j] + rows * offset * offset : 0.0;
  }
  if (comm) comm->sum(s.var);
  s.inv_std.resize(columns);
  for (std::size_t j = 0; j < columns; ++j) {
    s.var[j] /= s.rows;
    s.inv_std[j] = 1.0 / std::sqrt(s.var[j] + eps);
  }
  return s;
}

// The backward pass's collective: sum_dy and sum_dy_xhat (f each) summed over the ranks, with
// this rank's failure flag (`failed`, 0 or 1) beside them. Marks the step's backward collective
// made, and throws parallel::PeerFailure on every rank when any rank's flag is set.
void sum_backward_over_ranks(const parallel::Communicator& comm, std::vector<double>& sum_dy,
                             std::vector<double>& sum_dy_xhat, BatchNorm1d::StepProgress& progress, double failed = 0.0) {
  const auto f = static_cast<std::ptrdiff_t>(sum_dy.size());
  std::vector<double> both(sum_dy);
  both.insert(both.end(), sum_dy_xhat.begin(), sum_dy_xhat.end());
  both.push_back(failed);
  comm.sum(both);
  progress.backward = true;
  if (both.back() > 0) throw parallel::PeerFailure();
  std::copy(both.begin(), both.begin() + f, sum_dy.begin());
  std::copy(both.begin() + f, both.begin() + 2 * f, sum_dy_xhat.begin());
}

// Batch normalisation with batch statistics, y = (x - mean) / sqrt(var + eps) [* gamma + beta],
// as one op: a pass for the statistics and one for y, and a backward pass of the closed form
//   dx = gamma / sigma (dy - mean(dy) - x^ mean(dy x^)),  dgamma = sum(dy x^),  dbeta = sum(dy).
// Composed of elementwise ops, the same layer took about ten passes over (n, f) each way, most of
// a CGCNN training step. A backward pass that is itself recorded (higher derivatives) uses the
// closed form written with differentiable ops instead, so every order still exists.
// Synchronised: `progress` records the collectives made (the backward pass's when it runs).
ad::Tensor batch_norm_training(const ad::Tensor& x, const ad::Tensor& gamma, const ad::Tensor& beta, double eps,
                               const parallel::Communicator* comm, std::shared_ptr<ColumnStatistics>& statistics,
                               const std::shared_ptr<BatchNorm1d::StepProgress>& progress) {
  const int64_t n = x.dim(0), f = x.dim(1);
  ad::Tensor y = ad::empty(x.shape(), x.dtype());
  detail::with_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    statistics =
        std::make_shared<ColumnStatistics>(column_statistics(x.template data<T>(), n, f, eps, comm, &progress->forward));
    std::vector<T> scale(static_cast<std::size_t>(f)), shift(static_cast<std::size_t>(f));
    for (int64_t j = 0; j < f; ++j) {
      const double g = gamma.defined() ? static_cast<double>(gamma.template data<T>()[j]) : 1.0;
      const double b = beta.defined() ? static_cast<double>(beta.template data<T>()[j]) : 0.0;
      const auto k = static_cast<std::size_t>(j);
      scale[k] = static_cast<T>(g * statistics->inv_std[k]);
      shift[k] = static_cast<T>(b - g * statistics->inv_std[k] * statistics->mean[k]);
    }
    scale_columns(x.template data<T>(), n, f, scale.data(), shift.data(), y.template data<T>());
  });
  std::vector<ad::Tensor> inputs{x};
  if (gamma.defined()) inputs.push_back(gamma);
  if (beta.defined()) inputs.push_back(beta);
  const bool affine = gamma.defined();
  return ad::record(y, "batch_norm", std::move(inputs), [eps, affine, statistics, comm, progress](const ad::BackwardContext& c) {
    const ad::Tensor& in = c.inputs[0];
    const ad::Tensor& dy = c.grad_output;
    std::vector<ad::Tensor> grads(c.inputs.size());
    if (ad::grad_mode_enabled()) {
      if (comm) fail(MATNN_ERROR_UNSUPPORTED, "batch normalisation synchronised over MPI ranks has no second derivative");
      const ad::Tensor centred = ad::sub(in, ad::mean(in, 0));
      const ad::Tensor inv_std = ad::rdiv(1.0, ad::sqrt(ad::add(ad::mean(ad::square(centred), 0), eps)));
      const ad::Tensor xhat = ad::mul(centred, inv_std);
      const ad::Tensor dyg = affine ? ad::mul(dy, c.inputs[1]) : dy;
      grads[0] = ad::mul(ad::sub(ad::sub(dyg, ad::mean(dyg, 0)), ad::mul(xhat, ad::mean(ad::mul(dyg, xhat), 0))), inv_std);
      if (affine) {
        grads[1] = ad::sum(ad::mul(dy, xhat), 0);
        grads[2] = ad::sum(dy, 0);
      }
      return grads;
    }
    const int64_t rows = in.dim(0), f = in.dim(1);
    const double batch_rows = statistics->rows;
    grads[0] = ad::empty(in.shape(), in.dtype());
    detail::with_dtype(in.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* x = in.template data<T>();
      const T* g = dy.template data<T>();
      const double* mean = statistics->mean.data();
      const double* inv_std = statistics->inv_std.data();
      std::vector<double> sum_dy(static_cast<std::size_t>(f), 0.0), sum_dy_xhat(static_cast<std::size_t>(f), 0.0);
      double* a = sum_dy.data();
      double* b = sum_dy_xhat.data();
      backward_sums(x, g, rows, f, mean, inv_std, a, b);
      // gamma and beta: this rank's share; dx: the means over the whole batch.
      const std::vector<double> gamma_grad(b, b + f), beta_grad(a, a + f);
      if (comm) sum_backward_over_ranks(*comm, sum_dy, sum_dy_xhat, *progress);
      // dx = k (dy - a / n - x^ b / n) with k = gamma / sigma, as an affine map of dy and x.
      std::vector<T> k_dy(static_cast<std::size_t>(f)), k_x(static_cast<std::size_t>(f)), k_0(static_cast<std::size_t>(f));
      for (int64_t j = 0; j < f; ++j) {
        const auto q = static_cast<std::size_t>(j);
        const double gain = (affine ? static_cast<double>(c.inputs[1].template data<T>()[j]) : 1.0) * inv_std[j];
        const double per_x = b[j] / batch_rows * inv_std[j];
        k_dy[q] = static_cast<T>(gain);
        k_x[q] = static_cast<T>(-gain * per_x);
        k_0[q] = static_cast<T>(gain * (per_x * mean[j] - a[j] / batch_rows));
      }
      backward_rows(x, g, rows, f, k_dy.data(), k_x.data(), k_0.data(), grads[0].template data<T>());
      if (affine) {
        grads[1] = ad::to(ad::from_vector(gamma_grad, {f}), in.dtype());
        grads[2] = ad::to(ad::from_vector(beta_grad, {f}), in.dtype());
      }
    });
    return grads;
  });
}

void check_features(const char* layer, int64_t features, double eps) {
  if (features <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: features must be positive, got {}", layer, features);
  if (!(eps > 0.0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: eps must be positive, got {}", layer, eps);
}
}  // namespace

LayerNorm::LayerNorm(int64_t features, double eps, bool affine, ad::DType dtype) : features_(features), eps_(eps) {
  check_features("LayerNorm", features, eps);
  if (affine) {
    gamma_ = ad::ones({features}, dtype);
    beta_ = ad::zeros({features}, dtype);
    register_parameter("gamma", &gamma_);
    register_parameter("beta", &beta_);
  }
}

ad::Tensor LayerNorm::forward(const ad::Tensor& x) {
  if (x.rank() < 1 || x.dim(-1) != features_)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "LayerNorm({}): input of shape {} does not end in {}", features_,
         ad::shape_str(x.shape()), features_);
  const ad::Tensor centred = ad::sub(x, ad::mean(x, -1, true));
  const ad::Tensor var = ad::mean(ad::square(centred), -1, true);
  ad::Tensor y = ad::div(centred, ad::sqrt(ad::add(var, eps_)));
  if (gamma_.defined()) y = ad::add(ad::mul(y, gamma_), beta_);
  return y;
}

BatchNorm1d::BatchNorm1d(int64_t features, double momentum, double eps, bool affine, ad::DType dtype)
    : features_(features), momentum_(momentum), eps_(eps) {
  check_features("BatchNorm1d", features, eps);
  if (!(momentum >= 0.0 && momentum <= 1.0))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "BatchNorm1d: momentum = {} is outside [0, 1]", momentum);
  if (affine) {
    gamma_ = ad::ones({features}, dtype);
    beta_ = ad::zeros({features}, dtype);
    register_parameter("gamma", &gamma_);
    register_parameter("beta", &beta_);
  }
  running_mean_ = ad::zeros({features}, dtype);
  running_var_ = ad::ones({features}, dtype);
  register_buffer("running_mean", &running_mean_);
  register_buffer("running_var", &running_var_);
}

ad::Tensor BatchNorm1d::forward(const ad::Tensor& x) {
  if (x.rank() != 2 || x.dim(1) != features_)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "BatchNorm1d({}): expected input (n, {}), got shape {}", features_, features_,
         ad::shape_str(x.shape()));
  ad::Tensor y;
  if (is_training()) {
    const parallel::Communicator* comm = synchronised() ? communicator_ : nullptr;
    std::shared_ptr<ColumnStatistics> statistics;
    // Counted over all ranks when synchronised, after the collective that every rank must make.
    if (!comm && x.dim(0) < 2)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "BatchNorm1d: training needs at least 2 samples per batch, got {}", x.dim(0));
    y = batch_norm_training(x, gamma_, beta_, eps_, comm, statistics, progress_);
    const auto n = static_cast<int64_t>(statistics->rows);
    if (n < 2)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "BatchNorm1d: training needs at least 2 samples per batch, got {}", n);
    update_running_statistics(statistics->mean, statistics->var, statistics->rows);
    return y;
  }
  const bool recorded = ad::grad_mode_enabled() &&
                        (x.requires_grad() || (gamma_.defined() && (gamma_.requires_grad() || beta_.requires_grad())));
  if (!recorded && running_mean_.dtype() == x.dtype()) return batch_norm_inference(x);
  y = ad::div(ad::sub(x, running_mean_), ad::sqrt(ad::add(running_var_, eps_)));
  if (gamma_.defined()) y = ad::add(ad::mul(y, gamma_), beta_);
  return y;
}

// With the running statistics the layer is y = x scale + shift per column: one pass, where the
// differentiable composition above takes four and their temporaries (it was most of a CGCNN
// prediction's elementwise time). Only for passes that record nothing.
ad::Tensor BatchNorm1d::batch_norm_inference(const ad::Tensor& x) const {
  const int64_t n = x.dim(0), f = x.dim(1);
  ad::Tensor y = ad::empty(x.shape(), x.dtype());
  detail::with_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* mean = running_mean_.template data<T>();
    const T* var = running_var_.template data<T>();
    const T* gamma = gamma_.defined() ? gamma_.template data<T>() : nullptr;
    const T* beta = beta_.defined() ? beta_.template data<T>() : nullptr;
    std::vector<T> scale(static_cast<std::size_t>(f)), shift(static_cast<std::size_t>(f));
    for (int64_t j = 0; j < f; ++j) {
      const double g = gamma ? static_cast<double>(gamma[j]) : 1.0, b = beta ? static_cast<double>(beta[j]) : 0.0;
      const double inv_std = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps_);
      scale[static_cast<std::size_t>(j)] = static_cast<T>(g * inv_std);
      shift[static_cast<std::size_t>(j)] = static_cast<T>(b - g * inv_std * static_cast<double>(mean[j]));
    }
    scale_columns(x.template data<T>(), n, f, scale.data(), shift.data(), y.template data<T>());
  });
  return y;
}

void BatchNorm1d::update_running_statistics(const std::vector<double>& mean, const std::vector<double>& var,
                                            double rows) {
  // New tensors rather than writes into the old ones: an evaluation graph that still holds the
  // previous statistics as constants stays valid.
  ad::NoGradGuard no_grad;
  const double unbiased = rows / (rows - 1.0);
  const ad::DType dtype = running_mean_.dtype();
  const ad::Tensor m = ad::to(ad::from_vector(mean, {features_}), dtype);
  const ad::Tensor v = ad::to(ad::from_vector(var, {features_}), dtype);
  running_mean_ = ad::add(ad::mul(running_mean_, 1.0 - momentum_), ad::mul(m, momentum_));
  running_var_ = ad::add(ad::mul(running_var_, 1.0 - momentum_), ad::mul(v, momentum_ * unbiased));
}

void BatchNorm1d::forward_without_rows() {
  if (!synchronised()) fail(MATNN_ERROR_INTERNAL, "BatchNorm1d: forward_without_rows on a layer that is not synchronised");
  const ColumnStatistics s =
      column_statistics(static_cast<const double*>(nullptr), 0, features_, eps_, communicator_, &progress_->forward);
  if (s.rows < 2)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "BatchNorm1d: training needs at least 2 samples per batch, got {}", s.rows);
  update_running_statistics(s.mean, s.var, s.rows);
}

void BatchNorm1d::backward_without_rows() {
  if (!synchronised()) fail(MATNN_ERROR_INTERNAL, "BatchNorm1d: backward_without_rows on a layer that is not synchronised");
  std::vector<double> sum_dy(static_cast<std::size_t>(features_), 0.0), sum_dy_xhat(sum_dy);
  sum_backward_over_ranks(*communicator_, sum_dy, sum_dy_xhat, *progress_);
}

void BatchNorm1d::join_failed_forward() {
  if (!synchronised()) fail(MATNN_ERROR_INTERNAL, "BatchNorm1d: join_failed_forward on a layer that is not synchronised");
  try {
    (void)column_statistics(static_cast<const double*>(nullptr), 0, features_, eps_, communicator_, &progress_->forward, 1.0);
  } catch (const parallel::PeerFailure&) {
    // the flag this rank sent: every rank now knows
  }
}

void BatchNorm1d::join_failed_backward() {
  if (!synchronised()) fail(MATNN_ERROR_INTERNAL, "BatchNorm1d: join_failed_backward on a layer that is not synchronised");
  std::vector<double> sum_dy(static_cast<std::size_t>(features_), 0.0), sum_dy_xhat(sum_dy);
  try {
    sum_backward_over_ranks(*communicator_, sum_dy, sum_dy_xhat, *progress_, 1.0);
  } catch (const parallel::PeerFailure&) {
    // the flag this rank sent: every rank now knows
  }
}

}  // namespace matnn::nn
