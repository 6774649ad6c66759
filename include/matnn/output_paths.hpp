// Outputs that cannot destroy inputs. Every command and job lists the files it reads and the
// files it will write, and checks them before any work: an output that is one of its inputs (or
// another output) would replace the user's data with ours, and a missing output folder would
// only be found after the work is done.
#pragma once

#include <string>
#include <vector>

namespace matnn {

/// A file named on a command line or in a config, with the name the user knows it by
/// ("dataset", "output.model", "-o"). An empty path means "not given" and is skipped.
struct NamedPath {
  std::string role;
  std::string path;
};

/// Throws MATNN_ERROR_INVALID_ARGUMENT naming both roles when an output is the same file as an
/// input or as another output: the same file by identity (device and inode, so links and other
/// spellings are caught) when both exist, by resolved path otherwise; also when the output
/// itself is a folder. MATNN_ERROR_IO when an output's folder does not exist.
void check_output_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

}  // namespace matnn
