// The potential training recipe (src/workflows/potential_*.cpp): loss terms and their weights,
// config_type weights, the second stage, reference energies, separate validation and test
// files, fine-tuning with frozen parameters, training in parts (continue_with), evaluation by
// config_type and extended-XYZ predictions. Small Behler-Parrinello models on the shipped EMT
// copper data, a few epochs each.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>

#include <gtest/gtest.h>

#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "autodiff/graph.hpp"
#include "matnn/extxyz.hpp"
#include "models/state_file.hpp"
#include "workflows/potential_job.hpp"
#include "workflows/job_common.hpp"
#include "workflows/potential_task.hpp"
#include "workflows/reference_energies.hpp"

namespace matnn::workflows {
namespace {

using nlohmann::json;

// The shipped copper data: bulk MD (periodic, with stress) first, slabs (no stress) at the end.
std::vector<Record> copper(std::size_t n) {
  std::vector<Record> records = read_extxyz(std::string(MATNN_EXAMPLES_DATA_DIR) + "/cu_emt_md.extxyz");
  records.resize(n);
  return records;
}

std::vector<Record> copper_slabs(std::size_t n) {
  std::vector<Record> all = read_extxyz(std::string(MATNN_EXAMPLES_DATA_DIR) + "/cu_emt_md.extxyz");
  std::vector<Record> out;
  for (const Record& r : all) {
    if (!r.structure.fully_periodic() && out.size() < n) out.push_back(r);
  }
  return out;
}

class PotentialTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/matnn_potential_training_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dataset(const std::string& name, const std::vector<Record>& records) const {
    write_dataset(path(name), records);
    return path(name);
  }
  static json small_model() {
    return {{"kind", "behler_parrinello"},
            {"cutoff", 4.0},
            {"radial", {{"count", 4}}},
            {"angular", {{"zeta", {1, 4}}}},
            {"hidden", {8}}};
  }
  json config(const std::string& data, json training = json::object()) const {
    training["epochs"] = training.value("epochs", 2);
    return {{"dataset", data},
            {"seed", 3},
            {"model", small_model()},
            {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.2}}},
            {"training", training},
            {"output", {{"model", path("model.h5")}}}};
  }
  static TrainJobResult train(const json& c) {
    TrainJobOptions quiet;
    quiet.print_progress = false;
    return train_potential(c, quiet);
  }
  static void expect_error(const json& c, matnn_status status, const std::string& fragment) {
    try {
      train(c);
      FAIL() << "expected an error containing \"" << fragment << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), status) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }
  std::string dir_;
};

TEST_F(PotentialTraining, LossTermsWithoutDataAreErrors) {
  const std::string slabs = dataset("slabs.h5", copper_slabs(10));
  expect_error(config(slabs, {{"stress_weight", 1.0}}), MATNN_ERROR_INVALID_ARGUMENT, "training.stress_weight");
  expect_error(config(slabs, {{"config_type_weights", {{"bulk_mdd", 2.0}}}}), MATNN_ERROR_INVALID_ARGUMENT,
               "training.config_type_weights.bulk_mdd");
  expect_error(config(slabs, {{"stage_two", {{"start", 1.5}}}}), MATNN_ERROR_INVALID_ARGUMENT, "training.stage_two.start");
  expect_error(config(slabs, {{"huber_delta", 0.1}}), MATNN_ERROR_INVALID_ARGUMENT, "huber_delta");
  json c = config(slabs);
  c["model"]["reference_energies"] = "isolated_atoms";
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "no isolated-atom frame of Cu");
  c["model"]["reference_energies"] = {{"Au", 1.0}};
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "reference_energies.Au");
  c = config(slabs);
  c["model"]["freeze"] = {"networks"};
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "model.freeze needs model.init_from");
  c = config(slabs);
  c["validation_dataset"] = slabs;
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "split.validation");
}

