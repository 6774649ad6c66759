// Writing and appending matnn HDF5 datasets (layout: docs/dataset-format.md).
//
// Both go through AtomicFile: the HDF5 file is built (or copied and extended) under a temporary
// name beside the target and renamed over it only when complete, so the target is never seen
// half-written and a failure leaves whatever was there before untouched.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "dataset_layout.hpp"
#include "dataset_signals.hpp"
#include "hdf5_handle.hpp"
#include "hdf5_seal.hpp"
#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/version.hpp"

namespace matnn {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Structures and atoms written per HDF5 call: bounds the memory of the staging buffers.
constexpr std::size_t block_structures = 4096;
constexpr std::size_t block_atoms = 1 << 18;

struct LabelSpec {
  std::string name;
  bool per_atom = false;
  int width = 1;
  std::string unit;
  bool in_file = false;  ///< already in the file being appended to
};

/// The labels and tags of a set of records (and, when appending, of the file), in name order.
struct Plan {
  std::map<std::string, LabelSpec> labels;
  std::map<std::string, std::size_t> tags;  ///< name -> longest value in bytes
  std::set<std::string> tags_in_file;
  std::map<std::string, signals::SignalSpec> signals;
};

std::string label_group(const LabelSpec& label) {
  return fmt::format("/{}/{}", label.per_atom ? layout::atom_properties : layout::properties, label.name);
}

void check_name(const std::string& path, std::size_t index, const char* kind, const std::string& name) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "{}: structure {}: {} name \"{}\" cannot be stored (empty, \".\", or containing '/' or NUL)", path,
         index, kind, name);
  }
}

/// Record::validate() on every record, with the target path and the record's index in messages.
void validate_records(const std::string& path, std::span<const Record> records) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    try {
      records[i].validate();
    } catch (const Error& e) {
      throw Error(e.status(), fmt::format("{}: structure {}: {}", path, i, e.what()));
    }
  }
}

/// Collects the labels of `records` into `plan`, checking that each name keeps one kind and
/// width across records, and assigns units.
void plan_labels(const std::string& path, std::span<const Record> records, const DatasetWriteOptions& options,
                 Plan& plan) {
  std::map<std::string, std::size_t> first_seen;
  auto add = [&](std::size_t index, const std::string& name, bool per_atom, int width) {
    check_name(path, index, "label", name);
    const auto [it, inserted] = plan.labels.try_emplace(name);
    LabelSpec& label = it->second;
    if (inserted) {
      label.name = name;
      label.per_atom = per_atom;
      label.width = width;
      first_seen[name] = index;
      return;
    }
    const auto seen = first_seen.find(name);
    const std::string where = seen != first_seen.end() ? fmt::format("structure {}", seen->second) : "the file";
    const char* kind = per_atom ? "per atom" : "per structure";
    if (label.per_atom != per_atom) {
      fail(MATNN_ERROR_FORMAT, "{}: label \"{}\" is {} in structure {} but {} in {}", path, name, kind, index,
           label.per_atom ? "per atom" : "per structure", where);
    }
    if (label.width != width) {
      fail(MATNN_ERROR_FORMAT, "{}: label \"{}\" has {} values {} in structure {} but {} in {}", path, name, width,
           kind, index, label.width, where);
    }
    if (seen == first_seen.end()) first_seen[name] = index;
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    for (const auto& [name, values] : records[i].properties) add(i, name, false, static_cast<int>(values.size()));
    for (const auto& [name, values] : records[i].atom_properties) add(i, name, true, static_cast<int>(values.cols()));
    for (const auto& [name, value] : records[i].tags) {
      check_name(path, i, "tag", name);
      if (value.find('\0') != std::string::npos) {
        fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: structure {}: tag \"{}\" contains a NUL character", path, i, name);
      }
      std::size_t& longest = plan.tags[name];
      longest = std::max(longest, value.size());
    }
  }
  for (auto& [name, label] : plan.labels) {
    if (!first_seen.contains(name)) continue;  // only in the file: keeps its unit
    const std::string reserved = reserved_label_unit(name);
    const bool is_reserved = reserved_label_width(name) > 0;
    const auto given = options.units.find(name);
    std::string unit = label.unit;
    if (is_reserved) {
      if (given != options.units.end() && given->second != reserved) {
        fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: label \"{}\" is always in {}, not in the given unit \"{}\"", path,
             name, reserved, given->second);
      }
      unit = reserved;
    } else if (given != options.units.end()) {
      unit = given->second;
    } else if (!label.in_file) {
      unit.clear();
    }
    if (label.in_file && unit != label.unit) {
      fail(MATNN_ERROR_FORMAT, "{}: label \"{}\" is in \"{}\" in the file but in \"{}\" in the new records", path,
           name, label.unit, unit);
    }
    label.unit = unit;
  }
}

