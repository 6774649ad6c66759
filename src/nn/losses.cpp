#include "nn/losses.hpp"

#include <cmath>
#include <limits>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::nn {

namespace {

// A constant tensor of `dtype` holding `values` (built in float64, then cast once).
ad::Tensor constant(const std::vector<double>& values, const ad::Shape& shape, ad::DType dtype) {
  ad::NoGradGuard no_grad;
  return ad::to(ad::from_vector(values, shape), dtype);
}

// The weights expanded to one per element of `shape` (empty when `weight` is undefined),
// after checking their shape and values.
std::vector<double> expand_weights(const char* op, const ad::Tensor& weight, const ad::Shape& shape) {
  if (!weight.defined()) return {};
  const int64_t numel = ad::shape_numel(shape);
  const std::vector<double> w = weight.to_vector();
  std::vector<double> full;
  if (weight.shape() == shape) {
    full = w;
  } else if (weight.rank() == 1 && !shape.empty() && weight.dim(0) == shape[0]) {
    const int64_t per_sample = shape[0] > 0 ? numel / shape[0] : 0;
    full.reserve(static_cast<std::size_t>(numel));
    for (double v : w) full.insert(full.end(), static_cast<std::size_t>(per_sample), v);
  } else {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: weight of shape {} fits neither the prediction shape {} nor ({},)", op,
         ad::shape_str(weight.shape()), ad::shape_str(shape), shape.empty() ? 0 : shape[0]);
  }
  for (std::size_t i = 0; i < full.size(); ++i)
    if (!(full[i] >= 0.0) || !std::isfinite(full[i]))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: weight {} at element {} is not a finite non-negative number", op,
           full[i], i);
  return full;
}

// sum(w * l) / sum(w), or mean(l) without weights; 0 (still attached to the graph, with zero
// gradient) when every weight is 0.
ad::Tensor weighted_mean(const ad::Tensor& l, const std::vector<double>& w) {
  if (w.empty()) return ad::mean(l);
  double count = 0.0;
  for (double v : w) count += v;
  const ad::Tensor total = ad::sum(ad::mul(l, constant(w, l.shape(), l.dtype())));
  return count > 0.0 ? ad::div(total, count) : ad::mul(total, 0.0);
}

// Checks pred/target and returns the residual pred - target, with non-finite targets at
// weight-0 positions replaced by 0 (see the header).
ad::Tensor residual(const char* op, const ad::Tensor& pred, const ad::Tensor& target, const std::vector<double>& w) {
  if (!pred.defined() || !target.defined()) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: undefined input", op);
  if (pred.shape() != target.shape())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: prediction shape {} differs from target shape {}", op,
         ad::shape_str(pred.shape()), ad::shape_str(target.shape()));
  if (pred.dtype() != target.dtype())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: prediction is {}, target is {}", op, ad::dtype_name(pred.dtype()),
         ad::dtype_name(target.dtype()));
  ad::Tensor t = target;
  if (!w.empty() && !target.requires_grad()) {
    std::vector<double> values = target.to_vector();
    bool changed = false;
    for (std::size_t i = 0; i < values.size(); ++i)
      if (w[i] == 0.0 && !std::isfinite(values[i])) {
        values[i] = 0.0;
        changed = true;
      }
    if (changed) t = constant(values, target.shape(), target.dtype());
  }
  return ad::sub(pred, t);
}

}  // namespace

ad::Tensor mse_loss(const ad::Tensor& pred, const ad::Tensor& target, const ad::Tensor& weight) {
  const std::vector<double> w = expand_weights("mse_loss", weight, pred.shape());
  return weighted_mean(ad::square(residual("mse_loss", pred, target, w)), w);
}

ad::Tensor mae_loss(const ad::Tensor& pred, const ad::Tensor& target, const ad::Tensor& weight) {
  const std::vector<double> w = expand_weights("mae_loss", weight, pred.shape());
  return weighted_mean(ad::abs(residual("mae_loss", pred, target, w)), w);
}