// On one process the sharded rows of several files (dataset_rows.hpp) are every row, each read
// once, in file order, with the summaries of the records themselves; a file that cannot serve
// is refused with its name.
TEST_F(PotentialTraining, ShardedRowsOfOneProcessHoldEveryRowOfEveryFile) {
  const std::vector<Record> first = copper(5), second = copper_slabs(3);
  ShardedRows rows({dataset("first.h5", first), dataset("second.h5", second)}, data::SplitKind::formula, {});
  std::vector<Record> all = first;
  all.insert(all.end(), second.begin(), second.end());
  const InMemoryRows whole(all, data::SplitKind::formula);
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows.structures_read(), 8u);
  EXPECT_EQ(rows.local_rows().size(), 8u);
  for (std::size_t r = 0; r < all.size(); ++r) {
    EXPECT_EQ(rows.home(r), -1);
    EXPECT_EQ(rows.summary(r).atoms, whole.summary(r).atoms);
    EXPECT_EQ(rows.summary(r).energy, whole.summary(r).energy);
    EXPECT_EQ(rows.summary(r).stress, whole.summary(r).stress);
    EXPECT_EQ(rows.summary(r).force_sum_sq, whole.summary(r).force_sum_sq);
    EXPECT_EQ(rows.summary(r).key.group, "Cu");
  }
  EXPECT_FALSE(rows.summary(6).stress);  // a slab's stress is not trained on
  EXPECT_EQ(rows.origin(6), path("second.h5") + ": structure 1");
  const std::vector<std::size_t> asked{7, 0, 7};
  const std::vector<const Record*> got = rows.records(asked);
  EXPECT_EQ(got[0], got[2]);
  EXPECT_EQ(got[1]->structure.positions, first[0].structure.positions);
  EXPECT_EQ(rows.structures_read(), 8u);

  const std::string empty = dataset("empty.h5", {});
  try {
    ShardedRows refused({dataset("ok.h5", first), empty}, data::SplitKind::random, {});
    FAIL() << "an empty file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(empty + ": the dataset holds no structure"), std::string::npos) << e.what();
  }
  try {
    ShardedRows refused({path("missing.h5")}, data::SplitKind::random, {});
    FAIL() << "a missing file was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_IO);
    EXPECT_NE(std::string(e.what()).find("missing.h5"), std::string::npos) << e.what();
  }
}

TEST_F(PotentialTraining, ReferenceEnergiesFromIsolatedAtomsAndGiven) {
  std::vector<Record> records = copper(12);
  Record atom;
  atom.structure.numbers = {29};
  atom.structure.positions = Positions::Zero(1, 3);
  atom.structure.cell = Cell::Identity() * 20.0;
  atom.structure.pbc = {false, false, false};
  atom.properties["energy"] = {-0.25};
  atom.tags["config_type"] = "isolated_atom";
  records.push_back(atom);
  const std::vector<std::size_t> rows{0, 1, 2, 3};
  const InMemoryRows summaries(records, data::SplitKind::random, "d");
  const json isolated = "isolated_atoms";
  const ReferenceEnergies from_atoms = reference_energies(&isolated, summaries, rows, {29}, "d");
  EXPECT_EQ(from_atoms.source, "isolated_atoms");
  EXPECT_DOUBLE_EQ(from_atoms.e0[0], -0.25);
  const json given = {{"Cu", -3.5}};
  EXPECT_DOUBLE_EQ(reference_energies(&given, summaries, rows, {29}, "d").e0[0], -3.5);
  // Fit with one element: least squares of E_s = n_s E0 gives E0 = sum n_s E_s / sum n_s^2.
  double sum_ne = 0, sum_nn = 0;
  for (std::size_t r : rows) {
    const auto n = static_cast<double>(records[r].structure.size());
    sum_ne += n * *records[r].energy();
    sum_nn += n * n;
  }
  const ReferenceEnergies fit = reference_energies(nullptr, summaries, rows, {29}, "d");
  EXPECT_EQ(fit.source, "fit");
  EXPECT_NEAR(fit.e0[0], sum_ne / sum_nn, 1e-9);

  // Trained with isolated_atoms: the model stores that E0 and the isolated atom is not split.
  const std::string data = dataset("with_atom.h5", records);
  json c = config(data, {{"epochs", 1}});
  c["model"]["reference_energies"] = "isolated_atoms";
  const TrainJobResult result = train(c);
  EXPECT_EQ(result.n_train + result.n_validation + result.n_test, 12u);
  EXPECT_DOUBLE_EQ(potentials::Potential::load(result.model_path).shift()[0], -0.25);
}

