#include "workflows/property_job.hpp"

#include "workflows/job_common.hpp"
#include "workflows/property_calibration.hpp"
#include "workflows/property_learner.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "metrics/metrics.hpp"
#include "nn/losses.hpp"
#include "parallel/deal.hpp"
#include "models/cgcnn/cgcnn_model.hpp"
#include "models/cnn/signal_model.hpp"
#include "models/composition_model.hpp"
#include "train/ensemble.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/labelled_rows.hpp"

namespace matnn::workflows {
namespace {

using train::ConfigSection;
using train::Json;

enum class LossKind { mse, mae, huber };

LossKind loss_from_name(const std::string& name) {
  if (name == "mse") return LossKind::mse;
  if (name == "mae") return LossKind::mae;
  if (name == "huber") return LossKind::huber;
  fail(MATNN_ERROR_INVALID_ARGUMENT, "training.loss \"{}\" is unknown (use mse, mae or huber)", name);
}

ad::Index rows_of(const std::vector<std::size_t>& rows) {
  std::vector<int32_t> values(rows.begin(), rows.end());
  return ad::make_index(std::move(values));
}

// One ensemble member's view of the data for the shared trainer.
class MemberTask : public train::TrainingTask {
 public:
  /// `train_rows`: the rows this member trains on (split.train, or a bootstrap resample of it).
  MemberTask(PropertyLearner& learner, std::size_t member, const models::PropertyTarget& target, const ad::Tensor& y,
             const std::vector<int64_t>& labels, const LabelledRows& data, const data::Split& split,
             std::vector<std::size_t> train_rows, LossKind loss, double huber_delta)
      : learner_(learner), member_(member), target_(target), y_(y), labels_(labels), data_(data), split_(split),
        train_rows_(std::move(train_rows)), loss_(loss), huber_delta_(huber_delta) {}

  std::size_t train_size() const override { return train_rows_.size(); }
  // Each batch's rows stay, as far as even shares allow, with the rank that holds them.
  int sample_home(std::size_t i) const override { return data_.home(train_rows_[i]); }
  nn::Module& module() override { return learner_.member(member_); }

  ad::Tensor batch_loss(std::span<const std::size_t> batch) override {
    std::vector<std::size_t> rows;
    rows.reserve(batch.size());
    for (std::size_t b : batch) rows.push_back(train_rows_[b]);
    const ad::Tensor output = learner_.forward(member_, rows);
    return loss_of(output, rows, /*augmented=*/true);
  }

  std::map<std::string, double> validate() override { return validate_over(parallel::Communicator()); }

