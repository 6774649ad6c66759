#include "hdf5_handle.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "hdf5_seal.hpp"
#include "matnn/error.hpp"

namespace matnn::h5 {
namespace {

// Collects the descriptions of an error stack, outermost (the API call) first.
herr_t collect_error(unsigned /*n*/, const H5E_error2_t* error, void* data) {
  auto* messages = static_cast<std::vector<std::string>*>(data);
  if (error->desc && error->desc[0] != '\0') messages->emplace_back(error->desc);
  return 0;
}

std::vector<hsize_t> dataspace_dims(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) return {};
  return dims;
}

// Select `ranges` of rows of a dataspace of shape dims (every column of each row).
void select_rows(const Hdf5Context& ctx, hid_t space, const std::vector<hsize_t>& dims,
                 const std::vector<RowRange>& ranges, const std::string& name) {
  bool first = true;
  std::vector<hsize_t> start(dims.size(), 0), count(dims);
  for (const RowRange& range : ranges) {
    if (range.size() == 0) continue;
    start[0] = range.begin;
    count[0] = range.size();
    ctx.check_status(H5Sselect_hyperslab(space, first ? H5S_SELECT_SET : H5S_SELECT_OR, start.data(),
                                         nullptr, count.data(), nullptr),
                     fmt::format("cannot select rows of {}", name));
    first = false;
  }
  if (first) ctx.check_status(H5Sselect_none(space), fmt::format("cannot select rows of {}", name));
}

}  // namespace

// ---- error handling ---------------------------------------------------------------------------

Hdf5ErrorSilencer::Hdf5ErrorSilencer() noexcept {
  if (H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0) {
    saved_ = true;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
}

Hdf5ErrorSilencer::~Hdf5ErrorSilencer() {
  if (saved_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

std::string take_error_stack() {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &messages);
  H5Eclear2(H5E_DEFAULT);
  // Upward: the innermost cause first. Two levels are usually enough to be specific without
  // repeating the generic "unable to ..." chain of every layer.
  std::string text;
  for (std::size_t i = 0; i < messages.size() && i < 2; ++i) {
    if (!text.empty()) text += "; ";
    text += messages[i];
  }
  return text;
}

void Hdf5Context::raise(const std::string& what) const {
  const std::string detail = take_error_stack();
  if (detail.empty()) throw Error(status_, fmt::format("{}: {}", path_, what));
  throw Error(status_, fmt::format("{}: {} (HDF5: {})", path_, what, detail));
}

void Hdf5Context::raise_plain(matnn_status status, const std::string& what) const {
  throw Error(status, fmt::format("{}: {}", path_, what));
}

// ---- files, groups, links -------------------------------------------------------------------

File Hdf5Context::open_file(bool writable) const {
  PropList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file access property list"));
  check_status(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI), "cannot set the file close degree");
  // Before libhdf5 parses anything: a damaged sealed file, or a corrupt global heap in an unsealed
  // one, would make it hang or crash instead of failing (hdf5_seal.hpp).
  check_file(path_, file_path_, status_);
  if (H5Fis_hdf5(file_path_.c_str()) <= 0) {
    take_error_stack();
    raise_plain(status_, "is not an HDF5 file");
  }
  const hid_t id = H5Fopen(file_path_.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get());
  if (id < 0) raise(writable ? "cannot open the HDF5 file for writing" : "cannot open the HDF5 file");
  return File(id);
}

File Hdf5Context::create_file() const {
  PropList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file access property list"));
  // HDF5 1.10 object headers and chunk indices: every metadata block carries a checksum, so
  // corruption is reported instead of read as data. h5py with HDF5 >= 1.10 reads these files.
  check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110),
               "cannot set the HDF5 format version bounds");
  check_status(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI), "cannot set the file close degree");
  // The user block holds the seal that seal() writes once the file is closed.
  PropList fcpl(check(H5Pcreate(H5P_FILE_CREATE), "cannot create a file creation property list"));
  check_status(H5Pset_userblock(fcpl.get(), seal_block_bytes), "cannot reserve the seal block");
  const hid_t id = H5Fcreate(file_path_.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
  if (id < 0) raise("cannot create the HDF5 file");
  return File(id);
}

