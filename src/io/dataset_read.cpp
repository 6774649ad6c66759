// Reading matnn HDF5 datasets (layout: docs/dataset-format.md).
//
// Opening reads only the per-structure index (atom counts and offsets) and the label names and
// shapes, and checks that every array has the length the index implies. read() then selects
// just the requested rows: the requested structures are sorted and merged into runs of
// consecutive indices, and each dataset is read with one H5Dread over the union of those runs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dataset_layout.hpp"
#include "dataset_signals.hpp"
#include "hdf5_handle.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/input_file.hpp"

namespace matnn {
namespace {

/// Summaries and other whole-file scans read this many structures (or about this many atoms) at once.
constexpr std::size_t scan_structures = 16384;
constexpr std::size_t scan_atoms = 1 << 18;

struct Label {
  std::string name;
  bool per_atom = false;
  int width = 1;
  std::string unit;
  std::string values_name, present_name;  ///< full paths, for messages
  h5::Dataset values, present;
};

struct Tag {
  std::string name;
  std::string path;
  h5::Dataset data;
};

std::string full(const char* name) { return fmt::format("/{}", name); }

}  // namespace

struct DatasetReader::Impl {
  std::string path;
  h5::Hdf5Context ctx;
  h5::File file;
  std::size_t structures = 0;
  std::size_t atoms = 0;
  std::vector<std::int64_t> n_atoms;
  std::vector<std::int64_t> offsets;  ///< structures + 1 entries
  h5::Dataset cell, pbc, timestamp, timestamp_present, numbers, positions;
  std::vector<Label> labels;  ///< per-structure labels then per-atom labels, each in name order
  std::vector<Tag> tags;
  std::map<std::string, signals::SignalSpec> signal_specs;
  std::vector<signals::SignalColumn> signal_columns;

  explicit Impl(const std::string& p) : path(p), ctx(p, MATNN_ERROR_FORMAT) {}

  void open();
  h5::Dataset open_checked(hid_t loc, const std::string& name, const std::string& full_name,
                           std::vector<hsize_t> expected, const std::string& expected_from, bool numeric) const;
  void load_labels(bool per_atom);
  std::vector<Record> read_runs(const std::vector<h5::RowRange>& runs) const;
};

namespace {

[[noreturn]] void length_mismatch(const std::string& path, const std::string& name, hsize_t got, hsize_t want,
                                  const std::string& want_from) {
  fail(MATNN_ERROR_FORMAT, "{}: {} has {} rows but {} has {}: the file is inconsistent", path, name, got, want_from,
       want);
}

}  // namespace

// Opens `name`, checks that it is numeric (or a string) and that its shape is `expected`
// (a 0 in expected[1..] means "any"); the first dimension is compared with `expected_from`.
h5::Dataset DatasetReader::Impl::open_checked(hid_t loc, const std::string& name, const std::string& full_name,
                                              std::vector<hsize_t> expected, const std::string& expected_from,
                                              bool numeric) const {
  if (!ctx.exists(loc, name)) fail(MATNN_ERROR_FORMAT, "{}: dataset {} is missing", path, full_name);
  h5::Dataset dataset = ctx.open_dataset(loc, name);
  const std::vector<hsize_t> shape = ctx.shape(dataset, full_name);
  if (shape.size() != expected.size()) {
    fail(MATNN_ERROR_FORMAT, "{}: {} has {} dimensions, expected {}", path, full_name, shape.size(), expected.size());
  }
  if (shape[0] != expected[0]) length_mismatch(path, full_name, shape[0], expected[0], expected_from);
  for (std::size_t i = 1; i < shape.size(); ++i) {
    if (expected[i] != 0 && shape[i] != expected[i]) {
      fail(MATNN_ERROR_FORMAT, "{}: {} has shape {} along dimension {}, expected {}", path, full_name, shape[i], i,
           expected[i]);
    }
  }
  if (numeric) {
    const H5T_class_t cls = ctx.type_class(dataset, full_name);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
      fail(MATNN_ERROR_FORMAT, "{}: {} does not hold numbers", path, full_name);
    }
  } else if (ctx.string_size(dataset, full_name) < 0) {
    fail(MATNN_ERROR_FORMAT, "{}: {} does not hold strings", path, full_name);
  }
  return dataset;
}