// A small float64 copper potential, and a split that trains on every record.
potentials::Potential tiny_copper_potential() {
  potentials::Potential potential("behler_parrinello", {{"cutoff", 4.0}, {"radial", {{"count", 4}}}, {"hidden", {8}}},
                                  {29}, 1, 5);
  potential.to(ad::DType::f64);
  potential.set_energy_scaling({0.1}, 0.7);
  return potential;
}

data::Split train_on_all(std::size_t n) {
  data::Split split;
  for (std::size_t i = 0; i < n; ++i) split.train.push_back(i);
  return split;
}

// The loss of one batch under a recipe, through the training task itself.
double batch_loss(const std::vector<Record>& records, const PotentialRecipe& recipe, int epoch = 0) {
  potentials::Potential potential = tiny_copper_potential();
  const data::Split split = train_on_all(records.size());
  InMemoryRows rows(records, data::SplitKind::random);
  PotentialTask task(potential, 0, rows, split, split.train, records.size(), recipe, 0.1);
  task.begin_epoch(epoch);
  std::vector<std::size_t> batch(records.size());
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = i;
  return task.batch_loss(batch).item();
}

TEST_F(PotentialTraining, ConfigTypeWeightsScaleAStructuresShare) {
  std::vector<Record> records = copper(4);
  records[0].tags["config_type"] = "a";
  records[1].tags["config_type"] = "a";
  records[2].tags["config_type"] = "b";
  records[3].tags["config_type"] = "b";
  PotentialRecipe recipe;
  recipe.weights = {1.0, 1.0, 1.0};
  const double plain = batch_loss(records, recipe);
  // Weighting every structure by 2 doubles the loss (a weighted mean would leave it unchanged).
  recipe.config_type_weights = {{"a", 2.0}, {"b", 2.0}};
  EXPECT_NEAR(batch_loss(records, recipe), 2 * plain, 1e-9 * plain);
  // Weight 0 for "b": the loss is what "a" alone contributes, over the labelled entries of all four.
  recipe.config_type_weights = {{"b", 0.0}};
  const double only_a = batch_loss(records, recipe);
  recipe.config_type_weights = {{"a", 0.0}};
  const double only_b = batch_loss(records, recipe);
  EXPECT_NEAR(only_a + only_b, plain, 1e-9 * plain);
  EXPECT_GT(only_a, 0);
  EXPECT_GT(only_b, 0);
}

// With every component selected, the Kalman filter's measurements are the loss's residuals:
// the mean squares of the energy, force and stress blocks, weighted, sum to the batch loss.
TEST_F(PotentialTraining, KalmanMeasurementsAreTheWeightedResidualsOfTheLoss) {
  std::vector<Record> records = copper(3);
  for (const Record& slab : copper_slabs(1)) records.push_back(slab);  // no stress label
  potentials::Potential potential = tiny_copper_potential();
  const data::Split split = train_on_all(records.size());
  PotentialRecipe recipe;
  recipe.weights = {2.0, 0.5, 3.0};
  InMemoryRows rows(records, data::SplitKind::random);
  PotentialTask task(potential, 0, rows, split, split.train, records.size(), recipe, 0.1);
  task.begin_epoch(0);
  const std::vector<std::size_t> batch{0, 1, 2, 3};
  std::size_t n_atoms = 0;
  for (const Record& r : records) n_atoms += r.structure.size();

  train::MeasurementSelection all{.forces_per_structure = 1000000, .stress_per_structure = 6, .threshold = 0.0, .seed = 1};
  const train::Measurements m = task.measurements(batch, batch, all);
  const std::vector<double> r = m.residuals.to_vector();
  ASSERT_EQ(r.size(), 4 + 3 * n_atoms + 3 * 6);
  auto mean_square = [&](std::size_t first, std::size_t count) {
    double sum = 0.0;
    for (std::size_t k = first; k < first + count; ++k) sum += r[k] * r[k];
    return sum / static_cast<double>(count);
  };
  const double loss = task.batch_loss(batch).item();
  EXPECT_NEAR(m.loss, loss, 1e-12 * loss);
  const double from_measurements =
      mean_square(0, 4) + mean_square(4, 3 * n_atoms) + mean_square(4 + 3 * n_atoms, 18);
  EXPECT_NEAR(from_measurements, loss, 1e-10 * loss);

  // Two force components and one stress component per structure, above the structure's RMS error.
  train::MeasurementSelection few{.forces_per_structure = 2, .stress_per_structure = 1, .threshold = 1.0, .seed = 1};
  EXPECT_EQ(task.measurements(batch, batch, few).residuals.numel(), 4 + 2 * 4 + 3);
}