// The open datasets of a file being written.
struct LabelData {
  const LabelSpec* spec = nullptr;
  std::string values_name, present_name;
  h5::Dataset values, present;
};
struct TagData {
  std::string name;  ///< tag name
  std::string path;  ///< /tags/<name>
  h5::Dataset data;
};
struct Datasets {
  h5::Dataset n_atoms, atom_offset, cell, pbc, timestamp, timestamp_present, numbers, positions;
  std::vector<LabelData> labels;
  std::vector<TagData> tags;
  std::vector<signals::SignalColumn> signals;
};

h5::CreateOptions create_options() {
  h5::CreateOptions options;
  options.gzip_level = layout::gzip_level;
  return options;
}

std::string full(const char* name) { return fmt::format("/{}", name); }

void write_units(const h5::Hdf5Context& ctx, const h5::Dataset& dataset, const std::string& name,
                 const std::string& unit) {
  ctx.write_string_attribute(dataset.get(), name, layout::attr_units, unit);
}

/// Creates the group and datasets of one label with `rows_s` structures and `rows_a` atoms;
/// rows never written read as absent (NaN values, present 0).
LabelData create_label(const h5::Hdf5Context& ctx, hid_t file, const LabelSpec& label, hsize_t rows_s,
                       hsize_t rows_a) {
  const h5::CreateOptions options = create_options();
  const std::string parent = label.per_atom ? layout::atom_properties : layout::properties;
  h5::Group parent_group = ctx.open_group(file, parent);
  h5::Group group = ctx.create_group(parent_group.get(), label.name);
  LabelData data;
  data.spec = &label;
  data.values_name = label_group(label) + "/" + layout::values;
  data.present_name = label_group(label) + "/" + layout::present;
  std::vector<hsize_t> row_shape;
  if (label.width > 1) row_shape.push_back(static_cast<hsize_t>(label.width));
  data.values = ctx.create_dataset<double>(group.get(), layout::values, label.per_atom ? rows_a : rows_s, row_shape,
                                           nan, options);
  write_units(ctx, data.values, data.values_name, label.unit);
  data.present = ctx.create_dataset<std::uint8_t>(group.get(), layout::present, rows_s, {}, 0, options);
  return data;
}

/// A tag dataset of `rows` empty strings of `size` bytes (rows never written read as "").
TagData create_tag(const h5::Hdf5Context& ctx, hid_t file, const std::string& name, hsize_t rows,
                   std::size_t size) {
  h5::Group parent = ctx.open_group(file, layout::tags);
  TagData tag{name, fmt::format("/{}/{}", layout::tags, name), {}};
  tag.data = ctx.create_string_dataset(parent.get(), name, rows, size, create_options());
  return tag;
}