void DatasetReader::Impl::open() {
  // Tell "missing" and "unreadable" (I/O) apart from "not a dataset" (format) before HDF5 does.
  check_input_file(path, "a dataset file");
  file = ctx.open_file(false);
  const hid_t f = file.get();

  if (!ctx.has_attribute(f, layout::attr_format)) {
    fail(MATNN_ERROR_FORMAT, "{}: is an HDF5 file but not a matnn dataset (no \"format\" attribute)", path);
  }
  const std::string format = ctx.read_string_attribute(f, "/", layout::attr_format);
  if (format != layout::format_name) {
    fail(MATNN_ERROR_FORMAT, "{}: is not a matnn dataset (format is \"{}\", expected \"{}\")", path, format,
         layout::format_name);
  }
  if (!ctx.has_attribute(f, layout::attr_format_version)) {
    fail(MATNN_ERROR_FORMAT, "{}: has no format_version attribute", path);
  }
  const std::int64_t version = ctx.read_int_attribute(f, "/", layout::attr_format_version);
  if (version > dataset_format_version) {
    fail(MATNN_ERROR_FORMAT, "{}: was written by a newer matnn (format version {}, this build reads up to {})", path,
         version, dataset_format_version);
  }
  if (version < 1) fail(MATNN_ERROR_FORMAT, "{}: has an invalid format version {}", path, version);

  // The index: atom counts and offsets.
  if (!ctx.exists(f, layout::n_atoms)) fail(MATNN_ERROR_FORMAT, "{}: dataset {} is missing", path, full(layout::n_atoms));
  {
    h5::Dataset d = ctx.open_dataset(f, layout::n_atoms);
    const std::vector<hsize_t> shape = ctx.shape(d, full(layout::n_atoms));
    if (shape.size() != 1) fail(MATNN_ERROR_FORMAT, "{}: {} is not one-dimensional", path, full(layout::n_atoms));
    structures = shape[0];
    n_atoms.resize(structures);
    ctx.read_rows(d, full(layout::n_atoms), h5::RowRange{0, structures}, 1, n_atoms.data());
  }
  offsets.resize(structures + 1);
  {
    h5::Dataset d = open_checked(f, layout::atom_offset, full(layout::atom_offset), {structures + 1},
                                 fmt::format("{} (plus one)", full(layout::n_atoms)), true);
    ctx.read_rows(d, full(layout::atom_offset), h5::RowRange{0, structures + 1}, 1, offsets.data());
  }
  if (offsets[0] != 0) {
    fail(MATNN_ERROR_FORMAT, "{}: {} starts at {}, expected 0", path, full(layout::atom_offset), offsets[0]);
  }
  for (std::size_t s = 0; s < structures; ++s) {
    if (n_atoms[s] < 0 || offsets[s + 1] - offsets[s] != n_atoms[s]) {
      fail(MATNN_ERROR_FORMAT,
           "{}: {} and {} disagree at structure {} (offsets {} to {} but {} atoms); offsets must be the running sum "
           "of the atom counts",
           path, full(layout::atom_offset), full(layout::n_atoms), s, offsets[s], offsets[s + 1], n_atoms[s]);
    }
  }
  atoms = static_cast<std::size_t>(offsets[structures]);
  const std::string from_offsets = fmt::format("{} (last entry)", full(layout::atom_offset));
  const std::string from_structures = full(layout::n_atoms);

  cell = open_checked(f, layout::cell, full(layout::cell), {structures, 3, 3}, from_structures, true);
  pbc = open_checked(f, layout::pbc, full(layout::pbc), {structures, 3}, from_structures, true);
  timestamp = open_checked(f, layout::timestamp, full(layout::timestamp), {structures}, from_structures, true);
  timestamp_present = open_checked(f, layout::timestamp_present, full(layout::timestamp_present), {structures},
                                   from_structures, true);
  numbers = open_checked(f, layout::numbers, full(layout::numbers), {atoms}, from_offsets, true);
  positions = open_checked(f, layout::positions, full(layout::positions), {atoms, 3}, from_offsets, true);

  if (ctx.has_attribute(f, layout::attr_n_structures)) {
    const std::int64_t n = ctx.read_int_attribute(f, "/", layout::attr_n_structures);
    if (n != static_cast<std::int64_t>(structures)) {
      fail(MATNN_ERROR_FORMAT, "{}: attribute n_structures is {} but {} has {} rows", path, n, from_structures,
           structures);
    }
  }
  if (ctx.has_attribute(f, layout::attr_total_atoms)) {
    const std::int64_t n = ctx.read_int_attribute(f, "/", layout::attr_total_atoms);
    if (n != static_cast<std::int64_t>(atoms)) {
      fail(MATNN_ERROR_FORMAT, "{}: attribute total_atoms is {} but {} is {}", path, n, from_offsets, atoms);
    }
  }

  load_labels(false);
  load_labels(true);
  for (const Label& a : labels) {
    for (const Label& b : labels) {
      if (a.per_atom != b.per_atom && a.name == b.name) {
        fail(MATNN_ERROR_FORMAT, "{}: label \"{}\" is both per structure and per atom", path, a.name);
      }
    }
  }
  if (ctx.exists(f, layout::tags)) {
    h5::Group group = ctx.open_group(f, layout::tags);
    for (const std::string& name : ctx.children(group.get(), full(layout::tags))) {
      Tag tag;
      tag.name = name;
      tag.path = fmt::format("/{}/{}", layout::tags, name);
      tag.data = open_checked(group.get(), name, tag.path, {structures}, from_structures, false);
      tags.push_back(std::move(tag));
    }
  }
  signal_specs = signals::read_specs(ctx, f, structures);
  for (const auto& [name, spec] : signal_specs) signal_columns.push_back(signals::open(ctx, f, spec));
}

