// matnn audit end to end on a small generated dataset: planted exact and near duplicates that
// straddle a split, one label conflict, prototype labels against the dataset's tags, and the
// bad inputs (missing dataset, malformed split files, an unknown target, -o over an input).
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "crystals.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/output_paths.hpp"
#include "workflows/audit_job.hpp"

namespace matnn::workflows {
namespace {

using namespace matnn::test_crystals;

Record record(Structure s, double formation_energy, const std::string& prototype) {
  Record r;
  r.structure = std::move(s);
  r.properties["formation_energy"] = {formation_energy};
  r.properties["energy"] = {formation_energy * static_cast<double>(r.structure.size())};
  if (!prototype.empty()) r.tags["prototype"] = prototype;
  return r;
}

class AuditJob : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("matnn_audit_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    Structure slab = fcc_conventional(Cu, 3.61);
    slab.pbc = {true, true, false};
    const std::vector<Record> records{
        record(fcc_primitive(Cu, 3.61), 0.0, "fcc"),                    // 0
        record(l12(Au, Cu, 3.75), -0.05, "L1_2"),                      // 1
        record(b2(Cu, Zn, 2.95), -0.10, "B2"),                         // 2
        record(hcp(Mg, 3.21, 5.21), 0.01, "hcp"),                      // 3
        record(random_alloy(3), -0.02, ""),                            // 4
        record(disguised(l12(Au, Cu, 3.75), 1), -0.05, "L1_2"),        // 5: exact duplicate of 1
        record(noisy(b2(Cu, Zn, 2.95), 0.0003, 2), -0.1004, "B2"),     // 6: near duplicate of 2
        record(fcc_conventional(Cu, 3.61), 0.20, "fcc"),               // 7: exact duplicate of 0, another label
        record(slab, 0.3, "fcc_slab"),                                  // 8: not periodic
    };
    dataset_ = path("data.h5");
    write_dataset(dataset_, records, {{{"formation_energy", "eV/atom"}}});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }

