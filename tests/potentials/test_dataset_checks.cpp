// A dataset whose structures a model cannot evaluate is refused before any work, with the file
// and the structure's index in it, by evaluation and prediction alike (check_structure).
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "potentials/potential.hpp"
#include "workflows/potential_job.hpp"

namespace matnn::workflows {
namespace {

namespace fs = std::filesystem;

Record copper_cell(double shift) {
  Record r;
  r.structure.numbers = {29, 29, 29, 29};
  r.structure.positions.resize(4, 3);
  r.structure.positions << 0, 0, 0, 1.8, 1.8, 0, 1.8, 0, 1.8, 0, 1.8, 1.8;
  r.structure.positions.array() += shift;
  r.structure.cell = Eigen::Matrix3d::Identity() * 3.6;
  r.structure.pbc = {true, true, true};
  r.properties["energy"] = {-14.0};
  return r;
}

class DatasetChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("matnn_dataset_checks_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "cu.model.h5").string();
    potentials::Potential(
        "behler_parrinello",
        {{"cutoff", 4.0}, {"radial", {{"count", 4}}}, {"angular", {{"eta", {0.0}}, {"zeta", {1}}, {"lambda", {1}}}},
         {"hidden", {4}}},
        {29}, 1, 1)
        .save(model_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Writes four good copper cells with `bad` as structure 2.
  std::string dataset_with(const Record& bad) {
    const std::string path = (dir_ / "data.h5").string();
    const std::vector<Record> records{copper_cell(0.0), copper_cell(0.1), bad, copper_cell(0.2)};
    write_dataset(path, records);
    return path;
  }

  void expect_refused(const std::string& data, matnn_status status, const std::string& detail) {
    for (const bool predict : {false, true}) {
      try {
        if (predict) {
          write_potential_predictions(model_, data, (dir_ / "out.csv").string());
        } else {
          (void)evaluate_potential(model_, data, "all");
        }
        ADD_FAILURE() << "accepted a dataset with " << detail;
      } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.status(), status) << message;
        EXPECT_NE(message.find(data + ": structure 2: "), std::string::npos) << message;
        EXPECT_NE(message.find(detail), std::string::npos) << message;
      }
      EXPECT_FALSE(fs::exists(dir_ / "out.csv"));
    }
  }

  fs::path dir_;
  std::string model_;
};

TEST_F(DatasetChecks, OverlappingAtomsNameTheFileAndStructure) {
  Record bad = copper_cell(0.0);
  bad.structure.positions.row(3) = bad.structure.positions.row(1);
  expect_refused(dataset_with(bad), MATNN_ERROR_GEOMETRY, "atoms 1 and 3 overlap");
}

TEST_F(DatasetChecks, AnElementTheModelLacksNamesTheFileAndStructure) {
  Record bad = copper_cell(0.0);
  bad.structure.numbers[2] = 79;
  expect_refused(dataset_with(bad), MATNN_ERROR_UNKNOWN_ELEMENT, "atom 2: the model has no parameters for Au");
}

TEST_F(DatasetChecks, AGoodDatasetIsEvaluated) {
  const std::string data = dataset_with(copper_cell(0.3));
  EXPECT_EQ(evaluate_potential(model_, data, "all").overall.at("n"), 4.0);
}

}  // namespace
}  // namespace matnn::workflows
