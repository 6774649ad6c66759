// Extended XYZ, as ASE writes and reads it: a comment line of key=value pairs with
// Lattice="ax ay az bx by bz cx cy cz", Properties=species:S:1:pos:R:3:..., pbc="T T F",
// and labels such as energy, stress and forces under configurable key names.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "matnn/record.hpp"

namespace matnn {

/// Maps file keys to matnn's reserved label names, for files written with other names
/// (e.g. REF_energy). Keys not mapped are read as user labels under their own names.
struct ExtxyzKeys {
  std::string energy = "energy";
  std::string forces = "forces";
  std::string stress = "stress";
  std::string free_energy = "free_energy";
  /// 9 numbers; kept as the "virial" property, and where a frame has no stress and its cell a
  /// volume V, also read as stress = -virial / V (the virial is -V times ASE's stress).
  std::string virial = "virial";
};

/// Reads every frame of an extended XYZ file. Throws matnn::Error naming the file and line:
/// MATNN_ERROR_IO (cannot open), MATNN_ERROR_FORMAT (malformed line, wrong column count,
/// bad Lattice or Properties, no frame at all), MATNN_ERROR_UNKNOWN_ELEMENT, MATNN_ERROR_NON_FINITE,
/// MATNN_ERROR_SINGULAR_CELL (frame index given).
std::vector<Record> read_extxyz(const std::string& path, const ExtxyzKeys& keys = {});
/// Same, from a stream; `source_name` is used in messages.
std::vector<Record> read_extxyz(std::istream& in, const std::string& source_name,
                                const ExtxyzKeys& keys = {});

/// Writes frames so that ase.io.read(path, index=":") gives the same atoms, info and arrays
/// (stress as ASE writes it: 9 numbers, the full 3x3 tensor). Atomic: temporary file, then rename.
void write_extxyz(const std::string& path, const std::vector<Record>& records,
                  const ExtxyzKeys& keys = {});
void write_extxyz(std::ostream& out, const std::vector<Record>& records, const ExtxyzKeys& keys = {});

}  // namespace matnn
