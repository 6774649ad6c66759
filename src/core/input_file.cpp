#include "matnn/input_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "matnn/error.hpp"

namespace matnn {

void check_input_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail(MATNN_ERROR_IO, "{}: no such file", path);
  if (std::filesystem::is_directory(status)) fail(MATNN_ERROR_IO, "{}: is a directory, not {}", path, what);
  std::ifstream probe(path, std::ios::binary);
  if (!probe) fail(MATNN_ERROR_IO, "{}: cannot open for reading ({})", path, std::strerror(errno));
}

}  // namespace matnn
