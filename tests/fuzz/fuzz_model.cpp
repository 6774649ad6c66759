// libFuzzer harness: the model-file loader a host reaches through matnn_model_load (kind, then
// the potential or any property model) on arbitrary bytes written to a file. A matnn::Error
// is the expected outcome for a bad file; anything else is a finding.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "matnn/error.hpp"
#include "models/property_model.hpp"
#include "models/state_file.hpp"
#include "potentials/potential.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = matnn::fuzz::as_file(data, size, ".h5");
  try {
    const std::string kind = matnn::models::read_model_kind(path);
    if (kind == matnn::potentials::Potential::file_kind) {
      (void)matnn::potentials::Potential::load(path);
    } else if (matnn::models::is_property_model_kind(kind)) {
      (void)matnn::models::load_property_model(path);
    }
  } catch (const matnn::Error&) {
  }
  return 0;
}
