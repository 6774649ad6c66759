#include "metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "matnn/error.hpp"

namespace matnn::metrics {
namespace {

template <typename A, typename B>
void check_pair(const char* metric, std::span<A> a, std::span<B> b) {
  if (a.size() != b.size()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: {} predictions for {} targets", metric, a.size(), b.size());
  }
  if (a.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: no values", metric);
}

void check_classes(const char* metric, std::span<const int> labels, int n_classes) {
  for (int c : labels) {
    if (c < 0 || c >= n_classes) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: class {} outside 0..{}", metric, c, n_classes - 1);
    }
  }
}

// Indices of the k largest (or smallest) values; ties broken by the lower index.
std::vector<std::size_t> top_k_indices(std::span<const double> values, std::size_t k, bool largest) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      if (values[a] != values[b]) return largest ? values[a] > values[b] : values[a] < values[b];
                      return a < b;
                    });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

// 1-based ranks of the values, ties taking the mean of the ranks they span.
std::vector<double> average_ranks(std::span<const double> values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> rank(values.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    const double average = 0.5 * static_cast<double>(start + 1 + end);  // ranks start+1 .. end
    for (std::size_t i = start; i < end; ++i) rank[order[i]] = average;
    start = end;
  }
  return rank;
}

void check_distribution(const char* metric, std::span<const double> predicted, std::span<const double> sigma,
                        std::span<const double> target) {
  check_pair(metric, predicted, target);
  check_pair(metric, sigma, target);
  for (std::size_t i = 0; i < sigma.size(); ++i) {
    if (!(sigma[i] > 0.0) || !std::isfinite(sigma[i]))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: sigma[{}] = {} is not positive and finite", metric, i, sigma[i]);
  }
}

}  // namespace

double mae(std::span<const double> predicted, std::span<const double> target) {
  check_pair("mae", predicted, target);
  double sum = 0.0;
  for (std::size_t i = 0; i < predicted.size(); ++i) sum += std::abs(predicted[i] - target[i]);
  return sum / static_cast<double>(predicted.size());
}

double rmse(std::span<const double> predicted, std::span<const double> target) {
  check_pair("rmse", predicted, target);
  double sum = 0.0;
  for (std::size_t i = 0; i < predicted.size(); ++i) sum += (predicted[i] - target[i]) * (predicted[i] - target[i]);
  return std::sqrt(sum / static_cast<double>(predicted.size()));
}

double r2(std::span<const double> predicted, std::span<const double> target) {
  check_pair("r2", predicted, target);
  const double mean = std::accumulate(target.begin(), target.end(), 0.0) / static_cast<double>(target.size());
  double residual = 0.0, total = 0.0;
  for (std::size_t i = 0; i < target.size(); ++i) {
    residual += (predicted[i] - target[i]) * (predicted[i] - target[i]);
    total += (target[i] - mean) * (target[i] - mean);
  }
  if (total == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - residual / total;
}

double top_k_recall(std::span<const double> predicted, std::span<const double> target, std::size_t k, bool largest) {
  check_pair("top_k_recall", predicted, target);
  if (k == 0 || k > target.size()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "top_k_recall: k = {} must be in 1..{}", k, target.size());
  }
  const auto truth = top_k_indices(target, k, largest);
  const auto found = top_k_indices(predicted, k, largest);
  std::vector<std::size_t> common;
  std::set_intersection(truth.begin(), truth.end(), found.begin(), found.end(), std::back_inserter(common));
  return static_cast<double>(common.size()) / static_cast<double>(k);
}

std::vector<std::vector<std::size_t>> confusion_matrix(std::span<const int> predicted, std::span<const int> target,
                                                       int n_classes) {
  check_pair("confusion_matrix", predicted, target);
  if (n_classes < 2) fail(MATNN_ERROR_INVALID_ARGUMENT, "confusion_matrix: need at least 2 classes, got {}", n_classes);
  check_classes("confusion_matrix", predicted, n_classes);
  check_classes("confusion_matrix", target, n_classes);
  std::vector<std::vector<std::size_t>> matrix(static_cast<std::size_t>(n_classes),
                                               std::vector<std::size_t>(static_cast<std::size_t>(n_classes), 0));
  for (std::size_t i = 0; i < target.size(); ++i) {
    ++matrix[static_cast<std::size_t>(target[i])][static_cast<std::size_t>(predicted[i])];
  }
  return matrix;
}

double accuracy(std::span<const int> predicted, std::span<const int> target) {
  check_pair("accuracy", predicted, target);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < target.size(); ++i) correct += predicted[i] == target[i];
  return static_cast<double>(correct) / static_cast<double>(target.size());
}

