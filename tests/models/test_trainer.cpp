#include <fstream>
#include <random>
#include <span>
#include <string>

#include <gtest/gtest.h>

#include "autodiff/ops.hpp"
#include "models/composition_model.hpp"
#include "nn/linear.hpp"
#include "synthetic_data.hpp"
#include "test_helpers.hpp"
#include "train/trainer.hpp"
#include "workflows/property_job.hpp"

namespace matnn::workflows {
namespace {

using matnn::testing::status_of;
using matnn::testing::TempDir;

train::Json config_for(const TempDir& dir, const std::string& model) {
  return {{"dataset", dir / "data.h5"},
          {"seed", 9},
          {"model", {{"target", "y"}, {"hidden", {16, 16}}, {"ensemble", 2}, {"dropout", 0.1}}},
          {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.2}}},
          {"training", {{"epochs", 6}, {"batch_size", 16}, {"ema_decay", 0.9}, {"clip_norm", 5.0}, {"l2", 1e-4}}},
          {"optimizer", {{"name", "adamw"}, {"lr", 1e-2}}},
          {"schedule", {{"name", "cosine"}, {"warmup", 2}}},
          {"output", {{"model", dir / model}, {"checkpoint", dir / "run.checkpoint.h5"}, {"log", dir / (model + ".csv")}}}};
}

void write_data(const TempDir& dir) {
  matnn::testing::write_composition_dataset(dir / "data.h5", 150, 8, {3, 8, 13, 26, 29}, "y",
                                            matnn::testing::synthetic_energy);
}

TEST(Trainer, KilledRunResumesToTheSameModel) {
  TempDir dir;
  write_data(dir);
  TrainJobOptions quiet;
  quiet.print_progress = false;
  train_property_model(config_for(dir, "straight.h5"), quiet);

  // Stop during the second member's fourth epoch, as a kill after that epoch's checkpoint would.
  TrainJobOptions interrupted = quiet;
  int epochs_seen = 0;
  interrupted.on_epoch = [&](const train::EpochRecord&) { return ++epochs_seen < 6 + 4; };
  EXPECT_EQ(status_of([&] { train_property_model(config_for(dir, "resumed.h5"), interrupted); }), MATNN_ERROR_CANCELLED);
  EXPECT_TRUE(std::filesystem::exists(dir / "run.checkpoint.h5"));
  EXPECT_FALSE(std::filesystem::exists(dir / "resumed.h5"));

  // A checkpoint is only resumed by the run it belongs to.
  train::Json other = config_for(dir, "resumed.h5");
  other["optimizer"]["lr"] = 5e-3;
  TrainJobOptions resume = quiet;
  resume.resume = true;
  EXPECT_EQ(status_of([&] { train_property_model(other, resume); }), MATNN_ERROR_MODEL);

  train_property_model(config_for(dir, "resumed.h5"), resume);
  EXPECT_FALSE(std::filesystem::exists(dir / "run.checkpoint.h5"));  // folded into the model file

  auto a = models::CompositionModel::load(dir / "straight.h5");
  auto b = models::CompositionModel::load(dir / "resumed.h5");
  for (std::size_t k = 0; k < 2; ++k) {
    const auto sa = a.member(k).state(), sb = b.member(k).state();
    for (const auto& [name, t] : sa) EXPECT_EQ(t.to_vector(), sb.at(name).to_vector()) << "member " << k << " " << name;
  }

  // The log of the resumed member has one row per epoch, the same as the straight run.
  auto count_lines = [](const std::string& path) {
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) ++n;
    return n;
  };
  EXPECT_EQ(count_lines(dir / "resumed.h5.csv.member1.csv"), 1 + 6);
  EXPECT_EQ(count_lines(dir / "straight.h5.csv.member1.csv"), 1 + 6);
}

TEST(Trainer, EarlyStoppingEndsAnUnstableJobEarly) {  // the weights: EarlyStoppingRestoresTheBestEpochsWeights
  TempDir dir;
  write_data(dir);
  train::Json config = config_for(dir, "m.h5");
  config["model"]["ensemble"] = 1;
  config["training"] = {{"epochs", 200}, {"batch_size", 8}, {"early_stopping", 3}};
  config["optimizer"] = {{"name", "sgd"}, {"lr", 0.5}, {"momentum", 0.9}};  // unstable on purpose
  config.erase("schedule");
  TrainJobOptions job;
  job.print_progress = false;
  int epochs = 0;
  job.on_epoch = [&](const train::EpochRecord&) { return ++epochs, true; };
  train_property_model(config, job);
  EXPECT_LT(epochs, 200);
}

// Options of a short run that prints nothing.
train::TrainerOptions quiet_options(int epochs, std::size_t batch_size, train::Json optimizer) {
  train::TrainerOptions options;
  options.epochs = epochs;
  options.batch_size = batch_size;
  options.print_progress = false;
  options.optimizer = std::move(optimizer);
  return options;
}

// A task whose loss depends on the epoch (as a potential's second loss stage does) must hear of
// every epoch before its first mini-batch.
class EpochAwareTask : public train::TrainingTask {
 public:
  EpochAwareTask() : rng_(1), layer_(2, 1, rng_) {}
  std::size_t train_size() const override { return 4; }
  nn::Module& module() override { return layer_; }
  bool begin_epoch(int epoch) override { return epochs.push_back(epoch), false; }
  ad::Tensor batch_loss(std::span<const std::size_t>) override {
    batches_before_first_epoch += epochs.empty() ? 1 : 0;
    return ad::sum(ad::square(layer_.forward(ad::ones({1, 2}, ad::DType::f64))));
  }
  std::map<std::string, double> validate() override { return {}; }
  std::vector<int> epochs;
  int batches_before_first_epoch = 0;