// One numeric column of the trainer's CSV log.
std::vector<double> read_csv_column(const std::string& file, const std::string& column) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream names(line);
  for (std::string name; std::getline(names, name, ',');) header.push_back(name);
  const auto at = std::find(header.begin(), header.end(), column);
  if (at == header.end()) return {};
  const auto index = static_cast<std::size_t>(at - header.begin());
  std::vector<double> values;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string field;
    for (std::size_t k = 0; k <= index; ++k) std::getline(fields, field, ',');
    values.push_back(std::stod(field));
  }
  return values;
}

TEST_F(PotentialTraining, KalmanFilterTrainsAPotentialAndRefusesGradientSettings) {
  const std::string data = dataset("cu.h5", copper(30));
  json c = config(data, {{"epochs", 4}});
  c["optimizer"] = {{"name", "kalman"}, {"forces_per_structure", 8}};
  const TrainJobResult kalman = train(c);
  // A ten-fold drop in the validation loss from the first to the best epoch.
  const auto log = read_csv_column(path("model.h5") + ".log.csv", "val_loss");
  ASSERT_EQ(log.size(), 4u);
  EXPECT_LT(*std::min_element(log.begin(), log.end()), 0.1 * log.front());
  EXPECT_GT(kalman.test_metrics.at("force_mae_meV_A"), 0.0);

  json huber = c;
  huber["training"]["loss"] = "huber";
  expect_error(huber, MATNN_ERROR_INVALID_ARGUMENT, "optimizer kalman");
  json scheduled = c;
  scheduled["schedule"] = {{"name", "cosine"}};
  expect_error(scheduled, MATNN_ERROR_INVALID_ARGUMENT, "schedule");
  json clipped = c;
  clipped["training"]["clip_norm"] = 1.0;
  expect_error(clipped, MATNN_ERROR_INVALID_ARGUMENT, "clip_norm");
  json unknown = c;
  unknown["optimizer"]["lr"] = 0.1;
  expect_error(unknown, MATNN_ERROR_INVALID_ARGUMENT, "optimizer.lr");
  json unmeasured = c;
  unmeasured["training"]["stress_weight"] = 0.0;
  unmeasured["optimizer"]["stress_per_structure"] = 2;
  expect_error(unmeasured, MATNN_ERROR_INVALID_ARGUMENT, "optimizer.stress_per_structure");
}

TEST_F(PotentialTraining, StageTwoSwitchesTheLossWeightsAtItsEpoch) {
  const std::vector<Record> records = copper(3);
  PotentialRecipe energy_only;
  energy_only.weights = {1.0, 0.0, 0.0};
  const double energy = batch_loss(records, energy_only);
  PotentialRecipe forces_only;
  forces_only.weights = {0.0, 1.0, 0.0};
  const double forces = batch_loss(records, forces_only);

  PotentialRecipe staged;
  staged.weights = {0.0, 1.0, 0.0};
  staged.stage_two = LossWeights{3.0, 0.5, 0.0};
  staged.stage_two_epoch = 4;
  EXPECT_NEAR(batch_loss(records, staged, 3), forces, 1e-9 * forces);
  EXPECT_NEAR(batch_loss(records, staged, 4), 3 * energy + 0.5 * forces, 1e-9 * forces);
  EXPECT_NEAR(batch_loss(records, staged, 9), 3 * energy + 0.5 * forces, 1e-9 * forces);
}

