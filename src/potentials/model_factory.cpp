// The one place that knows every potential architecture by name.
#include "matnn/error.hpp"
#include "potentials/potential_model.hpp"

namespace matnn::potentials {

std::unique_ptr<PotentialModel> make_potential_model(const std::string& kind, const nlohmann::json& config,
                                                     const std::vector<int>& species, std::uint64_t seed) {
  (void)config;
  (void)species;
  (void)seed;
  fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown potential kind \"{}\"", kind);
}

}  // namespace matnn::potentials
