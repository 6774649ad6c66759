// The matnn HDF5 dataset: many structures of different sizes with their labels, in one file that
// h5py can read without matnn. The layout is documented in docs/dataset-format.md.
//
// Reading never loads more than asked for: the per-structure index (atom counts and offsets) is
// read at open, and read() fetches only the requested structures' rows, so each MPI rank of a
// training job can read its own shard of one file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "matnn/record.hpp"

namespace matnn {

/// Version of the on-disk layout written by this build; readers accept <= this.
inline constexpr int dataset_format_version = 1;

/// What a dataset holds, for `matnn info` and for models that check their inputs.
struct LabelSummary {
  std::string name;
  bool per_atom = false;
  int width = 1;                  ///< values per structure (or per atom)
  std::string unit;               ///< as stored in the file's "units" attribute
  std::size_t present = 0;        ///< structures that have this label
  double min = 0, max = 0, mean = 0;  ///< over all present values (each component)
};

class DatasetReader {
 public:
  /// Opens and checks the file's layout; throws matnn::Error: MATNN_ERROR_IO (missing, unreadable),
  /// MATNN_ERROR_FORMAT (not a matnn dataset, truncated, corrupt, inconsistent array lengths,
  /// newer format version).
  explicit DatasetReader(const std::string& path);
  ~DatasetReader();
  DatasetReader(DatasetReader&&) noexcept;
  DatasetReader& operator=(DatasetReader&&) noexcept;

  const std::string& path() const noexcept;
  std::size_t size() const noexcept;                 ///< number of structures
  std::size_t total_atoms() const noexcept;
  std::int64_t atom_count(std::size_t index) const;  ///< atoms of structure `index`

  /// Names of per-structure labels, per-atom labels and tags stored in the file.
  std::vector<std::string> property_names() const;
  std::vector<std::string> atom_property_names() const;
  std::vector<std::string> tag_names() const;
  /// Names of the signals (spectra, images) stored in the file.
  std::vector<std::string> signal_names() const;
  /// Unit attribute of a label ("" if none).
  std::string unit(const std::string& label) const;

  /// Structures [begin, end); throws MATNN_ERROR_INVALID_ARGUMENT if out of range.
  std::vector<Record> read(std::size_t begin, std::size_t end) const;
  /// Structures at the given indices, in the given order (duplicates allowed).
  std::vector<Record> read(std::span<const std::size_t> indices) const;
  /// All structures.
  std::vector<Record> read_all() const { return read(0, size()); }

  /// Label coverage and value ranges, computed without keeping the whole file in memory.
  std::vector<LabelSummary> summarize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Options for writing: units of user labels (reserved labels always get their ASE unit).
struct DatasetWriteOptions {
  std::map<std::string, std::string> units;  ///< label name -> unit string, e.g. {"formation_energy", "eV/atom"}
};

/// Writes `records` to `path` atomically: the file appears complete or not at all (a temporary
/// file in the same directory is renamed over the target). Validates every record first.
void write_dataset(const std::string& path, std::span<const Record> records,
                   const DatasetWriteOptions& options = {});

/// Appends `records` to an existing dataset. The labels of the new records may differ from
/// those in the file: a label missing on either side is masked as absent. A label that exists
/// in both with a different width or unit is an error (MATNN_ERROR_FORMAT). Also atomic: the
/// file is copied, extended and renamed, so a failure leaves the original untouched.
void append_dataset(const std::string& path, std::span<const Record> records,
                    const DatasetWriteOptions& options = {});

}  // namespace matnn
