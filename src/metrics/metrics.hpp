// Evaluation metrics for regression, screening and classification, as the materials literature
// reports them. Plain functions of predictions and targets; every one checks its inputs
// (equal lengths, non-empty) and throws matnn::Error(MATNN_ERROR_INVALID_ARGUMENT) otherwise.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace matnn::metrics {

// --- Regression ------------------------------------------------------------------------------

double mae(std::span<const double> predicted, std::span<const double> target);
double rmse(std::span<const double> predicted, std::span<const double> target);
/// Coefficient of determination 1 - SS_res / SS_tot; NaN when the targets are all equal.
double r2(std::span<const double> predicted, std::span<const double> target);

/// Screening recall: the share of the k structures with the highest true value that are also
/// among the k with the highest predicted value (set `largest = false` to screen for the lowest,
/// e.g. formation energies). Ties are broken by index so the result is deterministic.
double top_k_recall(std::span<const double> predicted, std::span<const double> target, std::size_t k,
                    bool largest = true);

// --- Classification --------------------------------------------------------------------------

/// Confusion matrix, rows = true class, columns = predicted class, for classes 0..n_classes-1.
std::vector<std::vector<std::size_t>> confusion_matrix(std::span<const int> predicted, std::span<const int> target,
                                                       int n_classes);
double accuracy(std::span<const int> predicted, std::span<const int> target);
/// F1 score. Two classes: of the positive class 1. More classes: the macro average over classes
/// (classes absent from both predictions and targets are left out of the average).
double f1_score(std::span<const int> predicted, std::span<const int> target, int n_classes);
/// Area under the ROC curve for a binary problem: `score` is the predicted probability (or any
/// monotone score) of class 1, `target` is 0/1. Ties count one half (the Mann-Whitney statistic).
/// NaN when only one class is present.
double roc_auc(std::span<const double> score, std::span<const int> target);

}  // namespace matnn::metrics
