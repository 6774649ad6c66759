// libFuzzer harness: the extended XYZ reader on arbitrary bytes. A matnn::Error (bad input,
// reported with a status) is the expected outcome; a crash, hang, leak, sanitizer report or any
// other exception is a finding.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto records = matnn::read_extxyz(in, "fuzz.xyz");
    for (const auto& r : records) r.structure.validate();
  } catch (const matnn::Error&) {
  }
  return 0;
}