double f1_score(std::span<const int> predicted, std::span<const int> target, int n_classes) {
  const auto matrix = confusion_matrix(predicted, target, n_classes);
  auto f1_of = [&](std::size_t c) {
    double tp = static_cast<double>(matrix[c][c]), fp = 0, fn = 0;
    for (std::size_t o = 0; o < matrix.size(); ++o) {
      if (o == c) continue;
      fp += static_cast<double>(matrix[o][c]);
      fn += static_cast<double>(matrix[c][o]);
    }
    const double denominator = 2 * tp + fp + fn;
    return denominator == 0 ? std::numeric_limits<double>::quiet_NaN() : 2 * tp / denominator;
  };
  if (n_classes == 2) {
    const double f1 = f1_of(1);
    return std::isnan(f1) ? 0.0 : f1;
  }
  double sum = 0.0;
  int counted = 0;
  for (std::size_t c = 0; c < matrix.size(); ++c) {
    const double f1 = f1_of(c);
    if (!std::isnan(f1)) {
      sum += f1;
      ++counted;
    }
  }
  return counted == 0 ? 0.0 : sum / counted;
}

double roc_auc(std::span<const double> score, std::span<const int> target) {
  check_pair("roc_auc", score, target);
  check_classes("roc_auc", target, 2);
  // Mann-Whitney: AUC = (sum of positive ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg),
  // with average ranks for ties.
  const std::vector<double> rank = average_ranks(score);
  double positive_rank_sum = 0.0;
  std::size_t n_pos = 0;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 1) {
      positive_rank_sum += rank[i];
      ++n_pos;
    }
  }
  const std::size_t n_neg = target.size() - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::numeric_limits<double>::quiet_NaN();
  const double pos = static_cast<double>(n_pos);
  return (positive_rank_sum - pos * (pos + 1) / 2) / (pos * static_cast<double>(n_neg));
}

// --- Uncertainty and calibration --------------------------------------------------------------

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "normal_quantile: p = {} is outside (0, 1)", p);
  // Bisection on erfc is exact to double precision in 60 steps and needs no tabulated
  // rational approximation: Phi(z) = erfc(-z / sqrt 2) / 2 is increasing in z.
  double lo = -40.0, hi = 40.0;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, std::abs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double gaussian_nll(std::span<const double> predicted, std::span<const double> sigma, std::span<const double> target) {
  check_distribution("gaussian_nll", predicted, sigma, target);
  constexpr double log_two_pi = 1.8378770664093453;
  double sum = 0.0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const double z = (target[i] - predicted[i]) / sigma[i];
    sum += 0.5 * log_two_pi + std::log(sigma[i]) + 0.5 * z * z;
  }
  return sum / static_cast<double>(predicted.size());
}

double interval_coverage(std::span<const double> predicted, std::span<const double> sigma,
                         std::span<const double> target, double z) {
  check_distribution("interval_coverage", predicted, sigma, target);
  std::size_t inside = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) inside += std::abs(target[i] - predicted[i]) <= z * sigma[i];
  return static_cast<double>(inside) / static_cast<double>(predicted.size());
}

std::vector<double> observed_coverage(std::span<const double> predicted, std::span<const double> sigma,
                                      std::span<const double> target, std::span<const double> expected) {
  check_distribution("observed_coverage", predicted, sigma, target);
  std::vector<double> out;
  out.reserve(expected.size());
  for (double p : expected) out.push_back(interval_coverage(predicted, sigma, target, normal_quantile(0.5 + 0.5 * p)));
  return out;
}

double miscalibration_area(std::span<const double> predicted, std::span<const double> sigma,
                           std::span<const double> target) {
  std::vector<double> expected;
  for (int k = 1; k <= 99; ++k) expected.push_back(0.01 * k);
  const std::vector<double> observed = observed_coverage(predicted, sigma, target, expected);
  // Trapezoids on the 0.01 grid, the ends pinned at (0, 0) and (1, 1) where every curve is.
  double area = 0.0, previous = 0.0;
  for (std::size_t k = 0; k <= expected.size(); ++k) {
    const double gap = k < expected.size() ? std::abs(observed[k] - expected[k]) : 0.0;
    area += 0.5 * (previous + gap) * 0.01;
    previous = gap;
  }
  return area;
}

double spearman(std::span<const double> a, std::span<const double> b) {
  check_pair("spearman", a, b);
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double mean = 0.5 * static_cast<double>(a.size() + 1);
  double cov = 0.0, va = 0.0, vb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    cov += (ra[i] - mean) * (rb[i] - mean);
    va += (ra[i] - mean) * (ra[i] - mean);
    vb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (va == 0.0 || vb == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return cov / std::sqrt(va * vb);
}

double sigma_scale_fit(std::span<const double> predicted, std::span<const double> sigma, std::span<const double> target) {
  check_distribution("sigma_scale_fit", predicted, sigma, target);
  double sum = 0.0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const double z = (target[i] - predicted[i]) / sigma[i];
    sum += z * z;
  }
  return std::sqrt(sum / static_cast<double>(predicted.size()));
}

}  // namespace matnn::metrics
