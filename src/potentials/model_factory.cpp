// The one place that knows every potential architecture by name.
#include "matnn/error.hpp"
#include "potentials/behler_parrinello.hpp"
#include "potentials/nequip/nequip_model.hpp"
#include "potentials/potential_model.hpp"

namespace matnn::potentials {

std::unique_ptr<PotentialModel> make_potential_model(const std::string& kind, const nlohmann::json& config,
                                                     const std::vector<int>& species, std::uint64_t seed) {
  if (kind == "behler_parrinello") return std::make_unique<BehlerParrinello>(config, species, seed);
  if (kind == "nequip") return std::make_unique<NequipModel>(config, species, seed);
  fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown potential kind \"{}\" (use behler_parrinello or nequip)", kind);
}

}  // namespace matnn::potentials