/// Replaces a fixed-size tag dataset by one of `size` bytes per string and `rows` rows, copying
/// its `old_rows` values (an HDF5 dataset cannot change its type in place).
void widen_tag(const h5::Hdf5Context& ctx, hid_t file, TagData& tag, hsize_t old_rows, hsize_t rows,
               std::size_t size) {
  const char* scratch = "matnn_widening_tag";  // at the root, where no matnn name lives
  {
    h5::Dataset wide = ctx.create_string_dataset(file, scratch, rows, size, create_options());
    for (hsize_t begin = 0; begin < old_rows; begin += block_structures) {
      const hsize_t end = std::min<hsize_t>(old_rows, begin + block_structures);
      ctx.write_strings(wide, tag.path, begin, ctx.read_strings(tag.data, tag.path, {h5::RowRange{begin, end}}));
    }
  }
  tag.data.reset();
  ctx.check_status(H5Ldelete(file, tag.path.c_str(), H5P_DEFAULT), fmt::format("cannot replace {}", tag.path));
  ctx.check_status(H5Lmove(file, scratch, file, tag.path.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                   fmt::format("cannot replace {}", tag.path));
  tag.data = ctx.open_dataset(file, tag.path);
}

/// Writes `records` as structures s0, s0+1, ... whose atoms start at row a0; every dataset
/// must already be large enough.
void write_records(const h5::Hdf5Context& ctx, Datasets& ds, std::span<const Record> records, hsize_t s0,
                   hsize_t a0) {
  std::size_t begin = 0;
  hsize_t atom_row = a0;
  while (begin < records.size()) {
    std::size_t end = begin;
    std::size_t atoms = 0;
    while (end < records.size() && end - begin < block_structures && (end == begin || atoms < block_atoms)) {
      atoms += records[end].structure.size();
      ++end;
    }
    const std::size_t b = end - begin;
    std::vector<std::int64_t> n_atoms(b), offsets(b), timestamps(b);
    std::vector<double> cells(9 * b), positions(3 * atoms);
    std::vector<std::uint8_t> pbc(3 * b), ts_present(b);
    std::vector<std::int32_t> numbers(atoms);
    std::size_t a = 0;
    for (std::size_t j = 0; j < b; ++j) {
      const Record& r = records[begin + j];
      const Structure& s = r.structure;
      n_atoms[j] = static_cast<std::int64_t>(s.size());
      offsets[j] = static_cast<std::int64_t>(atom_row + a + s.size());
      std::copy(s.cell.data(), s.cell.data() + 9, cells.begin() + static_cast<std::ptrdiff_t>(9 * j));
      for (int k = 0; k < 3; ++k) pbc[3 * j + static_cast<std::size_t>(k)] = s.pbc[static_cast<std::size_t>(k)] ? 1 : 0;
      timestamps[j] = r.timestamp ? *r.timestamp : layout::absent_timestamp;
      ts_present[j] = r.timestamp ? 1 : 0;
      std::copy(s.numbers.begin(), s.numbers.end(), numbers.begin() + static_cast<std::ptrdiff_t>(a));
      if (s.size() > 0) {
        std::copy(s.positions.data(), s.positions.data() + 3 * s.size(),
                  positions.begin() + static_cast<std::ptrdiff_t>(3 * a));
      }
      a += s.size();
    }
    const hsize_t row = s0 + begin;
    ctx.write_rows(ds.n_atoms, full(layout::n_atoms), row, b, 1, n_atoms.data());
    ctx.write_rows(ds.atom_offset, full(layout::atom_offset), row + 1, b, 1, offsets.data());
    ctx.write_rows(ds.cell, full(layout::cell), row, b, 9, cells.data());
    ctx.write_rows(ds.pbc, full(layout::pbc), row, b, 3, pbc.data());
    ctx.write_rows(ds.timestamp, full(layout::timestamp), row, b, 1, timestamps.data());
    ctx.write_rows(ds.timestamp_present, full(layout::timestamp_present), row, b, 1, ts_present.data());
    ctx.write_rows(ds.numbers, full(layout::numbers), atom_row, atoms, 1, numbers.data());
    ctx.write_rows(ds.positions, full(layout::positions), atom_row, atoms, 3, positions.data());

    for (LabelData& label : ds.labels) {
      const LabelSpec& spec = *label.spec;
      const std::size_t w = static_cast<std::size_t>(spec.width);
      std::vector<double> values((spec.per_atom ? atoms : b) * w, nan);
      std::vector<std::uint8_t> present(b, 0);
      std::size_t atom = 0;
      for (std::size_t j = 0; j < b; ++j) {
        const Record& r = records[begin + j];
        if (spec.per_atom) {
          const auto it = r.atom_properties.find(spec.name);
          if (it != r.atom_properties.end()) {
            present[j] = 1;
            std::copy(it->second.data(), it->second.data() + it->second.size(),
                      values.begin() + static_cast<std::ptrdiff_t>(atom * w));
          }
          atom += r.structure.size();
        } else {
          const auto it = r.properties.find(spec.name);
          if (it != r.properties.end()) {
            present[j] = 1;
            std::copy(it->second.begin(), it->second.end(), values.begin() + static_cast<std::ptrdiff_t>(j * w));
          }
        }
      }
      if (spec.per_atom) {
        ctx.write_rows(label.values, label.values_name, atom_row, atoms, w, values.data());
      } else {
        ctx.write_rows(label.values, label.values_name, row, b, w, values.data());
      }
      ctx.write_rows(label.present, label.present_name, row, b, 1, present.data());
    }
    for (TagData& tag : ds.tags) {
      std::vector<std::string> values(b);
      for (std::size_t j = 0; j < b; ++j) {
        const auto it = records[begin + j].tags.find(tag.name);
        if (it != records[begin + j].tags.end()) values[j] = it->second;
      }
      ctx.write_strings(tag.data, tag.path, row, values);
    }
    for (const signals::SignalColumn& column : ds.signals) signals::write_rows(ctx, column, records.subspan(begin, b), row);
    atom_row += atoms;
    begin = end;
  }
}

std::size_t count_atoms(std::span<const Record> records) {
  std::size_t n = 0;
  for (const Record& r : records) n += r.structure.size();
  return n;
}

void write_root_attributes(const h5::Hdf5Context& ctx, hid_t file, std::size_t structures, std::size_t atoms) {
  ctx.write_string_attribute(file, "/", layout::attr_format, layout::format_name);
  ctx.write_int_attribute(file, "/", layout::attr_format_version, dataset_format_version);
  ctx.write_string_attribute(file, "/", layout::attr_matnn_version, MATNN_VERSION_STRING);
  ctx.write_int_attribute(file, "/", layout::attr_n_structures, static_cast<std::int64_t>(structures));
  ctx.write_int_attribute(file, "/", layout::attr_total_atoms, static_cast<std::int64_t>(atoms));
}

void close_file(const h5::Hdf5Context& ctx, h5::File& file) {
  if (!file.close()) ctx.raise("cannot finish writing the HDF5 file");
}

}  // namespace

