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

// --- Uncertainty and calibration --------------------------------------------------------------
// For Gaussian predictive distributions N(predicted, sigma^2), as the uncertainty literature
// reports them (Tran et al., Mach. Learn.: Sci. Technol. 1, 025006, 2020). Rows with sigma <= 0
// carry no distribution and are an error: callers decide what a zero sigma means.

/// Mean negative log-likelihood, 0.5 log(2 pi sigma^2) + (y - mu)^2 / (2 sigma^2), in nats.
double gaussian_nll(std::span<const double> predicted, std::span<const double> sigma, std::span<const double> target);
/// Share of targets inside the central interval mu +- z sigma (z = 1: 68.3 %, z = 1.96: 95 %).
double interval_coverage(std::span<const double> predicted, std::span<const double> sigma,
                         std::span<const double> target, double z);
/// Area between the calibration curve (observed against expected coverage of the central
/// intervals, expected p = 0.01 ... 0.99) and the diagonal: 0 when calibrated, at most 0.5.
double miscalibration_area(std::span<const double> predicted, std::span<const double> sigma,
                           std::span<const double> target);
/// The calibration curve itself: observed coverage of the central interval of each expected
/// coverage in `expected` (each in (0, 1)).
std::vector<double> observed_coverage(std::span<const double> predicted, std::span<const double> sigma,
                                      std::span<const double> target, std::span<const double> expected);
/// Spearman rank correlation (ties take their mean rank); NaN when either side is constant.
double spearman(std::span<const double> a, std::span<const double> b);
/// The sigma scale s that maximises the Gaussian likelihood of the targets under N(mu, (s sigma)^2):
/// s^2 = mean(((y - mu) / sigma)^2). The recalibration factor of a model's uncertainty.
double sigma_scale_fit(std::span<const double> predicted, std::span<const double> sigma, std::span<const double> target);
/// The standard normal quantile: z with Phi(z) = p, for p in (0, 1).
double normal_quantile(double p);

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