  // The validation structures shared among the ranks, each with the rank that holds it as far
  // as even shares allow (the model is in evaluation mode, so no batch normalisation waits for
  // the others); the loss and error sums are summed over them.
  std::map<std::string, double> validate_over(const parallel::Communicator& comm) override {
    if (split_.validation.empty()) return {};
    std::vector<int> homes;
    for (std::size_t r : split_.validation) homes.push_back(data_.home(r));
    std::vector<std::size_t> mine;
    for (std::size_t k : parallel::dealt_to(std::vector<double>(split_.validation.size(), 1.0), homes, comm.size(), comm.rank()))
      mine.push_back(split_.validation[k]);
    // loss x rows, then the sum of |error| (regression, standardised units) or of correct classes.
    // In blocks of kPredictionBlock rows: one pass over all of them would hold every layer's
    // activations of the whole validation set at once (GBs for a large set of spectra).
    std::array<double, 2> sums{};
    for (std::size_t first = 0; first < mine.size(); first += kPredictionBlock) {
      const std::vector<std::size_t> rows(mine.begin() + static_cast<std::ptrdiff_t>(first),
                                          mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), first + kPredictionBlock)));
      const ad::Tensor output = learner_.forward(member_, rows);
      sums[0] += loss_of(output, rows).item() * static_cast<double>(rows.size());
      const std::vector<double> values = output.to_vector();
      if (target_.task == models::TaskKind::regression) {
        const std::vector<double> targets = ad::gather_rows(y_, rows_of(rows)).to_vector();
        for (std::size_t i = 0; i < values.size(); ++i) sums[1] += std::abs(values[i] - targets[i]);
      } else {
        const auto c = static_cast<std::size_t>(target_.n_classes);
        for (std::size_t i = 0; i < rows.size(); ++i) {
          const auto row = values.begin() + static_cast<std::ptrdiff_t>(i * c);
          const auto predicted = std::max_element(row, row + static_cast<std::ptrdiff_t>(c)) - row;
          sums[1] += predicted == labels_[rows[i]] ? 1.0 : 0.0;
        }
      }
    }
    comm.sum(sums);
    const auto n = static_cast<double>(split_.validation.size());
    if (target_.task == models::TaskKind::classification) return {{"loss", sums[0] / n}, {"accuracy", sums[1] / n}};
    // In the networks' standardised units (the model's own scale), per target value.
    const auto per_row = static_cast<double>(y_.numel() / y_.dim(0));
    return {{"loss", sums[0] / n}, {"mae_std_units", sums[1] / (n * per_row)}};
  }

 private:
  /// augmented: `output` is of a training pass, whose augmentation may have changed the targets.
  ad::Tensor loss_of(const ad::Tensor& output, const std::vector<std::size_t>& rows, bool augmented = false) {
    if (target_.task == models::TaskKind::classification) {
      std::vector<int64_t> labels;
      labels.reserve(rows.size());
      for (std::size_t r : rows) labels.push_back(labels_[r]);
      return nn::softmax_cross_entropy(output, labels);
    }
    ad::Tensor target = ad::gather_rows(y_, rows_of(rows));
    if (augmented) target = learner_.augmented_targets(target);
    switch (loss_) {
      case LossKind::mae: return nn::mae_loss(output, target);
      case LossKind::huber: return nn::huber_loss(output, target, huber_delta_);
      case LossKind::mse: break;
    }
    return nn::mse_loss(output, target);
  }

  PropertyLearner& learner_;
  std::size_t member_;
  const models::PropertyTarget& target_;
  ad::Tensor y_;
  const std::vector<int64_t>& labels_;
  const LabelledRows& data_;
  const data::Split& split_;
  std::vector<std::size_t> train_rows_;
  LossKind loss_;
  double huber_delta_;
};

std::string unit_of(const std::string& dataset_path, const std::string& target) {
  const std::string unit = DatasetReader(dataset_path).unit(target);
  return unit;
}

// Writes a CSV file atomically: `body` streams it into the temporary file, which replaces
// `path` only once it is complete; a failed write is MATNN_ERROR_IO naming `what`.
template <typename Body>
void write_csv_atomically(const std::string& path, const char* what, Body&& body) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path());
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write {}", path, what);
    body(out);
    out.flush();
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write {}", path, what);
  }
  file.commit();
}

}  // namespace

