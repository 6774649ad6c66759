#include "nn/norm.hpp"

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::nn {

namespace {
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
    const int64_t n = x.dim(0);
    if (n < 2)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "BatchNorm1d: training needs at least 2 samples per batch, got {}", n);
    const ad::Tensor mean = ad::mean(x, 0);
    const ad::Tensor centred = ad::sub(x, mean);
    const ad::Tensor var = ad::mean(ad::square(centred), 0);
    y = ad::div(centred, ad::sqrt(ad::add(var, eps_)));
    {
      // New tensors rather than writes into the old ones: an evaluation graph that still
      // holds the previous statistics as constants stays valid.
      ad::NoGradGuard no_grad;
      const double unbiased = static_cast<double>(n) / static_cast<double>(n - 1);
      running_mean_ = ad::add(ad::mul(running_mean_, 1.0 - momentum_), ad::mul(mean.detach(), momentum_));
      running_var_ = ad::add(ad::mul(running_var_, 1.0 - momentum_), ad::mul(var.detach(), momentum_ * unbiased));
    }
  } else {
    y = ad::div(ad::sub(x, running_mean_), ad::sqrt(ad::add(running_var_, eps_)));
  }
  if (gamma_.defined()) y = ad::add(ad::mul(y, gamma_), beta_);
  return y;
}

}  // namespace matnn::nn
