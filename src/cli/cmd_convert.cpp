// matnn convert: extended XYZ <-> HDF5 dataset (and either to itself, to normalise a file).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/output_paths.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"

namespace matnn::cli {

FileFormat resolve_format(const std::string& path, const std::string& explicit_format) {
  if (explicit_format == "extxyz") return FileFormat::extxyz;
  if (explicit_format == "hdf5") return FileFormat::hdf5;
  if (!explicit_format.empty()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown format \"{}\" (use extxyz or hdf5)", explicit_format);
  }
  auto ends_with = [&](const char* suffix) { return path.ends_with(suffix); };
  if (ends_with(".xyz") || ends_with(".extxyz")) return FileFormat::extxyz;
  if (ends_with(".h5") || ends_with(".hdf5")) return FileFormat::hdf5;
  fail(MATNN_ERROR_INVALID_ARGUMENT,
       "{}: cannot tell the format from the extension (.xyz/.extxyz or .h5/.hdf5); give --from/--to", path);
}

DatasetWriteOptions parse_units(const std::vector<std::string>& specs) {
  DatasetWriteOptions options;
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "--unit expects NAME=UNIT, got \"{}\"", spec);
    }
    options.units[spec.substr(0, eq)] = spec.substr(eq + 1);
  }
  return options;
}

namespace {

struct ConvertOptions {
  std::string input, output, from, to;
  ExtxyzKeys keys;
  std::vector<std::string> units;  // NAME=UNIT
  bool append = false;
};

// A key named on the command line that no frame carries is a typo or the wrong file: refusing
// it beats writing a dataset without the labels the user asked for.
void check_keys_found(const ConvertOptions& o, const std::vector<Record>& records) {
  const ExtxyzKeys defaults;
  const std::pair<const std::string*, const char*> named[] = {
      {&o.keys.energy, "energy"}, {&o.keys.free_energy, "free_energy"}, {&o.keys.stress, "stress"},
      {&o.keys.virial, "virial"}};
  for (const auto& [key, label] : named) {
    const bool given = *key != (std::string(label) == "energy"        ? defaults.energy
                                : std::string(label) == "free_energy" ? defaults.free_energy
                                : std::string(label) == "stress"      ? defaults.stress
                                                                      : defaults.virial);
    if (!given) continue;
    const char* property = label;  // a structured binding cannot be captured by a lambda (clang 14)
    const bool found =
        std::any_of(records.begin(), records.end(), [&](const Record& r) { return r.properties.count(property) > 0; });
    if (!found) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: no frame has the key \"{}\" given with --{}-key", o.input, *key,
           std::string(label) == "free_energy" ? "free-energy" : label);
    }
  }
  if (o.keys.forces != defaults.forces) {
    const bool found = std::any_of(records.begin(), records.end(), [](const Record& r) { return r.forces() != nullptr; });
    if (!found) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: no frame has the per-atom column \"{}\" given with --forces-key", o.input, o.keys.forces);
  }
}

void run_convert(const ConvertOptions& o) {
  const FileFormat from = resolve_format(o.input, o.from);
  const FileFormat to = resolve_format(o.output, o.to);
  const DatasetWriteOptions write_options = parse_units(o.units);
  if (o.append && to != FileFormat::hdf5) fail(MATNN_ERROR_INVALID_ARGUMENT, "--append needs an HDF5 output");
  check_output_paths({{"input", o.input}}, {{"output", o.output}});

  const std::vector<Record> records =
      from == FileFormat::extxyz ? read_extxyz(o.input, o.keys) : DatasetReader(o.input).read_all();
  if (from == FileFormat::extxyz) check_keys_found(o, records);

  if (to == FileFormat::extxyz) {
    write_extxyz(o.output, records, o.keys);
  } else if (o.append) {
    append_dataset(o.output, records, write_options);
  } else {
    write_dataset(o.output, records, write_options);
  }
  std::size_t atoms = 0;
  for (const auto& r : records) atoms += r.structure.size();
  fmt::print("{} {} structures ({} atoms) from {} to {}\n", o.append ? "appended" : "wrote", records.size(), atoms,
             o.input, o.output);
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto options = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert between extended XYZ and the matnn HDF5 dataset");
  cmd->add_option("input", options->input, "Input file (.xyz/.extxyz or .h5/.hdf5)")->required();
  cmd->add_option("output", options->output, "Output file, written atomically")->required();
  cmd->add_option("--from", options->from, "Input format: extxyz or hdf5 (default: from the extension)");
  cmd->add_option("--to", options->to, "Output format: extxyz or hdf5 (default: from the extension)");
  cmd->add_option("--energy-key", options->keys.energy, "extxyz key of the energy (e.g. REF_energy)")
      ->capture_default_str();
  cmd->add_option("--forces-key", options->keys.forces, "extxyz key of the forces (e.g. REF_forces)")
      ->capture_default_str();
  cmd->add_option("--stress-key", options->keys.stress, "extxyz key of the stress (e.g. REF_stress)")
      ->capture_default_str();
  cmd->add_option("--free-energy-key", options->keys.free_energy, "extxyz key of the free energy")
      ->capture_default_str();
  cmd->add_option("--virial-key", options->keys.virial,
                  "extxyz key of the virial (9 numbers, eV); stress = -virial / volume where a frame has no stress")
      ->capture_default_str();
  cmd->add_option("--unit", options->units, "Unit of a user label in the HDF5 output, NAME=UNIT (repeatable)");
  cmd->add_flag("--append", options->append, "Append to an existing HDF5 dataset instead of replacing it");
  cmd->callback([options] { run_convert(*options); });
}

}  // namespace matnn::cli