std::map<std::string, double> property_metrics(const models::PropertyTarget& target, const models::PropertyPrediction& p,
                                               const Eigen::VectorXd& values, std::optional<double> training_mean) {
  std::map<std::string, double> out;
  const std::span<const double> y(values.data(), static_cast<std::size_t>(values.size()));
  const std::span<const double> value(p.value.data(), static_cast<std::size_t>(p.value.size()));
  out["n"] = static_cast<double>(values.size());
  out["ood_fraction"] = static_cast<double>(std::count(p.ood.begin(), p.ood.end(), true)) /
                        static_cast<double>(std::max<Eigen::Index>(1, values.size()));
  out["mean_sigma"] = p.sigma.size() > 0 ? p.sigma.mean() : 0.0;
  if (target.task == models::TaskKind::regression) {
    out["mae"] = metrics::mae(value, y);
    out["rmse"] = metrics::rmse(value, y);
    out["r2"] = metrics::r2(value, y);
    const std::size_t k = std::max<std::size_t>(1, y.size() / 10);
    out["top_k_recall"] = metrics::top_k_recall(value, y, k);
    out["top_k"] = static_cast<double>(k);
    if (training_mean) out["baseline_mae"] = (values.array() - *training_mean).abs().mean();
    if (p.sigma.size() == values.size() && (p.sigma.array() > 0).all()) {
      // Calibration of the predictive distribution N(value, sigma^2); without a spread (one
      // member, no dropout) there is no distribution to assess.
      const std::span<const double> sigma(p.sigma.data(), static_cast<std::size_t>(p.sigma.size()));
      const Eigen::VectorXd error = (p.value - values).cwiseAbs();
      out["nll"] = metrics::gaussian_nll(value, sigma, y);
      out["miscalibration_area"] = metrics::miscalibration_area(value, sigma, y);
      out["coverage_68"] = metrics::interval_coverage(value, sigma, y, 1.0);
      out["coverage_95"] = metrics::interval_coverage(value, sigma, y, metrics::normal_quantile(0.975));
      out["spearman_error_sigma"] =
          metrics::spearman(std::span<const double>(error.data(), static_cast<std::size_t>(error.size())), sigma);
    }
    return out;
  }
  std::vector<int> predicted(value.begin(), value.end()), truth(y.begin(), y.end());
  const int classes = target.n_classes;
  for (int& t : truth) {
    if (t >= classes) fail(MATNN_ERROR_INVALID_ARGUMENT, "class {} is outside the model's 0..{}", t, classes - 1);
  }
  out["accuracy"] = metrics::accuracy(predicted, truth);
  out["f1"] = metrics::f1_score(predicted, truth, classes);
  if (classes == 2) {
    std::vector<double> score(static_cast<std::size_t>(p.probabilities.rows()));
    for (std::size_t i = 0; i < score.size(); ++i) score[i] = p.probabilities(static_cast<Eigen::Index>(i), 1);
    out["roc_auc"] = metrics::roc_auc(score, truth);
  }
  const auto cm = metrics::confusion_matrix(predicted, truth, classes);
  for (int i = 0; i < classes; ++i) {
    for (int j = 0; j < classes; ++j)
      out[fmt::format("cm_{}_{}", i, j)] = static_cast<double>(cm[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]);
  }
  return out;
}

void add_shift_metrics(std::map<std::string, double>& metrics, const models::PropertyPrediction& held_out,
                       const models::PropertyPrediction& validation) {
  if (held_out.value.size() == 0 || validation.value.size() == 0) return;
  std::vector<double> score(held_out.ood_score.data(), held_out.ood_score.data() + held_out.ood_score.size());
  score.insert(score.end(), validation.ood_score.data(), validation.ood_score.data() + validation.ood_score.size());
  std::vector<int> is_held_out(static_cast<std::size_t>(held_out.value.size()), 1);
  is_held_out.resize(score.size(), 0);
  metrics["ood_auroc_vs_validation"] = metrics::roc_auc(score, is_held_out);
  const double validation_sigma = validation.sigma.size() > 0 ? validation.sigma.mean() : 0.0;
  if (validation_sigma > 0) metrics["sigma_ratio_vs_validation"] = held_out.sigma.mean() / validation_sigma;
}

