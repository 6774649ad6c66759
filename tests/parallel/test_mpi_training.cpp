// Data-parallel training on MPI ranks (src/parallel, src/train/trainer.cpp): run under
// `mpirun -np N` (N = 1, 2, 3). Every rank must end with bit-identical weights, equal to those of
// a serial run up to the order of floating-point sums; the jobs (`matnn train` for a potential
// and a composition model) must write the serial model; what cannot train across ranks yet must
// fail the same way on every rank. A gtest program with its own main, which initialises MPI;
// only rank 0 prints, and the program fails when any rank failed.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <random>
#include <span>
#include <string>

#include <gtest/gtest.h>

#include "autodiff/ops.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"
#include "matnn/signal.hpp"
#include "models/cnn/signal_model.hpp"
#include "models/property_model.hpp"
#include "nn/losses.hpp"
#include "nn/mlp.hpp"
#include "parallel/communicator.hpp"
#include "potentials/potential.hpp"
#include "train/trainer.hpp"
#include "workflows/job_common.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/potential_on_ranks.hpp"
#include "workflows/property_job.hpp"
#include "workflows/sample_set.hpp"

namespace matnn {
namespace {

std::string work_dir;  // the folder for data and models, shared by all ranks (argv[1])

parallel::Communicator& world() {
  static parallel::Communicator comm = parallel::Communicator::world();
  return comm;
}

// Rank 0's values on every rank.
std::vector<double> rank0_values(std::vector<double> values) {
  world().broadcast(values);
  return values;
}

std::vector<double> flat_parameters(nn::Module& m) {
  std::vector<double> out;
  for (const auto& [name, p] : m.named_parameters()) {
    const std::vector<double> v = p.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Noisy regression of a smooth function of 3 inputs, samples of unequal cost so that the ranks
// get unequal sample counts.
class RegressionTask : public train::TrainingTask {
 public:
  explicit RegressionTask(std::uint64_t seed, nn::NormKind norm = nn::NormKind::none)
      : net_(nn::MlpConfig{3, {8, 8}, 1, nn::ActivationKind::silu, 0.0, norm, seed, ad::DType::f64}) {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal;
    for (int i = 0; i < 37; ++i) {
      const double a = normal(rng), b = normal(rng), c = normal(rng);
      x_.insert(x_.end(), {a, b, c});
      y_.push_back(std::sin(a) + 0.5 * b * c + 0.1 * normal(rng));
    }
  }
  std::size_t train_size() const override { return y_.size(); }
  double sample_cost(std::size_t i) const override { return 1.0 + static_cast<double>(i % 5); }
  nn::Module& module() override { return net_; }
  ad::Tensor batch_loss(std::span<const std::size_t> batch) override {
    std::vector<double> x, y;
    for (std::size_t i : batch) {
      x.insert(x.end(), x_.begin() + static_cast<std::ptrdiff_t>(3 * i), x_.begin() + static_cast<std::ptrdiff_t>(3 * i + 3));
      y.push_back(y_[i]);
    }
    const auto n = static_cast<std::int64_t>(batch.size());
    return nn::mse_loss(net_.forward(ad::from_vector(x, {n, 3})), ad::from_vector(y, {n, 1}));
  }
  std::map<std::string, double> validate() override {
    std::vector<std::size_t> all(8);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return {{"loss", batch_loss(all).item()}};
  }

 private:
  nn::Mlp net_;
  std::vector<double> x_, y_;
};

train::TrainerOptions regression_options(const parallel::Communicator& comm) {
  train::TrainerOptions o;
  o.epochs = 4;
  o.batch_size = 7;  // 37 samples: a last batch of 2, smaller than some rank counts' share
  o.print_progress = false;
  o.clip_norm = 0.5;
  o.ema_decay = 0.8;
  o.l2 = 1e-3;
  o.seed = 5;
  o.optimizer = {{"name", "adam"}, {"lr", 0.01}};
  o.communicator = comm;
  return o;
}

TEST(DataParallelTrainer, RanksKeepIdenticalWeightsEqualToTheSerialRun) {
  RegressionTask parallel_task(3);
  const train::TrainResult parallel_result = train::Trainer(regression_options(world())).run(parallel_task);
  const std::vector<double> mine = flat_parameters(parallel_task.module());
  const std::vector<double> root = rank0_values(mine);
  EXPECT_TRUE(mine == root) << "rank " << world().rank() << " has other weights than rank 0";

  RegressionTask serial_task(3);
  const train::TrainResult serial_result = train::Trainer(regression_options(parallel::Communicator())).run(serial_task);
  const std::vector<double> serial = flat_parameters(serial_task.module());
  ASSERT_EQ(serial.size(), mine.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < serial.size(); ++i) worst = std::max(worst, std::abs(serial[i] - mine[i]));
  EXPECT_LT(worst, 1e-12) << world().size() << " ranks";
  ASSERT_EQ(parallel_result.history.size(), serial_result.history.size());
  for (std::size_t e = 0; e < serial_result.history.size(); ++e) {
    EXPECT_NEAR(parallel_result.history[e].train_loss, serial_result.history[e].train_loss,
                1e-12 * serial_result.history[e].train_loss);
  }
}

// A share that throws on the last rank only, in the second epoch (as a structure the model cannot
// evaluate, or memory running out, would): every rank must stop with that rank's status and
// message, not wait for its gradients.
class FailingTask : public RegressionTask {
 public:
  FailingTask() : RegressionTask(3) {}
  bool begin_epoch(int epoch) override {
    epoch_ = epoch;
    return false;
  }
  ad::Tensor shard_loss(std::span<const std::size_t> batch, std::span<const std::size_t> local) override {
    if (epoch_ == 1 && world().rank() == world().size() - 1)
      fail(MATNN_ERROR_GEOMETRY, "structure {}: two atoms 0.1 A apart", local.front());
    return RegressionTask::shard_loss(batch, local);
  }

 private:
  int epoch_ = 0;
};

// Trains `task`, whose last rank fails in the second epoch: on one rank (which trains serially,
// through batch_loss) nothing fails; on more, every rank stops with that rank's status and message.
void expect_stopped_by_the_last_rank(train::TrainingTask& task, matnn_status expected) {
  matnn_status status = MATNN_SUCCESS;
  std::string message;
  try {
    train::Trainer(regression_options(world())).run(task);
  } catch (const Error& e) {
    status = e.status();
    message = e.what();
  }
  if (world().size() == 1) {
    EXPECT_EQ(status, MATNN_SUCCESS);
    return;
  }
  EXPECT_EQ(status, expected) << "rank " << world().rank() << ": " << message;
  EXPECT_NE(message.find("rank " + std::to_string(world().size() - 1) + ": structure"), std::string::npos) << message;
}

TEST(DataParallelTrainer, OneFailingRankStopsEveryRankWithItsMessage) {
  FailingTask task;
  expect_stopped_by_the_last_rank(task, MATNN_ERROR_GEOMETRY);
}

// The same with batch normalisation synchronised over the ranks, whose passes are collectives:
// the last rank fails before its forward pass, or between its forward and backward passes, and
// the others, waiting in a normalisation's collective, must stop too (without the failure flag
// they wait there for ever).
class FailingNormalisedTask : public RegressionTask {
 public:
  explicit FailingNormalisedTask(bool after_forward) : RegressionTask(3, nn::NormKind::batch), after_forward_(after_forward) {}
  bool begin_epoch(int epoch) override {
    epoch_ = epoch;
    return false;
  }
  ad::Tensor shard_loss(std::span<const std::size_t> batch, std::span<const std::size_t> local) override {
    const bool failing = epoch_ == 1 && world().rank() == world().size() - 1;
    if (failing && !after_forward_) fail(MATNN_ERROR_GEOMETRY, "structure {}: two atoms 0.1 A apart", local.front());
    ad::Tensor loss = RegressionTask::shard_loss(batch, local);
    if (failing) fail(MATNN_ERROR_NON_FINITE, "structure {}: the loss is NaN", local.front());
    return loss;
  }

 private:
  bool after_forward_;
  int epoch_ = 0;
};

TEST(DataParallelTrainer, OneFailingRankStopsEveryRankInsideSynchronisedNormalisation) {
  for (const bool after_forward : {false, true}) {
    FailingNormalisedTask task(after_forward);
    expect_stopped_by_the_last_rank(task, after_forward ? MATNN_ERROR_NON_FINITE : MATNN_ERROR_GEOMETRY);
  }
}

// The job's data: rank 0 writes the dataset on the first call, which every rank makes at the same
// point (a collective); later calls only return the path.
std::string dataset() {
  static const std::string path = [] {
    const std::string p = work_dir + "/cu.h5";
    workflows::write_on_root(world(), p, [&] {
      std::vector<Record> records = read_extxyz(MATNN_EXAMPLES_DATA_DIR "/cu_emt_md.extxyz");
      records.resize(24);
      write_dataset(p, records);
    });
    return p;
  }();
  return path;
}

// Structures of unequal size (every one cut to its first few atoms), so that shares by atoms
// and by count differ.
std::vector<Record> uneven_structures(std::size_t count) {
  std::vector<Record> records = read_extxyz(MATNN_EXAMPLES_DATA_DIR "/cu_emt_md.extxyz");
  records.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    Record& r = records[i];
    const auto keep = static_cast<Eigen::Index>(4 + (7 * i) % (r.structure.size() - 4));
    r.structure.numbers.resize(static_cast<std::size_t>(keep));
    r.structure.positions.conservativeResize(keep, 3);
    for (auto& [name, values] : r.atom_properties) values.conservativeResize(keep, values.cols());
  }
  return records;
}

void expect_same_summary(const workflows::RowSummary& a, const workflows::RowSummary& b, std::size_t row) {
  EXPECT_EQ(a.atoms, b.atoms) << "row " << row;
  EXPECT_EQ(a.composition, b.composition) << "row " << row;
  EXPECT_EQ(a.energy, b.energy) << "row " << row;
  EXPECT_EQ(a.forces, b.forces) << "row " << row;
  EXPECT_EQ(a.force_sum_sq, b.force_sum_sq) << "row " << row;
  EXPECT_EQ(a.stress, b.stress) << "row " << row;
  EXPECT_EQ(a.volume_per_atom, b.volume_per_atom) << "row " << row;
  EXPECT_EQ(a.isolated_atom, b.isolated_atom) << "row " << row;
  EXPECT_EQ(a.config_type, b.config_type) << "row " << row;
  EXPECT_EQ(a.key.group, b.key.group) << "row " << row;
}

// A training job's files split among the ranks (dataset_rows.hpp): each rank reads one
// contiguous share of the rows, balanced by atoms, and every rank knows every row's summary. A
// row from another rank's share is read when asked for and kept up to as many as the rank's
// own; further ones are read again each time.
TEST(ShardedDataset, EachRankReadsItsShareAndKnowsEveryRow) {
  const std::vector<Record> all = uneven_structures(30);
  const std::string first = work_dir + "/shard_a.h5", second = work_dir + "/shard_b.h5";
  workflows::write_on_root(world(), first, [&] { write_dataset(first, std::vector<Record>(all.begin(), all.begin() + 20)); });
  workflows::write_on_root(world(), second, [&] { write_dataset(second, std::vector<Record>(all.begin() + 20, all.end())); });
  workflows::ShardedRows rows({first, second}, data::SplitKind::formula, world());
  const workflows::InMemoryRows whole(all, data::SplitKind::formula);
  ASSERT_EQ(rows.size(), all.size());
  EXPECT_EQ(rows.first_row(1), 20u);
  for (std::size_t r = 0; r < all.size(); ++r) expect_same_summary(rows.summary(r), whole.summary(r), r);

  const std::vector<std::size_t> local = rows.local_rows();
  EXPECT_EQ(rows.structures_read(), local.size());
  double mine[2] = {static_cast<double>(local.size()), 0.0};
  double largest = 0.0, total = 0.0;
  for (const Record& r : all) {
    largest = std::max(largest, static_cast<double>(r.structure.size()));
    total += static_cast<double>(r.structure.size());
  }
  for (std::size_t r : local) mine[1] += static_cast<double>(all[r].structure.size());
  EXPECT_NEAR(mine[1], total / world().size(), largest) << "rank " << world().rank();
  world().sum(mine);
  EXPECT_EQ(mine[0], static_cast<double>(all.size()));
  for (std::size_t r = 0; r < all.size(); ++r) {
    const bool held = std::binary_search(local.begin(), local.end(), r);
    if (world().size() == 1) {
      EXPECT_EQ(rows.home(r), -1) << "row " << r;
    }
    if (world().size() > 1) {
      EXPECT_EQ(rows.home(r) == world().rank(), held) << "row " << r;
    }
  }
  const std::vector<const Record*> own = rows.records(local);
  for (std::size_t k = 0; k < local.size(); ++k) EXPECT_EQ(own[k]->structure.positions, all[local[k]].structure.positions);
  EXPECT_EQ(rows.structures_read(), local.size()) << "its own rows are not read again";

  // After a split, each part is shared evenly: here training rows that the first ranges would
  // leave mostly to the first rank (rows 0-8 and 29), then the others.
  const std::vector<std::size_t> train{0, 1, 2, 3, 4, 5, 6, 7, 8, 29};
  std::vector<std::size_t> other;
  for (std::size_t r = 9; r < 29; ++r) other.push_back(r);
  rows.rehome({train, other});
  const std::vector<std::size_t> shared = rows.local_rows();
  double train_atoms = 0.0, mine_of_train = 0.0;
  for (std::size_t r : train) train_atoms += static_cast<double>(all[r].structure.size());
  std::size_t new_rows = 0;
  for (std::size_t r : shared) {
    if (std::binary_search(train.begin(), train.end(), r)) mine_of_train += static_cast<double>(all[r].structure.size());
    if (!std::binary_search(local.begin(), local.end(), r)) ++new_rows;
    if (world().size() > 1) {
      EXPECT_EQ(rows.home(r), world().rank());
    }
  }
  EXPECT_NEAR(mine_of_train, train_atoms / world().size(), largest) << "rank " << world().rank();
  EXPECT_EQ(rows.structures_read(), local.size() + new_rows) << "only the rows new to this rank are read";
  const std::vector<const Record*> rehomed = rows.records(shared);
  for (std::size_t k = 0; k < shared.size(); ++k) EXPECT_EQ(rehomed[k]->structure.positions, all[shared[k]].structure.positions);

  std::vector<std::size_t> elsewhere;
  for (std::size_t r = 0; r < all.size(); ++r)
    if (!std::binary_search(shared.begin(), shared.end(), r)) elsewhere.push_back(r);
  if (elsewhere.empty()) return;  // one rank holds everything
  const std::size_t before = rows.structures_read();
  const std::size_t row = elsewhere.back();
  EXPECT_EQ(rows.records(std::vector<std::size_t>{row, row}).front()->structure.positions, all[row].structure.positions);
  EXPECT_EQ(rows.structures_read(), before + 1);
  (void)rows.records(std::vector<std::size_t>{row});
  EXPECT_EQ(rows.structures_read(), before + 1) << "a kept row is not read again";
  const std::vector<const Record*> got = rows.records(elsewhere);
  for (std::size_t k = 0; k < elsewhere.size(); ++k) {
    EXPECT_EQ(got[k]->structure.positions, all[elsewhere[k]].structure.positions) << "row " << elsewhere[k];
    EXPECT_EQ(*got[k]->forces(), *all[elsewhere[k]].forces()) << "row " << elsewhere[k];
  }
  EXPECT_EQ(rows.structures_read(), before + elsewhere.size());
  // Kept in the order first asked for, while their atoms stay within kKeptShare times its own.
  double room = 0.0;
  for (std::size_t r : shared) room += workflows::kKeptShare * static_cast<double>(all[r].structure.size());
  std::size_t kept = 0;
  std::vector<std::size_t> order{row};
  for (std::size_t r : elsewhere)
    if (r != row) order.push_back(r);
  for (std::size_t r : order) {
    const auto atoms = static_cast<double>(all[r].structure.size());
    if (atoms <= room) {
      room -= atoms;
      ++kept;
    }
  }
  EXPECT_GT(kept, 0u);
  EXPECT_EQ(rows.structures_held(), shared.size() + kept);
  (void)rows.records(elsewhere);
  EXPECT_EQ(rows.structures_read(), before + 2 * elsewhere.size() - kept) << "only the rows beyond those kept are read again";
}

// The results of a potential computed over the ranks in chunks (potential_on_ranks.hpp) reach
// rank 0 in the order asked for, equal bit for bit to the serial ones; a failure on the rank
// that computes a structure, or in rank 0's sink, stops every rank with its message.
TEST(DataParallelEvaluation, ResultsOverRanksEqualTheSerialOnesInOrder) {
  const std::vector<Record> records = DatasetReader(dataset()).read(0, 24);
  potentials::Potential potential("behler_parrinello", {{"cutoff", 4.5}, {"radial", {{"count", 4}}}, {"hidden", {8}}},
                                  {29}, 2, 3);
  potential.to(ad::DType::f64);
  const std::vector<std::size_t> rows{23, 0, 5, 7, 1, 2, 19, 11, 8, 3, 4, 17, 16};
  const auto request = [](const Record&) { return potentials::ComputeRequest{.forces = true, .stress = true}; };
  workflows::InMemoryRows in_memory(records, data::SplitKind::random);
  // The same structures from the file, each rank holding its share (dataset_rows.hpp).
  workflows::ShardedRows sharded({dataset()}, data::SplitKind::random, world());
  for (workflows::DatasetRows* data : {static_cast<workflows::DatasetRows*>(&in_memory), static_cast<workflows::DatasetRows*>(&sharded)}) {
  std::vector<std::size_t> seen;
  workflows::for_each_result(potential, *data, rows, request, [&](std::size_t row, const Record& record, const potentials::PotentialResult& got) {
    seen.push_back(row);
    EXPECT_EQ(record.structure.positions, records[row].structure.positions) << "structure " << row;
    const potentials::PotentialResult want = potential.compute(records[row].structure, request(records[row]));
    EXPECT_EQ(got.energy, want.energy);
    EXPECT_EQ(got.energy_sigma, want.energy_sigma);
    EXPECT_EQ(got.max_force_deviation, want.max_force_deviation);
    EXPECT_EQ(got.has_stress, want.has_stress);
    EXPECT_EQ(got.stress, want.stress);
    EXPECT_TRUE(got.forces == want.forces) << "structure " << row;
    EXPECT_TRUE(got.energies == want.energies) << "structure " << row;
    EXPECT_TRUE(got.force_deviation == want.force_deviation) << "structure " << row;
  }, world(), 4);
  EXPECT_EQ(seen, world().is_root() ? rows : std::vector<std::size_t>{});
  }

  const auto expect_stopped = [&](const workflows::RequestFor& ask, const workflows::ResultSink& sink, const std::string& text) {
    std::string message;
    try {
      workflows::for_each_result(potential, in_memory, rows, ask, sink, world(), 4);
    } catch (const Error& e) {
      message = e.what();
    }
    EXPECT_NE(message.find(text), std::string::npos) << "rank " << world().rank() << ": \"" << message << "\"";
  };
  // Structure 19 (in the second chunk) fails on the rank it was dealt to.
  expect_stopped([&](const Record& r) {
    if (&r == &records[19]) fail(MATNN_ERROR_NON_FINITE, "structure 19 is broken");
    return request(r);
  }, [](std::size_t, const Record&, const potentials::PotentialResult&) {}, "structure 19 is broken");
  // Rank 0's sink fails at structure 4 (the third chunk).
  expect_stopped(request, [&](std::size_t row, const Record&, const potentials::PotentialResult&) {
    if (row == 4) fail(MATNN_ERROR_IO, "cannot keep structure 4");
  }, "cannot keep structure 4");
}

train::Json potential_config(const std::string& kind, const std::string& model) {
  train::Json architecture = kind == "nequip"
                                 ? train::Json{{"kind", kind}, {"cutoff", 4.0}, {"channels", 4}, {"num_layers", 2},
                                               {"l_max", 1}, {"radial_hidden", 8}}
                                 : train::Json{{"kind", kind}, {"cutoff", 4.5}, {"radial", {{"count", 4}}},
                                               {"angular", {{"zeta", {1, 4}}}}, {"hidden", {8}}};
  architecture["precision"] = "float64";
  architecture["ensemble"] = 2;
  return {{"dataset", dataset()},
          {"seed", 4},
          {"model", architecture},
          {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.1}}},
          {"training", {{"epochs", 2}, {"batch_size", 5}, {"stress_weight", 0.1}, {"clip_norm", 10.0}}},
          {"optimizer", {{"name", "adam"}, {"lr", 0.005}}},
          {"output", {{"model", work_dir + "/" + model}}}};
}

workflows::TrainJobOptions quiet_job(const parallel::Communicator& comm) {
  workflows::TrainJobOptions job;
  job.print_progress = false;
  job.communicator = comm;
  return job;
}

// Energies, forces and stress of both models on a few structures of the data: equal up to the
// order of sums (float64 weights).
void expect_same_potential(const std::string& a, const std::string& b) {
  const potentials::Potential pa = potentials::Potential::load(a), pb = potentials::Potential::load(b);
  const std::vector<Record> records = DatasetReader(work_dir + "/cu.h5").read(0, 4);
  for (const Record& r : records) {
    const potentials::PotentialResult x = pa.compute(r.structure), y = pb.compute(r.structure);
    EXPECT_NEAR(x.energy, y.energy, 1e-9 * std::abs(x.energy) + 1e-12) << a;
    EXPECT_LT((x.forces - y.forces).cwiseAbs().maxCoeff(), 1e-9) << a;
    for (std::size_t k = 0; k < 6; ++k) EXPECT_NEAR(x.stress[k], y.stress[k], 1e-10) << a;
  }
}

// Every epoch's validation metrics, flattened, as the job reports them to its callback.
workflows::TrainJobOptions recording_job(const parallel::Communicator& comm, std::vector<double>& validation) {
  workflows::TrainJobOptions job = quiet_job(comm);
  job.on_epoch = [&validation](const train::EpochRecord& record) {
    for (const auto& [name, value] : record.validation) validation.push_back(value);
    return true;
  };
  return job;
}

// Equal up to the order of sums: the ranks' shares of each validation batch and of the test set
// are summed in another order than the serial run's.
void expect_same_metrics(const std::vector<double>& ranks, const std::vector<double>& serial, const std::string& what) {
  ASSERT_EQ(ranks.size(), serial.size()) << what;
  for (std::size_t k = 0; k < ranks.size(); ++k) EXPECT_NEAR(ranks[k], serial[k], 1e-9 * std::abs(serial[k]) + 1e-12) << what;
}

std::vector<double> metric_values(const std::map<std::string, double>& metrics) {
  std::vector<double> out;
  for (const auto& [name, value] : metrics)
    if (name != "training_seconds") out.push_back(value);
  return out;
}

// Trains the config that `config(model file name)` makes on the ranks and, on rank 0 alone, as
// a serial run: both give the same model, validation and test metrics up to the order of sums.
void expect_trains_to_the_serial_model(const std::function<train::Json(const std::string&)>& config,
                                       const std::string& name) {
  std::vector<double> validation;
  const workflows::TrainJobResult result = workflows::train_model(config(name + "_ranks.h5"), recording_job(world(), validation));
  // Every rank returns after rank 0 wrote the file, with rank 0's metrics.
  EXPECT_TRUE(std::filesystem::exists(result.model_path)) << "rank " << world().rank();
  ASSERT_FALSE(validation.empty());
  EXPECT_EQ(validation, rank0_values(validation)) << "rank " << world().rank();
  const std::vector<double> test = metric_values(result.test_metrics);
  ASSERT_FALSE(test.empty());
  EXPECT_EQ(test, rank0_values(test)) << "rank " << world().rank();
  if (world().is_root()) {
    std::vector<double> serial_validation;
    const workflows::TrainJobResult serial =
        workflows::train_model(config(name + "_serial.h5"), recording_job(parallel::Communicator(), serial_validation));
    expect_same_potential(work_dir + "/" + name + "_ranks.h5", work_dir + "/" + name + "_serial.h5");
    expect_same_metrics(validation, serial_validation, name + " validation");
    expect_same_metrics(test, metric_values(serial.test_metrics), name + " test");
  }
}

TEST(DataParallelJob, PotentialsTrainToTheSerialModel) {
  (void)dataset();
  for (const std::string kind : {"behler_parrinello", "nequip"})
    expect_trains_to_the_serial_model([&](const std::string& model) { return potential_config(kind, model); }, kind);
}

// The Kalman filter across ranks: each rank measures its share of every batch (3 structures, so
// on 3 ranks one each, on 2 ranks one rank two), keeps some of the covariance blocks (blocks
// of at most 40 weights here, so every rank has some), and all make the same update, so the
// weights stay identical on every rank (the model file and metrics agree) and equal the serial
// filter's up to the order of sums. A run cancelled after its first epoch resumes from its
// checkpoint (the blocks gathered from their ranks) on the ranks, and on one rank alone, to
// the same model.
TEST(DataParallelJob, KalmanFilterTrainsToTheSerialModel) {
  (void)dataset();
  // Blocks of 40 weights, and the whole network as one block (the global filter), whose columns
  // the ranks share as they share every block's.
  for (const auto& [kind, block_size] : std::vector<std::pair<std::string, int>>{
           {"behler_parrinello", 40}, {"behler_parrinello", 5120}, {"nequip", 40}}) {
    const auto config = [&, kind = kind, block_size = block_size](const std::string& model) {
      train::Json c = potential_config(kind, model);
      c["optimizer"] = {{"name", "kalman"}, {"forces_per_structure", 4}, {"block_size", block_size}};
      c["training"].erase("clip_norm");
      c["training"]["batch_size"] = 3;
      return c;
    };
    expect_trains_to_the_serial_model(config, kind + "_kalman_" + std::to_string(block_size));
    if (kind != "behler_parrinello" || block_size != 40) continue;
    workflows::TrainJobOptions cancelled = quiet_job(world());
    cancelled.on_epoch = [](const train::EpochRecord& record) { return !(world().is_root() && record.epoch == 0); };
    matnn_status status = MATNN_SUCCESS;
    try {
      workflows::train_model(config("kalman_cut.h5"), cancelled);
    } catch (const Error& e) {
      status = e.status();
    }
    EXPECT_EQ(status, MATNN_ERROR_CANCELLED) << "rank " << world().rank();
    const std::string checkpoint = work_dir + "/kalman_cut.h5.checkpoint.h5";
    workflows::write_on_root(world(), "copy", [&] {
      std::filesystem::copy_file(checkpoint, work_dir + "/kalman_cut_alone.h5.checkpoint.h5",
                                 std::filesystem::copy_options::overwrite_existing);
    });
    workflows::TrainJobOptions resumed = quiet_job(world());
    resumed.resume = true;
    workflows::train_model(config("kalman_cut.h5"), resumed);
    if (!world().is_root()) continue;
    workflows::TrainJobOptions alone = quiet_job(parallel::Communicator());
    alone.resume = true;
    workflows::train_model(config("kalman_cut_alone.h5"), alone);
    const std::string serial = work_dir + "/" + kind + "_kalman_40_serial.h5";
    expect_same_potential(work_dir + "/kalman_cut.h5", serial);
    expect_same_potential(work_dir + "/kalman_cut_alone.h5", serial);
  }
}

train::Json cgcnn_config(const std::string& model) {
  return {{"dataset", dataset()},
          {"seed", 1},
          {"model", {{"kind", "cgcnn"}, {"target", "energy"}, {"atom_features", 8}, {"hidden", 8}, {"n_conv", 2},
                     {"radius", 5.0}, {"ensemble", 2}}},
          {"split", {{"kind", "random"}, {"validation", 0.25}, {"test", 0.1}}},
          {"training", {{"epochs", 3}, {"batch_size", 5}}},
          {"optimizer", {{"name", "sgd"}, {"lr", 0.02}, {"momentum", 0.9}}},
          {"output", {{"model", work_dir + "/" + model}}}};
}

// CGCNN's batch normalisation is synchronised over the ranks: the batch statistics are those of
// the whole batch, so the model is the serial one. 24 structures: 16 train in batches of 5, so
// the last batch has 1 and on 2 or 3 ranks some ranks join its normalisation without rows.
TEST(DataParallelJob, CgcnnTrainsToTheSerialModel) {
  (void)dataset();
  std::vector<double> validation, serial_validation;
  workflows::train_model(cgcnn_config("cgcnn_ranks.h5"), recording_job(world(), validation));
  // The validation structures are shared among the ranks; every rank has the sums of all.
  ASSERT_FALSE(validation.empty());
  EXPECT_EQ(validation, rank0_values(validation)) << "rank " << world().rank();
  if (!world().is_root()) return;
  workflows::train_model(cgcnn_config("cgcnn_serial.h5"), recording_job(parallel::Communicator(), serial_validation));
  ASSERT_EQ(validation.size(), serial_validation.size());
  // A float32 model trained for several epochs: sums over the ranks in another order make the
  // validation losses drift apart by about 1e-5 relative, depending on the CPU's GEMM kernels
  // (1.4e-5 on one AVX-512 Xeon). The strict check is the final predictions' below (3e-6
  // relative; without the synchronised normalisation they differ by 8e-3).
  for (std::size_t k = 0; k < validation.size(); ++k)
    EXPECT_NEAR(validation[k], serial_validation[k], 1e-4 * std::abs(serial_validation[k]) + 1e-7) << "cgcnn validation";
  const auto a = models::load_property_model(work_dir + "/cgcnn_ranks.h5");
  const auto b = models::load_property_model(work_dir + "/cgcnn_serial.h5");
  std::vector<Structure> structures;
  for (const Record& r : DatasetReader(dataset()).read(0, 24)) structures.push_back(r.structure);
  const models::PropertyPrediction pa = a->predict(structures), pb = b->predict(structures);
  // float32 weights: equal to a few units in the last place of the values. The sums' order
  // follows which rank each row is dealt to; in the sanitised Debug build (no FMA contraction)
  // two ranks drift to 8 units (9.7e-7 relative) with rows dealt to the ranks that hold them.
  const double scale = pb.value.cwiseAbs().maxCoeff();
  std::printf("cgcnn: largest value %.6g, spread %.3g, largest difference %.3g\n", scale,
              pb.value.maxCoeff() - pb.value.minCoeff(), (pa.value - pb.value).cwiseAbs().maxCoeff());
  EXPECT_LT((pa.value - pb.value).cwiseAbs().maxCoeff(), 3e-6 * scale) << world().size() << " ranks";
}

// A dataset of `rows` Cu frames (regression target "energy"; the 240 frames repeated as needed) with an XRD-like pattern each (a
// peak whose position is the target "a"), for the property jobs of every kind.
std::string property_dataset(std::size_t rows) {
  const std::string path = work_dir + "/property" + std::to_string(rows) + ".h5";
  workflows::write_on_root(world(), path, [&] {
    const std::vector<Record> frames = read_extxyz(MATNN_EXAMPLES_DATA_DIR "/cu_emt_md.extxyz");
    std::vector<Record> records;
    for (std::size_t i = 0; i < rows; ++i) records.push_back(frames[i % frames.size()]);
    std::vector<double> axis;
    for (int k = 0; k <= 100; ++k) axis.push_back(10.0 + 0.4 * k);
    std::mt19937_64 rng(5);
    for (Record& r : records) {
      const double centre = 15.0 + 30.0 * static_cast<double>(rng() % 1000) / 1000.0;
      const double height = 0.5 + static_cast<double>(rng() % 1000) / 1000.0;  // so that rows' moments differ
      std::vector<float> values;
      for (double x : axis) values.push_back(static_cast<float>(height * std::exp(-0.5 * (x - centre) * (x - centre))));
      r.signals.emplace("xrd", make_spectrum(axis, std::move(values), "2theta", "degree"));
      r.properties["a"] = {centre / 10.0};
    }
    write_dataset(path, records, {{{"a", "Angstrom"}}});
  });
  return path;
}

// Small property models of each kind: normalisations fitted on the training rows (composition
// features, standardised spectrum channels), a graph per structure (CGCNN).
train::Json property_config(const std::string& kind, const std::string& data, const std::string& model) {
  train::Json m = {{"kind", kind}, {"target", "energy"}, {"ensemble", 2}};
  if (kind == "composition_mlp") m["hidden"] = {8};
  if (kind == "cgcnn") m.update({{"atom_features", 8}, {"hidden", 8}, {"n_conv", 1}, {"radius", 4.0}});
  if (kind == "cnn1d")
    m.update({{"target", "a"}, {"signal", "xrd"}, {"channels", {4, 4}}, {"kernel", 5}, {"hidden", 8}, {"normalize", "standardize"}});
  return {{"dataset", data},
          {"seed", 3},
          {"model", m},
          {"split", {{"kind", "random"}, {"validation", 0.2}, {"test", 0.2}}},
          {"training", {{"epochs", 2}, {"batch_size", 16}}},
          {"optimizer", {{"name", "sgd"}, {"lr", 0.01}, {"momentum", 0.9}}},
          {"output", {{"model", work_dir + "/" + model}}}};
}

// A property job on several ranks reads the dataset by shard, as a potential job does: each rank
// reads its run of rows, the rows that dealing the split's parts anew moves to it, and the rows
// of the few prediction blocks (validation, OOD reference, test) that cross into another rank's
// run, so no rank reads the whole dataset (one rank alone reads each structure once). The model
// is the serial one, and `eval --subset test` on the ranks (its data hash computed rank after
// rank) gives the serial metrics exactly.
TEST(DataParallelJob, PropertyJobsReadOnlyTheirShare) {
  const std::size_t n = 600;
  const std::string data = property_dataset(n);
  for (const std::string kind : {"composition_mlp", "cgcnn", "cnn1d"}) {
    const workflows::TrainJobResult result =
        workflows::train_model(property_config(kind, data, kind + "_share_ranks.h5"), quiet_job(world()));
    const std::vector<std::vector<double>> reads =
        world().all_gather(std::vector<double>{static_cast<double>(result.structures_read)});
    double total = 0;
    for (const auto& r : reads) total += r.at(0);
    if (world().is_root()) std::printf("%s: structures read per rank of %d:", kind.c_str(), world().size());
    for (const auto& r : reads) {
      if (world().is_root()) std::printf(" %g", r.at(0));
      if (world().size() > 1) EXPECT_LT(r.at(0), 0.8 * static_cast<double>(n)) << kind << ": a rank read (nearly) every structure";
    }
    if (world().is_root()) std::printf(" (%g in all)\n", total);
    EXPECT_GE(total, static_cast<double>(n));
    EXPECT_LE(total, 1.6 * static_cast<double>(n)) << kind;
    const auto model = models::load_property_model(result.model_path);
    const std::map<std::string, double> test = workflows::evaluate_property_model(*model, data, "test", world());
    if (!world().is_root()) continue;
    const workflows::TrainJobResult serial =
        workflows::train_model(property_config(kind, data, kind + "_share_serial.h5"), quiet_job(parallel::Communicator()));
    EXPECT_EQ(serial.structures_read, n) << kind;
    const std::map<std::string, double> serial_test = workflows::evaluate_property_model(*model, data, "test", parallel::Communicator());
    ASSERT_EQ(test.size(), serial_test.size());
    for (const auto& [name, value] : serial_test)  // spearman_error_sigma is NaN for constant sigmas
      EXPECT_TRUE(test.at(name) == value || (std::isnan(value) && std::isnan(test.at(name)))) << kind << " " << name;
    const auto one = models::load_property_model(serial.model_path);
    workflows::SampleSet samples;
    for (const Record& r : DatasetReader(data).read(0, 40)) {
      samples.structures.push_back(r.structure);
      samples.signals.push_back(r.signals.at("xrd"));
    }
    if (kind != "cnn1d") samples.signals.clear();
    const models::PropertyPrediction pa = model->predict(samples.view()), pb = one->predict(samples.view());
    const double scale = pb.value.cwiseAbs().maxCoeff();
    EXPECT_LT((pa.value - pb.value).cwiseAbs().maxCoeff(), 1e-5 * scale) << kind << " on " << world().size() << " ranks";
    if (kind == "cnn1d") {
      // The spectra's standardisation, from sums over every rank's training rows (the network's
      // batch normalisation would hide a wrong one from the predictions).
      const auto& a = dynamic_cast<const models::cnn::SignalModel&>(*model);
      const auto& b = dynamic_cast<const models::cnn::SignalModel&>(*one);
      const std::vector<double> xa = a.inputs(samples.signals).to_vector(), xb = b.inputs(samples.signals).to_vector();
      for (std::size_t i = 0; i < xa.size(); ++i) ASSERT_NEAR(xa[i], xb[i], 1e-5) << "input " << i;
    }
  }
}

// Property predictions in fixed blocks dealt to the ranks (predict_in_blocks): every rank gets
// the one-rank result bit for bit, in order, with blocks of 5 over 24 structures (5 blocks, the
// last short), whatever the rank count.
TEST(DataParallelEvaluation, PropertyPredictionsInBlocksAreTheSameAtAnyRankCount) {
  (void)dataset();
  const std::string path = work_dir + "/cgcnn_blocks.h5";
  workflows::write_on_root(world(), path, [&] { workflows::train_model(cgcnn_config("cgcnn_blocks.h5"), quiet_job({})); });
  const auto model = models::load_property_model(path);
  std::vector<Structure> structures;
  for (const Record& r : DatasetReader(dataset()).read(0, 24)) structures.push_back(r.structure);
  const models::PropertyPrediction ranks = workflows::predict_in_blocks(*model, structures, world(), {}, 5);
  const models::PropertyPrediction one = workflows::predict_in_blocks(*model, structures, parallel::Communicator(), {}, 5);
  EXPECT_TRUE(ranks.value == one.value) << "rank " << world().rank();
  EXPECT_TRUE(ranks.sigma == one.sigma);
  EXPECT_TRUE(ranks.ood_score == one.ood_score);
  EXPECT_EQ(ranks.ood, one.ood);
  // And the whole pass agrees to float32 round-off (a block's arithmetic depends on its rows).
  const models::PropertyPrediction whole = model->predict(structures);
  EXPECT_LT((ranks.value - whole.value).cwiseAbs().maxCoeff(), 1e-5 * whole.value.cwiseAbs().maxCoeff());
}

// Monte-Carlo dropout predictions shared among the ranks (`matnn predict --mc-samples` under
// mpirun): a sample's masks follow its number, so the blocks give every rank the one-rank
// result bit for bit, and one whole call the same samples to float32 round-off.
TEST(DataParallelEvaluation, MonteCarloPredictionsInBlocksAreTheSameAtAnyRankCount) {
  (void)dataset();
  const std::string path = work_dir + "/cgcnn_dropout.h5";
  train::Json config = cgcnn_config("cgcnn_dropout.h5");
  config["model"]["dropout"] = 0.2;
  workflows::write_on_root(world(), path, [&] { workflows::train_model(config, quiet_job({})); });
  const auto model = models::load_property_model(path);
  std::vector<Structure> structures;
  for (const Record& r : DatasetReader(dataset()).read(0, 24)) structures.push_back(r.structure);
  models::PredictOptions options;
  options.mc_samples = 4;
  options.seed = 7;
  const models::PropertyPrediction ranks = workflows::predict_in_blocks(*model, structures, world(), options, 5);
  const models::PropertyPrediction one = workflows::predict_in_blocks(*model, structures, parallel::Communicator(), options, 5);
  EXPECT_TRUE(ranks.value == one.value) << "rank " << world().rank();
  EXPECT_TRUE(ranks.sigma == one.sigma);
  const models::PropertyPrediction whole = model->predict(structures, options);
  const double scale = whole.value.cwiseAbs().maxCoeff();
  EXPECT_LT((ranks.value - whole.value).cwiseAbs().maxCoeff(), 1e-5 * scale);
  EXPECT_LT((ranks.sigma - whole.sigma).cwiseAbs().maxCoeff(), 1e-5 * scale);
  // The passes did drop units: the samples differ from the members' deterministic spread.
  EXPECT_GT((whole.sigma - model->predict(structures).sigma).cwiseAbs().maxCoeff(), 1e-4 * scale);
}

// `matnn predict`, `matnn embed` and `matnn eval` (every labelled structure) of a property model
// read the dataset by shard: 150 structures (three blocks of 64, the second crossing from rank 0's run
// into rank 1's on 2 ranks); the predictions, with Monte-Carlo dropout, are written byte for
// byte as one process writes them, and the metrics are the serial ones exactly.
TEST(DataParallelEvaluation, PropertyPredictionFilesFromShardsAreTheSerialFile) {
  (void)dataset();
  const std::string model_path = work_dir + "/cgcnn_shards.h5", data_path = work_dir + "/cu150.h5";
  train::Json config = cgcnn_config("cgcnn_shards.h5");
  config["model"]["dropout"] = 0.2;
  workflows::write_on_root(world(), model_path, [&] {
    workflows::train_model(config, quiet_job({}));
    std::vector<Record> records = read_extxyz(MATNN_EXAMPLES_DATA_DIR "/cu_emt_md.extxyz");
    records.resize(150);
    write_dataset(data_path, records);
  });
  const auto model = models::load_property_model(model_path);
  const std::string ranks_csv = work_dir + "/shards_ranks.csv", serial_csv = work_dir + "/shards_serial.csv";
  workflows::write_property_predictions(*model, data_path, ranks_csv, 3, world());
  workflows::write_property_embeddings(*model, data_path, work_dir + "/embed_ranks.csv", world());
  const std::map<std::string, double> metrics = workflows::evaluate_property_model(*model, data_path, "all", world());
  if (!world().is_root()) return;
  EXPECT_TRUE(metrics == workflows::evaluate_property_model(*model, data_path, "all", parallel::Communicator()));
  EXPECT_EQ(metrics.at("n"), 150.0);
  workflows::write_property_predictions(*model, data_path, serial_csv, 3, parallel::Communicator());
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string serial = read(serial_csv);
  EXPECT_EQ(std::count(serial.begin(), serial.end(), '\n'), 151);
  EXPECT_TRUE(read(ranks_csv) == serial) << world().size() << " ranks";
  workflows::write_property_embeddings(*model, data_path, work_dir + "/embed_serial.csv", parallel::Communicator());
  EXPECT_TRUE(read(work_dir + "/embed_ranks.csv") == read(work_dir + "/embed_serial.csv")) << world().size() << " ranks";
}

// --ensemble-parallel: each rank trains whole members alone, and every rank ends with all of
// them, so the model file is the serial ensemble, bit for bit, as each member's run is the serial
// one. On 3 ranks one rank has no member of the two. The members' own checkpoints are removed
// with the run's.
TEST(DataParallelJob, EnsembleMembersSpreadOverRanksAreTheSerialEnsemble) {
  (void)dataset();
  workflows::TrainJobOptions job = quiet_job(world());
  job.ensemble_parallel = true;
  for (const std::string kind : {"behler_parrinello", "cgcnn"}) {
    const auto config = [&](const std::string& model) {
      return kind == "cgcnn" ? cgcnn_config(model) : potential_config(kind, model);
    };
    const workflows::TrainJobResult result = workflows::train_model(config(kind + "_members.h5"), job);
    EXPECT_TRUE(std::filesystem::exists(result.model_path)) << "rank " << world().rank();
    for (int k = 0; k < 2; ++k)
      EXPECT_FALSE(std::filesystem::exists(result.model_path + ".checkpoint.h5.member" + std::to_string(k)));
    if (kind == "behler_parrinello") {
      // Member 0 is cancelled after its first epoch; every rank stops with that status, and a
      // resume (here at the same rank count) finishes member 0 from its checkpoint and takes
      // the other member as it was finished.
      workflows::TrainJobOptions cancelled = job;
      cancelled.on_epoch = [](const train::EpochRecord& record) { return !(world().is_root() && record.epoch == 0); };
      matnn_status status = MATNN_SUCCESS;
      try {
        workflows::train_model(config(kind + "_members_resumed.h5"), cancelled);
      } catch (const Error& e) {
        status = e.status();
      }
      EXPECT_EQ(status, MATNN_ERROR_CANCELLED) << "rank " << world().rank();
      workflows::TrainJobOptions resumed = job;
      resumed.resume = true;
      workflows::train_model(config(kind + "_members_resumed.h5"), resumed);
    }
    if (!world().is_root()) continue;
    const std::string serial = workflows::train_model(config(kind + "_members_serial.h5"), quiet_job(parallel::Communicator())).model_path;
    if (kind == "behler_parrinello") expect_same_potential(work_dir + "/" + kind + "_members_resumed.h5", serial);
    if (kind == "cgcnn") {
      const auto a = models::load_property_model(result.model_path);
      const auto b = models::load_property_model(serial);
      std::vector<Structure> structures;
      for (const Record& r : DatasetReader(dataset()).read(0, 24)) structures.push_back(r.structure);
      const models::PropertyPrediction pa = a->predict(structures), pb = b->predict(structures);
      EXPECT_TRUE(pa.value == pb.value);
      EXPECT_TRUE(pa.sigma == pb.sigma);
    } else {
      const potentials::Potential pa = potentials::Potential::load(result.model_path), pb = potentials::Potential::load(serial);
      for (const Record& r : DatasetReader(dataset()).read(0, 4)) {
        const potentials::PotentialResult x = pa.compute(r.structure), y = pb.compute(r.structure);
        EXPECT_EQ(x.energy, y.energy);
        EXPECT_EQ(x.energy_sigma, y.energy_sigma);
        EXPECT_TRUE(x.forces == y.forces);
      }
    }
  }
}

}  // namespace
}  // namespace matnn

int main(int argc, char** argv) {
  matnn::parallel::MpiSession mpi(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: mpirun -np N test_mpi_training WORK_DIR\n");
    return 2;
  }
  matnn::work_dir = argv[1];
  std::filesystem::create_directories(matnn::work_dir);
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  if (!matnn::world().is_root()) delete listeners.Release(listeners.default_result_printer());
  const int rc = RUN_ALL_TESTS();
  const bool all_passed = matnn::world().all(rc == 0);
  if (matnn::world().is_root() && !all_passed) std::fprintf(stderr, "a test failed on some rank\n");
  return all_passed ? 0 : 1;
}