// Training from cached Behler-Parrinello descriptors computes the same loss, and the same
// gradient of the loss with respect to every weight, as training through atom graphs.
TEST_F(PotentialTraining, CachedDescriptorsGiveTheGraphPathsLossAndGradients) {
  std::vector<Record> records = copper(3);
  for (const Record& slab : copper_slabs(2)) records.push_back(slab);
  // Two elements, so pair channels and several networks are exercised.
  records[1].structure.numbers[0] = 79;
  records[3].structure.numbers[2] = 79;
  potentials::Potential potential(
      "behler_parrinello",
      {{"cutoff", 4.5}, {"radial", {{"count", 5}}}, {"angular", {{"type", "narrow"}, {"zeta", {1, 4}}}}, {"hidden", {7, 5}}},
      {29, 79}, 1, 11);
  potential.to(ad::DType::f64);
  potential.set_energy_scaling({0.1, -0.3}, 0.7);
  potential.set_core_repulsion({.inner = 1.8, .outer = 2.6});  // reaches the nearest neighbours of these cells
  data::Split split;
  for (std::size_t i = 0; i < records.size(); ++i) split.train.push_back(i);
  PotentialRecipe recipe;
  recipe.weights = {1.0, 1.0, 1.0};
  InMemoryRows rows(records, data::SplitKind::random);
  const auto& model = dynamic_cast<const potentials::BehlerParrinello&>(potential.member(0));
  // Every row described up front, and none: each computed when asked for and not kept.
  DescribedRows described(model, ad::DType::f64, potential.core_repulsion(), split.train, rows.records(split.train));
  DescribedRows on_demand(model, ad::DType::f64, potential.core_repulsion(), {}, {});

  const std::vector<std::size_t> batch{0, 1, 2, 3, 4};
  auto loss_and_gradient = [&](DescribedRows* cache) {
    PotentialTask task(potential, 0, rows, split, split.train, batch.size(), recipe, 0.1, cache);
    task.begin_epoch(0);
    potential.member(0).zero_grad();
    const nn::NamedTensors params = potential.member(0).named_parameters();
    ad::Tensor loss = task.batch_loss(batch);
    ad::backward(loss);
    std::vector<double> gradient;
    for (const auto& [name, p] : params) {
      const std::vector<double> g = p.grad().to_vector();
      gradient.insert(gradient.end(), g.begin(), g.end());
    }
    return std::pair{loss.item(), gradient};
  };
  const auto [graph_loss, graph_gradient] = loss_and_gradient(nullptr);
  const auto [cached_loss, cached_gradient] = loss_and_gradient(&described);
  const auto [computed_loss, computed_gradient] = loss_and_gradient(&on_demand);
  EXPECT_EQ(computed_loss, cached_loss);
  EXPECT_EQ(computed_gradient, cached_gradient);
  EXPECT_NEAR(cached_loss, graph_loss, 1e-10 * graph_loss);
  ASSERT_EQ(cached_gradient.size(), graph_gradient.size());
  double largest = 0.0;
  for (double g : graph_gradient) largest = std::max(largest, std::abs(g));
  for (std::size_t k = 0; k < graph_gradient.size(); ++k) {
    EXPECT_NEAR(cached_gradient[k], graph_gradient[k], 1e-9 * largest) << "parameter entry " << k;
  }
}

// The filter's covariance is part of the checkpoint: a run stopped after epoch 2 and resumed
// ends in the same model, bit for bit, as the uninterrupted run.
TEST_F(PotentialTraining, KalmanRunResumesToTheSameModel) {
  const std::string data = dataset("cu.h5", copper(12));
  json c = config(data, {{"epochs", 3}});
  c["optimizer"] = {{"name", "kalman"}};
  potentials::Potential straight = potentials::Potential::load(train(c).model_path);

  c["output"]["model"] = path("resumed.h5");
  TrainJobOptions stop_after_two;
  stop_after_two.print_progress = false;
  stop_after_two.on_epoch = [](const train::EpochRecord& r) { return r.epoch < 1; };
  EXPECT_THROW(train_potential(c, stop_after_two), Error);
  ASSERT_TRUE(std::filesystem::exists(path("resumed.h5.checkpoint.h5")));
  TrainJobOptions resume;
  resume.print_progress = false;
  resume.resume = true;
  potentials::Potential resumed = potentials::Potential::load(train_potential(c, resume).model_path);
  const auto a = straight.member(0).state(), b = resumed.member(0).state();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_EQ(tensor.to_vector(), b.at(name).to_vector()) << name;
}

// Shortest interatomic distance of a cell, by brute force over neighbouring images.
double shortest_distance(const Structure& s) {
  double shortest = 1e300;
  for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(s.size()); ++i) {
    for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(s.size()); ++j) {
      for (int a = -1; a <= 1; ++a) {
        for (int b = -1; b <= 1; ++b) {
          for (int c = -1; c <= 1; ++c) {
            if (i == j && a == 0 && b == 0 && c == 0) continue;
            const Eigen::RowVector3d shift = Eigen::RowVector3d(a, b, c) * s.cell;
            shortest = std::min(shortest, (s.positions.row(j) + shift - s.positions.row(i)).norm());
          }
        }
      }
    }
  }
  return shortest;
}

