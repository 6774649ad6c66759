// matnn import OUTPUT INPUT... --signal NAME: spectra (two-column text or CSV) or images (PNG, TIFF)
// into a dataset, with labels from a CSV table, so that measured data train and evaluate the
// spectrum and image models as generated data do.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "io/signal_files.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/output_paths.hpp"

namespace matnn::cli {
namespace {

struct ImportOptions {
  std::string output, signal, labels, axis_name = "2theta", axis_unit = "degree", pixel_unit = "nm";
  std::vector<std::string> inputs, units;
  double pixel_size = 0;
  bool append = false;
  bool axis_given = false, axis_unit_given = false, pixel_unit_given = false;  // set from the parser
};

void run_import(const ImportOptions& o) {
  if (o.signal.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "--signal names the signal the files become (e.g. xrd)");
  const bool images = image_reader_for(o.inputs.front()) != nullptr;
  for (const std::string& input : o.inputs)
    if ((image_reader_for(input) != nullptr) != images)
      fail(MATNN_ERROR_INVALID_ARGUMENT,
           "{}: the inputs mix images (PNG, TIFF) and text spectra; import each kind on its own", input);
  if (images && (o.axis_given || o.axis_unit_given))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "--axis-name and --axis-unit are for spectra, not images");
  if (!images && o.pixel_unit_given) fail(MATNN_ERROR_INVALID_ARGUMENT, "--pixel-unit is for images, not spectra");
  // A TIFF's resolution tags are not used: most say 72 dpi, a screen's, not the microscope's.
  if (images && !(o.pixel_size > 0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "images need --pixel-size (> 0)");
  if (!images && o.pixel_size > 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "--pixel-size is for images, not spectra");
  std::vector<NamedPath> inputs;
  for (const std::string& input : o.inputs) inputs.push_back({"input", input});
  inputs.push_back({"--labels", o.labels});
  check_output_paths(inputs, {{"output", o.output}});

  std::map<std::string, FileLabels> labels = o.labels.empty() ? std::map<std::string, FileLabels>{}
                                                              : read_label_table(o.labels);
  std::set<std::string> used;
  std::vector<Record> records;
  std::size_t unlabelled = 0;
  for (const std::string& input : o.inputs) {
    Record r;
    const ImageReader read_image = image_reader_for(input);
    Signal s = images ? read_image(input, o.pixel_size, o.pixel_unit) : read_spectrum_text(input, o.axis_name, o.axis_unit);
    if (!records.empty()) {
      const Signal& first = records.front().signals.at(o.signal);
      if (images && s.shape != first.shape)
        fail(MATNN_ERROR_FORMAT, "{}: {} x {} pixels ({} channels), but {} has {} x {} ({}): one signal holds one size",
             input, s.shape[1], s.shape[2], s.shape[0], o.inputs.front(), first.shape[1], first.shape[2], first.shape[0]);
      if (!images && *s.axis != *first.axis)
        fail(MATNN_ERROR_FORMAT, "{}: its positions differ from those of {}; one signal holds one grid (resample the "
             "spectra onto one grid first)", input, o.inputs.front());
      if (!images) s.axis = first.axis;  // one shared copy
    }
    r.signals.emplace(o.signal, std::move(s));
    r.tags["id"] = std::filesystem::path(input).stem().string();
    r.tags["file"] = input;
    auto it = labels.find(input);
    if (it == labels.end()) it = labels.find(std::filesystem::path(input).filename().string());
    if (it != labels.end()) {
      used.insert(it->first);
      for (const auto& [name, value] : it->second.properties) r.properties[name] = {value};
      for (const auto& [name, value] : it->second.tags) r.tags[name] = value;
    } else {
      ++unlabelled;
    }
    records.push_back(std::move(r));
  }
  for (const auto& [file, row] : labels)
    if (!used.contains(file))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: the labels of \"{}\" match no input file", o.labels, file);
  const DatasetWriteOptions options = parse_units(o.units);
  if (o.append) append_dataset(o.output, records, options);
  else write_dataset(o.output, records, options);
  fmt::print("{} {} {} as signal \"{}\" to {}{}\n", o.append ? "appended" : "wrote", records.size(),
             images ? "images" : "spectra", o.signal, o.output,
             unlabelled > 0 && !o.labels.empty() ? fmt::format(" ({} without labels)", unlabelled) : "");
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto options = std::make_shared<ImportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "import", "Spectra (two-column text or CSV) or images (PNG, TIFF) into a dataset, with labels from a CSV table");
  cmd->add_option("output", options->output, "Dataset to write (.h5), atomically")->required();
  cmd->add_option("inputs", options->inputs, "Spectrum files (.txt, .csv, .xy, ...) or images (.png, .tif, .tiff)")->required();
  cmd->add_option("--signal", options->signal, "Name of the signal in the dataset (e.g. xrd, sem)")->required();
  cmd->add_option("--labels", options->labels,
                  "CSV table: a \"file\" column (path as given or file name), then one column per label");
  cmd->add_option("--axis-name", options->axis_name, "Spectra: what the first column measures")->capture_default_str();
  cmd->add_option("--axis-unit", options->axis_unit, "Spectra: its unit")->capture_default_str();
  cmd->add_option("--pixel-size", options->pixel_size, "Images: the edge of one pixel, > 0");
  cmd->add_option("--pixel-unit", options->pixel_unit, "Images: the unit of --pixel-size")->capture_default_str();
  cmd->add_option("--unit", options->units, "Unit of a label, NAME=UNIT (repeatable)");
  cmd->add_flag("--append", options->append, "Append to an existing dataset instead of replacing it");
  cmd->callback([options, cmd] {
    options->axis_given = cmd->count("--axis-name") > 0;
    options->axis_unit_given = cmd->count("--axis-unit") > 0;
    options->pixel_unit_given = cmd->count("--pixel-unit") > 0;
    run_import(*options);
  });
}

}  // namespace matnn::cli