void DatasetReader::Impl::load_labels(bool per_atom) {
  const char* group_name = per_atom ? layout::atom_properties : layout::properties;
  if (!ctx.exists(file.get(), group_name)) return;
  h5::Group group = ctx.open_group(file.get(), group_name);
  for (const std::string& name : ctx.children(group.get(), full(group_name))) {
    Label label;
    label.name = name;
    label.per_atom = per_atom;
    label.values_name = fmt::format("/{}/{}/{}", group_name, name, layout::values);
    label.present_name = fmt::format("/{}/{}/{}", group_name, name, layout::present);
    const std::string values_rel = fmt::format("{}/{}", name, layout::values);
    if (!ctx.is_group(group.get(), name)) {
      fail(MATNN_ERROR_FORMAT, "{}: /{}/{} is not a group with values and present", path, group_name, name);
    }
    if (!ctx.exists(group.get(), values_rel)) {
      fail(MATNN_ERROR_FORMAT, "{}: dataset {} is missing", path, label.values_name);
    }
    std::vector<hsize_t> expected{per_atom ? atoms : structures};
    {
      // Width 1 is stored one-dimensional; a 2-D array with any number of columns is accepted.
      h5::Dataset probe = ctx.open_dataset(group.get(), values_rel);
      const std::vector<hsize_t> shape = ctx.shape(probe, label.values_name);
      if (shape.size() == 2) {
        if (shape[1] < 1) fail(MATNN_ERROR_FORMAT, "{}: {} has zero columns", path, label.values_name);
        label.width = static_cast<int>(shape[1]);
        expected.push_back(shape[1]);
      } else if (shape.size() != 1) {
        fail(MATNN_ERROR_FORMAT, "{}: {} has {} dimensions, expected 1 or 2", path, label.values_name, shape.size());
      }
    }
    label.values = open_checked(group.get(), values_rel, label.values_name, expected,
                                per_atom ? fmt::format("{} (last entry)", full(layout::atom_offset))
                                         : full(layout::n_atoms),
                                true);
    label.present = open_checked(group.get(), fmt::format("{}/{}", name, layout::present), label.present_name,
                                 {structures}, full(layout::n_atoms), true);
    if (ctx.has_attribute(label.values.get(), layout::attr_units)) {
      label.unit = ctx.read_string_attribute(label.values.get(), label.values_name, layout::attr_units);
    }
    labels.push_back(std::move(label));
  }
}