TEST_F(PotentialTraining, DefaultCoreRepulsionStaysBelowTheTrainingData) {
  const std::vector<Record> records = copper(10);
  json c = config(dataset("cu.h5", records), {{"epochs", 1}});
  c["split"] = {{"kind", "random"}, {"validation", 0.0}, {"test", 0.0}};
  const potentials::Potential p = potentials::Potential::load(train(c).model_path);
  double shortest = 1e300;
  for (const Record& r : records) shortest = std::min(shortest, shortest_distance(r.structure));
  EXPECT_NEAR(p.core_repulsion().outer, 0.9 * shortest, 1e-6);  // found on the float32 training graph
  EXPECT_NEAR(p.core_repulsion().inner, 0.9 * shortest - 0.5, 1e-6);

  c["model"]["core_repulsion"] = "none";
  EXPECT_FALSE(potentials::Potential::load(train(c).model_path).core_repulsion().enabled());
  c["model"]["core_repulsion"] = {{"inner", 1.0}, {"outer", 1.5}};
  EXPECT_EQ(potentials::Potential::load(train(c).model_path).core_repulsion().outer, 1.5);
  c["model"]["core_repulsion"] = {{"inner", 2.0}, {"outer", 1.5}};
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "model.core_repulsion");

  // Placed by hand relative to the data.
  c["model"]["core_repulsion"] = {{"fraction", 1.0}, {"width", 0.36}};
  const potentials::Potential at_data = potentials::Potential::load(train(c).model_path);
  EXPECT_NEAR(at_data.core_repulsion().outer, shortest, 1e-6);
  EXPECT_NEAR(at_data.core_repulsion().inner, shortest - 0.36, 1e-6);
  for (const json& bad : {json{{"fraction", 1.1}, {"width", 0.3}}, json{{"fraction", 0.9}, {"width", 0.0}},
                          json{{"fraction", 0.9}, {"widht", 0.3}}, json{{"fraction", 0.9}}}) {
    c["model"]["core_repulsion"] = bad;
    expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "model.core_repulsion");
  }
}

TEST_F(PotentialTraining, SeparateFilesEvalByConfigTypeAndExtxyzPredictions) {
  std::vector<Record> all = copper(40);
  const std::string train_file = dataset("train.h5", {all.begin(), all.begin() + 24});
  const std::string validation_file = dataset("validation.h5", {all.begin() + 24, all.begin() + 32});
  const std::string test_file = dataset("test.h5", {all.begin() + 32, all.end()});
  json c = config(train_file);
  c.erase("split");
  c["validation_dataset"] = validation_file;
  c["test_dataset"] = test_file;
  c["model"]["ensemble"] = 2;
  const TrainJobResult result = train(c);
  EXPECT_EQ(result.n_train, 24u);
  EXPECT_EQ(result.n_validation, 8u);
  EXPECT_EQ(result.n_test, 8u);
  EXPECT_TRUE(result.test_metrics.count("energy_sigma_spearman"));

  const PotentialEvaluation evaluation = evaluate_potential(result.model_path, test_file, "all");
  EXPECT_NEAR(evaluation.overall.at("energy_mae_meV_atom"), result.test_metrics.at("energy_mae_meV_atom"), 1e-9);
  double n = 0;
  for (const auto& [type, metrics] : evaluation.by_config_type) n += metrics.at("n");
  EXPECT_EQ(n, 8);
  try {
    evaluate_potential(result.model_path, train_file, "test");
    FAIL() << "a test subset that came from its own file must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("own file"), std::string::npos) << e.what();
  }

  write_potential_predictions(result.model_path, test_file, path("predictions.extxyz"));
  const std::vector<Record> predicted = read_extxyz(path("predictions.extxyz"));
  ASSERT_EQ(predicted.size(), 8u);
  const potentials::Potential potential = potentials::Potential::load(result.model_path);
  const auto direct = potential.compute(all[32].structure);
  EXPECT_NEAR(*predicted[0].energy(), direct.energy, 1e-6 * std::abs(direct.energy) + 1e-8);
  EXPECT_NEAR((*predicted[0].forces() - direct.forces).cwiseAbs().maxCoeff(), 0.0, 1e-6);
  EXPECT_DOUBLE_EQ(predicted[0].properties.at("REF_energy")[0], *all[32].energy());
  EXPECT_NEAR(predicted[0].properties.at("energy_sigma")[0], direct.energy_sigma, 1e-6);
  EXPECT_EQ(predicted[0].atom_properties.at("force_deviation").rows(), static_cast<Eigen::Index>(all[32].structure.size()));
}