void Hdf5Context::seal() const { write_seal(path_, file_path_); }

Group Hdf5Context::open_group(hid_t loc, const std::string& name) const {
  return Group(check(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), fmt::format("cannot open group {}", name)));
}

Group Hdf5Context::create_group(hid_t loc, const std::string& name) const {
  PropList lcpl(check(H5Pcreate(H5P_LINK_CREATE), "cannot create a link property list"));
  check_status(H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8), "cannot set UTF-8 link names");
  return Group(check(H5Gcreate2(loc, name.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                     fmt::format("cannot create group {}", name)));
}

bool Hdf5Context::exists(hid_t loc, const std::string& name) const {
  // H5Lexists needs every intermediate component to exist, so test them one at a time.
  std::size_t pos = 0;
  while (pos <= name.size()) {
    const std::size_t slash = name.find('/', pos);
    const std::string prefix = name.substr(0, slash);
    if (!prefix.empty() && prefix != "/") {
      const htri_t rc = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
      if (rc < 0) raise(fmt::format("cannot look up {}", prefix));
      if (rc == 0) return false;
    }
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return true;
}

bool Hdf5Context::is_group(hid_t loc, const std::string& name) const {
  H5O_info_t info;
  check_status(H5Oget_info_by_name2(loc, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
               fmt::format("cannot inspect {}", name));
  return info.type == H5O_TYPE_GROUP;
}

std::vector<std::string> Hdf5Context::children(hid_t group, const std::string& group_name) const {
  std::vector<std::string> names;
  auto visit = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  hsize_t index = 0;
  check_status(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, visit, &names),
               fmt::format("cannot list group {}", group_name));
  std::sort(names.begin(), names.end());
  return names;
}

// ---- datasets -------------------------------------------------------------------------------

Dataset Hdf5Context::open_dataset(hid_t loc, const std::string& name) const {
  return Dataset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), fmt::format("cannot open dataset {}", name)));
}

std::vector<hsize_t> Hdf5Context::shape(const Dataset& dataset, const std::string& name) const {
  Dataspace space(check(H5Dget_space(dataset.get()), fmt::format("cannot get the shape of {}", name)));
  if (H5Sget_simple_extent_ndims(space.get()) < 0) raise(fmt::format("cannot get the shape of {}", name));
  return dataspace_dims(space.get());
}

H5T_class_t Hdf5Context::type_class(const Dataset& dataset, const std::string& name) const {
  Datatype type(check(H5Dget_type(dataset.get()), fmt::format("cannot get the type of {}", name)));
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_NO_CLASS) raise(fmt::format("cannot get the type of {}", name));
  return cls;
}

long Hdf5Context::string_size(const Dataset& dataset, const std::string& name) const {
  Datatype type(check(H5Dget_type(dataset.get()), fmt::format("cannot get the type of {}", name)));
  if (H5Tget_class(type.get()) != H5T_STRING) return -1;
  const htri_t vlen = H5Tis_variable_str(type.get());
  if (vlen < 0) raise(fmt::format("cannot get the type of {}", name));
  return vlen > 0 ? 0 : static_cast<long>(H5Tget_size(type.get()));
}