 private:
  std::mt19937_64 rng_;
  nn::Linear layer_;
};

TEST(Trainer, TellsTheTaskEveryEpochBeforeItsBatches) {
  EpochAwareTask task;
  task.module().to(ad::DType::f64);
  train::Trainer(quiet_options(3, 2, {{"name", "sgd"}, {"lr", 0.1}})).run(task);
  EXPECT_EQ(task.epochs, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(task.batches_before_first_epoch, 0);
}

// A loss that becomes 10^4 times larger at epoch 1, as a second loss stage's raised energy
// weight does. Adam's step is about lr per parameter only while its moments describe the loss
// it is minimising: the trainer must restart them when the task says the loss changed, or the
// first steps on the new loss are several times too long.
class LossJumpTask : public train::TrainingTask {
 public:
  LossJumpTask() : rng_(3), layer_(1, 1, rng_) {}
  std::size_t train_size() const override { return 50; }
  nn::Module& module() override { return layer_; }
  bool begin_epoch(int epoch) override {
    scale_ = epoch == 0 ? 1.0 : 1e4;
    return epoch == 1;
  }
  ad::Tensor batch_loss(std::span<const std::size_t>) override {
    const ad::Tensor y = layer_.forward(ad::ones({1, 1}, ad::DType::f64));
    outputs.push_back(y.item());
    return ad::mul(ad::sum(ad::square(ad::sub(y, 10.0))), scale_);
  }
  std::map<std::string, double> validate() override { return {}; }
  std::vector<double> outputs;  // before every step

 private:
  double scale_ = 1.0;
  std::mt19937_64 rng_;
  nn::Linear layer_;
};

TEST(Trainer, RestartsAdamWhenTheLossChanges) {
  LossJumpTask task;
  task.module().to(ad::DType::f64);
  train::TrainerOptions options = quiet_options(2, 1, {{"name", "adam"}, {"lr", 0.01}});
  options.schedule = {{"name", "constant"}};
  train::Trainer(options).run(task);
  ASSERT_EQ(task.outputs.size(), 100u);
  ASSERT_LT(task.outputs.back(), 9.0);  // the gradient kept its sign throughout
  // Weight and bias each move by lr per step: the output by at most 2 lr, in both epochs.
  for (std::size_t k = 1; k < task.outputs.size(); ++k) {
    EXPECT_LE(std::abs(task.outputs[k] - task.outputs[k - 1]), 2 * 0.01 * 1.001) << "step " << k;
  }
}

// Training pulls the output towards 10; validation wants it at 5. The validation loss falls, then
// rises once training has carried the output past 5, and early stopping must hand back the
// weights of the epoch where it was lowest, not those of the last epoch.
class OvershootingTask : public train::TrainingTask {
 public:
  OvershootingTask() : rng_(2), layer_(1, 1, rng_) {}
  std::size_t train_size() const override { return 1; }
  nn::Module& module() override { return layer_; }
  ad::Tensor batch_loss(std::span<const std::size_t>) override {
    return ad::sum(ad::square(ad::sub(output(), 10.0)));
  }
  std::map<std::string, double> validate() override {
    const double y = output().item();
    outputs.push_back(y);
    return {{"loss", (y - 5.0) * (y - 5.0)}};
  }
  ad::Tensor output() { return layer_.forward(ad::ones({1, 1}, ad::DType::f64)); }
  std::vector<double> outputs;  // per epoch, as validated

 private:
  std::mt19937_64 rng_;
  nn::Linear layer_;
};

TEST(Trainer, EarlyStoppingRestoresTheBestEpochsWeights) {
  OvershootingTask task;
  task.module().to(ad::DType::f64);
  train::TrainerOptions options;
  options.epochs = 100;
  options.early_stopping = 3;
  options.print_progress = false;
  options.optimizer = {{"name", "sgd"}, {"lr", 0.01}, {"momentum", 0.0}};
  const train::TrainResult result = train::Trainer(options).run(task);
  ASSERT_TRUE(result.stopped_early);
  ASSERT_GE(task.outputs.size(), 8u);
  EXPECT_LT(task.outputs.front(), 5.0);
  std::size_t best = 0;
  for (std::size_t k = 1; k < task.outputs.size(); ++k)
    if (std::abs(task.outputs[k] - 5.0) < std::abs(task.outputs[best] - 5.0)) best = k;
  EXPECT_EQ(result.best_epoch, static_cast<int>(best));
  EXPECT_LT(best + 1, task.outputs.size());  // the last epoch was worse
  EXPECT_EQ(task.output().item(), task.outputs[best]);
}

TEST(Trainer, EpochOrderIsAPermutationFixedBySeedAndEpoch) {
  const auto a = train::epoch_order(100, 1, 0);
  EXPECT_EQ(a, train::epoch_order(100, 1, 0));
  EXPECT_NE(a, train::epoch_order(100, 1, 1));
  EXPECT_NE(a, train::epoch_order(100, 2, 0));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
}

}  // namespace
}  // namespace matnn::workflows
