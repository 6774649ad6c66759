#pragma once
// Training a potential in parts: `continue_with` lists trainings that each start from the model
// the part before wrote (the Kalman filter, then Adam with stress and a late energy weight, as
// examples/configs/potentials/si_behler_parrinello.yaml does), so one config is the whole recipe.
#include "train/config.hpp"
#include "workflows/job_common.hpp"

namespace matnn::workflows {

/// Trains a potential config that has a `continue_with` list (docs/training-config.md). Part 1 is
/// the config without that list; part k + 1 is part 1's config with part k's model as
/// model.init_from and the `training`, `optimizer` and `schedule` sections of the list's k-th
/// entry. Parts before the last write <output.model>.part<k>.h5 (checkpoint and log beside it);
/// the last writes the config's outputs. With options.resume, a part whose model exists and whose
/// checkpoint does not (it finished) is kept, and the interrupted part resumes. Returns the last
/// part's result.
TrainJobResult train_in_parts(const train::Json& config, const TrainJobOptions& options);

}  // namespace matnn::workflows