TEST_F(PotentialTraining, BootstrappedEnsembleMembersTrainOnTheirOwnResamples) {
  const std::string data = dataset("data.h5", copper(30));
  json c = config(data);
  c["model"]["ensemble_bootstrap"] = true;
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "model.ensemble_bootstrap");  // one member: nothing to bag
  c["model"]["ensemble"] = 2;
  const TrainJobResult bagged = train(c);
  EXPECT_TRUE(bagged.test_metrics.count("energy_sigma_spearman"));
  const models::StateFile file =
      models::read_state_file(bagged.model_path, models::model_format, potentials::Potential::file_kind);
  const json provenance = file.config.value("provenance", json::object());
  EXPECT_EQ(provenance.value("ensemble_bootstrap", false), true) << provenance.dump();
  // Member 0 of the bagged ensemble saw other data than member 0 of the plain one (same seed).
  const auto a = potentials::Potential::load(bagged.model_path).member(0).state();
  c["model"].erase("ensemble_bootstrap");
  const auto b = potentials::Potential::load(train(c).model_path).member(0).state();
  double largest = 0;
  for (const auto& [name, t] : a) {
    const std::vector<double> x = t.to_vector(), y = b.at(name).to_vector();
    for (std::size_t i = 0; i < x.size(); ++i) largest = std::max(largest, std::abs(x[i] - y[i]));
  }
  EXPECT_GT(largest, 1e-6);
}

TEST_F(PotentialTraining, FineTuningKeepsFrozenParametersAndScaling) {
  const std::string data = dataset("data.h5", copper(30));
  const TrainJobResult first = train(config(data));
  const potentials::Potential base = potentials::Potential::load(first.model_path);

  json c = config(data);
  c["model"]["init_from"] = first.model_path;
  c["model"]["freeze"] = {"network.Cu.layers.0"};
  c["output"]["model"] = path("tuned.h5");
  const TrainJobResult tuned_result = train(c);
  potentials::Potential tuned = potentials::Potential::load(tuned_result.model_path);
  EXPECT_EQ(tuned.shift(), base.shift());
  EXPECT_EQ(tuned.scale(), base.scale());
  const auto before = const_cast<potentials::Potential&>(base).member(0).state();
  const auto after = tuned.member(0).state();
  std::size_t frozen = 0, changed = 0;
  for (const auto& [name, tensor] : after) {
    const bool same = tensor.to_vector() == before.at(name).to_vector();
    if (name.starts_with("network.Cu.layers.0")) {
      EXPECT_TRUE(same) << name << " is frozen but changed";
      ++frozen;
    } else if (!same) {
      ++changed;
    }
  }
  EXPECT_GT(frozen, 0u);
  EXPECT_GT(changed, 0u);

  c["model"]["freeze"] = {"no_such_layer"};
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "no_such_layer");
  // Keys that shape no tensor must match too: the weights were fitted to those inputs.
  c["model"].erase("freeze");
  c["model"]["input_scaling"] = "standard";
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "model.input_scaling = \"range\", this config has \"standard\"");
  c["model"].erase("input_scaling");
  c["model"]["cutoff"] = c["model"].value("cutoff", 4.0) + 0.5;
  expect_error(c, MATNN_ERROR_INVALID_ARGUMENT, "model.cutoff = 4.0, this config has 4.5");
}

