#include <cmath>
#include <cstdio>
#include <set>

#include <gtest/gtest.h>

#include "models/composition_model.hpp"
#include "synthetic_data.hpp"
#include "test_helpers.hpp"
#include "workflows/cross_validation.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/labelled_rows.hpp"
#include "workflows/property_calibration.hpp"
#include "workflows/property_job.hpp"

namespace matnn::workflows {
namespace {

using matnn::testing::status_of;
using matnn::testing::TempDir;

const std::vector<int> pool{3, 11, 12, 13, 14, 20, 26, 28, 29, 30, 8, 16};

train::Json regression_config(const TempDir& dir, int epochs = 120) {
  return {{"dataset", dir / "data.h5"},
          {"seed", 5},
          {"model", {{"task", "regression"}, {"target", "energy_per_atom"}, {"hidden", {64, 64}}}},
          {"split", {{"kind", "random"}, {"validation", 0.1}, {"test", 0.15}}},
          {"training", {{"epochs", epochs}, {"batch_size", 32}, {"early_stopping", 30}}},
          {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
          {"schedule", {{"name", "plateau"}, {"factor", 0.5}, {"patience", 10}}},
          {"output", {{"model", dir / "model.h5"}}}};
}

TEST(CompositionMlp, LearnsAKnownNonlinearFunctionOfComposition) {
  TempDir dir;
  matnn::testing::write_composition_dataset(dir / "data.h5", 1500, 1, pool, "energy_per_atom",
                                            matnn::testing::synthetic_energy);
  TrainJobOptions quiet;
  quiet.print_progress = false;
  const TrainJobResult result = train_property_model(regression_config(dir), quiet);

  // The target's spread over the test set, for the acceptance threshold.
  const auto model = models::CompositionModel::load(result.model_path);
  const auto all = evaluate_property_model(model, dir / "data.h5", "test");
  EXPECT_EQ(all.at("mae"), result.test_metrics.at("mae"));  // eval rebuilds the same split
  std::vector<double> y;
  for (const Record& r : DatasetReader(dir / "data.h5").read_all()) y.push_back(r.properties.at("energy_per_atom")[0]);
  double mean = 0, var = 0;
  for (double v : y) mean += v / static_cast<double>(y.size());
  for (double v : y) var += (v - mean) * (v - mean) / static_cast<double>(y.size());
  const double std = std::sqrt(var);
  std::printf("synthetic regression: test MAE %.4f = %.2f%% of the target std %.4f, R^2 %.4f\n",
              result.test_metrics.at("mae"), 100 * result.test_metrics.at("mae") / std, std, result.test_metrics.at("r2"));
  EXPECT_LT(result.test_metrics.at("mae"), 0.05 * std) << "test MAE " << result.test_metrics.at("mae") << ", std " << std;
  EXPECT_GT(result.test_metrics.at("r2"), 0.98);
}

TEST(CompositionMlp, ClassifiesAKnownRule) {
  TempDir dir;
  // Class 1 when oxygen or sulfur make up more than a third of the atoms.
  matnn::testing::write_composition_dataset(dir / "data.h5", 1200, 2, pool, "is_chalcogenide",
                                            [](const std::map<int, double>& f) {
                                              const double x = (f.count(8) ? f.at(8) : 0.0) + (f.count(16) ? f.at(16) : 0.0);
                                              return x > 1.0 / 3.0 ? 1.0 : 0.0;
                                            });
  train::Json config = regression_config(dir, 80);
  config["model"] = {{"task", "classification"}, {"target", "is_chalcogenide"}, {"hidden", {32, 32}}};
  TrainJobOptions quiet;
  quiet.print_progress = false;
  const TrainJobResult result = train_property_model(config, quiet);
  std::printf("synthetic classification: test accuracy %.4f, ROC-AUC %.4f\n", result.test_metrics.at("accuracy"),
              result.test_metrics.at("roc_auc"));
  EXPECT_GT(result.test_metrics.at("accuracy"), 0.95);
  EXPECT_GT(result.test_metrics.at("roc_auc"), 0.95);
}

TEST(CompositionMlp, SaveLoadPredictIsBitIdenticalAndSeedsReproduce) {
  TempDir dir;
  matnn::testing::write_composition_dataset(dir / "data.h5", 200, 3, pool, "energy_per_atom",
                                            matnn::testing::synthetic_energy);
  train::Json config = regression_config(dir, 8);
  config["model"]["ensemble"] = 2;
  config["model"]["dropout"] = 0.1;
  TrainJobOptions quiet;
  quiet.print_progress = false;
  train_property_model(config, quiet);
  config["output"]["model"] = dir / "again.h5";
  train_property_model(config, quiet);

  const auto a = models::CompositionModel::load(dir / "model.h5");
  const auto b = models::CompositionModel::load(dir / "again.h5");
  std::vector<Composition> c{Composition::from_formula("Fe2O3"), Composition::from_formula("NiAl"),
                             Composition::from_formula("Cu")};
  const auto pa = a.predict_compositions(c), pb = b.predict_compositions(c);
  EXPECT_EQ(pa.value, pb.value);  // same seed, same model, bit for bit
  EXPECT_EQ(pa.sigma, pb.sigma);

  a.save(dir / "resaved.h5");
  const auto pc = models::CompositionModel::load(dir / "resaved.h5").predict_compositions(c);
  EXPECT_EQ(pa.value, pc.value);
  EXPECT_GT(pa.sigma.minCoeff(), 0.0);  // two members disagree somewhere

  // Monte-Carlo dropout adds spread; a model without dropout refuses it.
  const auto mc = a.predict_compositions(c, {8});
  EXPECT_GT(mc.sigma.minCoeff(), 0.0);

  // With one member the ensemble gives no spread, so any sigma is the dropout's own.
  config["model"]["ensemble"] = 1;
  config["output"]["model"] = dir / "single.h5";
  train_property_model(config, quiet);
  const auto single = models::CompositionModel::load(dir / "single.h5");
  EXPECT_EQ(single.predict_compositions(c).sigma.maxCoeff(), 0.0);
  const auto single_mc = single.predict_compositions(c, {8});
  EXPECT_GT(single_mc.sigma.minCoeff(), 0.0);
  EXPECT_NE(single_mc.value, single.predict_compositions(c).value);  // the draws move the mean too

  // Bagging: each member trains on its own resample, so the members (and their spread) change;
  // it needs at least two members.
  config["model"]["ensemble"] = 2;
  config["model"]["ensemble_bootstrap"] = true;
  config["output"]["model"] = dir / "bagged.h5";
  train_property_model(config, quiet);
  const auto bagged = models::CompositionModel::load(dir / "bagged.h5");
  EXPECT_TRUE(bagged.provenance().value("ensemble_bootstrap", false));
  EXPECT_NE(bagged.predict_compositions(c).sigma, pa.sigma);
  config["model"]["ensemble"] = 1;
  EXPECT_EQ(status_of([&] { train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);

  // Out of distribution: an element never seen in training.
  const auto ood = a.predict_compositions({Composition::from_formula("PuO2"), Composition::from_formula("FeO")});
  EXPECT_TRUE(ood.ood[0]);
}

TEST(PropertyUncertainty, EmbeddingDistanceKnownValues) {
  // Reference rows (0,0), (2,0), (0,2), (2,2): per-dimension std 1 and mean (1,1), so the
  // standardised reference is the square's corners at +-1.
  Eigen::MatrixXd reference(4, 2);
  reference << 0, 0, 2, 0, 0, 2, 2, 2;
  models::UncertaintyCalibration c;
  c.set_reference(reference, 2);
  Eigen::MatrixXd query(2, 2);
  query << 0, 0, 1, 1;
  const Eigen::VectorXd d = c.distance(query);
  // A corner: nearest 0 and 2 (standardised), mean 1, over sqrt(2) dimensions. The centre: sqrt(2).
  EXPECT_NEAR(d[0], 1.0 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(d[1], 1.0, 1e-12);
  // Leave-one-out on the reference itself: each corner's two nearest others are 2 away.
  const Eigen::VectorXd self = c.distance(reference, true);
  for (Eigen::Index i = 0; i < 4; ++i) EXPECT_NEAR(self[i], 2.0 / std::sqrt(2.0), 1e-12);
}

// A collapsed model: every structure gets the same embedding (as a diverged network gives), a
// prediction of 0 with sigma 1.
class CollapsedModel final : public models::PropertyModel {
 public:
  const char* kind() const noexcept override { return "collapsed"; }
  const models::PropertyTarget& target() const noexcept override { return target_; }
  const std::vector<int>& elements() const noexcept override { return elements_; }
  bool uses_geometry() const noexcept override { return false; }
  bool supports_mc_dropout() const noexcept override { return false; }
  std::int64_t embedding_width() const noexcept override { return 4; }
  std::size_t ensemble_size() const noexcept override { return 2; }
  models::PropertyPrediction predict(const models::Samples& samples, const models::PredictOptions&) const override {
    const std::span<const Structure> structures = structures_of(samples);
    const auto n = static_cast<Eigen::Index>(structures.size());
    models::PropertyPrediction p;
    p.value = Eigen::VectorXd::Zero(n);
    p.sigma = Eigen::VectorXd::Ones(n);
    p.ood_score = Eigen::VectorXd::Zero(n);
    p.ood.assign(structures.size(), false);
    p.embedding = Eigen::MatrixXd::Ones(n, 4);
    return p;
  }
  void save(const std::string&) const override {}

 private:
  models::PropertyTarget target_;
  std::vector<int> elements_{29};
};

TEST(PropertyUncertainty, ACollapsedModelGetsNoOodReferenceButIsStillRecalibrated) {
  CollapsedModel model;
  std::vector<Structure> structures(10);
  for (Structure& s : structures) {
    s.numbers = {29};
    s.positions = Positions::Zero(1, 3);
  }
  Eigen::VectorXd y = Eigen::VectorXd::Constant(10, 2.0);  // errors of 2 at sigma 1: scale 2
  data::Split split;
  split.train = {0, 1, 2, 3, 4, 5, 6};
  split.validation = {7, 8, 9};
  const SampleSet samples{structures, {}};
  const auto predict = [&](const std::vector<std::size_t>& rows, const models::PredictOptions& options) {
    return model.predict(samples.pick(rows).view(), options);
  };
  const CalibrationReport report = calibrate_property_model(model, predict, y, split, {}, 1);
  EXPECT_FALSE(model.calibration().has_reference());
  EXPECT_NE(report.ood_basis.find("do not vary"), std::string::npos) << report.ood_basis;
  EXPECT_DOUBLE_EQ(model.calibration().sigma_scale, 2.0);
}

TEST(CompositionMlp, UncertaintyIsRecalibratedOnValidationAndFlagsFarEmbeddings) {
  TempDir dir;
  matnn::testing::write_composition_dataset(dir / "data.h5", 400, 6, pool, "energy_per_atom",
                                            matnn::testing::synthetic_energy);
  train::Json config = regression_config(dir, 15);
  config["model"]["ensemble"] = 3;
  config["split"]["validation"] = 0.25;
  TrainJobOptions quiet;
  quiet.print_progress = false;
  train_property_model(config, quiet);
  const auto model = models::CompositionModel::load(dir / "model.h5");
  const models::UncertaintyCalibration& c = model.calibration();
  ASSERT_TRUE(c.has_reference());
  EXPECT_NE(c.sigma_scale, 1.0);
  EXPECT_TRUE(std::isfinite(c.threshold));

  // The scale is the maximum-likelihood one on validation: there, mean((error / sigma)^2) = 1.
  const auto validation = evaluate_property_model(model, dir / "data.h5", "validation");
  const std::vector<Record> records = DatasetReader(dir / "data.h5").read_all();
  InMemoryRows rows(records, data::SplitKind::random);
  LabelledRows data(rows, "data.h5", "energy_per_atom", models::TaskKind::regression, "", parallel::Communicator());
  const data::Split split = recorded_split(model.provenance(), data.keys({}), data.index(), records.size(), dir / "data.h5");
  // Predicted in the blocks the calibration predicted in (a block's float32 sums depend on its rows).
  const models::PropertyPrediction p = predict_in_blocks(model, data.samples(split.validation).view(), parallel::Communicator());
  const Eigen::VectorXd y = pick(data.target(), split.validation);
  EXPECT_NEAR(((p.value - y).array() / p.sigma.array()).square().mean(), 1.0, 1e-9);
  // The OOD threshold is the validation distances' 95th percentile: about 5 % of them beyond.
  EXPECT_GT(validation.at("ood_fraction"), 0.0);
  EXPECT_LT(validation.at("ood_fraction"), 0.1);
  EXPECT_TRUE(validation.count("nll") && validation.count("miscalibration_area") && validation.count("coverage_95"));

  // ood_score is the embedding distance, and the flag is that distance above the threshold.
  models::PredictOptions with_embeddings;
  with_embeddings.embeddings = true;
  const models::PropertyPrediction e = model.predict(data.samples(split.validation).view(), with_embeddings);
  const Eigen::VectorXd d = c.distance(e.embedding);
  for (Eigen::Index i = 0; i < d.size(); ++i) {
    EXPECT_DOUBLE_EQ(e.ood_score[i], d[i]);
    if (d[i] > c.threshold) {
      EXPECT_TRUE(e.ood[static_cast<std::size_t>(i)]);
    }
  }
  // Compositions unlike any in training (one element dominating ten others, all seen) sit far.
  std::map<int, double> odd;
  for (int z : pool) odd[z] = 0.01;
  odd[3] = 1.0;
  const auto far = model.predict_compositions({Composition(odd)});
  EXPECT_GT(far.ood_score[0], c.threshold);
  EXPECT_TRUE(far.ood[0]);
}

TEST(PropertyJob, HeldOutSubsetsRefuseAChangedDataset) {
  // The model records a hash of the labelled structures: a dataset with one label changed (same
  // size, so a count would not notice) cannot stand in for the one the split was made on.
  TempDir dir;
  matnn::testing::write_composition_dataset(dir / "data.h5", 80, 8, pool, "energy_per_atom",
                                            matnn::testing::synthetic_energy);
  TrainJobOptions quiet;
  quiet.print_progress = false;
  train_property_model(regression_config(dir, 2), quiet);
  const auto model = models::CompositionModel::load(dir / "model.h5");
  EXPECT_NO_THROW(evaluate_property_model(model, dir / "data.h5", "test"));
  std::vector<Record> records = DatasetReader(dir / "data.h5").read_all();
  records[17].properties["energy_per_atom"][0] += 0.001;
  write_dataset(dir / "changed.h5", records);
  EXPECT_EQ(status_of([&] { evaluate_property_model(model, dir / "changed.h5", "test"); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NO_THROW(evaluate_property_model(model, dir / "changed.h5", "all"));
}

TEST(PropertyJob, PrototypeKeysFallBackOnTheStructuresOwnLabel) {
  // Without a prototype tag a prototype split groups by the spglib label: fcc Cu and fcc Ni
  // (any lattice constant) together, B2 CuNi apart; a tag wins; a cluster has no prototype.
  auto cubic = [](double a, std::vector<int> numbers, std::vector<Eigen::Vector3d> fractional) {
    Record r;
    r.structure.numbers = std::move(numbers);
    r.structure.cell = Cell::Identity() * a;
    r.structure.pbc = {true, true, true};
    r.structure.positions = Positions(static_cast<Eigen::Index>(fractional.size()), 3);
    for (std::size_t i = 0; i < fractional.size(); ++i) r.structure.positions.row(static_cast<Eigen::Index>(i)) = a * fractional[i].transpose();
    return r;
  };
  const std::vector<Eigen::Vector3d> fcc{{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
  const Record cu = cubic(3.6, {29, 29, 29, 29}, fcc), ni = cubic(3.5, {28, 28, 28, 28}, fcc);
  const Record b2 = cubic(2.9, {29, 28}, {{0, 0, 0}, {0.5, 0.5, 0.5}});
  EXPECT_EQ(split_key(cu, data::SplitKind::prototype).group, "A_cF4_225_a");
  EXPECT_EQ(split_key(ni, data::SplitKind::prototype).group, split_key(cu, data::SplitKind::prototype).group);
  EXPECT_NE(split_key(b2, data::SplitKind::prototype).group, split_key(cu, data::SplitKind::prototype).group);
  Record tagged = b2;
  tagged.tags["prototype"] = "B2";
  EXPECT_EQ(split_key(tagged, data::SplitKind::prototype).group, "B2");
  EXPECT_EQ(split_key(b2, data::SplitKind::chemical_system).group, "Cu-Ni");
  EXPECT_EQ(split_key(b2, data::SplitKind::formula).group, split_key(cubic(2.9, {28, 29}, {{0, 0, 0}, {0.5, 0.5, 0.5}}), data::SplitKind::formula).group);
  Record cluster = b2;
  cluster.structure.pbc = {false, false, false};
  cluster.structure.cell = Cell::Zero();
  EXPECT_EQ(status_of([&] { split_key(cluster, data::SplitKind::prototype); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(PropertyJob, CrossValidationTestsEveryStructureOnce) {
  TempDir dir;
  matnn::testing::write_composition_dataset(dir / "data.h5", 120, 9, pool, "energy_per_atom",
                                            matnn::testing::synthetic_energy);
  train::Json config = regression_config(dir, 3);
  config["split"] = {{"kind", "chemical-system"}, {"validation", 0.1}};
  TrainJobOptions quiet;
  quiet.print_progress = false;
  const CrossValidationResult cv = cross_validate_property_model(config, 3, quiet);
  ASSERT_EQ(cv.models.size(), 3u);
  EXPECT_EQ(cv.split_kind, "chemical-system");
  EXPECT_EQ(cv.test_sizes[0] + cv.test_sizes[1] + cv.test_sizes[2], 120u);
  EXPECT_EQ(cv.models[1], dir / "model.fold2.h5");
  std::set<std::string> test_systems[3];
  double mean_mae = 0.0;
  for (std::size_t f = 0; f < 3; ++f) {
    // Each fold's model records its split: eval rebuilds the fold's test metrics.
    const auto model = models::CompositionModel::load(cv.models[f]);
    EXPECT_DOUBLE_EQ(evaluate_property_model(model, dir / "data.h5", "test").at("mae"), cv.fold_metrics[f].at("mae"));
    const auto split = model.provenance().at("split");
    const std::vector<Record> records = DatasetReader(dir / "data.h5").read_all();
    for (std::size_t i : split.at("test").get<std::vector<std::size_t>>())
      test_systems[f].insert(split_key(records[i], data::SplitKind::chemical_system).group);
    mean_mae += cv.fold_metrics[f].at("mae") / 3;
  }
  EXPECT_DOUBLE_EQ(cv.summary.at("mae").first, mean_mae);
  for (int a = 0; a < 3; ++a)  // group k-fold: no chemical system is tested in two folds
    for (int b = a + 1; b < 3; ++b)
      for (const std::string& system : test_systems[a]) EXPECT_EQ(test_systems[b].count(system), 0u) << system;

  config["split"]["test"] = 0.2;
  EXPECT_EQ(status_of([&] { cross_validate_property_model(config, 3, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config["split"] = {{"kind", "time"}};
  EXPECT_EQ(status_of([&] { cross_validate_property_model(config, 3, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config["model"]["kind"] = "behler_parrinello";
  EXPECT_EQ(status_of([&] { cross_validate_property_model(config, 3, quiet); }), MATNN_ERROR_UNSUPPORTED);
}

TEST(CompositionMlp, RejectsWrongModelFilesAndBadConfigs) {
  TempDir dir;
  matnn::testing::write_composition_dataset(dir / "data.h5", 60, 4, pool, "energy_per_atom",
                                            matnn::testing::synthetic_energy);
  TrainJobOptions quiet;
  quiet.print_progress = false;

  // A dataset is not a model.
  EXPECT_EQ(status_of([&] { models::CompositionModel::load(dir / "data.h5"); }), MATNN_ERROR_MODEL);
  // A model file of another kind.
  models::StateFile other;
  other.kind = "nequip";
  models::write_state_file(dir / "other.h5", other);
  EXPECT_EQ(status_of([&] { models::CompositionModel::load(dir / "other.h5"); }), MATNN_ERROR_MODEL);

  train::Json config = regression_config(dir, 2);
  config["model"]["target"] = "band_gap";  // not in the dataset
  EXPECT_EQ(status_of([&] { train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = regression_config(dir, 2);
  config["training"]["epochz"] = 3;  // misspelt
  EXPECT_EQ(status_of([&] { train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = regression_config(dir, 2);
  config["optimizer"]["lr"] = -1;
  EXPECT_EQ(status_of([&] { train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = regression_config(dir, 2);
  config["model"]["task"] = "classification";  // real-valued labels are not classes
  EXPECT_EQ(status_of([&] { train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_FALSE(std::filesystem::exists(dir / "model.h5"));
}

}  // namespace
}  // namespace matnn::workflows
