// Retraining from a host: a config file in, a model file out, progress through a C callback.
#include <cmath>
#include <limits>

#include "internal.hpp"
#include "parallel/communicator.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"
#include "workflows/job_common.hpp"
#include "workflows/potential_job.hpp"

namespace {

using matnn::fail;
using matnn::train::Json;

int configured_epochs(const Json& config) {
  const auto training = config.find("training");
  if (training != config.end() && training->is_object()) {
    const auto epochs = training->find("epochs");
    if (epochs != training->end() && epochs->is_number_integer()) return epochs->get<int>();
  }
  return matnn::train::TrainerOptions{}.epochs;
}

// The body of matnn_train() and matnn_train_comm(): the same job on one rank or on several.
matnn_status train_job(const char* function, const char* config_path, const char* output_model_path,
                       matnn_progress_callback callback, void* user_data, const int* fortran_comm) {
  return matnn::capi::guarded(function, nullptr, [&] {
    matnn::capi::require(config_path, "config_path");
    matnn::workflows::TrainJobOptions job;
    // First, so that a build without MPI refuses a communicator before reading anything.
    if (fortran_comm != nullptr) job.communicator = matnn::parallel::Communicator::from_fortran_handle(*fortran_comm);
    Json config = matnn::train::load_config_file(config_path);
    if (!config.is_object()) fail(MATNN_ERROR_FORMAT, "{}: a training config must be a mapping", config_path);
    if (output_model_path != nullptr) {
      if (!config.contains("output") || !config["output"].is_object()) config["output"] = Json::object();
      config["output"]["model"] = output_model_path;
    }
    job.print_progress = false;
    if (callback != nullptr) {
      const int epochs = configured_epochs(config);
      job.on_epoch = [=](const matnn::train::EpochRecord& record) {
        const auto loss = record.validation.find("loss");
        const double validation_loss =
            loss != record.validation.end() ? loss->second : std::numeric_limits<double>::quiet_NaN();
        return callback(record.epoch + 1, epochs, record.train_loss, validation_loss, user_data) == 0;
      };
    }
    // The same dispatch as `matnn train`.
    matnn::workflows::train_model(config, job);
  });
}

}  // namespace

extern "C" {

MATNN_API matnn_status matnn_train(const char* config_path, const char* output_model_path,
                                   matnn_progress_callback callback, void* user_data) {
  return train_job(__func__, config_path, output_model_path, callback, user_data, nullptr);
}

MATNN_API matnn_status matnn_train_comm(const char* config_path, const char* output_model_path, int fortran_comm,
                                        matnn_progress_callback callback, void* user_data) {
  return train_job(__func__, config_path, output_model_path, callback, user_data, &fortran_comm);
}

}  // extern "C"
