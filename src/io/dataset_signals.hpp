// The /signals groups of a dataset (spectra and images, matnn/signal.hpp), for the writer and
// the reader (layout: docs/dataset-format.md). One group per signal name holds every row's
// values in one array of shape (S, channels, points) or (S, channels, height, width), so that
// h5py reads a batch of patterns or images as one numpy array.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hdf5_handle.hpp"
#include "matnn/record.hpp"

namespace matnn::signals {

/// What all rows of one signal share: kind, shape, the spectrum axis or the image pixel unit.
struct SignalSpec {
  std::string name;
  SignalKind kind = SignalKind::spectrum;
  std::vector<std::int64_t> shape;
  std::shared_ptr<const std::vector<double>> axis;
  std::string axis_name, axis_unit;
  bool in_file = false;  ///< already in the file being appended to
};

/// The open datasets of one signal.
struct SignalColumn {
  const SignalSpec* spec = nullptr;
  std::string group;  ///< /signals/<name>, for messages
  h5::Dataset values, present, pixel_size;
};

/// The specs of the signals stored in `file` with `rows` rows; MATNN_ERROR_FORMAT (naming `path`
/// and the dataset) when a group is incomplete or its arrays disagree with the row count.
std::map<std::string, SignalSpec> read_specs(const h5::Hdf5Context& ctx, hid_t file, hsize_t rows);

/// Adds the signals of `records` to `specs`: every row with a signal of a given name must agree
/// with the others (and with the file's) on kind, shape, axis and units (MATNN_ERROR_FORMAT,
/// naming the structure indices).
void plan(const std::string& path, std::span<const Record> records, std::map<std::string, SignalSpec>& specs);

/// Creates /signals/<name> with `rows` absent rows (values NaN, present 0).
SignalColumn create(const h5::Hdf5Context& ctx, hid_t file, const SignalSpec& spec, hsize_t rows);
/// Opens an existing signal; with rows > 0, extends its arrays to that many rows.
SignalColumn open(const h5::Hdf5Context& ctx, hid_t file, const SignalSpec& spec, hsize_t rows = 0);

/// Writes the signal of `block` (records absent from it stay absent) as rows first_row, ...
void write_rows(const h5::Hdf5Context& ctx, const SignalColumn& column, std::span<const Record> block,
                hsize_t first_row);

/// Fills records[k].signals for the rows `runs` (records in run order); MATNN_ERROR_NON_FINITE
/// for a present row with a NaN or infinite value, MATNN_ERROR_FORMAT for a pixel size <= 0.
void read_rows(const h5::Hdf5Context& ctx, const SignalColumn& column, const std::vector<h5::RowRange>& runs,
               std::vector<Record>& records);

}  // namespace matnn::signals
