// Subcommands of the `matnn` executable. Each add_*_command registers its options and a callback
// on the application; errors are thrown as matnn::Error and turned into exit codes by main().
#pragma once

#include <map>
#include <string>

#include <vector>

#include <CLI/CLI.hpp>

#include "matnn/dataset.hpp"

namespace matnn::cli {

void add_convert_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_seal_command(CLI::App& app);
void add_split_command(CLI::App& app);
void add_embed_command(CLI::App& app);
void add_similar_command(CLI::App& app);
void add_kim_commands(CLI::App& app);
void add_audit_command(CLI::App& app);
void add_plot_command(CLI::App& app);
void add_import_command(CLI::App& app);  // spectra and images from instrument files  // runs python3 -m matnn.plot (cmd_plot.cpp)

/// Thrown by a command that ran to completion but must exit with a nonzero status that is not an
/// error (`matnn audit --strict` with findings): main() returns `status` and prints nothing.
struct CommandExit {
  int status;
};

/// Prints metrics one per line (confusion-matrix entries cm_i_j are left to the caller).
void print_metric_table(const std::map<std::string, double>& metrics);

/// Units of user labels from "NAME=UNIT" arguments (--unit); MATNN_ERROR_INVALID_ARGUMENT for
/// another shape.
DatasetWriteOptions parse_units(const std::vector<std::string>& specs);

/// File formats the command line reads and writes, chosen by extension unless given.
enum class FileFormat { extxyz, hdf5 };
/// "extxyz" | "hdf5" | "" (guess from the extension: .xyz/.extxyz, .h5/.hdf5).
FileFormat resolve_format(const std::string& path, const std::string& explicit_format);

}  // namespace matnn::cli
