#include <fstream>

#include <gtest/gtest.h>

#include "test_helpers.hpp"
#include "train/config.hpp"

namespace matnn::train {
namespace {

using matnn::testing::status_of;
using matnn::testing::TempDir;

TEST(Config, YamlAndJsonGiveTheSameDocument) {
  TempDir dir;
  std::ofstream(dir / "c.yaml") << "dataset: data.h5\nmodel:\n  hidden: [64, 32]\n  dropout: 0.1\n  name: '42'\n"
                                   "training:\n  epochs: 10\n  verbose: true\n";
  std::ofstream(dir / "c.json") << R"({"dataset": "data.h5", "model": {"hidden": [64, 32], "dropout": 0.1, "name": "42"},
                                     "training": {"epochs": 10, "verbose": true}})";
  EXPECT_EQ(load_config_file(dir / "c.yaml"), load_config_file(dir / "c.json"));
}

TEST(Config, SectionsCheckTypesAndUnknownKeys) {
  const Json j = {{"epochs", 10}, {"lr", -1.0}, {"hidden", {64, "x"}}, {"name", 3}, {"typo", 1}};
  const ConfigSection c(j, "training");
  EXPECT_EQ(c.integer("epochs", 1, 1), 10);
  EXPECT_EQ(c.integer("missing", 7, 0), 7);
  EXPECT_EQ(status_of([&] { c.positive("lr", 1.0); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { c.integers("hidden", {}); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { c.string("name", ""); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { c.integer("epochs", 1, 20); }), MATNN_ERROR_INVALID_ARGUMENT);
  try {
    c.finish();
    FAIL() << "unknown key accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("training.typo"), std::string::npos) << e.what();
  }
}

TEST(Config, BadFilesAreReported) {
  TempDir dir;
  EXPECT_EQ(status_of([&] { load_config_file(dir / "missing.yaml"); }), MATNN_ERROR_IO);
  std::ofstream(dir / "bad.yaml") << "model:\n  hidden: [64, 32\n";
  EXPECT_EQ(status_of([&] { load_config_file(dir / "bad.yaml"); }), MATNN_ERROR_FORMAT);
  std::ofstream(dir / "bad.json") << "{\"a\": }";
  EXPECT_EQ(status_of([&] { load_config_file(dir / "bad.json"); }), MATNN_ERROR_FORMAT);
  std::ofstream(dir / "list.yaml") << "- 1\n- 2\n";
  EXPECT_EQ(status_of([&] { load_config_file(dir / "list.yaml"); }), MATNN_ERROR_FORMAT);
  // Not UTF-8 (found by fuzz_config: the JSON library threw its own exception when a message
  // quoted the string). Valid multi-byte text is fine.
  std::ofstream(dir / "latin1.yaml") << "seed: 1\nmodel: {target: \"caf\xE9\"}\n";
  try {
    load_config_file(dir / "latin1.yaml");
    ADD_FAILURE() << "latin-1 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_FORMAT);
    EXPECT_NE(std::string(e.what()).find("latin1.yaml:2: not UTF-8"), std::string::npos) << e.what();
  }
  // Found by fuzz_config: YAML that passes as UTF-8 text but parses into a string that is not
  // (a NUL and control bytes inside a key); quoting it in a message made the JSON library throw.
  const std::string fuzzed("#0.1}\012training:\012  epochs: \023\023\023\023\023\023\023\023\023\023\023\023\023\016\023\023\023\023\023\023\023\023\023\023\023c\000_________________________________________________________________\023\023\023[[[[[[[[[[\\\\\\\\[W:rrinello.model.h5}\012", 157);
  std::ofstream(dir / "fuzzed.yaml", std::ios::binary) << fuzzed;
  EXPECT_EQ(status_of([&] { load_config_file(dir / "fuzzed.yaml"); }), MATNN_ERROR_FORMAT);
  // Overlong and surrogate forms are not UTF-8 either (also found by fuzz_config).
  for (const char* bad : {"\xE0\x9B\x9A", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    std::ofstream(dir / "overlong.yaml", std::ios::binary) << "model: {target: \"" << bad << "\"}\n";
    EXPECT_EQ(status_of([&] { load_config_file(dir / "overlong.yaml"); }), MATNN_ERROR_FORMAT) << bad;
  }
  std::ofstream(dir / "utf8.yaml") << "model: {target: \"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}\n";
  EXPECT_EQ(load_config_file(dir / "utf8.yaml")["model"]["target"], "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace matnn::train