std::vector<Record> DatasetReader::Impl::read_runs(const std::vector<h5::RowRange>& runs) const {
  std::size_t n = 0;
  for (const h5::RowRange& r : runs) n += r.size();
  std::vector<h5::RowRange> atom_runs;
  std::size_t n_atoms_total = 0;
  for (const h5::RowRange& r : runs) {
    const h5::RowRange a{static_cast<hsize_t>(offsets[r.begin]), static_cast<hsize_t>(offsets[r.end])};
    if (a.size() == 0) continue;
    if (!atom_runs.empty() && atom_runs.back().end == a.begin) {
      atom_runs.back().end = a.end;
    } else {
      atom_runs.push_back(a);
    }
    n_atoms_total += a.size();
  }

  std::vector<double> cells(9 * n), positions_buf(3 * n_atoms_total);
  std::vector<std::uint8_t> pbc_buf(3 * n), ts_present(n);
  std::vector<std::int64_t> timestamps(n);
  std::vector<std::int32_t> numbers_buf(n_atoms_total);
  ctx.read_rows(cell, full(layout::cell), runs, 9, cells.data());
  ctx.read_rows(pbc, full(layout::pbc), runs, 3, pbc_buf.data());
  ctx.read_rows(timestamp, full(layout::timestamp), runs, 1, timestamps.data());
  ctx.read_rows(timestamp_present, full(layout::timestamp_present), runs, 1, ts_present.data());
  ctx.read_rows(numbers, full(layout::numbers), atom_runs, 1, numbers_buf.data());
  ctx.read_rows(positions, full(layout::positions), atom_runs, 3, positions_buf.data());

  std::vector<Record> records(n);
  std::size_t j = 0, atom = 0;
  for (const h5::RowRange& r : runs) {
    for (hsize_t s = r.begin; s < r.end; ++s, ++j) {
      Record& rec = records[j];
      Structure& st = rec.structure;
      const std::size_t na = static_cast<std::size_t>(n_atoms[s]);
      st.numbers.assign(numbers_buf.begin() + static_cast<std::ptrdiff_t>(atom),
                        numbers_buf.begin() + static_cast<std::ptrdiff_t>(atom + na));
      st.positions.resize(static_cast<Eigen::Index>(na), 3);
      std::copy_n(positions_buf.data() + 3 * atom, 3 * na, st.positions.data());
      std::copy_n(cells.data() + 9 * j, 9, st.cell.data());
      for (std::size_t k = 0; k < 3; ++k) st.pbc[k] = pbc_buf[3 * j + k] != 0;
      if (ts_present[j]) rec.timestamp = timestamps[j];
      atom += na;
      try {
        st.validate();
      } catch (const Error& e) {
        fail(e.status(), "{}: structure {}: {}", path, s, e.what());
      }
    }
  }

  std::vector<std::uint8_t> present(n);
  std::vector<double> values;
  for (const Label& label : labels) {
    ctx.read_rows(label.present, label.present_name, runs, 1, present.data());
    if (std::none_of(present.begin(), present.end(), [](std::uint8_t p) { return p != 0; })) continue;
    const std::size_t w = static_cast<std::size_t>(label.width);
    values.assign((label.per_atom ? n_atoms_total : n) * w, 0.0);
    ctx.read_rows(label.values, label.values_name, label.per_atom ? atom_runs : runs, w, values.data());
    j = 0;
    atom = 0;
    for (const h5::RowRange& r : runs) {
      for (hsize_t s = r.begin; s < r.end; ++s, ++j) {
        const std::size_t na = static_cast<std::size_t>(n_atoms[s]);
        const std::size_t first = label.per_atom ? atom * w : j * w;
        const std::size_t count = label.per_atom ? na * w : w;
        if (label.per_atom) atom += na;
        if (!present[j]) continue;
        const double* begin = values.data() + first;
        if (!std::all_of(begin, begin + count, [](double v) { return std::isfinite(v); })) {
          fail(MATNN_ERROR_NON_FINITE, "{}: {} of structure {} is marked present but holds a non-finite value", path,
               label.values_name, s);
        }
        if (label.per_atom) {
          AtomValues a(static_cast<Eigen::Index>(na), static_cast<Eigen::Index>(w));
          std::copy_n(begin, count, a.data());
          records[j].atom_properties.emplace(label.name, std::move(a));
        } else {
          records[j].properties.emplace(label.name, std::vector<double>(begin, begin + count));
        }
      }
    }
  }
  for (const Tag& tag : tags) {
    std::vector<std::string> strings = ctx.read_strings(tag.data, tag.path, runs);
    for (std::size_t k = 0; k < n; ++k) {
      if (!strings[k].empty()) records[k].tags.emplace(tag.name, std::move(strings[k]));
    }
  }
  for (const signals::SignalColumn& column : signal_columns) signals::read_rows(ctx, column, runs, records);
  return records;
}

