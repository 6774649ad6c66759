// The one exception type of the C++ engine. Every failure that a user can cause is a
// matnn::Error with a status from status.h, so the C ABI and the command line can turn it into
// a stable number without parsing messages.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "matnn/status.h"

namespace matnn {

class Error : public std::runtime_error {
 public:
  Error(matnn_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}

  matnn_status status() const noexcept { return status_; }

 private:
  matnn_status status_;
};

/// Throws matnn::Error with a message formatted by fmt, e.g.
/// `fail(MATNN_ERROR_FORMAT, "{}:{}: expected {} columns", path, line, n);`
template <typename... Args>
[[noreturn]] void fail(matnn_status status, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(status, fmt::format(format, std::forward<Args>(args)...));
}

/// The symbolic name of a status code, e.g. "MATNN_ERROR_FORMAT".
const char* status_name(matnn_status status) noexcept;

}  // namespace matnn