void write_dataset(const std::string& path, std::span<const Record> records, const DatasetWriteOptions& options) {
  validate_records(path, records);
  Plan plan;
  plan_labels(path, records, options, plan);
  signals::plan(path, records, plan.signals);

  h5::Hdf5ErrorSilencer silence;
  AtomicFile out(path);
  {
    const h5::Hdf5Context ctx(path, MATNN_ERROR_IO, out.temp_path());
    const hsize_t n_s = records.size();
    const hsize_t n_a = count_atoms(records);
    const h5::CreateOptions layout_options = create_options();
    h5::File file = ctx.create_file();
    {
      write_root_attributes(ctx, file.get(), n_s, n_a);
      for (const char* group : {layout::structures, layout::atoms, layout::properties, layout::atom_properties,
                                layout::tags}) {
        ctx.create_group(file.get(), group);
      }
      Datasets ds;
      ds.n_atoms = ctx.create_dataset<std::int64_t>(file.get(), layout::n_atoms, n_s, {}, 0, layout_options);
      ds.atom_offset = ctx.create_dataset<std::int64_t>(file.get(), layout::atom_offset, n_s + 1, {}, 0, layout_options);
      ds.cell = ctx.create_dataset<double>(file.get(), layout::cell, n_s, {3, 3}, nan, layout_options);
      write_units(ctx, ds.cell, full(layout::cell), "Angstrom");
      ds.pbc = ctx.create_dataset<std::uint8_t>(file.get(), layout::pbc, n_s, {3}, 0, layout_options);
      ds.timestamp = ctx.create_dataset<std::int64_t>(file.get(), layout::timestamp, n_s, {},
                                                       layout::absent_timestamp, layout_options);
      write_units(ctx, ds.timestamp, full(layout::timestamp), "s");
      ds.timestamp_present = ctx.create_dataset<std::uint8_t>(file.get(), layout::timestamp_present, n_s, {}, 0,
                                                               layout_options);
      ds.numbers = ctx.create_dataset<std::int32_t>(file.get(), layout::numbers, n_a, {}, 0, layout_options);
      ds.positions = ctx.create_dataset<double>(file.get(), layout::positions, n_a, {3}, nan, layout_options);
      write_units(ctx, ds.positions, full(layout::positions), "Angstrom");
      const std::int64_t zero = 0;
      ctx.write_rows(ds.atom_offset, full(layout::atom_offset), 0, 1, 1, &zero);
      for (const auto& [name, label] : plan.labels) ds.labels.push_back(create_label(ctx, file.get(), label, n_s, n_a));
      for (const auto& [tag, size] : plan.tags) ds.tags.push_back(create_tag(ctx, file.get(), tag, n_s, size));
      for (const auto& [name, spec] : plan.signals) ds.signals.push_back(signals::create(ctx, file.get(), spec, n_s));
      write_records(ctx, ds, records, 0, 0);
    }
    close_file(ctx, file);
    ctx.seal();
  }
  out.commit();
}

