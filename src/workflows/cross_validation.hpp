// `matnn train CONFIG --cv K`: k-fold cross-validation of a property model. The config's split
// kind decides the folds (data::make_folds): random gives plain k-fold, formula, chemical-system
// and prototype give group k-fold, cluster gives leave-one-cluster-out when split.clusters
// equals K. Each fold is the test set once; validation (split.validation) is drawn at random
// from the other folds, so it stays in distribution for early stopping and the uncertainty
// calibration. Each fold's model is written beside the configured one (NAME.foldK.h5 for
// NAME.h5) and records its split, so `matnn eval MODEL DATA --subset test` reproduces its row.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "train/config.hpp"
#include "workflows/job_common.hpp"

namespace matnn::workflows {

struct CrossValidationResult {
  std::string split_kind;
  std::vector<std::string> models;                          ///< one per fold
  std::vector<std::size_t> test_sizes;                      ///< structures in each fold
  std::vector<std::map<std::string, double>> fold_metrics;  ///< each fold's test metrics
  /// Per metric: mean and sample standard deviation over the folds (metrics every fold has).
  std::map<std::string, std::pair<double, double>> summary;
};

/// Trains and tests one property model per fold. The folds are spread over the ranks of
/// options.communicator (rank r trains folds r, r + N, ..., each as a serial run, so the result
/// is the serial one bit for bit on every rank; every rank must call with the same config).
/// MATNN_ERROR_UNSUPPORTED for a potential;
/// MATNN_ERROR_INVALID_ARGUMENT for a config whose split is given as a file or lists, or sets
/// split.test (each fold is the test set in turn), and for folds the data cannot fill.
CrossValidationResult cross_validate_property_model(const train::Json& config, std::size_t folds,
                                                    const TrainJobOptions& options = {});

/// NAME.foldK.EXT for NAME.EXT (the last extension; NAME.foldK without one), K from 1.
std::string fold_path(const std::string& path, std::size_t fold);

}  // namespace matnn::workflows