DatasetReader::DatasetReader(const std::string& path) : impl_(std::make_unique<Impl>(path)) {
  h5::Hdf5ErrorSilencer silence;
  impl_->open();
}

DatasetReader::~DatasetReader() {
  if (impl_) {
    // Closing a file that a corrupt read left in a bad state must not print to stderr either.
    h5::Hdf5ErrorSilencer silence;
    impl_.reset();
    h5::take_error_stack();
  }
}

DatasetReader::DatasetReader(DatasetReader&&) noexcept = default;
DatasetReader& DatasetReader::operator=(DatasetReader&&) noexcept = default;

const std::string& DatasetReader::path() const noexcept { return impl_->path; }
std::size_t DatasetReader::size() const noexcept { return impl_->structures; }
std::size_t DatasetReader::total_atoms() const noexcept { return impl_->atoms; }

std::int64_t DatasetReader::atom_count(std::size_t index) const {
  if (index >= impl_->structures) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: structure {} is out of range (the dataset has {})", impl_->path, index,
         impl_->structures);
  }
  return impl_->n_atoms[index];
}

std::vector<std::string> DatasetReader::property_names() const {
  std::vector<std::string> names;
  for (const Label& label : impl_->labels) {
    if (!label.per_atom) names.push_back(label.name);
  }
  return names;
}

std::vector<std::string> DatasetReader::atom_property_names() const {
  std::vector<std::string> names;
  for (const Label& label : impl_->labels) {
    if (label.per_atom) names.push_back(label.name);
  }
  return names;
}

std::vector<std::string> DatasetReader::tag_names() const {
  std::vector<std::string> names;
  for (const Tag& tag : impl_->tags) names.push_back(tag.name);
  return names;
}

std::vector<std::string> DatasetReader::signal_names() const {
  std::vector<std::string> names;
  for (const auto& [name, spec] : impl_->signal_specs) names.push_back(name);
  return names;
}

std::string DatasetReader::unit(const std::string& label) const {
  for (const Label& l : impl_->labels) {
    if (l.name == label) return l.unit;
  }
  return "";
}

std::vector<Record> DatasetReader::read(std::size_t begin, std::size_t end) const {
  if (begin > end || end > impl_->structures) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: cannot read structures [{}, {}): the dataset has {}", impl_->path, begin,
         end, impl_->structures);
  }
  if (begin == end) return {};
  h5::Hdf5ErrorSilencer silence;
  return impl_->read_runs({h5::RowRange{begin, end}});
}

