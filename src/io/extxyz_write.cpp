// Extended XYZ writer, laid out as ASE 3.22 writes: Lattice (only for a non-zero cell),
// Properties=species:S:1:pos:R:3 then the per-atom labels (all as R, names sorted, forces under
// keys.forces), then energy, free_energy and stress (the 3x3 tensor as 9 numbers, which ASE
// reads back into its calculator as Voigt), the other properties, the tags, timestamp (integer
// seconds) and pbc last. Numbers are the shortest text that reads back to the same double.
//
// Every record is checked (Record::validate, names that the format can carry) before anything
// is written, so a bad record leaves no file behind; the path overload also writes through
// AtomicFile, so a failed write never leaves a partial file under the target name.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <set>

#include <fmt/format.h>

#include "extxyz_syntax.hpp"
#include "matnn/atomic_file.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"

namespace matnn {

namespace {

using namespace extxyz_detail;

bool is_reserved_info_key(const std::string& k) {
  return k == "Lattice" || k == "Properties" || k == "pbc" || k == "timestamp";
}

// The comment-line key of a per-structure label.
std::string info_key(const std::string& name, const ExtxyzKeys& keys) {
  if (name == "energy") return keys.energy;
  if (name == "free_energy") return keys.free_energy;
  if (name == "stress") return keys.stress;
  return name;
}

// The Properties column name of a per-atom label.
std::string column_name(const std::string& name, const ExtxyzKeys& keys) {
  return name == "forces" ? keys.forces : name;
}

void check_text(std::size_t index, const char* what, const std::string& text) {
  if (text.find_first_of("\n\r") != std::string::npos) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: {} '{}' contains a line break, which extended XYZ cannot carry",
         index, what, text);
  }
}

// Throws before anything is written if a record cannot be written faithfully.
void check_record(const Record& r, std::size_t index, const ExtxyzKeys& keys) {
  try {
    r.validate();
  } catch (const Error& e) {
    fail(e.status(), "write_extxyz: record {}: {}", index, e.what());
  }
  for (int z : r.structure.numbers) {
    if (!is_known_atomic_number(z)) {
      fail(MATNN_ERROR_UNKNOWN_ELEMENT, "write_extxyz: record {}: unknown atomic number {}", index, z);
    }
  }
  std::set<std::string> used;
  auto claim = [&](const std::string& key, const char* what) {
    check_text(index, what, key);
    if (key.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: a {} has an empty name", index, what);
    if (is_reserved_info_key(key)) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: {} '{}' uses a name reserved by extended XYZ", index, what, key);
    }
    if (!used.insert(key).second) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: key '{}' would be written twice (a {} clashes with another label or tag)",
           index, key, what);
    }
  };
  for (const auto& [name, values] : r.properties) {
    claim(info_key(name, keys), "property");
    if (name == "virial" && values.size() != 9) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: property 'virial' must have 9 values (3x3), has {}", index,
           values.size());
    }
    if (values.empty()) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: property '{}' has no values", index, name);
    }
  }
  for (const auto& [name, value] : r.tags) {
    claim(name, "tag");
    check_text(index, "tag value", value);
  }
  std::set<std::string> columns;
  for (const auto& [name, values] : r.atom_properties) {
    const std::string col = column_name(name, keys);
    if (col.empty() || col == "species" || col == "pos" || col == "Z" ||
        col.find_first_of(": \t\n\r\"'{}[]=\\,") != std::string::npos) {
      fail(MATNN_ERROR_INVALID_ARGUMENT,
           "write_extxyz: record {}: per-atom label '{}' cannot be an extended XYZ column (empty, reserved, or contains ':' or spaces)",
           index, col);
    }
    if (!columns.insert(col).second) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: column '{}' would be written twice", index, col);
    }
    if (values.cols() < 1 || static_cast<std::size_t>(values.rows()) != r.structure.size()) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "write_extxyz: record {}: per-atom label '{}' has {}x{} values for {} atoms", index,
           name, values.rows(), values.cols(), r.structure.size());
    }
  }
}

