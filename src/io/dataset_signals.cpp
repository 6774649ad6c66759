#include "dataset_signals.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dataset_layout.hpp"
#include "matnn/error.hpp"

namespace matnn::signals {

namespace {

std::string group_path(const std::string& name) { return fmt::format("/{}/{}", layout::signals, name); }

std::string shape_text(const std::vector<std::int64_t>& shape) { return fmt::format("{}", fmt::join(shape, " x ")); }

h5::CreateOptions create_options() {
  h5::CreateOptions options;
  options.gzip_level = layout::gzip_level;
  return options;
}

hsize_t row_elements(const SignalSpec& spec) {
  hsize_t n = 1;
  for (std::int64_t extent : spec.shape) n *= static_cast<hsize_t>(extent);
  return n;
}

/// Why two descriptions of one signal differ, or "" when they agree.
std::string difference(const SignalSpec& a, const SignalSpec& b) {
  if (a.kind != b.kind) return fmt::format("a {} and an {}", signal_kind_name(a.kind), signal_kind_name(b.kind));
  if (a.shape != b.shape) return fmt::format("shape {} and {}", shape_text(a.shape), shape_text(b.shape));
  if (a.axis_unit != b.axis_unit) return fmt::format("unit \"{}\" and \"{}\"", a.axis_unit, b.axis_unit);
  if (a.kind == SignalKind::spectrum) {
    if (a.axis_name != b.axis_name) return fmt::format("axis \"{}\" and \"{}\"", a.axis_name, b.axis_name);
    if (*a.axis != *b.axis)
      return "different axis grids (resample the spectra onto one grid before storing them together)";
  }
  return "";
}

SignalSpec spec_of(const std::string& name, const Signal& s) {
  return {name, s.kind, s.shape, s.axis, s.kind == SignalKind::spectrum ? s.axis_name : "", s.axis_unit, false};
}

}  // namespace

std::map<std::string, SignalSpec> read_specs(const h5::Hdf5Context& ctx, hid_t file, hsize_t rows) {
  std::map<std::string, SignalSpec> specs;
  if (!ctx.exists(file, layout::signals)) return specs;
  h5::Group signals = ctx.open_group(file, layout::signals);
  for (const std::string& name : ctx.children(signals.get(), fmt::format("/{}", layout::signals))) {
    const std::string where = group_path(name);
    if (!ctx.is_group(signals.get(), name))
      fail(MATNN_ERROR_FORMAT, "{}: {} is not a group with values and present", ctx.path(), where);
    h5::Group group = ctx.open_group(signals.get(), name);
    if (!ctx.has_attribute(group.get(), layout::attr_kind))
      fail(MATNN_ERROR_FORMAT, "{}: {} has no \"kind\" attribute (spectrum or image)", ctx.path(), where);
    SignalSpec spec;
    spec.name = name;
    spec.in_file = true;
    try {
      spec.kind = signal_kind_from_name(ctx.read_string_attribute(group.get(), where, layout::attr_kind));
    } catch (const Error& e) {
      fail(MATNN_ERROR_FORMAT, "{}: {}: {}", ctx.path(), where, e.what());
    }
    for (const char* member : {layout::values, layout::present})
      if (!ctx.exists(group.get(), member))
        fail(MATNN_ERROR_FORMAT, "{}: dataset {}/{} is missing", ctx.path(), where, member);
    const std::string values_name = where + "/" + layout::values;
    h5::Dataset values = ctx.open_dataset(group.get(), layout::values);
    const std::vector<hsize_t> shape = ctx.shape(values, values_name);
    const std::size_t rank = spec.kind == SignalKind::spectrum ? 3 : 4;
    if (shape.size() != rank)
      fail(MATNN_ERROR_FORMAT, "{}: {} has {} dimensions; a {} signal has {}", ctx.path(), values_name, shape.size(),
           signal_kind_name(spec.kind), rank);
    if (shape[0] != rows)
      fail(MATNN_ERROR_FORMAT, "{}: {} has {} rows but the dataset has {} structures", ctx.path(), values_name,
           shape[0], rows);
    spec.shape.assign(shape.begin() + 1, shape.end());
    h5::Dataset present = ctx.open_dataset(group.get(), layout::present);
    if (ctx.shape(present, where + "/present") != std::vector<hsize_t>{rows})
      fail(MATNN_ERROR_FORMAT, "{}: {}/present does not have one entry per structure ({})", ctx.path(), where, rows);
    if (spec.kind == SignalKind::spectrum) {
      const std::string axis_name = where + "/" + layout::axis;
      if (!ctx.exists(group.get(), layout::axis))
        fail(MATNN_ERROR_FORMAT, "{}: dataset {} is missing (a spectrum needs its axis)", ctx.path(), axis_name);
      h5::Dataset axis = ctx.open_dataset(group.get(), layout::axis);
      const std::vector<hsize_t> axis_shape = ctx.shape(axis, axis_name);
      if (axis_shape != std::vector<hsize_t>{static_cast<hsize_t>(spec.shape[1])})
        fail(MATNN_ERROR_FORMAT, "{}: {} must hold one position per point ({})", ctx.path(), axis_name, spec.shape[1]);
      auto grid = std::make_shared<std::vector<double>>(static_cast<std::size_t>(spec.shape[1]));
      ctx.read_rows(axis, axis_name, h5::RowRange{0, axis_shape[0]}, 1, grid->data());
      spec.axis = std::move(grid);
      if (ctx.has_attribute(axis.get(), layout::attr_axis_name))
        spec.axis_name = ctx.read_string_attribute(axis.get(), axis_name, layout::attr_axis_name);
      if (ctx.has_attribute(axis.get(), layout::attr_units))
        spec.axis_unit = ctx.read_string_attribute(axis.get(), axis_name, layout::attr_units);
    } else {
      const std::string pixel_name = where + "/" + layout::pixel_size;
      if (!ctx.exists(group.get(), layout::pixel_size))
        fail(MATNN_ERROR_FORMAT, "{}: dataset {} is missing (an image needs its pixel size)", ctx.path(), pixel_name);
      h5::Dataset pixel = ctx.open_dataset(group.get(), layout::pixel_size);
      if (ctx.shape(pixel, pixel_name) != std::vector<hsize_t>{rows})
        fail(MATNN_ERROR_FORMAT, "{}: {} does not have one entry per structure ({})", ctx.path(), pixel_name, rows);
      if (ctx.has_attribute(pixel.get(), layout::attr_units))
        spec.axis_unit = ctx.read_string_attribute(pixel.get(), pixel_name, layout::attr_units);
    }
    specs.emplace(name, std::move(spec));
  }
  return specs;
}

void plan(const std::string& path, std::span<const Record> records, std::map<std::string, SignalSpec>& specs) {
  std::map<std::string, std::size_t> first_seen;
  for (std::size_t i = 0; i < records.size(); ++i)
    for (const auto& [name, signal] : records[i].signals) {
      if (name.empty() || name == "." || name.find('/') != std::string::npos)
        fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: structure {}: signal name \"{}\" cannot be stored", path, i, name);
      const SignalSpec mine = spec_of(name, signal);
      const auto [it, inserted] = specs.try_emplace(name, mine);
      if (inserted) {
        first_seen[name] = i;
        continue;
      }
      const std::string why = difference(it->second, mine);
      if (!why.empty()) {
        const auto seen = first_seen.find(name);
        fail(MATNN_ERROR_FORMAT, "{}: signal \"{}\" of structure {} differs from the one in {}: {}", path, name, i,
             seen == first_seen.end() ? std::string("the file") : fmt::format("structure {}", seen->second), why);
      }
      first_seen.try_emplace(name, i);
    }
}

