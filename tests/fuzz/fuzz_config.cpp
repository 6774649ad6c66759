// libFuzzer harness: the YAML/JSON config reader and the training-section checks every job runs
// first, on arbitrary bytes. A matnn::Error is the expected outcome for a bad config; anything
// else is a finding.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "matnn/error.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = matnn::fuzz::as_file(data, size, ".yaml");
  try {
    const matnn::train::Json config = matnn::train::load_config_file(path);
    const matnn::train::ConfigSection root(config, "");
    (void)matnn::train::TrainerOptions::from_config(root.section("training"),
                                                    config.value("optimizer", matnn::train::Json::object()),
                                                    config.value("schedule", matnn::train::Json::object()));
  } catch (const matnn::Error&) {
  }
  return 0;
}