ad::Tensor huber_loss(const ad::Tensor& pred, const ad::Tensor& target, double delta, const ad::Tensor& weight) {
  if (!(delta > 0.0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "huber_loss: delta must be positive, got {}", delta);
  const std::vector<double> w = expand_weights("huber_loss", weight, pred.shape());
  const ad::Tensor r = residual("huber_loss", pred, target, w);
  const ad::Tensor a = ad::abs(r);
  // step() is a constant 0/1 mask (no gradient), selecting the branch per element; both
  // branches agree in value and slope at |r| = delta, so the choice there is immaterial.
  const ad::Tensor inside = ad::step(ad::rsub(delta, a));
  const ad::Tensor quadratic = ad::mul(ad::square(r), 0.5);
  const ad::Tensor linear = ad::mul(ad::sub(a, 0.5 * delta), delta);
  const ad::Tensor l = ad::add(ad::mul(inside, quadratic), ad::mul(ad::rsub(1.0, inside), linear));
  return weighted_mean(l, w);
}

ad::Tensor log_softmax(const ad::Tensor& logits) {
  if (!logits.defined() || logits.rank() < 1 || logits.dim(-1) < 1)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "log_softmax: expected logits (..., C) with C >= 1, got {}",
         logits.defined() ? ad::shape_str(logits.shape()) : std::string("an undefined tensor"));
  const int64_t classes = logits.dim(-1);
  const int64_t rows = logits.numel() / classes;
  const std::vector<double> x = logits.to_vector();
  std::vector<double> row_max(static_cast<std::size_t>(rows), -std::numeric_limits<double>::infinity());
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < classes; ++c) {
      const double v = x[static_cast<std::size_t>(i * classes + c)];
      if (v > row_max[i]) row_max[i] = v;
    }
  ad::Shape max_shape = logits.shape();
  max_shape.back() = 1;
  const ad::Tensor shifted = ad::sub(logits, constant(row_max, max_shape, logits.dtype()));
  return ad::sub(shifted, ad::log(ad::sum(ad::exp(shifted), -1, true)));
}

ad::Tensor softmax(const ad::Tensor& logits) { return ad::exp(log_softmax(logits)); }

ad::Tensor softmax_cross_entropy(const ad::Tensor& logits, const std::vector<int64_t>& labels,
                                 const ad::Tensor& weight) {
  if (!logits.defined() || logits.rank() != 2)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "softmax_cross_entropy: expected logits (n, C), got {}",
         logits.defined() ? ad::shape_str(logits.shape()) : std::string("an undefined tensor"));
  const int64_t n = logits.dim(0), classes = logits.dim(1);
  if (static_cast<int64_t>(labels.size()) != n)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "softmax_cross_entropy: {} labels for {} samples", labels.size(), n);
  const std::vector<double> w = expand_weights("softmax_cross_entropy", weight, {n});
  // The label's log-probability is picked with a constant one-hot mask: O(n C) like the
  // softmax itself, and its gradient is the familiar softmax - one_hot.
  std::vector<double> one_hot(static_cast<std::size_t>(n * classes), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    if (!w.empty() && w[i] == 0.0) continue;
    if (labels[i] < 0 || labels[i] >= classes)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "softmax_cross_entropy: label {} of sample {} is outside [0, {})",
           labels[i], i, classes);
    one_hot[static_cast<std::size_t>(i * classes + labels[i])] = 1.0;
  }
  const ad::Tensor picked = ad::sum(ad::mul(log_softmax(logits), constant(one_hot, {n, classes}, logits.dtype())), 1);
  return weighted_mean(ad::neg(picked), w);
}

bool is_decayed_parameter(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  return (dot == std::string::npos ? name : name.substr(dot + 1)) == "weight";
}

ad::Tensor l2_penalty(const NamedTensors& params) {
  ad::Tensor total;
  for (const auto& [name, p] : params) {
    if (!is_decayed_parameter(name)) continue;
    ad::Tensor term = ad::sum(ad::square(p));
    if (total.defined() && term.dtype() != total.dtype()) term = ad::to(term, total.dtype());
    total = total.defined() ? ad::add(total, term) : term;
  }
  if (!total.defined()) return ad::scalar(0.0, params.empty() ? ad::DType::f32 : params.front().second.dtype());
  return total;
}

}  // namespace matnn::nn