Dataset Hdf5Context::create_dataset_impl(hid_t loc, const std::string& name, hid_t type, hid_t fill_type,
                                         hsize_t rows,
                                         const std::vector<hsize_t>& row_shape, const void* fill,
                                         const CreateOptions& options) const {
  const std::string what = fmt::format("cannot create dataset {}", name);
  std::vector<hsize_t> dims{rows};
  dims.insert(dims.end(), row_shape.begin(), row_shape.end());
  std::vector<hsize_t> maxdims(dims);
  maxdims[0] = H5S_UNLIMITED;
  Dataspace space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()), what));

  // Chunks of about target_chunk_bytes once the dataset is large, but no bigger than the data
  // (rounded up to min_chunk_rows) so that small files stay small.
  const std::size_t elem_size = H5Tget_size(type) > 0 ? H5Tget_size(type) : 8;
  hsize_t row_bytes = elem_size;
  for (hsize_t d : row_shape) row_bytes *= std::max<hsize_t>(d, 1);
  const hsize_t target_rows = std::max<hsize_t>(1, options.target_chunk_bytes / row_bytes);
  const hsize_t chunk_rows = std::max<hsize_t>(1, std::min(target_rows, std::max(rows, options.min_chunk_rows)));
  std::vector<hsize_t> chunk(dims);
  chunk[0] = chunk_rows;
  for (std::size_t i = 1; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(chunk[i], 1);

  PropList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), what));
  check_status(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), what);
  if (options.gzip_level > 0) {
    check_status(H5Pset_shuffle(dcpl.get()), what);
    check_status(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options.gzip_level)), what);
  }
  if (options.checksum) check_status(H5Pset_fletcher32(dcpl.get()), what);
  if (fill) check_status(H5Pset_fill_value(dcpl.get(), fill_type, fill), what);
  check_status(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_IFSET), what);

  PropList lcpl(check(H5Pcreate(H5P_LINK_CREATE), what));
  check_status(H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8), what);
  return Dataset(check(H5Dcreate2(loc, name.c_str(), type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT), what));
}

Dataset Hdf5Context::create_string_dataset(hid_t loc, const std::string& name, hsize_t rows, std::size_t size,
                                           const CreateOptions& options) const {
  size = std::max<std::size_t>(size, 1);
  Datatype type = fixed_utf8_string_type(size);
  if (!type) raise(fmt::format("cannot create dataset {}", name));
  const std::vector<char> empty(size, '\0');  // the fill value: one whole string of NULs
  return create_dataset_impl(loc, name, type.get(), type.get(), rows, {}, empty.data(), options);
}

void Hdf5Context::extend(const Dataset& dataset, const std::string& name, hsize_t rows) const {
  std::vector<hsize_t> dims = shape(dataset, name);
  if (dims.empty()) raise_plain(status_, fmt::format("cannot extend the scalar dataset {}", name));
  dims[0] = rows;
  check_status(H5Dset_extent(dataset.get(), dims.data()), fmt::format("cannot extend dataset {}", name));
}

void Hdf5Context::read_rows_impl(const Dataset& dataset, const std::string& name, hid_t memtype,
                                 const std::vector<RowRange>& ranges, hsize_t row_elems, void* out) const {
  const std::string what = fmt::format("cannot read {}", name);
  hsize_t total_rows = 0;
  for (const RowRange& range : ranges) total_rows += range.size();
  if (total_rows == 0 || row_elems == 0) return;
  Dataspace file_space(check(H5Dget_space(dataset.get()), what));
  const std::vector<hsize_t> dims = dataspace_dims(file_space.get());
  if (dims.empty()) raise(what);
  const hsize_t row_bytes = row_elems * H5Tget_size(memtype);

  // HDF5 builds a selection of k blocks in O(k^2) time, and every H5Dread has a fixed cost, so
  // neither one call per range nor one selection of thousands of ranges is fast. Instead, ranges
  // separated by small gaps are merged into windows that are read whole (the gap rows are read
  // and dropped), and up to max_batch windows go into one H5Dread through a staging buffer.
  constexpr hsize_t max_gap_bytes = 32 * 1024;
  constexpr hsize_t max_stage_bytes = 8 * 1024 * 1024;
  constexpr std::size_t max_batch = 64;
  const hsize_t max_gap_rows = std::max<hsize_t>(1, max_gap_bytes / row_bytes);
  const hsize_t max_stage_rows = std::max<hsize_t>(1, max_stage_bytes / row_bytes);

  struct Window {
    RowRange rows;
    std::size_t first, last;  // ranges[first, last)
  };
  std::vector<Window> windows;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const RowRange& r = ranges[i];
    if (r.size() == 0) continue;
    if (!windows.empty()) {
      Window& w = windows.back();
      if (r.begin >= w.rows.end && r.begin - w.rows.end <= max_gap_rows && r.end - w.rows.begin <= max_stage_rows) {
        w.rows.end = r.end;
        w.last = i + 1;
        continue;
      }
    }
    windows.push_back(Window{r, i, i + 1});
  }

  auto* dest = static_cast<unsigned char*>(out);
  std::vector<unsigned char> stage;
  std::vector<RowRange> batch_rows;
  std::size_t w0 = 0;
  while (w0 < windows.size()) {
    // A batch: consecutive windows within the limits (always at least one).
    std::size_t w1 = w0;
    hsize_t batch_total = 0, batch_selected = 0;
    batch_rows.clear();
    while (w1 < windows.size() && w1 - w0 < max_batch &&
           (w1 == w0 || batch_total + windows[w1].rows.size() <= max_stage_rows)) {
      batch_total += windows[w1].rows.size();
      for (std::size_t i = windows[w1].first; i < windows[w1].last; ++i) batch_selected += ranges[i].size();
      batch_rows.push_back(windows[w1].rows);
      ++w1;
    }
    // Without gaps the rows go straight to their place in `out`.
    const bool direct = batch_total == batch_selected;
    unsigned char* target = dest;
    if (!direct) {
      stage.resize(batch_total * row_bytes);
      target = stage.data();
    }
    select_rows(*this, file_space.get(), dims, batch_rows, name);
    const hsize_t mem_dims[1] = {batch_total * row_elems};
    Dataspace mem_space(check(H5Screate_simple(1, mem_dims, nullptr), what));
    check_status(H5Dread(dataset.get(), memtype, mem_space.get(), file_space.get(), H5P_DEFAULT, target), what);
    if (direct) {
      dest += batch_total * row_bytes;
    } else {
      const unsigned char* window_data = stage.data();
      for (std::size_t w = w0; w < w1; ++w) {
        for (std::size_t i = windows[w].first; i < windows[w].last; ++i) {
          const RowRange& r = ranges[i];
          if (r.size() == 0) continue;
          const unsigned char* from = window_data + (r.begin - windows[w].rows.begin) * row_bytes;
          dest = std::copy(from, from + r.size() * row_bytes, dest);
        }
        window_data += windows[w].rows.size() * row_bytes;
      }
    }
    w0 = w1;
  }
}

