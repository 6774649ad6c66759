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
  std::vector<std::size_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] < score[b]; });
  double positive_rank_sum = 0.0;
  std::size_t n_pos = 0;
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start;
    while (end < order.size() && score[order[end]] == score[order[start]]) ++end;
    const double average_rank = 0.5 * static_cast<double>(start + 1 + end);  // ranks start..end-1, 1-based
    for (std::size_t i = start; i < end; ++i) {
      if (target[order[i]] == 1) {
        positive_rank_sum += average_rank;
        ++n_pos;
      }
    }
    start = end;
  }
  const std::size_t n_neg = target.size() - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::numeric_limits<double>::quiet_NaN();
  const double pos = static_cast<double>(n_pos);
  return (positive_rank_sum - pos * (pos + 1) / 2) / (pos * static_cast<double>(n_neg));
}

}  // namespace matnn::metrics