std::vector<Record> DatasetReader::read(std::span<const std::size_t> indices) const {
  for (std::size_t index : indices) {
    if (index >= impl_->structures) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: structure {} is out of range (the dataset has {})", impl_->path, index,
           impl_->structures);
    }
  }
  if (indices.empty()) return {};
  // Distinct indices in increasing order, merged into runs of consecutive structures.
  std::vector<std::size_t> sorted(indices.begin(), indices.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<h5::RowRange> runs;
  for (std::size_t index : sorted) {
    if (!runs.empty() && runs.back().end == index) {
      ++runs.back().end;
    } else {
      runs.push_back(h5::RowRange{index, index + 1});
    }
  }
  std::vector<Record> unique;
  {
    h5::Hdf5ErrorSilencer silence;
    unique = impl_->read_runs(runs);
  }
  // Hand out in the requested order; the last request for a structure takes it by move.
  std::vector<std::size_t> uses(sorted.size(), 0);
  std::vector<std::size_t> slot(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    slot[k] = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), indices[k]) - sorted.begin());
    ++uses[slot[k]];
  }
  std::vector<Record> out;
  out.reserve(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (--uses[slot[k]] == 0) {
      out.push_back(std::move(unique[slot[k]]));
    } else {
      out.push_back(unique[slot[k]]);
    }
  }
  return out;
}

std::vector<LabelSummary> DatasetReader::summarize() const {
  const Impl& impl = *impl_;
  h5::Hdf5ErrorSilencer silence;
  std::vector<LabelSummary> summaries;
  // Blocks of whole structures, bounded in structures and atoms.
  std::vector<std::pair<std::size_t, std::size_t>> blocks;
  for (std::size_t begin = 0; begin < impl.structures;) {
    std::size_t end = begin + 1;
    while (end < impl.structures && end - begin < scan_structures &&
           static_cast<std::size_t>(impl.offsets[end + 1] - impl.offsets[begin]) <= scan_atoms) {
      ++end;
    }
    blocks.emplace_back(begin, end);
    begin = end;
  }
  std::vector<std::uint8_t> present;
  std::vector<double> values;
  for (const Label& label : impl.labels) {
    LabelSummary summary;
    summary.name = label.name;
    summary.per_atom = label.per_atom;
    summary.width = label.width;
    summary.unit = label.unit;
    const std::size_t w = static_cast<std::size_t>(label.width);
    double sum = 0;
    std::size_t count = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& [begin, end] : blocks) {
      const std::size_t b = end - begin;
      present.assign(b, 0);
      impl.ctx.read_rows(label.present, label.present_name, h5::RowRange{begin, end}, 1, present.data());
      if (std::none_of(present.begin(), present.end(), [](std::uint8_t p) { return p != 0; })) continue;
      const h5::RowRange rows = label.per_atom ? h5::RowRange{static_cast<hsize_t>(impl.offsets[begin]),
                                                              static_cast<hsize_t>(impl.offsets[end])}
                                               : h5::RowRange{begin, end};
      values.assign(rows.size() * w, 0.0);
      impl.ctx.read_rows(label.values, label.values_name, rows, w, values.data());
      for (std::size_t j = 0; j < b; ++j) {
        if (!present[j]) continue;
        ++summary.present;
        const std::size_t s = begin + j;
        const std::size_t first = label.per_atom ? static_cast<std::size_t>(impl.offsets[s] - impl.offsets[begin]) * w : j * w;
        const std::size_t n = label.per_atom ? static_cast<std::size_t>(impl.n_atoms[s]) * w : w;
        for (std::size_t k = first; k < first + n; ++k) {
          const double v = values[k];
          if (!std::isfinite(v)) {
            fail(MATNN_ERROR_NON_FINITE, "{}: {} of structure {} is marked present but holds a non-finite value",
                 impl.path, label.values_name, s);
          }
          sum += v;
          lo = std::min(lo, v);
          hi = std::max(hi, v);
          ++count;
        }
      }
    }
    if (count > 0) {
      summary.min = lo;
      summary.max = hi;
      summary.mean = sum / static_cast<double>(count);
    } else {
      summary.min = summary.max = summary.mean = std::numeric_limits<double>::quiet_NaN();
    }
    summaries.push_back(std::move(summary));
  }
  return summaries;
}

}  // namespace matnn