void append_numbers(std::string& out, const double* v, std::size_t n) {
  if (n == 1) {
    append_double(out, v[0]);
    return;
  }
  out += '"';
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    append_double(out, v[i]);
  }
  out += '"';
}

void append_frame(std::string& out, const Record& r, const ExtxyzKeys& keys) {
  const Structure& s = r.structure;
  const std::size_t n = s.size();
  fmt::format_to(std::back_inserter(out), "{}\n", n);

  // Comment line.
  if (!s.cell.isZero(0.0)) {
    out += "Lattice=\"";
    for (int i = 0; i < 9; ++i) {
      if (i) out += ' ';
      append_double(out, s.cell(i / 3, i % 3));
    }
    out += "\" ";
  }
  out += "Properties=species:S:1:pos:R:3";
  std::vector<std::pair<std::string, const AtomValues*>> columns;
  for (const auto& [name, values] : r.atom_properties) columns.emplace_back(column_name(name, keys), &values);
  for (const auto& [col, values] : columns) fmt::format_to(std::back_inserter(out), ":{}:R:{}", col, values->cols());

  auto write_property = [&](const std::string& name, const std::vector<double>& v) {
    out += ' ';
    append_quoted(out, info_key(name, keys));
    out += '=';
    if (name == "stress" && v.size() == 6) {
      // As ASE writes it: the symmetric 3x3 tensor, 9 numbers.
      const double m[9] = {v[0], v[5], v[4], v[5], v[1], v[3], v[4], v[3], v[2]};
      append_numbers(out, m, 9);
    } else {
      append_numbers(out, v.data(), v.size());
    }
  };
  for (const char* reserved : {"energy", "free_energy", "stress"}) {
    if (const auto it = r.properties.find(reserved); it != r.properties.end()) write_property(it->first, it->second);
  }
  for (const auto& [name, values] : r.properties) {
    if (name != "energy" && name != "free_energy" && name != "stress") write_property(name, values);
  }
  for (const auto& [name, value] : r.tags) {
    out += ' ';
    append_quoted(out, name);
    out += '=';
    append_quoted(out, value);
  }
  if (r.timestamp) fmt::format_to(std::back_inserter(out), " timestamp={}", *r.timestamp);
  fmt::format_to(std::back_inserter(out), " pbc=\"{} {} {}\"\n", s.pbc[0] ? 'T' : 'F', s.pbc[1] ? 'T' : 'F',
                 s.pbc[2] ? 'T' : 'F');

  // Atom lines.
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    const char* symbol = element(s.numbers[i]).symbol;
    out += symbol;
    if (symbol[1] == '\0') out += ' ';
    for (int k = 0; k < 3; ++k) {
      out += ' ';
      append_double(out, s.positions(row, k));
    }
    for (const auto& [col, values] : columns) {
      for (Eigen::Index k = 0; k < values->cols(); ++k) {
        out += ' ';
        append_double(out, (*values)(row, k));
      }
    }
    out += '\n';
  }
}

std::string format_all(const std::vector<Record>& records, const ExtxyzKeys& keys) {
  for (std::size_t i = 0; i < records.size(); ++i) check_record(records[i], i, keys);
  std::string out;
  for (const Record& r : records) append_frame(out, r, keys);
  return out;
}

}  // namespace

void write_extxyz(std::ostream& out, const std::vector<Record>& records, const ExtxyzKeys& keys) {
  const std::string text = format_all(records, keys);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) fail(MATNN_ERROR_IO, "write_extxyz: cannot write to the stream");
}

void write_extxyz(const std::string& path, const std::vector<Record>& records, const ExtxyzKeys& keys) {
  const std::string text = format_all(records, keys);
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot open '{}' for writing ({})", path, file.temp_path(), std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) fail(MATNN_ERROR_IO, "{}: cannot write '{}' ({})", path, file.temp_path(), std::strerror(errno));
  }
  file.commit();
}

}  // namespace matnn
