// Shared by the libFuzzer harnesses: the input bytes as a file, for readers that take a path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include <unistd.h>

namespace matnn::fuzz {

/// Writes the bytes to a file private to this process (one path, rewritten every run) and
/// returns its path; `extension` selects the reader where the extension matters.
inline std::string as_file(const std::uint8_t* data, std::size_t size, const std::string& extension) {
  const std::string path = "/tmp/matnn-fuzz-" + std::to_string(getpid()) + extension;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                 static_cast<std::streamsize>(size));
  return path;
}

}  // namespace matnn::fuzz
