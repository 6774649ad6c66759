// The potential training loss itself (src/workflows/potential_task.cpp, docs/training-config.md
// "The loss" and "Reference energies"): its gradient in the weights against central finite
// differences with the stress term on (Behler-Parrinello through graphs and through cached
// descriptors, NequIP), the Huber loss against a value computed by hand, and the least-squares
// fit of the per-element reference energies. Tiny float64 models on 4-atom cells.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "autodiff/graph.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "models/state_file.hpp"
#include "potential_fixtures.hpp"
#include "potentials/descriptor_cache.hpp"
#include "workflows/potential_job.hpp"
#include "workflows/potential_task.hpp"
#include "workflows/reference_energies.hpp"

namespace matnn::workflows {
namespace {

using nlohmann::json;
using potentials::Potential;

// ---- data -----------------------------------------------------------------------------------

// A rattled 4-atom Cu/Au cell as a slab: periodic in x and y only, vacuum along z.
Structure slab_of(const Structure& bulk) {
  Structure s = bulk;
  s.pbc = {true, true, false};
  s.cell.row(2) = Eigen::RowVector3d(0.0, 0.0, 14.0);
  return s;
}

// Labelled records: energies, forces and stress of a "teacher" potential (another seed, so the
// student's residuals are not zero), plus a deterministic offset per record so the residuals
// spread. Three fully periodic cells and one slab; the slab carries a stress label too, which the
// loss must ignore (stress is a term of fully periodic cells only).
std::vector<Record> labelled_cells() {
  const Potential teacher = matnn::testing::small_potential("behler_parrinello", 1, 17);
  std::vector<Structure> structures = {matnn::testing::rattled_fcc(1), matnn::testing::rattled_fcc(2, 0.2),
                                       matnn::testing::rattled_fcc(3, 0.05), slab_of(matnn::testing::rattled_fcc(4))};
  structures[1].numbers = {79, 29, 79, 29};
  std::vector<Record> records;
  for (std::size_t i = 0; i < structures.size(); ++i) {
    Record r;
    r.structure = structures[i];
    const potentials::PotentialResult t = teacher.compute(r.structure);
    const double offset = 0.05 * static_cast<double>(i) - 0.07;
    r.properties["energy"] = {t.energy + offset * static_cast<double>(r.structure.size())};
    r.atom_properties["forces"] = t.forces.array() + 0.02 * static_cast<double>(i);
    std::vector<double> stress(t.stress.begin(), t.stress.end());
    for (std::size_t k = 0; k < 6; ++k) stress[k] += 0.003 * static_cast<double>(k) - 0.004 * static_cast<double>(i);
    r.properties["stress"] = stress;
    records.push_back(std::move(r));
  }
  return records;
}

data::Split train_on_all(std::size_t n) {
  data::Split split;
  for (std::size_t i = 0; i < n; ++i) split.train.push_back(i);
  return split;
}

std::vector<std::size_t> all_rows(std::size_t n) {
  std::vector<std::size_t> rows(n);
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  return rows;
}

// The stress unit's inverse volume per atom, as the training job computes it: 1 / (mean volume per
// atom of the fully periodic cells).
double inverse_volume_per_atom(const std::vector<Record>& records) {
  double sum = 0.0;
  std::size_t n = 0;
  for (const Record& r : records) {
    if (!r.structure.fully_periodic()) continue;
    sum += r.structure.volume() / static_cast<double>(r.structure.size());
    ++n;
  }
  return static_cast<double>(n) / sum;
}

// ---- (1) the gradient of the training loss against finite differences ----------------------

// The training loss of one batch holding every record, through the trainer's own task, and its
// gradient in every weight. For a few entries of every parameter tensor (first, middle, last) the
// reverse-mode derivative must match a central difference of the loss. Forces and stress are
// derivatives of the energy, so their loss terms differentiate the network twice. Returns the
// largest gradient entry, so that callers can check the loss term they switched on reaches the
// weights at all.
double expect_loss_gradient_matches_finite_differences(Potential& potential, const std::vector<Record>& records,
                                                       const PotentialRecipe& recipe, double stress_scale,
                                                       DescribedRows* described, const std::string& label) {
  const data::Split split = train_on_all(records.size());
  InMemoryRows rows(records, data::SplitKind::random);
  PotentialTask task(potential, 0, rows, split, split.train, records.size(), recipe, stress_scale, described);
  task.begin_epoch(0);
  const std::vector<std::size_t> batch = all_rows(records.size());
  nn::Module& module = potential.member(0);
  module.zero_grad();
  const nn::NamedTensors params = module.named_parameters();
  ad::Tensor loss = task.batch_loss(batch);
  EXPECT_GT(loss.item(), 0.0) << label;
  ad::backward(loss);

  std::vector<std::vector<double>> gradients;
  double largest = 0.0;
  for (const auto& [name, p] : params) {
    const ad::Tensor g = p.grad();
    gradients.push_back(g.defined() ? g.to_vector() : std::vector<double>(static_cast<std::size_t>(p.numel()), 0.0));
    for (double v : gradients.back()) largest = std::max(largest, std::abs(v));
  }
  const double h = 1e-6;
  std::size_t checked = 0;
  for (std::size_t t = 0; t < params.size(); ++t) {
    const auto& [name, p] = params[t];
    double* v = p.data<double>();
    const auto n = static_cast<std::size_t>(p.numel());
    std::vector<std::size_t> entries{0, n / 2, n - 1};
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    for (std::size_t k : entries) {
      const double keep = v[k];
      v[k] = keep + h;
      const double up = task.batch_loss(batch).item();
      v[k] = keep - h;
      const double down = task.batch_loss(batch).item();
      v[k] = keep;
      const double fd = (up - down) / (2 * h);
      EXPECT_NEAR(gradients[t][k], fd, 1e-6 * largest + 1e-6 * std::abs(fd)) << label << ": " << name << "[" << k << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 10u) << label;
  return largest;
}

PotentialRecipe weighted(double energy, double forces, double stress) {
  PotentialRecipe recipe;
  recipe.weights = {energy, forces, stress};
  return recipe;
}

Potential bp_student() {
  Potential p("behler_parrinello",
              {{"cutoff", 4.0}, {"radial", {{"count", 4}}}, {"angular", {{"zeta", {1, 4}}}}, {"hidden", {6}},
               {"activation", "silu"}},
              {29, 79}, 1, 5);
  p.to(ad::DType::f64);
  p.set_energy_scaling({-3.4, -4.1}, 0.6);
  return p;
}

TEST(PotentialLossGradient, BehlerParrinelloStressTermMatchesFiniteDifferences) {
  const std::vector<Record> records = labelled_cells();
  const double stress_scale = inverse_volume_per_atom(records);
  Potential potential = bp_student();
  const auto& model = dynamic_cast<const potentials::BehlerParrinello&>(potential.member(0));
  std::vector<const Record*> pointers;
  for (const Record& r : records) pointers.push_back(&r);
  DescribedRows described(model, ad::DType::f64, potential.core_repulsion(), all_rows(records.size()), pointers);
  // Through atom graphs (descriptor_cache: false) and through cached descriptors (the default).
  using Cache = DescribedRows*;
  for (Cache cache : {Cache{nullptr}, Cache{&described}}) {
    const std::string path = cache ? "cached" : "graph";
    EXPECT_GT(expect_loss_gradient_matches_finite_differences(potential, records, weighted(0, 0, 1), stress_scale, cache,
                                                              path + ", stress only"),
              1e-3);
    expect_loss_gradient_matches_finite_differences(potential, records, weighted(0.7, 1.3, 2.1), stress_scale, cache,
                                                    path + ", energy + forces + stress");
  }
}

TEST(PotentialLossGradient, NequipStressTermMatchesFiniteDifferences) {
  const std::vector<Record> records = labelled_cells();
  Potential potential("nequip", {{"cutoff", 3.6}, {"channels", 4}, {"num_layers", 2}, {"l_max", 1}, {"radial_hidden", 8}},
                      {29, 79}, 1, 5);
  potential.to(ad::DType::f64);
  potential.set_energy_scaling({-3.4, -4.1}, 0.6);
  const double stress_scale = inverse_volume_per_atom(records);
  EXPECT_GT(expect_loss_gradient_matches_finite_differences(potential, records, weighted(0, 0, 1), stress_scale, nullptr,
                                                            "nequip, stress only"),
            1e-3);
  expect_loss_gradient_matches_finite_differences(potential, records, weighted(0.7, 1.3, 2.1), stress_scale, nullptr,
                                                  "nequip, energy + forces + stress");
}

// ---- (1b) the ranks' shares of a batch loss -------------------------------------------------

// A data-parallel step sums, over the ranks, each rank's shard_loss of its part of the batch: that
// sum and its gradient must be the batch's own loss and gradient, for any partition, also when a
// part holds no label of a term (here: one record without forces, one without energy, the slab
// whose stress is not a term). Each term must be divided by the batch's label count, not the part's.
TEST(PotentialLoss, ShardLossesOfAnyPartitionSumToTheBatchLoss) {
  std::vector<Record> records = labelled_cells();
  records[1].atom_properties.erase("forces");
  records[2].properties.erase("energy");
  const double stress_scale = inverse_volume_per_atom(records);
  Potential potential = bp_student();
  const PotentialRecipe recipe = weighted(0.7, 1.3, 2.1);
  const data::Split split = train_on_all(records.size());
  InMemoryRows rows(records, data::SplitKind::random);
  PotentialTask task(potential, 0, rows, split, split.train, records.size(), recipe, stress_scale);
  task.begin_epoch(0);
  nn::Module& module = potential.member(0);
  const nn::NamedTensors params = module.named_parameters();
  auto gradients = [&] {
    std::vector<double> out;
    for (const auto& [name, p] : params) {
      const std::vector<double> g = p.grad().defined() ? p.grad().to_vector() : std::vector<double>(p.numel(), 0.0);
      out.insert(out.end(), g.begin(), g.end());
    }
    return out;
  };
  const std::vector<std::size_t> batch = {3, 0, 2, 1};
  module.zero_grad();
  ad::Tensor whole = task.batch_loss(batch);
  ad::backward(whole);
  const double expected = whole.item();
  const std::vector<double> expected_gradient = gradients();
  EXPECT_DOUBLE_EQ(task.sample_cost(0), 4.0);

  const std::vector<std::vector<std::vector<std::size_t>>> partitions = {
      {{3, 0}, {2, 1}}, {{1}, {3, 0, 2}}, {{2}, {0}, {3, 1}}, {{3, 0, 2, 1}}};
  for (const auto& parts : partitions) {
    module.zero_grad();
    double sum = 0.0;
    for (const auto& part : parts) {
      ad::Tensor share = task.shard_loss(batch, part);
      sum += share.item();
      ad::backward(share);
    }
    EXPECT_NEAR(sum, expected, 1e-12 * expected) << parts.size() << " parts";
    const std::vector<double> g = gradients();
    ASSERT_EQ(g.size(), expected_gradient.size());
    double largest = 0.0, worst = 0.0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      largest = std::max(largest, std::abs(expected_gradient[i]));
      worst = std::max(worst, std::abs(g[i] - expected_gradient[i]));
    }
    EXPECT_LT(worst, 1e-11 * largest) << parts.size() << " parts";
  }
}

// ---- (2) Huber against a value computed by hand ----------------------------------------------

// Residuals of one record in the loss's units: energy per atom / u, forces / u, stress / (u / Omega)
// (docs/training-config.md, "The loss"); stress only for fully periodic cells.
struct Residuals {
  std::vector<double> energy, forces, stress;
};

Residuals residuals_of(const Potential& potential, const std::vector<Record>& records, double stress_scale) {
  Residuals out;
  const double u = potential.scale();
  for (const Record& r : records) {
    const potentials::PotentialResult p = potential.compute(r.structure);
    const auto n = static_cast<double>(r.structure.size());
    if (const auto e = r.energy()) out.energy.push_back((p.energy - *e) / n / u);
    if (const AtomValues* f = r.forces()) {
      for (Eigen::Index i = 0; i < f->rows(); ++i) {
        for (int k = 0; k < 3; ++k) out.forces.push_back((p.forces(i, k) - (*f)(i, k)) / u);
      }
    }
    if (const std::vector<double>* s = r.stress(); s && r.structure.fully_periodic()) {
      for (std::size_t k = 0; k < 6; ++k) out.stress.push_back((p.stress[k] - (*s)[k]) / (u * stress_scale));
    }
  }
  return out;
}

// nn::huber_loss (src/nn/losses.hpp): r^2 / 2 inside delta, delta (|r| - delta / 2) beyond.
double huber(double r, double delta) { return std::abs(r) <= delta ? 0.5 * r * r : delta * (std::abs(r) - 0.5 * delta); }

double hand_loss(const Residuals& r, const LossWeights& w, std::optional<double> delta) {
  auto mean = [&](const std::vector<double>& v) {
    double sum = 0.0;
    for (double x : v) sum += delta ? huber(x, *delta) : x * x;
    return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
  };
  return w.energy * mean(r.energy) + w.forces * mean(r.forces) + w.stress * mean(r.stress);
}

double task_loss(Potential& potential, const std::vector<Record>& records, const PotentialRecipe& recipe,
                 double stress_scale) {
  const data::Split split = train_on_all(records.size());
  InMemoryRows rows(records, data::SplitKind::random);
  PotentialTask task(potential, 0, rows, split, split.train, records.size(), recipe, stress_scale);
  task.begin_epoch(0);
  return task.batch_loss(all_rows(records.size())).item();
}

// Counts of entries inside and beyond delta.
std::pair<int, int> branches(const std::vector<double>& v, double delta) {
  const auto inside = static_cast<int>(std::count_if(v.begin(), v.end(), [&](double x) { return std::abs(x) <= delta; }));
  return {inside, static_cast<int>(v.size()) - inside};
}

TEST(PotentialLoss, HuberMatchesAHandComputedValueWithDeltaInUnitsOfTheEnergyScale) {
  const std::vector<Record> records = labelled_cells();
  Potential potential = bp_student();
  const double stress_scale = inverse_volume_per_atom(records);
  const Residuals r = residuals_of(potential, records, stress_scale);
  ASSERT_EQ(r.energy.size(), 4u);
  ASSERT_EQ(r.forces.size(), 48u);
  ASSERT_EQ(r.stress.size(), 18u);  // the slab's stress label is not part of the loss

  PotentialRecipe recipe = weighted(0.7, 1.3, 2.1);
  const double mse = task_loss(potential, records, recipe, stress_scale);
  EXPECT_NEAR(mse, hand_loss(r, recipe.weights, std::nullopt), 1e-10 * mse);

  // delta between the second and third energy residual: both branches in every term.
  std::vector<double> e = r.energy;
  for (double& x : e) x = std::abs(x);
  std::sort(e.begin(), e.end());
  const double delta = 0.5 * (e[1] + e[2]);
  for (const auto* term : {&r.energy, &r.forces, &r.stress}) {
    const auto [inside, beyond] = branches(*term, delta);
    ASSERT_GT(inside, 0) << "delta " << delta;
    ASSERT_GT(beyond, 0) << "delta " << delta;
  }
  recipe.huber = true;
  recipe.huber_delta = delta;
  const double loss = task_loss(potential, records, recipe, stress_scale);
  EXPECT_NEAR(loss, hand_loss(r, recipe.weights, delta), 1e-10 * loss);
  EXPECT_LT(loss, 0.5 * mse);  // beyond delta the linear branch grows slower than r^2 / 2

  // Far beyond every residual, Huber is r^2 / 2: half the mse loss.
  recipe.huber_delta = 1e6;
  EXPECT_NEAR(task_loss(potential, records, recipe, stress_scale), 0.5 * mse, 1e-10 * mse);
  // Far below, it is delta (|r| - delta / 2) everywhere: delta compares with residuals in units of
  // u (and u / Omega for stress), not eV.
  recipe.huber_delta = 1e-4;
  EXPECT_NEAR(task_loss(potential, records, recipe, stress_scale), hand_loss(r, recipe.weights, 1e-4), 1e-10 * mse);
}

// The model of a float64 run: Potential::load keeps the precision its weights were stored in.
Potential load_float64(const std::string& path) {
  Potential p = Potential::load(path);
  EXPECT_EQ(p.dtype(), ad::DType::f64);
  return p;
}

// `training.loss: huber` with `huber_delta` in a config reaches the loss: the validation loss of a
// one-epoch run is the Huber loss of the saved model's residuals on the validation file.
TEST(PotentialLoss, HuberFromTheConfigIsTheValidationLossOfTheRun) {
  const std::string dir = ::testing::TempDir() + "/matnn_potential_loss_huber";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<Record> records = labelled_cells();
  std::vector<Record> validation = {records[0], records[1], records[3]};
  records.push_back(records[1]);
  records.back().structure.numbers = {29, 79, 79, 79};
  write_dataset(dir + "/train.h5", records);
  write_dataset(dir + "/validation.h5", validation);
  json config = {{"dataset", dir + "/train.h5"},
                 {"validation_dataset", dir + "/validation.h5"},
                 {"seed", 2},
                 {"model",
                  {{"kind", "behler_parrinello"},
                   {"precision", "float64"},
                   {"core_repulsion", "none"},
                   {"cutoff", 4.0},
                   {"radial", {{"count", 4}}},
                   {"angular", {{"zeta", {1}}}},
                   {"hidden", {6}}}},
                 {"split", {{"kind", "random"}, {"validation", 0.0}, {"test", 0.0}}},
                 {"training",
                  {{"epochs", 1},
                   {"batch_size", 8},
                   {"ema_decay", 0.0},
                   {"energy_weight", 0.7},
                   {"forces_weight", 1.3},
                   {"stress_weight", 2.1}}},
                 {"optimizer", {{"name", "adam"}, {"lr", 0.01}}},
                 {"output", {{"model", dir + "/model.h5"}}}};
  auto run = [&](const json& c) {
    TrainJobOptions job;
    job.print_progress = false;
    double validation_loss = std::nan("");
    job.on_epoch = [&](const train::EpochRecord& record) {
      validation_loss = record.validation.at("loss");
      return true;
    };
    const TrainJobResult result = train_potential(c, job);
    return std::pair{load_float64(result.model_path), validation_loss};
  };
  const LossWeights w{0.7, 1.3, 2.1};
  const double stress_scale = inverse_volume_per_atom(records);  // of the training file

  const auto [mse_model, mse_loss] = run(config);
  EXPECT_NEAR(mse_loss, hand_loss(residuals_of(mse_model, validation, stress_scale), w, std::nullopt), 1e-10 * mse_loss);

  // 2e-3 u: the force residuals are on the linear branch, where the unit of delta matters (read in
  // eV, delta would be 1 / u times smaller and the loss another).
  const double delta = 2e-3;
  config["training"]["loss"] = "huber";
  config["training"]["huber_delta"] = delta;
  const auto [huber_model, huber_loss] = run(config);
  const Residuals r = residuals_of(huber_model, validation, stress_scale);
  EXPECT_NEAR(huber_loss, hand_loss(r, w, delta), 1e-10 * huber_loss);
  EXPECT_GT(branches(r.forces, delta).second, 0);  // the linear branch is in use
  EXPECT_LT(huber_loss, 0.5 * mse_loss);
  std::filesystem::remove_all(dir);
}

// ---- (3) reference energies by least squares ---------------------------------------------------

// Copies of 4-atom cells with n_Au of 4 atoms gold and E = n_Cu E0_Cu + n_Au E0_Au + noise.
std::vector<Record> two_element_records(double e0_cu, double e0_au, double noise) {
  std::vector<Record> records;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-noise, noise);
  const int gold[] = {0, 1, 1, 2, 3, 4, 2, 3};
  for (int i = 0; i < 8; ++i) {
    Record r;
    r.structure = matnn::testing::rattled_fcc(static_cast<std::uint64_t>(20 + i));
    if (i == 7) {  // an 8-atom cell: the fit is on totals, not per-atom energies
      const Structure small = r.structure;
      r.structure.positions.resize(8, 3);
      r.structure.positions << small.positions, small.positions.rowwise() + small.cell.row(2);
      r.structure.cell.row(2) *= 2.0;
      r.structure.numbers.insert(r.structure.numbers.end(), small.numbers.begin(), small.numbers.end());
    }
    for (std::size_t a = 0; a < r.structure.numbers.size(); ++a) {
      r.structure.numbers[a] = static_cast<int>(a) < gold[i] ? 79 : 29;
    }
    double e = 0.0;
    for (int z : r.structure.numbers) e += z == 29 ? e0_cu : e0_au;
    r.properties["energy"] = {e + u(rng)};
    r.atom_properties["forces"] = AtomValues::Constant(static_cast<Eigen::Index>(r.structure.size()), 3, 0.1 * (i + 1));
    records.push_back(std::move(r));
  }
  return records;
}

TEST(PotentialLoss, FittedReferenceEnergiesRecoverTheElementEnergies) {
  const std::vector<int> species{29, 79};
  const double e0_cu = -3.71, e0_au = -3.18;
  std::vector<Record> exact = two_element_records(e0_cu, e0_au, 0.0);
  const ReferenceEnergies fit = reference_energies(nullptr, InMemoryRows(exact, data::SplitKind::random), all_rows(exact.size()), species, "d");
  EXPECT_EQ(fit.source, "fit");
  EXPECT_NEAR(fit.e0[0], e0_cu, 1e-12);
  EXPECT_NEAR(fit.e0[1], e0_au, 1e-12);

  // Noise of up to 1 meV per structure: the least-squares solution (normal equations here) and
  // within a few meV of the truth.
  std::vector<Record> noisy = two_element_records(e0_cu, e0_au, 1e-3);
  Eigen::MatrixXd a(static_cast<Eigen::Index>(noisy.size()), 2);
  Eigen::VectorXd b(static_cast<Eigen::Index>(noisy.size()));
  for (std::size_t i = 0; i < noisy.size(); ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    const auto& z = noisy[i].structure.numbers;
    a(row, 0) = static_cast<double>(std::count(z.begin(), z.end(), 29));
    a(row, 1) = static_cast<double>(std::count(z.begin(), z.end(), 79));
    b(row) = *noisy[i].energy();
  }
  const Eigen::Vector2d normal = (a.transpose() * a).ldlt().solve(a.transpose() * b);
  const std::vector<double> noisy_fit = reference_energies(nullptr, InMemoryRows(noisy, data::SplitKind::random), all_rows(noisy.size()), species, "d").e0;
  EXPECT_NEAR(noisy_fit[0], normal[0], 1e-10);
  EXPECT_NEAR(noisy_fit[1], normal[1], 1e-10);
  EXPECT_NEAR(noisy_fit[0], e0_cu, 2e-3);
  EXPECT_NEAR(noisy_fit[1], e0_au, 2e-3);

  // A structure without an energy label, and rows outside the training set, are not in the fit
  // (were the missing label read as 0 eV, E0 would move by about 0.5 eV).
  std::vector<Record> mixed = exact;
  Record unlabelled = exact[3];
  unlabelled.properties.erase("energy");
  mixed.push_back(unlabelled);
  Record held_out = exact[4];
  held_out.properties["energy"] = {100.0};
  mixed.push_back(held_out);
  std::vector<std::size_t> rows = all_rows(exact.size());
  rows.push_back(exact.size());  // the unlabelled structure is a training row
  const ReferenceEnergies skipped = reference_energies(nullptr, InMemoryRows(mixed, data::SplitKind::random), rows, species, "d");
  EXPECT_NEAR(skipped.e0[0], e0_cu, 1e-12);
  EXPECT_NEAR(skipped.e0[1], e0_au, 1e-12);

  // Compositions that never vary independently (always CuAu): the minimum-norm solution, equal
  // shares of the energy per formula unit.
  std::vector<Record> locked;
  for (int i = 0; i < 3; ++i) {
    Record r = exact[static_cast<std::size_t>(i)];
    r.structure.numbers = {29, 79, 29, 79};
    r.properties["energy"] = {2 * (e0_cu + e0_au)};
    locked.push_back(r);
  }
  const std::vector<double> min_norm = reference_energies(nullptr, InMemoryRows(locked, data::SplitKind::random), all_rows(3), species, "d").e0;
  EXPECT_NEAR(min_norm[0], 0.5 * (e0_cu + e0_au), 1e-12);
  EXPECT_NEAR(min_norm[1], 0.5 * (e0_cu + e0_au), 1e-12);
}

// The training job fits E0 on its training rows, skips a structure without an energy, and stores
// the values in the model file.
TEST(PotentialLoss, TrainingStoresTheFittedReferenceEnergies) {
  const std::string dir = ::testing::TempDir() + "/matnn_potential_loss_e0";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const double e0_cu = -3.71, e0_au = -3.18;
  std::vector<Record> records = two_element_records(e0_cu, e0_au, 0.0);
  records[2].properties.erase("energy");  // forces only
  write_dataset(dir + "/data.h5", records);
  const json config = {{"dataset", dir + "/data.h5"},
                       {"seed", 1},
                       {"model", {{"kind", "behler_parrinello"}, {"cutoff", 4.0}, {"radial", {{"count", 3}}}, {"hidden", {4}}}},
                       {"split", {{"kind", "random"}, {"validation", 0.0}, {"test", 0.0}}},
                       {"training", {{"epochs", 1}}},
                       {"output", {{"model", dir + "/model.h5"}}}};
  TrainJobOptions quiet;
  quiet.print_progress = false;
  const Potential p = Potential::load(train_potential(config, quiet).model_path);
  ASSERT_EQ(p.species(), (std::vector<int>{29, 79}));
  EXPECT_NEAR(p.shift()[0], e0_cu, 1e-9);
  EXPECT_NEAR(p.shift()[1], e0_au, 1e-9);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace matnn::workflows