namespace {

// The samples [first, first + count) of a block, held in `storage` when they must be made.
using BlockSamples = std::function<models::Samples(std::size_t first, std::size_t count, SampleSet& storage)>;

// n samples in blocks of `block`: block b is predicted on rank owner(b) from samples_of(first,
// count) (with options.first_row + first as its first number), and every rank gets every block's
// predictions back in order.
models::PropertyPrediction predict_blocks_on_ranks(const models::PropertyModel& model, std::size_t n, std::size_t block,
                                                   const std::function<int(std::size_t)>& owner,
                                                   const BlockSamples& samples_of, const parallel::Communicator& comm,
                                                   const models::PredictOptions& options) {
  if (block == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "predict_in_blocks: blocks of 0 structures");
  const std::size_t blocks = (n + block - 1) / block;
  const Eigen::Index classes = model.target().task == models::TaskKind::classification ? model.target().n_classes : 0;
  const Eigen::Index width = options.embeddings ? model.embedding_width() : 0;
  // Per structure: value, sigma, ood score, ood flag, its class probabilities, its embedding.
  const auto stride = static_cast<std::size_t>(4 + classes + width);
  std::vector<double> mine;
  std::exception_ptr failure;
  try {
    for (std::size_t b = 0; b < blocks; ++b) {
      if (owner(b) != comm.rank()) continue;
      const std::size_t first = b * block, count = std::min(block, n - first);
      models::PredictOptions block_options = options;
      block_options.first_row = options.first_row + first;
      SampleSet storage;
      const models::PropertyPrediction p = model.predict(samples_of(first, count, storage), block_options);
      for (Eigen::Index i = 0; i < p.value.size(); ++i) {
        mine.insert(mine.end(), {p.value[i], p.sigma[i], p.ood_score[i], p.ood[static_cast<std::size_t>(i)] ? 1.0 : 0.0});
        for (Eigen::Index c = 0; c < classes; ++c) mine.push_back(p.probabilities(i, c));
        for (Eigen::Index j = 0; j < width; ++j) mine.push_back(p.embedding(i, j));
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm.rethrow_first(failure);
  const std::vector<std::vector<double>> all = comm.all_gather(mine);
  models::PropertyPrediction out;
  const auto rows = static_cast<Eigen::Index>(n);
  out.value.resize(rows);
  out.sigma.resize(rows);
  out.ood_score.resize(rows);
  out.ood.resize(n);
  out.probabilities.resize(classes > 0 ? rows : 0, classes);
  out.embedding.resize(width > 0 ? rows : 0, width);
  std::vector<std::size_t> at(all.size(), 0);
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto from_rank = static_cast<std::size_t>(owner(b));
    const std::vector<double>& from = all.at(from_rank);
    std::size_t& k = at[from_rank];
    for (std::size_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
      if (k + stride > from.size()) fail(MATNN_ERROR_INTERNAL, "rank {} sent too few predictions", from_rank);
      const auto row = static_cast<Eigen::Index>(i);
      out.value[row] = from[k++];
      out.sigma[row] = from[k++];
      out.ood_score[row] = from[k++];
      out.ood[i] = from[k++] != 0.0;
      for (Eigen::Index c = 0; c < classes; ++c) out.probabilities(row, c) = from[k++];
      for (Eigen::Index j = 0; j < width; ++j) out.embedding(row, j) = from[k++];
    }
  }
  return out;
}

// Labelled rows `positions` of `data` in blocks of kPredictionBlock (the blocks of one process):
// each block is predicted by the rank that holds most of its rows (reading the others it
// lacks), or dealt round-robin when every rank holds every row.
models::PropertyPrediction predict_labelled(const models::PropertyModel& model, LabelledRows& data,
                                            const std::vector<std::size_t>& positions,
                                            const parallel::Communicator& comm, const models::PredictOptions& options = {}) {
  const std::size_t block = kPredictionBlock;
  const auto owner = [&](std::size_t b) {
    std::vector<std::size_t> held(static_cast<std::size_t>(comm.size()), 0);
    for (std::size_t i = b * block; i < std::min(positions.size(), (b + 1) * block); ++i) {
      const int home = data.home(positions[i]);
      if (home < 0) return static_cast<int>(b % static_cast<std::size_t>(comm.size()));
      if (home >= comm.size()) fail(MATNN_ERROR_INTERNAL, "predict_labelled: row held by rank {} of {}", home, comm.size());
      ++held[static_cast<std::size_t>(home)];
    }
    return static_cast<int>(std::max_element(held.begin(), held.end()) - held.begin());
  };
  const auto samples_of = [&](std::size_t first, std::size_t count, SampleSet& storage) {
    storage = data.samples(std::span<const std::size_t>(positions).subspan(first, count));
    return storage.view();
  };
  return predict_blocks_on_ranks(model, positions.size(), block, owner, samples_of, comm, options);
}

}  // namespace

std::unique_ptr<PropertyLearner> make_property_learner(const std::string& kind, const ConfigSection& model) {
  if (kind == models::CompositionModel::file_kind) return make_composition_learner(model);
  if (kind == models::cgcnn::CgcnnModel::file_kind) return make_cgcnn_learner(model);
  if (kind == models::cnn::SignalModel::spectrum_kind || kind == models::cnn::SignalModel::image_kind)
    return make_signal_learner(kind, model);
  fail(MATNN_ERROR_INVALID_ARGUMENT,
       "model.kind \"{}\" is not a property model (use composition_mlp, cgcnn, cnn1d or cnn2d)", kind);
}

TrainJobResult train_property_model(const Json& config, const TrainJobOptions& job) {
  const ConfigSection root(config, "");
  const std::uint64_t seed = static_cast<std::uint64_t>(root.integer("seed", 0, 0));
  const std::string dataset_path = root.required_string("dataset");

  const ConfigSection m = root.section("model");
  const std::string kind = m.string("kind", models::CompositionModel::file_kind);
  models::PropertyTarget target;
  target.task = models::task_from_name(m.string("task", "regression"));
  target.name = m.required_string("target");
  // Bagging: each member trains on its own bootstrap resample of the training rows, so the
  // ensemble's spread also reflects the data it happened to see (Lakshminarayanan et al. found
  // plain deep ensembles as good; it is an option, off by default).
  const bool bootstrap = m.boolean("ensemble_bootstrap", false);
  const std::unique_ptr<PropertyLearner> learner = make_property_learner(kind, m);

  const JobSplit split_options = job_split_from(root.section("split"), seed);
  const ConfigSection training = root.section("training");
  train::TrainerOptions trainer_options = trainer_options_from(root, training, config);
  trainer_options.communicator = job.communicator;
  const bool print = job.print_progress && job.communicator.is_root();
  const std::string loss_name = training.string("loss", "mse");
  const LossKind loss = loss_from_name(loss_name);
  const double huber_delta = training.positive("huber_delta", 1.0);
  training.finish();
  const CalibrationOptions calibration_options = calibration_options_from(root.section("uncertainty"));

  const JobOutputs outputs = job_outputs(root.section("output"));
  root.finish();
  check_job_outputs(outputs, {{"config", job.config_path}, {"dataset", dataset_path}});

  // Data, split, the model built on the training rows. Each rank reads its own share of the
  // dataset (dataset_rows.hpp) and learns every row's label; ensemble members spread over the
  // ranks each train on one rank, which then needs every row.
  const parallel::Communicator data_comm = job.ensemble_parallel ? parallel::Communicator() : job.communicator;
  ShardedRows rows({dataset_path}, split_options.options.kind, data_comm);
  LabelledRows data(rows, dataset_path, target.name, target.task, learner->signal(), data_comm);
  if (data.size() < 2) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: {} rows have the label \"{}\"{}; training needs at least 2", dataset_path,
         data.size(), target.name,
         learner->signal().empty() ? "" : fmt::format(" and the signal \"{}\"", learner->signal()));
  }
  const std::string hash = data.hash();  // while the rows still lie in runs in rank order
  const data::Split split =
      resolve_split(split_options, data.keys(split_options.options), data.index(), data.dataset_size(), dataset_path);
  if (split.train.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "the split leaves no training data");
  // Each rank now holds an equal share of the training rows (and of the validation and test rows).
  const auto sorted_rows = [&](const std::vector<std::size_t>& positions) {
    std::vector<std::size_t> out = data.dataset_rows(positions);
    std::sort(out.begin(), out.end());
    return out;
  };
  rows.rehome({sorted_rows(split.train), sorted_rows(split.validation), sorted_rows(split.test)});
  if (target.task == models::TaskKind::classification)
    target.n_classes = std::max(2, static_cast<int>(data.target().maxCoeff()) + 1);
  target.unit = unit_of(dataset_path, target.name);
  learner->prepare(target, data, split.train, seed, data_comm);
  models::PropertyModel& model = learner->model();
  if (bootstrap && model.ensemble_size() < 2) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "model.ensemble_bootstrap resamples the training data per ensemble member: it needs model.ensemble >= 2");
  }
  const ad::Tensor y = learner->standardized_targets(data.target());
  std::vector<int64_t> labels(data.size());
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int64_t>(data.target()[static_cast<Eigen::Index>(i)]);

  if (print) {
    fmt::print("{} {} of \"{}\" on {} ({} train, {} validation, {} test; {} split), {} member(s)\n",
               models::task_name(target.task), kind, target.name, dataset_path, split.train.size(), split.validation.size(),
               split.test.size(), split_options.given ? "given" : data::split_kind_name(split_options.options.kind),
               model.ensemble_size());
    if (data_comm.size() > 1) {
      fmt::print("each rank reads and holds its share of the structures: rank 0 has {} of {}\n", rows.local_rows().size(),
                 rows.size());
    }
  }

  const train::EnsembleOptions ensemble =
      ensemble_options(trainer_options, seed, outputs, job, print);
  train::train_ensemble(
      model.ensemble_size(),
      [&](std::size_t k) {
        return std::make_unique<MemberTask>(*learner, k, model.target(), y, labels, data, split,
                                            bootstrap ? data::bootstrap_resample(split.train, seed, k) : split.train,
                                            loss, huber_delta);
      },
      ensemble);

  if (print && data_comm.size() > 1) {
    fmt::print("rank 0 read {} structures from the file ({} its own), and holds {}\n", rows.structures_read(),
               rows.local_rows().size(), rows.structures_held());
  }
  const CalibrationReport calibration = calibrate_property_model(
      model,
      [&](const std::vector<std::size_t>& positions, const models::PredictOptions& options) {
        return predict_labelled(model, data, positions, data_comm, options);
      },
      data.target(), split, calibration_options, seed);
  if (print) {
    fmt::print("uncertainty: sigma scale {:.3g} ({}); OOD threshold {:.3g} ({}, quantile {}), {} reference embeddings\n",
               calibration.sigma_scale, calibration.sigma_basis, calibration.ood_threshold, calibration.ood_basis,
               calibration_options.ood_quantile, calibration.reference_size);
  }

  model.provenance() = {{"dataset", std::filesystem::absolute(dataset_path).string()},
                        {"n_structures", data.dataset_size()},
                        {"data_hash", hash},
                        {"split", split_to_json(split_options)},
                        {"loss", loss_name}};
  if (bootstrap) model.provenance()["ensemble_bootstrap"] = true;
  write_on_root(job.communicator, outputs.model, [&] {
    model.save(outputs.model);
    train::remove_checkpoints(outputs.checkpoint, model.ensemble_size());  // the model file now holds everything
  });

  TrainJobResult result;
  result.model_path = outputs.model;
  result.n_train = split.train.size();
  result.n_validation = split.validation.size();
  result.n_test = split.test.size();
  if (!split.test.empty()) {
    // As `matnn eval` predicts, so that both give the same numbers, and shared among the ranks.
    const models::PropertyPrediction test = predict_labelled(model, data, split.test, data_comm);
    result.test_metrics =
        property_metrics(model.target(), test, pick(data.target(), split.test), pick(data.target(), split.train).mean());
    if (!split.validation.empty())
      add_shift_metrics(result.test_metrics, test, predict_labelled(model, data, split.validation, data_comm));
  }
  result.structures_read = rows.structures_read();
  return result;
}

