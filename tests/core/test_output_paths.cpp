// check_output_paths: an output that is an input (by identity or by resolved path), two outputs
// that are one file, and outputs in missing folders are refused; distinct files pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "matnn/error.hpp"
#include "matnn/output_paths.hpp"

namespace matnn {
namespace {

namespace fs = std::filesystem;

class OutputPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: CTest runs the tests of this file in parallel.
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("matnn_output_paths_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sub");
    std::ofstream(dir_ / "in.h5") << "data";
  }
  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  static matnn_status status_of(const std::vector<NamedPath>& in, const std::vector<NamedPath>& out) {
    try {
      check_output_paths(in, out);
    } catch (const Error& e) {
      return e.status();
    }
    return MATNN_SUCCESS;
  }
  fs::path dir_;
};

TEST_F(OutputPaths, RefusesAnOutputThatIsAnInputHoweverItIsSpelt) {
  const std::vector<NamedPath> in{{"dataset", at("in.h5")}};
  EXPECT_EQ(status_of(in, {{"-o", at("in.h5")}}), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of(in, {{"-o", at("sub/../in.h5")}}), MATNN_ERROR_INVALID_ARGUMENT);
  fs::create_symlink(at("in.h5"), at("link.h5"));
  EXPECT_EQ(status_of(in, {{"-o", at("link.h5")}}), MATNN_ERROR_INVALID_ARGUMENT);
  fs::create_hard_link(at("in.h5"), at("hard.h5"));
  EXPECT_EQ(status_of(in, {{"-o", at("hard.h5")}}), MATNN_ERROR_INVALID_ARGUMENT);
  // An input that does not exist yet (checked later by its reader) still may not be an output.
  EXPECT_EQ(status_of({{"dataset", at("later.h5")}}, {{"-o", at("./later.h5")}}), MATNN_ERROR_INVALID_ARGUMENT);
  try {
    check_output_paths(in, {{"output.model", at("in.h5")}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output.model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("dataset"), std::string::npos) << e.what();
  }
}

TEST_F(OutputPaths, RefusesTwoOutputsInOneFileAndMissingFolders) {
  EXPECT_EQ(status_of({}, {{"output.model", at("m.h5")}, {"output.log", at("sub/../m.h5")}}),
            MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({}, {{"-o", at("nowhere/p.csv")}}), MATNN_ERROR_IO);
  EXPECT_EQ(status_of({}, {{"-o", at("sub")}}), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST_F(OutputPaths, AcceptsDistinctFilesAndSkipsPathsNotGiven) {
  EXPECT_EQ(status_of({{"dataset", at("in.h5")}, {"model.init_from", ""}},
                      {{"output.model", at("m.h5")}, {"output.log", at("m.h5.log.csv")}, {"output.checkpoint", ""}}),
            MATNN_SUCCESS);
  EXPECT_EQ(status_of({{"dataset", at("in.h5")}}, {{"-o", at("sub/in.h5")}}), MATNN_SUCCESS);
}

}  // namespace
}  // namespace matnn
