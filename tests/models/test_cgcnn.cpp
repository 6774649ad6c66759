// CGCNN: the crystal graph, the invariances a structure model must have, its gradients, the
// model file, training through the property job, and bad input.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/dataset.hpp"
#include "models/cgcnn/cgcnn_model.hpp"
#include "models/composition_model.hpp"
#include "nn/losses.hpp"
#include "nn/state.hpp"
#include "test_helpers.hpp"
#include "workflows/property_job.hpp"

namespace matnn::models::cgcnn {
namespace {

using matnn::testing::status_of;
using matnn::testing::TempDir;

Structure cubic(const std::vector<int>& numbers, const std::vector<Vec3>& fractional, double a) {
  Structure s;
  s.numbers = numbers;
  s.cell = Cell::Identity() * a;
  s.pbc = {true, true, true};
  s.positions.resize(static_cast<Eigen::Index>(numbers.size()), 3);
  for (std::size_t i = 0; i < numbers.size(); ++i) s.positions.row(static_cast<Eigen::Index>(i)) = a * fractional[i].transpose();
  return s;
}

Structure fcc(int z, double a) { return cubic({z, z, z, z}, {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}}, a); }
Structure bcc(int z, double a) { return cubic({z, z}, {{0, 0, 0}, {.5, .5, .5}}, a); }

// A strained, rattled Cu3Au-type cell: no two neighbours at the same distance.
Structure distorted_l12(std::uint64_t seed) {
  Structure s = cubic({79, 29, 29, 29}, {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}}, 3.75);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  Cell strain = Cell::Identity();
  for (int i = 0; i < 3; ++i)
    for (int j = i; j < 3; ++j) strain(i, j) = strain(j, i) = (i == j ? 1.0 : 0.0) + 0.03 * u(rng);
  s.cell = s.cell * strain;
  s.positions = s.positions * strain;
  for (Eigen::Index i = 0; i < s.positions.rows(); ++i)
    for (int k = 0; k < 3; ++k) s.positions(i, k) += 0.08 * u(rng);
  return s;
}

CgcnnConfig small_config(int ensemble = 1) {
  CgcnnConfig c;
  c.target = {TaskKind::regression, "y", "eV/atom", 0};
  c.elements = {29, 79};
  c.atom_features = 16;
  c.hidden = 24;
  c.n_conv = 2;
  c.ensemble = ensemble;
  c.seed = 3;
  return c;
}

