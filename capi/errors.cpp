// Versions, status names and the last-error messages: per thread, and per handle.
#include <string>

#include "internal.hpp"
#include "matnn/matnn_version.h"

namespace {

thread_local std::string t_last_error;
// matnn_model_last_error() hands out a copy, so that another thread failing on the same handle
// cannot free the text the caller is reading.
thread_local std::string t_handle_error;

}  // namespace

namespace matnn::capi {

void record_error(const char* function, const matnn_model* model, const char* message) noexcept {
  try {
    std::string text = fmt::format("{}: {}", function, message);
    if (model != nullptr) {
      const std::lock_guard lock(model->error_mutex);
      model->last_error = text;
    }
    t_last_error = std::move(text);
  } catch (...) {
    // Out of memory while reporting: the status still tells the host what happened.
  }
}

}  // namespace matnn::capi

extern "C" {

MATNN_API const char* matnn_version(void) { return MATNN_VERSION_STRING; }

MATNN_API int matnn_abi_version(void) { return MATNN_ABI_VERSION; }

MATNN_API const char* matnn_status_string(matnn_status status) {
  const int value = matnn::capi::enum_value(status);
  // Keep in step with status.h when a code is appended.
  const bool known = (value >= MATNN_SUCCESS && value <= MATNN_ERROR_OUT_OF_MEMORY) || value == MATNN_ERROR_INTERNAL;
  return known ? matnn::status_name(static_cast<matnn_status>(value)) : "MATNN_ERROR_UNKNOWN_STATUS";
}

MATNN_API const char* matnn_last_error(void) { return t_last_error.c_str(); }

MATNN_API const char* matnn_model_last_error(const matnn_model* model) {
  if (model == nullptr) return nullptr;
  try {
    const std::lock_guard lock(model->error_mutex);
    t_handle_error = model->last_error;
  } catch (...) {
    t_handle_error.clear();
  }
  return t_handle_error.c_str();
}

}  // extern "C"