// A Behler-Parrinello file written before model.input_scaling existed was standardised by the
// standard deviation: it loads as "standard", whatever today's default, and predicts the same.
TEST_F(PotentialTraining, OlderBehlerParrinelloFilesLoadWithStandardScaling) {
  const std::vector<Record> frames = copper(12);
  json c = config(dataset("data.h5", frames));
  c["model"]["input_scaling"] = "standard";
  const TrainJobResult trained = train(c);
  models::StateFile file =
      models::read_state_file(trained.model_path, models::model_format, potentials::Potential::file_kind);
  ASSERT_EQ(file.config.at("model").at("input_scaling"), "standard");
  file.config["model"].erase("input_scaling");
  const std::string older = path("older.h5");
  models::write_state_file(older, file);
  const potentials::Potential reference = potentials::Potential::load(trained.model_path);
  potentials::Potential loaded = potentials::Potential::load(older);
  EXPECT_EQ(loaded.member(0).config().at("input_scaling"), "standard");
  EXPECT_EQ(loaded.compute(frames[0].structure).energy, reference.compute(frames[0].structure).energy);
  // Fine-tuning it with today's default is refused, naming the key.
  json tune = config(dataset("data.h5", frames));
  tune["model"]["init_from"] = older;
  tune["output"]["model"] = path("tuned.h5");
  expect_error(tune, MATNN_ERROR_INVALID_ARGUMENT, "model.input_scaling = \"standard\", this config has \"range\"");
}

TEST_F(PotentialTraining, ContinueWithChainsPartsAsInitFromWouldAndResumesAfterAFinishedPart) {
  const std::string data = dataset("data.h5", copper(20));
  json c = config(data);
  c["optimizer"] = {{"name", "kalman"}, {"forces_per_structure", 4}};
  c["continue_with"] = json::array({{{"training", {{"epochs", 2}, {"batch_size", 2}}},
                                     {"optimizer", {{"name", "adam"}, {"lr", 0.002}}},
                                     {"schedule", {{"name", "cosine"}}}}});
  TrainJobOptions quiet;
  quiet.print_progress = false;
  const TrainJobResult parts = train_model(c, quiet);
  EXPECT_EQ(parts.model_path, path("model.h5"));
  const std::string part1 = path("model.h5.part1.h5");
  ASSERT_TRUE(std::filesystem::exists(part1));
  EXPECT_FALSE(std::filesystem::exists(part1 + ".checkpoint.h5"));

  // The same two trainings by hand: the first, then the second from its model.
  json first = c;
  first.erase("continue_with");
  first["output"]["model"] = path("first.h5");
  train(first);
  json second = config(data);
  second["training"] = c["continue_with"][0]["training"];
  second["optimizer"] = c["continue_with"][0]["optimizer"];
  second["schedule"] = c["continue_with"][0]["schedule"];
  second["model"]["init_from"] = path("first.h5");
  second["output"]["model"] = path("second.h5");
  train(second);
  const auto state = [](const std::string& file) { return potentials::Potential::load(file).member(0).state(); };
  const auto chained = state(path("second.h5"));
  const auto by_parts = state(parts.model_path);
  ASSERT_EQ(chained.size(), by_parts.size());
  for (const auto& [name, tensor] : chained) EXPECT_EQ(tensor.to_vector(), by_parts.at(name).to_vector()) << name;

  // --resume keeps the finished first part and trains the rest.
  std::filesystem::remove(parts.model_path);
  const auto part1_written = std::filesystem::last_write_time(part1);
  TrainJobOptions resume = quiet;
  resume.resume = true;
  const TrainJobResult resumed = train_model(c, resume);
  EXPECT_EQ(std::filesystem::last_write_time(part1), part1_written);
  for (const auto& [name, tensor] : state(resumed.model_path)) EXPECT_EQ(tensor.to_vector(), chained.at(name).to_vector()) << name;

  const auto refused = [&](const json& bad, const std::string& fragment) {
    try {
      train_model(bad, quiet);
      ADD_FAILURE() << "expected an error containing \"" << fragment << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  json unknown = c;
  unknown["continue_with"][0]["model"] = {{"hidden", {4}}};
  refused(unknown, "unknown key 'model'");
  json no_optimizer = c;
  no_optimizer["continue_with"][0].erase("optimizer");
  refused(no_optimizer, "no optimizer section");
  json empty = c;
  empty["continue_with"] = json::array();
  refused(empty, "non-empty list");
  json property = c;
  property["model"] = {{"kind", "composition_mlp"}};
  refused(property, "trains potentials in parts");
}

}  // namespace
}  // namespace matnn::workflows
