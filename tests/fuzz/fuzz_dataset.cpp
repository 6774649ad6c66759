// libFuzzer harness: the HDF5 dataset reader (open, summary, every record) on arbitrary bytes
// written to a file. A matnn::Error is the expected outcome for a bad file; anything else is a
// finding.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = matnn::fuzz::as_file(data, size, ".h5");
  try {
    const matnn::DatasetReader reader(path);
    (void)reader.read_all();
  } catch (const matnn::Error&) {
  }
  return 0;
}