SignalColumn create(const h5::Hdf5Context& ctx, hid_t file, const SignalSpec& spec, hsize_t rows) {
  const h5::CreateOptions options = create_options();
  if (!ctx.exists(file, layout::signals)) ctx.create_group(file, layout::signals);
  h5::Group parent = ctx.open_group(file, layout::signals);
  h5::Group group = ctx.create_group(parent.get(), spec.name);
  SignalColumn column;
  column.spec = &spec;
  column.group = group_path(spec.name);
  ctx.write_string_attribute(group.get(), column.group, layout::attr_kind, signal_kind_name(spec.kind));
  std::vector<hsize_t> row_shape(spec.shape.begin(), spec.shape.end());
  column.values = ctx.create_dataset<float>(group.get(), layout::values, rows, row_shape,
                                            std::numeric_limits<float>::quiet_NaN(), options);
  column.present = ctx.create_dataset<std::uint8_t>(group.get(), layout::present, rows, {}, 0, options);
  if (spec.kind == SignalKind::spectrum) {
    h5::Dataset axis = ctx.create_dataset<double>(group.get(), layout::axis, spec.axis->size(), {}, 0.0, options);
    const std::string axis_path = column.group + "/" + layout::axis;
    ctx.write_rows(axis, axis_path, 0, spec.axis->size(), 1, spec.axis->data());
    ctx.write_string_attribute(axis.get(), axis_path, layout::attr_axis_name, spec.axis_name);
    ctx.write_string_attribute(axis.get(), axis_path, layout::attr_units, spec.axis_unit);
  } else {
    column.pixel_size = ctx.create_dataset<double>(group.get(), layout::pixel_size, rows, {},
                                                   std::numeric_limits<double>::quiet_NaN(), options);
    ctx.write_string_attribute(column.pixel_size.get(), column.group + "/" + layout::pixel_size, layout::attr_units,
                               spec.axis_unit);
  }
  return column;
}

