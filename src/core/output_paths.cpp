#include "matnn/output_paths.hpp"

#include <filesystem>
#include <system_error>

#include "matnn/error.hpp"

namespace matnn {
namespace {

namespace fs = std::filesystem;

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    const bool same = fs::equivalent(a, b, ec);
    if (!ec) return same;
  }
  const fs::path ra = fs::weakly_canonical(fs::absolute(a), ec);
  const fs::path rb = fs::weakly_canonical(fs::absolute(b), ec);
  return ra == rb;
}

void check_folder(const NamedPath& output) {
  std::error_code ec;
  if (fs::is_directory(output.path, ec)) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} {} is a folder, not a file name", output.role, output.path);
  }
  fs::path folder = fs::path(output.path).parent_path();
  if (folder.empty()) folder = ".";
  if (!fs::is_directory(folder, ec)) {
    fail(MATNN_ERROR_IO, "{} {}: the folder {} does not exist (create it first)", output.role,
         output.path, folder.string());
  }
}

}  // namespace

void check_output_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const NamedPath& out = outputs[k];
    if (out.path.empty()) continue;
    check_folder(out);
    for (const NamedPath& in : inputs) {
      if (!in.path.empty() && same_file(out.path, in.path)) {
        fail(MATNN_ERROR_INVALID_ARGUMENT, "{} {} is the same file as the {} {}: writing it would destroy the input",
             out.role, out.path, in.role, in.path);
      }
    }
    for (std::size_t j = 0; j < k; ++j) {
      if (!outputs[j].path.empty() && same_file(out.path, outputs[j].path)) {
        fail(MATNN_ERROR_INVALID_ARGUMENT, "{} {} is the same file as the {} {}", out.role, out.path, outputs[j].role,
             outputs[j].path);
      }
    }
  }
}

}  // namespace matnn
