// Thin RAII layer over the HDF5 C API for the dataset reader and writer (private to matnn_dataset).
//
// Every HDF5 identifier is owned by a Handle that closes it; every call that can fail goes
// through an Hdf5Context, which turns a failure into matnn::Error carrying the file path, the
// object (dataset, group or attribute name) and the innermost message of HDF5's error stack.
// While a Hdf5ErrorSilencer is alive HDF5 does not print its error stack to stderr.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "matnn/status.h"

namespace matnn::h5 {

/// Owns one HDF5 identifier and closes it with `Close` (H5Fclose, H5Dclose, ...).
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(hid_t id) noexcept : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ >= 0; }
  /// Closes now; a failure to close is ignored here (use close() on files to see it).
  void reset() noexcept {
    if (id_ >= 0) Close(id_);
    id_ = H5I_INVALID_HID;
  }
  /// Closes now and reports whether HDF5 accepted it (flushing a file can fail).
  bool close() noexcept {
    if (id_ < 0) return true;
    const herr_t rc = Close(id_);
    id_ = H5I_INVALID_HID;
    return rc >= 0;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;
using PropList = Handle<H5Pclose>;

/// Turns off HDF5's automatic printing of its error stack for this object's lifetime and
/// restores the previous handler afterwards (nesting is fine).
class Hdf5ErrorSilencer {
 public:
  Hdf5ErrorSilencer() noexcept;
  ~Hdf5ErrorSilencer();
  Hdf5ErrorSilencer(const Hdf5ErrorSilencer&) = delete;
  Hdf5ErrorSilencer& operator=(const Hdf5ErrorSilencer&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
  bool saved_ = false;
};

/// The innermost (most specific) messages of the current thread's HDF5 error stack, e.g.
/// "truncated file: eof = 1024, sblock->base_addr = 0, stored_eof = 4096"; clears the stack.
std::string take_error_stack();

/// Memory type of a C++ element type.
template <typename T>
hid_t native_type();
template <> inline hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> inline hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> inline hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> inline hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> inline hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }

/// Type stored in the file for a C++ element type: little-endian, fixed width.
template <typename T>
hid_t file_type();
template <> inline hid_t file_type<double>() { return H5T_IEEE_F64LE; }
template <> inline hid_t file_type<float>() { return H5T_IEEE_F32LE; }
template <> inline hid_t file_type<std::int64_t>() { return H5T_STD_I64LE; }
template <> inline hid_t file_type<std::int32_t>() { return H5T_STD_I32LE; }
template <> inline hid_t file_type<std::uint8_t>() { return H5T_STD_U8LE; }

/// A half-open range of rows [begin, end) along a dataset's first dimension.
struct RowRange {
  hsize_t begin = 0;
  hsize_t end = 0;
  hsize_t size() const noexcept { return end - begin; }
};

/// How new datasets are laid out on disk.
struct CreateOptions {
  std::size_t target_chunk_bytes = 64 * 1024;  ///< bytes per chunk once the dataset is large
  hsize_t min_chunk_rows = 256;                ///< at least this many rows per chunk (if they fit)
  int gzip_level = 0;                          ///< 0: no compression; 1..9: shuffle + deflate
  bool checksum = true;                        ///< Fletcher-32 checksum of every chunk
};

/// The file in use and the status its failures get: every error message starts with the path.
class Hdf5Context {
 public:
  /// `path` appears in messages; `file_path` is the file actually opened or created (a
  /// temporary file while writing), by default the same.
  Hdf5Context(std::string path, matnn_status status, std::string file_path = {})
      : path_(std::move(path)), file_path_(file_path.empty() ? path_ : std::move(file_path)), status_(status) {}

  const std::string& path() const noexcept { return path_; }
  matnn_status status() const noexcept { return status_; }

  /// Throws matnn::Error(status(), "<path>: <what>: <HDF5 detail>").
  [[noreturn]] void raise(const std::string& what) const;
  /// Throws matnn::Error(status, "<path>: <what>") without consulting HDF5.
  [[noreturn]] void raise_plain(matnn_status status, const std::string& what) const;

  /// Returns `id` if it is valid, else raise(what).
  hid_t check(hid_t id, const std::string& what) const {
    if (id < 0) raise(what);
    return id;
  }
  void check_status(herr_t rc, const std::string& what) const {
    if (rc < 0) raise(what);
  }

  // ---- files, groups, links -------------------------------------------------------------
  /// Verifies the file's seal, or the global heaps of an unsealed file, then opens it.
  File open_file(bool writable) const;
  /// Creates (truncating) a file with room for a seal; call seal() once it is closed.
  File create_file() const;
  /// Seals the closed file: a hash of its content in its user block (hdf5_seal.hpp).
  void seal() const;
  Group open_group(hid_t loc, const std::string& name) const;
  Group create_group(hid_t loc, const std::string& name) const;
  /// True if `name` (relative to loc, one or more components) names an existing object.
  bool exists(hid_t loc, const std::string& name) const;
  /// Names of the links in a group, in name order.
  std::vector<std::string> children(hid_t group, const std::string& group_name) const;
  bool is_group(hid_t loc, const std::string& name) const;

  // ---- datasets ---------------------------------------------------------------------------
  Dataset open_dataset(hid_t loc, const std::string& name) const;
  std::vector<hsize_t> shape(const Dataset& dataset, const std::string& name) const;
  H5T_class_t type_class(const Dataset& dataset, const std::string& name) const;
  /// For a dataset of strings: 0 if they are variable-length, else their fixed size in bytes;
  /// -1 if the dataset does not hold strings.
  long string_size(const Dataset& dataset, const std::string& name) const;

  /// Creates a chunked dataset with `rows` rows of shape `row_shape`, unlimited along the first
  /// dimension, with the given fill value for rows never written.
  template <typename T>
  Dataset create_dataset(hid_t loc, const std::string& name, hsize_t rows,
                         const std::vector<hsize_t>& row_shape, T fill,
                         const CreateOptions& options) const {
    return create_dataset_impl(loc, name, file_type<T>(), native_type<T>(), rows, row_shape, &fill, options);
  }
  /// Creates a chunked dataset of fixed-size, NUL-padded UTF-8 strings of `size` bytes
  /// (fill: empty string).
  Dataset create_string_dataset(hid_t loc, const std::string& name, hsize_t rows, std::size_t size,
                                const CreateOptions& options) const;
  /// Sets the first dimension to `rows`.
  void extend(const Dataset& dataset, const std::string& name, hsize_t rows) const;

  /// Reads the rows in `ranges` (sorted, non-overlapping) into `out`, packed one after another,
  /// in a single H5Dread. `row_elems` is the number of elements per row.
  template <typename T>
  void read_rows(const Dataset& dataset, const std::string& name, const std::vector<RowRange>& ranges,
                 hsize_t row_elems, T* out) const {
    read_rows_impl(dataset, name, native_type<T>(), ranges, row_elems, out);
  }
  template <typename T>
  void read_rows(const Dataset& dataset, const std::string& name, RowRange range, hsize_t row_elems,
                 T* out) const {
    read_rows_impl(dataset, name, native_type<T>(), std::vector<RowRange>{range}, row_elems, out);
  }
  /// Writes rows [begin, begin + count) from `data` (count * row_elems elements).
  template <typename T>
  void write_rows(const Dataset& dataset, const std::string& name, hsize_t begin, hsize_t count,
                  hsize_t row_elems, const T* data) const {
    write_rows_impl(dataset, name, native_type<T>(), begin, count, row_elems, data);
  }

  /// Reads strings (fixed-size or variable-length) of the rows in `ranges`, trailing padding removed.
  std::vector<std::string> read_strings(const Dataset& dataset, const std::string& name,
                                        const std::vector<RowRange>& ranges) const;
  /// Writes strings from row `begin`; into a fixed-size dataset each must fit its size.
  void write_strings(const Dataset& dataset, const std::string& name, hsize_t begin,
                     const std::vector<std::string>& values) const;

  // ---- attributes -------------------------------------------------------------------------
  bool has_attribute(hid_t object, const std::string& attribute) const;
  /// Reads a string attribute (variable or fixed length); `where` names the object for messages.
  std::string read_string_attribute(hid_t object, const std::string& where,
                                    const std::string& attribute) const;
  std::int64_t read_int_attribute(hid_t object, const std::string& where,
                                  const std::string& attribute) const;
  void write_string_attribute(hid_t object, const std::string& where, const std::string& attribute,
                              const std::string& value) const;
  void write_int_attribute(hid_t object, const std::string& where, const std::string& attribute,
                           std::int64_t value) const;

 private:
  Dataset create_dataset_impl(hid_t loc, const std::string& name, hid_t type, hid_t fill_type, hsize_t rows,
                              const std::vector<hsize_t>& row_shape, const void* fill,
                              const CreateOptions& options) const;
  void read_rows_impl(const Dataset& dataset, const std::string& name, hid_t memtype,
                      const std::vector<RowRange>& ranges, hsize_t row_elems, void* out) const;
  void write_rows_impl(const Dataset& dataset, const std::string& name, hid_t memtype, hsize_t begin,
                       hsize_t count, hsize_t row_elems, const void* data) const;

  std::string path_;
  std::string file_path_;
  matnn_status status_;
};

/// A variable-length string type, UTF-8 unless told otherwise (caller owns it).
Datatype utf8_string_type(H5T_cset_t cset = H5T_CSET_UTF8);
/// A fixed-size, NUL-padded UTF-8 string type of `size` bytes (caller owns it).
Datatype fixed_utf8_string_type(std::size_t size);

}  // namespace matnn::h5
