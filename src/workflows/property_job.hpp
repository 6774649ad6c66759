// End-to-end jobs for property models of any kind (models/property_model.hpp), shared by the
// `matnn` command line and the C ABI: train from a config and an HDF5 dataset, evaluate on a
// dataset (or the held-out part of the split the model was trained with), write predictions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/splits.hpp"
#include "matnn/record.hpp"
#include "matnn/structure.hpp"
#include "models/property_model.hpp"
#include "parallel/communicator.hpp"
#include "train/config.hpp"
#include "workflows/job_common.hpp"
#include "workflows/sample_set.hpp"

namespace matnn::workflows {

/// Metrics of predictions against targets: regression MAE, RMSE, R^2, top-k recall (k = 10% of
/// the samples, at least 1, screening for the largest values), mean sigma and OOD share, and
/// when every sigma is positive the calibration of N(value, sigma^2): nll, miscalibration_area,
/// coverage_68, coverage_95 and spearman_error_sigma (metrics/metrics.hpp);
/// classification accuracy, F1, ROC-AUC (two classes) and the confusion matrix (as cm_i_j).
/// With the training targets' mean, regression also reports baseline_mae: the error of
/// predicting that mean for every structure, the bar any model must clear.
std::map<std::string, double> property_metrics(const models::PropertyTarget& target,
                                               const models::PropertyPrediction& prediction,
                                               const Eigen::VectorXd& values,
                                               std::optional<double> training_mean = std::nullopt);

/// How a held-out set differs from the validation set in the model's eyes: the ROC AUC of the
/// OOD score separating held-out (positive) from validation structures (ood_auroc_vs_validation;
/// 0.5 when they look alike) and the ratio of their mean sigmas (sigma_ratio_vs_validation).
/// With validation in distribution and a held-out group as test, the measure of whether the
/// model knows what it has not seen.
void add_shift_metrics(std::map<std::string, double>& metrics, const models::PropertyPrediction& held_out,
                       const models::PropertyPrediction& validation);

/// Trains a property model (model.kind composition_mlp or cgcnn) from a config document
/// (docs/training-config.md) and writes the model file; ensemble members are trained in turn,
/// checkpointed after each epoch.
TrainJobResult train_property_model(const train::Json& config, const TrainJobOptions& options = {});

/// Evaluates a model on a dataset: `subset` is "all", or "train"/"validation"/"test" of the
/// split recorded in the model (the dataset must be the one it was trained on); "test" adds the
/// shift metrics against the validation subset.
/// The structures are shared among the ranks of `comm` (predict_in_blocks); every rank returns
/// the metrics of a serial run.
std::map<std::string, double> evaluate_property_model(const models::PropertyModel& model, const std::string& dataset_path,
                                                      const std::string& subset, const parallel::Communicator& comm = {});

/// Predictions for every structure of a dataset as CSV (index, id, formula, prediction, sigma,
/// ood, and the target where the dataset has it; class probabilities for classifiers). Atomic.
/// Each rank of `comm` reads only its own run of the dataset's rows (ShardedRows) and predicts
/// the blocks of kPredictionBlock rows that start in it, Monte-Carlo dropout samples included;
/// rank 0 writes the file a serial run writes.
void write_property_predictions(const models::PropertyModel& model, const std::string& dataset_path,
                                const std::string& csv_path, int mc_samples, const parallel::Communicator& comm = {});

/// model.predict(structures) in fixed blocks of `block` structures, dealt round-robin to the
/// ranks of `comm` and passed back to every rank in the original order. The blocks do not depend
/// on the rank count, and the arithmetic of a block's GEMMs depends on its rows, so any rank
/// count, one included, gives the same bits. Memory holds the blocks' outputs, not one pass over
/// all structures. Monte-Carlo dropout (options.mc_samples) gives each block's samples the
/// masks of their own numbers (options.first_row counts from samples[0]), so those are also
/// the same at any rank count.
inline constexpr std::size_t kPredictionBlock = 64;
models::PropertyPrediction predict_in_blocks(const models::PropertyModel& model, const models::Samples& samples,
                                             const parallel::Communicator& comm, const models::PredictOptions& options = {},
                                             std::size_t block = kPredictionBlock);

/// Every structure's learned embedding as CSV (index, id, formula, e0 ... e{width-1}), for
/// similarity search and maps of the data. Atomic. Shared among the ranks of `comm` as
/// write_property_predictions() shares them.
void write_property_embeddings(const models::PropertyModel& model, const std::string& dataset_path,
                               const std::string& csv_path, const parallel::Communicator& comm = {});

}  // namespace matnn::workflows