void Hdf5Context::write_rows_impl(const Dataset& dataset, const std::string& name, hid_t memtype,
                                  hsize_t begin, hsize_t count, hsize_t row_elems, const void* data) const {
  const std::string what = fmt::format("cannot write {}", name);
  if (count == 0 || row_elems == 0) return;
  Dataspace file_space(check(H5Dget_space(dataset.get()), what));
  const std::vector<hsize_t> dims = dataspace_dims(file_space.get());
  if (dims.empty()) raise(what);
  select_rows(*this, file_space.get(), dims, {RowRange{begin, begin + count}}, name);
  const hsize_t mem_dims[1] = {count * row_elems};
  Dataspace mem_space(check(H5Screate_simple(1, mem_dims, nullptr), what));
  check_status(H5Dwrite(dataset.get(), memtype, mem_space.get(), file_space.get(), H5P_DEFAULT, data), what);
}

std::vector<std::string> Hdf5Context::read_strings(const Dataset& dataset, const std::string& name,
                                                   const std::vector<RowRange>& ranges) const {
  const std::string what = fmt::format("cannot read {}", name);
  hsize_t total = 0;
  for (const RowRange& range : ranges) total += range.size();
  std::vector<std::string> values;
  if (total == 0) return values;
  Datatype file_type(check(H5Dget_type(dataset.get()), what));
  const htri_t vlen = H5Tis_variable_str(file_type.get());
  if (vlen < 0) raise(what);
  Dataspace file_space(check(H5Dget_space(dataset.get()), what));
  const std::vector<hsize_t> dims = dataspace_dims(file_space.get());
  if (dims.size() != 1) raise_plain(status_, fmt::format("{} is not one-dimensional", name));
  values.reserve(total);
  if (vlen > 0) {
    // Variable-length strings (files not written by matnn): a bounded number of ranges per call.
    Datatype memtype = utf8_string_type(H5Tget_cset(file_type.get()));
    if (!memtype) raise(what);
    constexpr std::size_t max_batch = 64;
    for (std::size_t first = 0; first < ranges.size(); first += max_batch) {
      const std::vector<RowRange> batch(ranges.begin() + static_cast<std::ptrdiff_t>(first),
                                        ranges.begin() + static_cast<std::ptrdiff_t>(std::min(ranges.size(), first + max_batch)));
      hsize_t count = 0;
      for (const RowRange& range : batch) count += range.size();
      if (count == 0) continue;
      select_rows(*this, file_space.get(), dims, batch, name);
      const hsize_t mem_dims[1] = {count};
      Dataspace mem_space(check(H5Screate_simple(1, mem_dims, nullptr), what));
      std::vector<char*> raw(count, nullptr);
      check_status(
          H5Dread(dataset.get(), memtype.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, raw.data()), what);
      for (char* str : raw) values.emplace_back(str ? str : "");
      H5Dvlen_reclaim(memtype.get(), mem_space.get(), H5P_DEFAULT, raw.data());
    }
    return values;
  }
  // Fixed size: read in the file's own type (no conversion) and strip the padding.
  const std::size_t size = H5Tget_size(file_type.get());
  const H5T_str_t pad = H5Tget_strpad(file_type.get());
  std::vector<char> raw(total * size);
  read_rows_impl(dataset, name, file_type.get(), ranges, 1, raw.data());
  for (hsize_t i = 0; i < total; ++i) {
    const char* begin = raw.data() + i * size;
    std::size_t length = size;
    if (pad == H5T_STR_SPACEPAD) {
      while (length > 0 && begin[length - 1] == ' ') --length;
    } else {
      length = static_cast<std::size_t>(std::find(begin, begin + size, '\0') - begin);
    }
    values.emplace_back(begin, length);
  }
  return values;
}