models::PropertyPrediction predict_in_blocks(const models::PropertyModel& model, const models::Samples& samples,
                                             const parallel::Communicator& comm, const models::PredictOptions& options,
                                             std::size_t block) {
  const std::size_t n = samples.size();
  const auto owner = [&](std::size_t b) { return static_cast<int>(b % static_cast<std::size_t>(comm.size())); };
  const auto samples_of = [&](std::size_t first, std::size_t count, SampleSet&) { return samples.slice(first, count); };
  return predict_blocks_on_ranks(model, n, block, owner, samples_of, comm, options);
}

std::map<std::string, double> evaluate_property_model(const models::PropertyModel& model, const std::string& dataset_path,
                                                      const std::string& subset, const parallel::Communicator& comm) {
  if (subset != "all" && subset != "train" && subset != "validation" && subset != "test")
    fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown subset \"{}\" (use all, train, validation or test)", subset);
  const Json& provenance = model.provenance();
  const std::string recorded = provenance.contains("split") ? provenance["split"].value("kind", "random") : "random";
  // The keys matter only to rebuild a computed split (a given one lists its structures).
  data::SplitOptions keys_for;
  if (subset != "all" && recorded != "given") keys_for = split_options_from(train::ConfigSection(provenance.at("split"), "split"), 0);
  const models::PropertyTarget& target = model.target();
  // Each rank reads its own run of rows; every rank learns every row's label.
  ShardedRows dataset_rows({dataset_path}, keys_for.kind, comm);
  LabelledRows data(dataset_rows, dataset_path, target.name, target.task, model.input_signal(), comm);
  std::vector<std::size_t> rows, validation_rows;
  std::optional<double> training_mean;
  if (subset == "all") {
    for (std::size_t i = 0; i < data.size(); ++i) rows.push_back(i);
  } else {
    // The split was made over the labelled structures only, as at training time: they must be
    // the very structures the model was trained on (older model files record no hash).
    const std::string recorded_hash = provenance.value("data_hash", std::string());
    if (!recorded_hash.empty()) {
      const std::string hash = data.hash();
      if (hash != recorded_hash) {
        fail(MATNN_ERROR_INVALID_ARGUMENT,
             "{}: the structures labelled \"{}\" differ from those the model was trained on (data hash {}, the model "
             "records {}): subset {} cannot be rebuilt; use --subset all",
             dataset_path, target.name, hash, recorded_hash, subset);
      }
    }
    const data::Split split = recorded_split(provenance, data.keys(keys_for), data.index(), data.dataset_size(), dataset_path);
    if (subset == "train") rows = split.train;
    else if (subset == "validation") rows = split.validation;
    else rows = split.test;
    if (!split.train.empty()) training_mean = pick(data.target(), split.train).mean();
    if (subset == "test") validation_rows = split.validation;
  }
  if (rows.empty())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: no structures with \"{}\" in subset {}", dataset_path, target.name, subset);
  const models::PropertyPrediction prediction = predict_labelled(model, data, rows, comm);
  std::map<std::string, double> out = property_metrics(target, prediction, pick(data.target(), rows), training_mean);
  if (!validation_rows.empty()) add_shift_metrics(out, prediction, predict_labelled(model, data, validation_rows, comm));
  return out;
}