TEST(CrystalGraph, KeepsTheTwelveNearestNeighboursNearestFirst) {
  const CrystalGraphOptions options;
  const CrystalGraph g = build_crystal_graph(fcc(29, 3.6), options);
  ASSERT_EQ(g.n_atoms(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(g.offsets[i + 1] - g.offsets[i], 12);
    for (std::int64_t e = g.offsets[i]; e < g.offsets[i + 1]; ++e)
      EXPECT_NEAR(g.distances[static_cast<std::size_t>(e)], 3.6 / std::sqrt(2.0), 1e-5);
  }
  // bcc: 8 first neighbours, then 4 of the 6 second ones; sorted.
  const CrystalGraph b = build_crystal_graph(bcc(26, 2.87), options);
  EXPECT_NEAR(b.distances[0], 2.87 * std::sqrt(3.0) / 2, 1e-5);
  EXPECT_NEAR(b.distances[11], 2.87, 1e-5);
  EXPECT_TRUE(std::is_sorted(b.distances.begin(), b.distances.begin() + 12));
  // A radius below the first shell leaves the atoms without neighbours.
  CrystalGraphOptions tight;
  tight.radius = 2.0;
  EXPECT_EQ(build_crystal_graph(fcc(29, 3.6), tight).n_edges(), 0u);
  EXPECT_EQ(options.gaussian_count(), 41);
}

TEST(CrystalGraph, DistanceFeaturesFarFromTheirCentreAreZeroNotTiny) {
  // A feature of 1e-38 times a weight is a subnormal product, which x86 cores compute about a
  // hundred times slower: the expansion must give exactly 0 where the Gaussian is negligible.
  const CrystalGraphOptions options;
  const std::vector<CrystalGraph> graphs{build_crystal_graph(bcc(26, 2.87), options)};
  const std::vector<const CrystalGraph*> batch_graphs{&graphs[0]};
  const GraphBatch batch = make_batch(batch_graphs, options);
  const std::vector<double> features = batch.edge_features.to_vector();
  std::size_t zeros = 0;
  for (const double f : features) {
    EXPECT_TRUE(f == 0.0 || f > 1e-35) << f;
    zeros += f == 0.0;
  }
  EXPECT_GT(zeros, features.size() / 2);  // most of the 41 centres are far from any one distance
  EXPECT_GT(*std::max_element(features.begin(), features.end()), 0.75);  // a centre within half a step
}

TEST(Cgcnn, PredictionsAreInvariantToRotationTranslationPermutationAndSupercell) {
  CgcnnModel model(small_config(2));
  const Structure s = distorted_l12(1);
  std::vector<Structure> variants{s};
  // Rotation of cell and positions together.
  Structure rotated = s;
  const Eigen::Matrix3d r = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
  rotated.cell = s.cell * r.transpose();
  rotated.positions = s.positions * r.transpose();
  variants.push_back(rotated);
  // Translation, with atoms leaving the cell.
  Structure moved = s;
  moved.positions.rowwise() += Eigen::RowVector3d(5.3, -2.1, 0.7);
  variants.push_back(moved);
  // Permutation of the atoms.
  Structure permuted = s;
  const std::vector<int> order{2, 0, 3, 1};
  for (std::size_t i = 0; i < 4; ++i) {
    permuted.numbers[i] = s.numbers[static_cast<std::size_t>(order[i])];
    permuted.positions.row(static_cast<Eigen::Index>(i)) = s.positions.row(order[i]);
  }
  variants.push_back(permuted);
  variants.push_back(make_supercell(s, {2, 1, 3}));  // 24 atoms, the same environments

  PredictOptions options;
  options.embeddings = true;
  const PropertyPrediction p = model.predict(variants, options);
  for (Eigen::Index k = 1; k < p.value.size(); ++k) {
    EXPECT_NEAR(p.value[k], p.value[0], 1e-5) << "variant " << k;
    EXPECT_NEAR(p.sigma[k], p.sigma[0], 1e-5) << "variant " << k;
    EXPECT_LT((p.embedding.row(k) - p.embedding.row(0)).norm(), 1e-4) << "variant " << k;
  }
  EXPECT_GT(p.sigma[0], 0.0);  // two members with different weights
  // And a different structure predicts differently.
  const std::vector<Structure> other{distorted_l12(2)};
  EXPECT_GT(std::abs(model.predict(other).value[0] - p.value[0]), 1e-6);
}

TEST(Cgcnn, LossGradientsMatchFiniteDifferencesInFloat64) {
  CgcnnNetwork net([] {
    CgcnnArchitecture a;
    a.element_features = 91;
    a.edge_features = CrystalGraphOptions{}.gaussian_count();
    a.atom_features = 6;
    a.hidden = 5;
    a.n_conv = 2;
    a.n_hidden = 2;
    return a;
  }(), 11);
  net.to(ad::DType::f64);
  net.train();  // batch statistics: the gradient flows through them too
  const CrystalGraphOptions options;
  const std::vector<CrystalGraph> graphs =
      build_crystal_graphs(std::vector<Structure>{distorted_l12(4), distorted_l12(5), bcc(29, 2.9)}, options);
  const std::vector<const CrystalGraph*> batch_graphs{&graphs[0], &graphs[1], &graphs[2]};
  GraphBatch batch = make_batch(batch_graphs, options);
  batch.atom_features = ad::to(batch.atom_features, ad::DType::f64);
  batch.edge_features = ad::to(batch.edge_features, ad::DType::f64);
  batch.inverse_sizes = ad::to(batch.inverse_sizes, ad::DType::f64);
  const ad::Tensor target = ad::from_vector(std::vector<double>{0.3, -0.2, 0.1}, {3, 1});
  const auto loss = [&] { return nn::mse_loss(net.forward(batch).value, target); };

  const nn::NamedTensors params = net.named_parameters();
  net.zero_grad();
  ad::backward(loss());
  std::size_t checked = 0;
  for (const auto& [name, p] : params) {
    // A few entries of every tensor.
    for (std::int64_t j = 0; j < p.numel(); j += std::max<std::int64_t>(1, p.numel() / 3)) {
      double* w = p.data<double>() + j;
      const double saved = *w, h = 1e-6;
      *w = saved + h;
      const double up = loss().item();
      *w = saved - h;
      const double down = loss().item();
      *w = saved;
      const double numeric = (up - down) / (2 * h), analytic = p.grad().to_vector()[static_cast<std::size_t>(j)];
      EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << name << "[" << j << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40u);
}

TEST(Cgcnn, ModelFileRoundTrips) {
  TempDir dir;
  CgcnnModel model(small_config(2));
  model.fit_normalization(Eigen::Vector3d(0.1, 0.5, -0.3));
  model.provenance() = {{"note", "round trip"}};
  model.save(dir / "m.h5");
  const std::unique_ptr<PropertyModel> loaded = load_property_model(dir / "m.h5");
  EXPECT_STREQ(loaded->kind(), "cgcnn");
  EXPECT_EQ(loaded->provenance().at("note"), "round trip");
  const std::vector<Structure> s{distorted_l12(3), fcc(29, 3.61)};
  const PropertyPrediction a = model.predict(s), b = loaded->predict(s);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.sigma, b.sigma);
  // A file of another kind is refused.
  models::CompositionModelConfig c;
  c.target = "y";
  c.elements = {29};
  CompositionModel(c).save(dir / "c.h5");
  EXPECT_EQ(status_of([&] { CgcnnModel::load(dir / "c.h5"); }), MATNN_ERROR_MODEL);
}

// Random, rattled Cu-Au fcc (8 atoms) and bcc (16 atoms) cells whose label is a function of the
// composition plus 40 meV/atom for bcc: one composition, two answers.
void write_polymorph_dataset(const std::string& path) {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<Record> records;
  for (int k = 0; k < 48; ++k) {
    const bool is_fcc = k % 2 == 0;
    Structure s = is_fcc ? make_supercell(fcc(29, 3.8), {1, 1, 2}) : make_supercell(bcc(29, 3.0), {2, 2, 2});
    int gold = 0;
    for (int& z : s.numbers) {
      if (rng() % 2 == 0) continue;
      z = 79;
      ++gold;
    }
    for (Eigen::Index i = 0; i < s.positions.rows(); ++i)
      for (int c = 0; c < 3; ++c) s.positions(i, c) += 0.05 * u(rng);
    const double x = static_cast<double>(gold) / static_cast<double>(s.size());
    Record r;
    r.structure = s;
    r.properties["y"] = {-0.2 * x * (1 - x) + (is_fcc ? 0.0 : 0.04)};
    r.tags["id"] = "poly-" + std::to_string(k);
    records.push_back(std::move(r));
  }
  write_dataset(path, records);
}

train::Json polymorph_config(const TempDir& dir, const std::string& kind) {
  train::Json model = {{"kind", kind}, {"target", "y"}};
  if (kind == "cgcnn") {
    model["atom_features"] = 16;
    model["hidden"] = 16;
    model["n_conv"] = 2;
    model["radius"] = 6.0;
  } else {
    model["hidden"] = {16};
  }
  return {{"dataset", dir / "poly.h5"},
          {"seed", 2},
          {"model", model},
          {"split", {{"kind", "random"}, {"validation", 0.0}, {"test", 0.0}}},
          {"training", {{"epochs", 60}, {"batch_size", 8}}},
          {"optimizer", {{"name", "adam"}, {"lr", 5e-3}}},
          {"output", {{"model", dir / (kind + ".h5")}}}};
}

TEST(Cgcnn, TellsPolymorphsApartWhereTheCompositionModelCannot) {
  TempDir dir;
  write_polymorph_dataset(dir / "poly.h5");
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  workflows::train_property_model(polymorph_config(dir, "cgcnn"), quiet);
  workflows::train_property_model(polymorph_config(dir, "composition_mlp"), quiet);
  const auto cgcnn = workflows::evaluate_property_model(*load_property_model(dir / "cgcnn.h5"), dir / "poly.h5", "all");
  const auto mlp = workflows::evaluate_property_model(*load_property_model(dir / "composition_mlp.h5"), dir / "poly.h5", "all");
  std::printf("polymorphs: training MAE cgcnn %.4f, composition MLP %.4f eV/atom\n", cgcnn.at("mae"), mlp.at("mae"));
  EXPECT_GT(mlp.at("mae"), 0.01);  // it cannot see the 40 meV/atom between the phases
  EXPECT_LT(cgcnn.at("mae"), 0.25 * mlp.at("mae"));
}

TEST(PropertyJob, TrainsOnAGivenSplitAndRecordsIt) {
  TempDir dir;
  write_polymorph_dataset(dir / "poly.h5");
  const auto write_split = [&](const train::Json& lists) {
    std::ofstream(dir / "split.json") << lists.dump();
  };
  write_split({{"train", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27}},
               {"validation", {40, 41, 42, 43}},
               {"test", {44, 45, 46, 47, 30, 31}}});
  train::Json config = polymorph_config(dir, "composition_mlp");
  config["split"] = {{"file", dir / "split.json"}};
  config["training"]["epochs"] = 3;
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  const workflows::TrainJobResult result = workflows::train_property_model(config, quiet);
  EXPECT_EQ(result.n_train, 28u);
  EXPECT_EQ(result.n_validation, 4u);
  EXPECT_EQ(result.n_test, 6u);
  // The model records the lists, so eval rebuilds the same test set after the file is gone.
  std::filesystem::remove(dir / "split.json");
  const std::unique_ptr<PropertyModel> model = load_property_model(dir / "composition_mlp.h5");
  EXPECT_EQ(model->provenance().at("split").at("test").size(), 6u);
  const auto test = workflows::evaluate_property_model(*model, dir / "poly.h5", "test");
  EXPECT_EQ(test.at("n"), 6.0);
  EXPECT_DOUBLE_EQ(test.at("mae"), result.test_metrics.at("mae"));
  // The predict-the-training-mean baseline, by hand.
  const std::vector<Record> records = DatasetReader(dir / "poly.h5").read_all();
  double mean = 0.0, baseline = 0.0;
  for (int i = 0; i < 28; ++i) mean += records[static_cast<std::size_t>(i)].properties.at("y")[0] / 28.0;
  for (int i : {44, 45, 46, 47, 30, 31}) baseline += std::abs(records[static_cast<std::size_t>(i)].properties.at("y")[0] - mean) / 6.0;
  EXPECT_NEAR(test.at("baseline_mae"), baseline, 1e-12);
  EXPECT_NEAR(result.test_metrics.at("baseline_mae"), baseline, 1e-12);

  // Indices beyond the dataset, listed twice, or a malformed file are errors.
  write_split({{"train", {0, 1, 48}}, {"validation", train::Json::array()}, {"test", train::Json::array()}});
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  write_split({{"train", {0, 1, 2}}, {"validation", {2}}, {"test", train::Json::array()}});
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  write_split({{"train", {0, 1, 2}}, {"test", {3}}});
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_FORMAT);
  config["split"]["kind"] = "random";  // a file and a kind: which one? an error
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(Cgcnn, RefusesBadConfigsAndStructures) {
  TempDir dir;
  write_polymorph_dataset(dir / "poly.h5");
  workflows::TrainJobOptions quiet;
  quiet.print_progress = false;
  train::Json config = polymorph_config(dir, "cgcnn");
  config["model"]["radius"] = -1.0;
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = polymorph_config(dir, "cgcnn");
  config["model"]["hiden"] = 8;  // misspelt: an error, not a default
  EXPECT_EQ(status_of([&] { workflows::train_property_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);
  config = polymorph_config(dir, "cgcnn");
  config["model"]["kind"] = "cgcnn2";
  EXPECT_EQ(status_of([&] { workflows::train_model(config, quiet); }), MATNN_ERROR_INVALID_ARGUMENT);

  CgcnnModel model(small_config());
  Structure overlapping = fcc(29, 3.6);
  overlapping.positions.row(1) = overlapping.positions.row(0);
  EXPECT_EQ(status_of([&] { model.predict(std::vector<Structure>{fcc(29, 3.6), overlapping}); }), MATNN_ERROR_GEOMETRY);
  Structure bad = fcc(29, 3.6);
  bad.numbers[0] = 0;
  EXPECT_EQ(status_of([&] { model.predict(std::vector<Structure>{bad}); }), MATNN_ERROR_UNKNOWN_ELEMENT);
  EXPECT_EQ(status_of([&] { model.predict(std::vector<Structure>{fcc(29, 3.6)}, {1, false}); }), MATNN_ERROR_UNSUPPORTED);
}

}  // namespace
}  // namespace matnn::models::cgcnn
