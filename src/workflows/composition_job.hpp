// End-to-end jobs for composition models, shared by the `matnn` command line and the C ABI:
// train from a config and an HDF5 dataset, evaluate on a dataset (or the held-out part of the
// split the model was trained with), and write predictions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "data/splits.hpp"
#include "matnn/record.hpp"
#include "models/composition_model.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

namespace matnn::workflows {

/// The labelled compositions of a dataset for one target. Structures without the label are left
/// out; `index` maps back to the dataset. Classification labels must be integers >= 0.
struct CompositionData {
  std::vector<std::size_t> index;
  std::vector<Composition> compositions;
  Eigen::VectorXd target;
  std::vector<data::SplitKey> keys;  ///< reduced formula / prototype tag and timestamp, for splits
};

CompositionData composition_data(const std::vector<Record>& records, const std::string& target,
                                 models::TaskKind task, data::SplitKind split_kind);

/// Metrics of predictions against targets: regression MAE, RMSE, R^2, top-k recall (k = 10% of
/// the samples, at least 1, screening for the largest values), mean sigma and OOD share;
/// classification accuracy, F1, ROC-AUC (two classes) and the confusion matrix (as cm_i_j).
std::map<std::string, double> composition_metrics(const models::CompositionModel& model,
                                                  const models::CompositionPrediction& prediction,
                                                  const Eigen::VectorXd& target);

struct TrainJobResult {
  std::string model_path;
  std::size_t n_train = 0, n_validation = 0, n_test = 0;
  std::map<std::string, double> test_metrics;
};

struct TrainJobOptions {
  bool resume = false;
  bool print_progress = true;
  train::EpochCallback on_epoch;  ///< return false to cancel (MATNN_ERROR_CANCELLED)
  std::string config_path;        ///< the config's file, when it came from one: no output may replace it
};

/// Trains a composition model from a config document (docs/training-config.md) and writes the
/// model file; every ensemble member is trained in turn, checkpointed after each epoch.
TrainJobResult train_composition_model(const train::Json& config, const TrainJobOptions& options = {});

/// Evaluates a model on a dataset: `subset` is "all", or "train"/"validation"/"test" of the
/// split recorded in the model (the dataset must be the one it was trained on).
std::map<std::string, double> evaluate_composition_model(const models::CompositionModel& model,
                                                         const std::string& dataset_path,
                                                         const std::string& subset);

/// Predictions for every structure of a dataset as CSV (index, id, formula, prediction, sigma,
/// ood, and the target where the dataset has it; class probabilities for classifiers). Atomic.
void write_composition_predictions(const models::CompositionModel& model, const std::string& dataset_path,
                                   const std::string& csv_path, int mc_samples);

}  // namespace matnn::workflows