void Hdf5Context::write_strings(const Dataset& dataset, const std::string& name, hsize_t begin,
                                const std::vector<std::string>& values) const {
  if (values.empty()) return;
  const std::string what = fmt::format("cannot write {}", name);
  Datatype file_type(check(H5Dget_type(dataset.get()), what));
  const htri_t vlen = H5Tis_variable_str(file_type.get());
  if (vlen < 0) raise(what);
  Dataspace file_space(check(H5Dget_space(dataset.get()), what));
  const std::vector<hsize_t> dims = dataspace_dims(file_space.get());
  select_rows(*this, file_space.get(), dims, {RowRange{begin, begin + values.size()}}, name);
  const hsize_t mem_dims[1] = {values.size()};
  Dataspace mem_space(check(H5Screate_simple(1, mem_dims, nullptr), what));
  if (vlen > 0) {
    Datatype memtype = utf8_string_type(H5Tget_cset(file_type.get()));
    if (!memtype) raise(what);
    std::vector<const char*> raw;
    raw.reserve(values.size());
    for (const std::string& s : values) raw.push_back(s.c_str());
    check_status(
        H5Dwrite(dataset.get(), memtype.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, raw.data()), what);
    return;
  }
  const std::size_t size = H5Tget_size(file_type.get());
  std::vector<char> raw(values.size() * size, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() > size) {
      raise_plain(MATNN_ERROR_INTERNAL, fmt::format("{}: string of {} bytes does not fit in {}", name,
                                                    values[i].size(), size));
    }
    std::copy(values[i].begin(), values[i].end(), raw.begin() + static_cast<std::ptrdiff_t>(i * size));
  }
  check_status(H5Dwrite(dataset.get(), file_type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, raw.data()),
               what);
}

// ---- attributes -------------------------------------------------------------------------------

bool Hdf5Context::has_attribute(hid_t object, const std::string& attribute) const {
  const htri_t rc = H5Aexists(object, attribute.c_str());
  if (rc < 0) raise(fmt::format("cannot look up attribute {}", attribute));
  return rc > 0;
}