void append_dataset(const std::string& path, std::span<const Record> records, const DatasetWriteOptions& options) {
  // Check the existing file as a reader would (layout, lengths, version) before anything else.
  std::size_t s0 = 0, a0 = 0;
  Plan plan;
  {
    const DatasetReader reader(path);
    s0 = reader.size();
    a0 = reader.total_atoms();
  }
  validate_records(path, records);
  if (records.empty()) return;

  h5::Hdf5ErrorSilencer silence;
  // The labels already in the file, with their kind, width and unit.
  {
    const h5::Hdf5Context ctx(path, MATNN_ERROR_FORMAT);
    h5::File file = ctx.open_file(false);
    for (const bool per_atom : {false, true}) {
      const char* group_name = per_atom ? layout::atom_properties : layout::properties;
      if (!ctx.exists(file.get(), group_name)) continue;
      h5::Group group = ctx.open_group(file.get(), group_name);
      for (const std::string& name : ctx.children(group.get(), full(group_name))) {
        LabelSpec label;
        label.name = name;
        label.per_atom = per_atom;
        label.in_file = true;
        const std::string values_name = fmt::format("{}/{}", name, layout::values);
        h5::Dataset values = ctx.open_dataset(group.get(), values_name);
        const std::vector<hsize_t> shape = ctx.shape(values, values_name);
        label.width = shape.size() == 2 ? static_cast<int>(shape[1]) : 1;
        if (ctx.has_attribute(values.get(), layout::attr_units)) {
          label.unit = ctx.read_string_attribute(values.get(), values_name, layout::attr_units);
        }
        if (plan.labels.contains(name)) {
          fail(MATNN_ERROR_FORMAT, "{}: label \"{}\" is both per structure and per atom", path, name);
        }
        plan.labels.emplace(name, std::move(label));
      }
    }
    if (ctx.exists(file.get(), layout::tags)) {
      h5::Group group = ctx.open_group(file.get(), layout::tags);
      for (const std::string& name : ctx.children(group.get(), full(layout::tags))) {
        plan.tags.emplace(name, 0);
        plan.tags_in_file.insert(name);
      }
    }
    plan.signals = signals::read_specs(ctx, file.get(), s0);
  }
  plan_labels(path, records, options, plan);
  signals::plan(path, records, plan.signals);

  AtomicFile out(path);
  std::error_code ec;
  std::filesystem::copy_file(path, out.temp_path(), std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) fail(MATNN_ERROR_IO, "{}: cannot copy the file to append to it: {}", path, ec.message());
  {
    const h5::Hdf5Context ctx(path, MATNN_ERROR_IO, out.temp_path());
    const hsize_t n_s = s0 + records.size();
    const hsize_t n_a = a0 + count_atoms(records);
    h5::File file = ctx.open_file(true);
    {
      for (const char* group : {layout::properties, layout::atom_properties, layout::tags}) {
        if (!ctx.exists(file.get(), group)) ctx.create_group(file.get(), group);
      }
      Datasets ds;
      auto open_extended = [&](const char* name, hsize_t rows) {
        h5::Dataset d = ctx.open_dataset(file.get(), name);
        ctx.extend(d, full(name), rows);
        return d;
      };
      ds.n_atoms = open_extended(layout::n_atoms, n_s);
      ds.atom_offset = open_extended(layout::atom_offset, n_s + 1);
      ds.cell = open_extended(layout::cell, n_s);
      ds.pbc = open_extended(layout::pbc, n_s);
      ds.timestamp = open_extended(layout::timestamp, n_s);
      ds.timestamp_present = open_extended(layout::timestamp_present, n_s);
      ds.numbers = open_extended(layout::numbers, n_a);
      ds.positions = open_extended(layout::positions, n_a);
      for (const auto& [name, label] : plan.labels) {
        if (!label.in_file) {
          ds.labels.push_back(create_label(ctx, file.get(), label, n_s, n_a));
          continue;
        }
        LabelData data;
        data.spec = &label;
        data.values_name = label_group(label) + "/" + layout::values;
        data.present_name = label_group(label) + "/" + layout::present;
        data.values = ctx.open_dataset(file.get(), data.values_name);
        ctx.extend(data.values, data.values_name, label.per_atom ? n_a : n_s);
        data.present = ctx.open_dataset(file.get(), data.present_name);
        ctx.extend(data.present, data.present_name, n_s);
        ds.labels.push_back(std::move(data));
      }
      for (const auto& [name, size] : plan.tags) {
        if (!plan.tags_in_file.contains(name)) {
          ds.tags.push_back(create_tag(ctx, file.get(), name, n_s, size));  // old rows read as ""
          continue;
        }
        TagData tag{name, fmt::format("/{}/{}", layout::tags, name), {}};
        tag.data = ctx.open_dataset(file.get(), tag.path);
        const long stored = ctx.string_size(tag.data, tag.path);
        if (stored > 0 && static_cast<std::size_t>(stored) < size) {
          widen_tag(ctx, file.get(), tag, s0, n_s, size);
        } else {
          ctx.extend(tag.data, tag.path, n_s);
        }
        ds.tags.push_back(std::move(tag));
      }
      for (const auto& [name, spec] : plan.signals)
        ds.signals.push_back(spec.in_file ? signals::open(ctx, file.get(), spec, n_s)
                                          : signals::create(ctx, file.get(), spec, n_s));
      write_records(ctx, ds, records, s0, a0);
      write_root_attributes(ctx, file.get(), n_s, n_a);
    }
    close_file(ctx, file);
    // A file written by another tool has no room for a seal and stays unsealed (it is read as
    // such, with its global heaps checked); one written by matnn is sealed again.
    if (h5::has_seal_block(out.temp_path())) ctx.seal();
  }
  out.commit();
}

}  // namespace matnn
