// The one dispatch from a config's model.kind to its training job.
#include "autodiff/subnormals.hpp"
#include "matnn/error.hpp"
#include "models/property_model.hpp"
#include "workflows/job_common.hpp"
#include "workflows/potential_job.hpp"
#include "workflows/property_job.hpp"
#include "workflows/training_parts.hpp"

namespace matnn::workflows {

TrainJobResult train_model(const train::Json& config, const TrainJobOptions& options) {
  if (!config.is_object()) fail(MATNN_ERROR_FORMAT, "a training config must be a mapping");
  // Property models unless model.kind names a potential; composition_mlp when none is given.
  std::string kind = "composition_mlp";
  if (const auto model = config.find("model"); model != config.end() && model->is_object()) {
    if (const auto k = model->find("kind"); k != model->end()) {
      if (!k->is_string()) fail(MATNN_ERROR_INVALID_ARGUMENT, "model.kind must be a string");
      kind = k->get<std::string>();
    }
  }
  // Every kind trains with subnormals flushed: one in a GEMM operand costs a microcode assist per
  // product (autodiff/subnormals.hpp).
  const ad::FlushSubnormals flush;
  const bool property_model = models::is_property_model_kind(kind);
  if (config.contains("continue_with")) {
    if (property_model) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "continue_with trains potentials in parts; a {} model trains in one", kind);
    }
    return train_in_parts(config, options);
  }
  return property_model ? train_property_model(config, options) : train_potential(config, options);
}

}  // namespace matnn::workflows