  std::filesystem::path dir_;
  std::string dataset_;
};

TEST_F(AuditJob, FindsPlantedDuplicatesLeaksAndTheLabelConflict) {
  AuditOptions options;
  options.split_path = write("split.json", R"({"train": [0, 1, 2, 3], "validation": [4, 5], "test": [6, 7]})");
  const AuditReport r = run_audit(dataset_, options);
  EXPECT_EQ(r.n_structures, 9u);
  EXPECT_EQ(r.not_periodic, (std::vector<std::size_t>{8}));
  EXPECT_EQ(r.exact_groups, (std::vector<std::vector<std::size_t>>{{0, 7}, {1, 5}}));
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_EQ(r.groups[0].members, (std::vector<std::size_t>{0, 7}));
  EXPECT_TRUE(r.groups[0].exact);
  EXPECT_EQ(r.groups[1].members, (std::vector<std::size_t>{1, 5}));
  EXPECT_EQ(r.groups[2].members, (std::vector<std::size_t>{2, 6}));
  EXPECT_FALSE(r.groups[2].exact);

  // Every group straddles the split: 0/7 train/test, 1/5 train/validation, 2/6 train/test.
  ASSERT_EQ(r.leaks.size(), 3u);
  EXPECT_EQ(r.leaks[1].subsets.at("train"), (std::vector<std::size_t>{1}));
  EXPECT_EQ(r.leaks[1].subsets.at("validation"), (std::vector<std::size_t>{5}));

  // fcc labelled 0.0 and 0.2 eV/atom: one conflict per label (energy is compared per atom); the
  // noisy B2 copy differs by 0.4 meV/atom, within the tolerance.
  ASSERT_EQ(r.conflicts.size(), 2u);
  for (const LabelConflict& c : r.conflicts) {
    EXPECT_EQ(c.group, 0u);
    EXPECT_EQ(c.members, (std::vector<std::size_t>{0, 7}));
    EXPECT_NEAR(c.spread, 0.2, 1e-9) << c.label;
  }
  EXPECT_EQ(r.labels_checked, (std::vector<std::string>{"energy", "formation_energy"}));

  EXPECT_EQ(r.prototypes.at("AB3_cP4_221_a_c").count, 2u);
  EXPECT_EQ(r.prototypes.at("A_cF4_225_a").count, 2u);
  EXPECT_EQ(*r.labels[6], "AB_cP2_221_a_b");
  EXPECT_FALSE(r.labels[8].has_value());
  EXPECT_TRUE(r.tag_agrees("L1_2"));
  EXPECT_TRUE(r.tag_agrees("fcc"));
  EXPECT_TRUE(r.tag_agrees("B2"));

  // The JSON report, written atomically, holds the same.
  const std::string out = path("report.json");
  write_audit_report(r, out);
  const nlohmann::json j = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(j["summary"]["leaks"], 3);
  EXPECT_EQ(j["summary"]["label_conflicts"], 2);
  EXPECT_EQ(j["summary"]["exact_duplicate_groups"], 2);
  EXPECT_EQ(j["duplicate_groups"][2]["subsets"], nlohmann::json({"train", "test"}));
  EXPECT_EQ(j["structure_labels"][8], nullptr);
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST_F(AuditJob, TargetAndTolerancesChooseWhatIsReported) {
  AuditOptions options;
  options.target = "formation_energy";
  options.target_tolerance = 0.5;  // 0.2 eV/atom is then no conflict
  AuditReport r = run_audit(dataset_, options);
  EXPECT_TRUE(r.conflicts.empty());
  EXPECT_TRUE(r.leaks.empty());  // no split given
  EXPECT_EQ(r.labels_checked, (std::vector<std::string>{"formation_energy"}));
  options.tolerances = data::exact_tolerances;  // near duplicates are then distinct
  r = run_audit(dataset_, options);
  EXPECT_EQ(r.groups.size(), 2u);
}

void expect_error(const std::function<void()>& f, matnn_status status, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    for (const std::string& fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << "'" << fragment << "' not in: " << e.what();
  }
}

TEST_F(AuditJob, BadInputsAreRefusedNamingTheFile) {
  expect_error([&] { run_audit(path("nowhere.h5"), {}); }, MATNN_ERROR_IO, {"nowhere.h5"});
  AuditOptions options;
  options.split_path = write("beyond.json", R"({"train": [0, 1], "validation": [2], "test": [9]})");
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_INVALID_ARGUMENT, {"beyond.json", "structure 9", "data.h5"});
  options.split_path = write("twice.json", R"({"train": [0, 1], "validation": [1], "test": []})");
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_INVALID_ARGUMENT, {"twice.json", "structure 1"});
  options.split_path = write("no_test.json", R"({"train": [0], "validation": []})");
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_FORMAT, {"no_test.json", "\"test\""});
  options.split_path = write("negative.json", R"({"train": [-1], "validation": [], "test": []})");
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_FORMAT, {"negative.json", "-1"});
  options.split_path = write("broken.json", R"({"train": [0)");
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_FORMAT, {"broken.json"});
  options.split_path = path("missing.json");
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_IO, {"missing.json"});
  options = {};
  options.target = "band_gap";
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_INVALID_ARGUMENT, {"band_gap", "data.h5"});
  options = {};
  options.tolerances.length = -1;
  expect_error([&] { run_audit(dataset_, options); }, MATNN_ERROR_INVALID_ARGUMENT, {"tolerance"});
  // What `matnn audit` checks before any work: -o may not replace the dataset or the split.
  expect_error([&] { check_output_paths({{"dataset", dataset_}, {"--split", ""}}, {{"-o", dataset_}}); },
               MATNN_ERROR_INVALID_ARGUMENT, {"dataset"});
}

TEST_F(AuditJob, AStructureSpglibCannotDescribeIsNamedByIndex) {
  Structure overlap = fcc_conventional(Cu, 3.61);
  overlap.positions.row(1) = overlap.positions.row(0);
  overlap.positions(1, 0) += 1e-4;
  std::vector<Record> records{record(fcc_primitive(Cu, 3.61), 0, ""), record(overlap, 0, "")};
  const std::string bad = path("bad.h5");
  write_dataset(bad, records, {});
  expect_error([&] { run_audit(bad, {}); }, MATNN_ERROR_GEOMETRY, {"bad.h5", "structure 1", "spglib"});
}

}  // namespace
}  // namespace matnn::workflows