SignalColumn open(const h5::Hdf5Context& ctx, hid_t file, const SignalSpec& spec, hsize_t rows) {
  SignalColumn column;
  column.spec = &spec;
  column.group = group_path(spec.name);
  auto open_member = [&](const char* member) {
    const std::string name = column.group + "/" + member;
    h5::Dataset d = ctx.open_dataset(file, name);
    if (rows > 0) ctx.extend(d, name, rows);
    return d;
  };
  column.values = open_member(layout::values);
  column.present = open_member(layout::present);
  if (spec.kind == SignalKind::image) column.pixel_size = open_member(layout::pixel_size);
  return column;
}

void write_rows(const h5::Hdf5Context& ctx, const SignalColumn& column, std::span<const Record> block,
                hsize_t first_row) {
  const SignalSpec& spec = *column.spec;
  const hsize_t width = row_elements(spec);
  const std::size_t b = block.size();
  std::vector<float> values(b * width, std::numeric_limits<float>::quiet_NaN());
  std::vector<std::uint8_t> present(b, 0);
  std::vector<double> pixel(b, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t j = 0; j < b; ++j) {
    const auto it = block[j].signals.find(spec.name);
    if (it == block[j].signals.end()) continue;
    present[j] = 1;
    std::copy(it->second.values.begin(), it->second.values.end(), values.begin() + static_cast<std::ptrdiff_t>(j * width));
    pixel[j] = it->second.pixel_size;
  }
  ctx.write_rows(column.values, column.group + "/values", first_row, b, width, values.data());
  ctx.write_rows(column.present, column.group + "/present", first_row, b, 1, present.data());
  if (spec.kind == SignalKind::image)
    ctx.write_rows(column.pixel_size, column.group + "/pixel_size", first_row, b, 1, pixel.data());
}

void read_rows(const h5::Hdf5Context& ctx, const SignalColumn& column, const std::vector<h5::RowRange>& runs,
               std::vector<Record>& records) {
  const SignalSpec& spec = *column.spec;
  const std::size_t n = records.size();
  std::vector<std::uint8_t> present(n);
  ctx.read_rows(column.present, column.group + "/present", runs, 1, present.data());
  if (std::none_of(present.begin(), present.end(), [](std::uint8_t p) { return p != 0; })) return;
  const hsize_t width = row_elements(spec);
  std::vector<float> values(n * width);
  ctx.read_rows(column.values, column.group + "/values", runs, width, values.data());
  std::vector<double> pixel(n, 0.0);
  if (spec.kind == SignalKind::image)
    ctx.read_rows(column.pixel_size, column.group + "/pixel_size", runs, 1, pixel.data());
  std::size_t j = 0;
  for (const h5::RowRange& run : runs)
    for (hsize_t row = run.begin; row < run.end; ++row, ++j) {
      if (!present[j]) continue;
      const float* begin = values.data() + j * width;
      if (!std::all_of(begin, begin + width, [](float v) { return std::isfinite(v); }))
        fail(MATNN_ERROR_NON_FINITE, "{}: {}/values of structure {} is marked present but holds a non-finite value",
             ctx.path(), column.group, row);
      if (spec.kind == SignalKind::image && !(pixel[j] > 0 && std::isfinite(pixel[j])))
        fail(MATNN_ERROR_FORMAT, "{}: {}/pixel_size of structure {} is {}, not a positive length", ctx.path(),
             column.group, row, pixel[j]);
      Signal s;
      s.kind = spec.kind;
      s.shape = spec.shape;
      s.values.assign(begin, begin + width);
      s.axis = spec.axis;
      s.axis_name = spec.axis_name;
      s.axis_unit = spec.axis_unit;
      s.pixel_size = spec.kind == SignalKind::image ? pixel[j] : 0.0;
      records[j].signals.emplace(spec.name, std::move(s));
    }
}

}  // namespace matnn::signals