namespace {

// One CSV line per structure of a dataset, written by rank 0 after `header`: each rank of `comm`
// reads its own run of rows (ShardedRows) and predicts the blocks of kPredictionBlock rows that
// start in it (reading the few rows of its last block that lie in the next rank's run), and
// line(row, record, prediction, k) formats row `row`, the k-th of its block. The blocks, and
// each row's Monte-Carlo masks (first_row), are those of one process, so any rank count writes
// the same bytes; the runs are in rank order, so the ranks' lines joined in that order are in
// row order. Atomic; `what` names the file's content in messages.
void write_csv_by_shards(const models::PropertyModel& model, const std::string& dataset_path, const std::string& csv_path,
                         const char* what, models::PredictOptions options, const std::string& header,
                         const std::function<std::string(std::size_t, const Record&, const models::PropertyPrediction&,
                                                         std::size_t)>& line,
                         const parallel::Communicator& comm) {
  ShardedRows rows({dataset_path}, data::SplitKind::random, comm);
  const std::string signal = model.input_signal();
  const std::size_t n = rows.size(), block = kPredictionBlock;
  std::string lines;
  std::exception_ptr failure;
  try {
    for (std::size_t first = 0; first < n; first += block) {
      if (std::max(rows.home(first), 0) != comm.rank()) continue;  // home -1: one process holds every row
      std::vector<std::size_t> block_rows;
      for (std::size_t i = first; i < std::min(n, first + block); ++i) block_rows.push_back(i);
      const std::vector<const Record*> records = rows.records(block_rows);
      SampleSet samples;
      for (std::size_t k = 0; k < records.size(); ++k) {
        samples.structures.push_back(records[k]->structure);
        if (signal.empty()) continue;
        const auto it = records[k]->signals.find(signal);
        if (it == records[k]->signals.end())
          fail(MATNN_ERROR_INVALID_ARGUMENT, "{} has no signal \"{}\", which the model reads", rows.origin(block_rows[k]), signal);
        samples.signals.push_back(it->second);
      }
      options.first_row = first;
      const models::PropertyPrediction p = model.predict(samples.view(), options);
      for (std::size_t k = 0; k < records.size(); ++k) lines += line(block_rows[k], *records[k], p, k);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm.rethrow_first(failure);
  const std::vector<std::vector<std::uint8_t>> parts =
      comm.all_gather(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(lines.data()), lines.size()));
  write_on_root(comm, csv_path, [&] { write_csv_atomically(csv_path, what, [&](std::ofstream& out) {
    out << header;
    for (const auto& part : parts) out.write(reinterpret_cast<const char*>(part.data()), static_cast<std::streamsize>(part.size()));
  }); });
}

// "index,id,formula" of a row.
std::string row_columns(std::size_t row, const Record& r) {
  const auto id = r.tags.find("id");
  return fmt::format("{},{},{}", row, id == r.tags.end() ? "" : id->second, r.structure.composition().formula());
}

}  // namespace

void write_property_predictions(const models::PropertyModel& model, const std::string& dataset_path,
                                const std::string& csv_path, int mc_samples, const parallel::Communicator& comm) {
  const models::PropertyTarget& target = model.target();
  const bool classifier = target.task == models::TaskKind::classification;
  std::string header = fmt::format("index,id,formula,{0}_predicted,{0}_sigma,ood,ood_score,{0}", target.name);
  if (classifier) {
    for (int c = 0; c < target.n_classes; ++c) header += fmt::format(",probability_{}", c);
  }
  models::PredictOptions options;
  options.mc_samples = mc_samples;
  const auto line = [&](std::size_t row, const Record& r, const models::PropertyPrediction& p, std::size_t k) {
    const auto i = static_cast<Eigen::Index>(k);
    std::string out = fmt::format("{},{:.10g},{:.6g},{},{:.4g},", row_columns(row, r), p.value[i], p.sigma[i],
                                  p.ood[k] ? 1 : 0, p.ood_score[i]);
    const auto label = r.properties.find(target.name);
    if (label != r.properties.end()) out += fmt::format("{:.10g}", label->second.front());
    if (classifier) {
      for (int c = 0; c < target.n_classes; ++c) out += fmt::format(",{:.6f}", p.probabilities(i, c));
    }
    return out + '\n';
  };
  write_csv_by_shards(model, dataset_path, csv_path, "predictions", options, header + '\n', line, comm);
}

void write_property_embeddings(const models::PropertyModel& model, const std::string& dataset_path,
                               const std::string& csv_path, const parallel::Communicator& comm) {
  std::string header = "index,id,formula";
  for (std::int64_t k = 0; k < model.embedding_width(); ++k) header += fmt::format(",e{}", k);
  models::PredictOptions options;
  options.embeddings = true;
  const auto line = [&](std::size_t row, const Record& r, const models::PropertyPrediction& p, std::size_t k) {
    std::string out = row_columns(row, r);
    for (Eigen::Index j = 0; j < p.embedding.cols(); ++j)
      out += fmt::format(",{:.7g}", p.embedding(static_cast<Eigen::Index>(k), j));
    return out + '\n';
  };
  write_csv_by_shards(model, dataset_path, csv_path, "embeddings", options, header + '\n', line, comm);
}

}  // namespace matnn::workflows