std::string Hdf5Context::read_string_attribute(hid_t object, const std::string& where,
                                               const std::string& attribute) const {
  const std::string what = fmt::format("cannot read attribute {} of {}", attribute, where);
  Attribute attr(check(H5Aopen(object, attribute.c_str(), H5P_DEFAULT), what));
  Datatype type(check(H5Aget_type(attr.get()), what));
  if (H5Tget_class(type.get()) != H5T_STRING) {
    raise_plain(MATNN_ERROR_FORMAT, fmt::format("attribute {} of {} is not a string", attribute, where));
  }
  Dataspace space(check(H5Aget_space(attr.get()), what));
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    raise_plain(MATNN_ERROR_FORMAT, fmt::format("attribute {} of {} is not a single string", attribute, where));
  }
  const htri_t vlen = H5Tis_variable_str(type.get());
  if (vlen < 0) raise(what);
  if (vlen > 0) {
    Datatype memtype = utf8_string_type(H5Tget_cset(type.get()));
    char* raw = nullptr;
    check_status(H5Aread(attr.get(), memtype.get(), &raw), what);
    std::string value = raw ? raw : "";
    H5free_memory(raw);
    return value;
  }
  const std::size_t size = H5Tget_size(type.get());
  Datatype memtype(check(H5Tcopy(H5T_C_S1), what));
  check_status(H5Tset_size(memtype.get(), size + 1), what);
  check_status(H5Tset_strpad(memtype.get(), H5T_STR_NULLTERM), what);
  check_status(H5Tset_cset(memtype.get(), H5Tget_cset(type.get())), what);
  std::vector<char> buffer(size + 1, '\0');
  check_status(H5Aread(attr.get(), memtype.get(), buffer.data()), what);
  return std::string(buffer.data());
}

std::int64_t Hdf5Context::read_int_attribute(hid_t object, const std::string& where,
                                             const std::string& attribute) const {
  const std::string what = fmt::format("cannot read attribute {} of {}", attribute, where);
  Attribute attr(check(H5Aopen(object, attribute.c_str(), H5P_DEFAULT), what));
  Datatype type(check(H5Aget_type(attr.get()), what));
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    raise_plain(MATNN_ERROR_FORMAT, fmt::format("attribute {} of {} is not an integer", attribute, where));
  }
  Dataspace space(check(H5Aget_space(attr.get()), what));
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    raise_plain(MATNN_ERROR_FORMAT, fmt::format("attribute {} of {} is not a single integer", attribute, where));
  }
  std::int64_t value = 0;
  check_status(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), what);
  return value;
}

void Hdf5Context::write_string_attribute(hid_t object, const std::string& where, const std::string& attribute,
                                         const std::string& value) const {
  const std::string what = fmt::format("cannot write attribute {} of {}", attribute, where);
  if (has_attribute(object, attribute)) check_status(H5Adelete(object, attribute.c_str()), what);
  // Fixed size, stored in the object header itself: a variable-length string would live in the
  // global heap, which no checksum of libhdf5's covers.
  Datatype type = fixed_utf8_string_type(std::max<std::size_t>(value.size(), 1));
  if (!type) raise(what);
  Dataspace space(check(H5Screate(H5S_SCALAR), what));
  Attribute attr(check(H5Acreate2(object, attribute.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                       what));
  std::vector<char> raw(std::max<std::size_t>(value.size(), 1), '\0');
  std::copy(value.begin(), value.end(), raw.begin());
  check_status(H5Awrite(attr.get(), type.get(), raw.data()), what);
}

void Hdf5Context::write_int_attribute(hid_t object, const std::string& where, const std::string& attribute,
                                      std::int64_t value) const {
  const std::string what = fmt::format("cannot write attribute {} of {}", attribute, where);
  if (has_attribute(object, attribute)) check_status(H5Adelete(object, attribute.c_str()), what);
  Dataspace space(check(H5Screate(H5S_SCALAR), what));
  Attribute attr(check(H5Acreate2(object, attribute.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                       what));
  check_status(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), what);
}

Datatype fixed_utf8_string_type(std::size_t size) {
  Datatype type(H5Tcopy(H5T_C_S1));
  if (!type) return type;
  if (H5Tset_size(type.get(), size) < 0 || H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0) {
    return Datatype();
  }
  return type;
}

Datatype utf8_string_type(H5T_cset_t cset) {
  Datatype type(H5Tcopy(H5T_C_S1));
  if (!type) return type;
  if (H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), cset) < 0) return Datatype();
  return type;
}

}  // namespace matnn::h5
