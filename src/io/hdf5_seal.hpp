// Checks that make a damaged HDF5 file an error before libhdf5 parses it.
//
// libhdf5 (1.10, Debian 12's) trusts parts of a file that carry no checksum: a corrupt global heap
// collection, where variable-length strings live, makes it loop forever or read out of bounds.
// matnn therefore
//  - seals what it writes: every file gets a 512-byte HDF5 user block (which libhdf5 skips) that
//    holds a hash of all bytes after it and their count; a reader recomputes both with plain
//    reads and refuses the file on any difference, so truncation and damage never reach libhdf5;
//  - stores no variable-length data itself (string attributes and tags are fixed-size), so
//    a sealed file has no global heap at all;
//  - walks every global heap collection of a file without a seal (written by h5py or another
//    tool, or by matnn before seals) as libhdf5 would and refuses the file if a walk would not
//    end inside the collection.
// What stays unverified in unsealed files is documented in docs/dataset-format.md.
#pragma once

#include <cstdint>
#include <string>

#include "matnn/status.h"

namespace matnn::h5 {

/// Size of the user block matnn reserves at the start of every HDF5 file it creates.
inline constexpr std::uint64_t seal_block_bytes = 512;

/// What check_file found.
enum class SealState {
  sealed,    ///< the seal matched the content
  unsealed,  ///< no seal; the global heaps were walked and are sound
};

/// Writes the seal of `file_path`, a closed HDF5 file created with a seal block.
/// `path` names the file in messages. Throws matnn::Error(MATNN_ERROR_IO) on failure.
void write_seal(const std::string& path, const std::string& file_path);

/// Verifies the seal of `file_path`, or, if it has none, its global heap collections.
/// Throws matnn::Error(status, "<path>: ...") naming what is wrong.
SealState check_file(const std::string& path, const std::string& file_path, matnn_status status);

/// True if the file has a user block of seal_block_bytes (created by matnn, sealed or not).
bool has_seal_block(const std::string& file_path);

}  // namespace matnn::h5
