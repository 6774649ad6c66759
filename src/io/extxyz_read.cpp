// Extended XYZ reader. The comment-line grammar follows ASE 3.22's key_val_str_to_dict (see
// extxyz_syntax.cpp); the whole file is read into memory and parsed line by line with
// std::from_chars, so 100k atoms take a few milliseconds.
//
// How ASE's info and arrays land in a Record:
//   Lattice (9 numbers, rows = lattice vectors) -> structure.cell; pbc (default T T T with a
//   Lattice, F F F without) -> structure.pbc; species (capitalised as ASE does) or Z -> numbers
//   (Z wins when both are present, as in ASE); pos -> positions.
//   keys.energy / keys.free_energy (1 number), keys.stress (6 Voigt numbers, or 9 numbers read like
//   ASE: the 3x3 matrix in Fortran order, of which the upper triangle is used) -> properties under
//   the reserved names; a file key equal to a reserved name that `keys` maps to another key is
//   ignored. keys.virial (9 numbers) is kept as the property "virial", and when there is no stress and the
//   cell has a volume it also gives stress = -virial / V (ASE itself does not do this).
//   timestamp (integer seconds or ISO 8601) -> Record::timestamp.
//   Other numeric or logical values (T/F -> 1/0, a bare key -> 1, numeric _JSON lists flattened
//   row-major) -> properties; other text
//   (and always uid, id, config_type, prototype) -> tags.
//   Per-atom R, I and L columns -> atom_properties (L as 0/1; keys.forces -> "forces", "charge"
//   -> "charges" as ASE's name map does); string columns other than species are skipped.
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <istream>
#include <iterator>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "extxyz_syntax.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "matnn/input_file.hpp"
#include "matnn/extxyz.hpp"

namespace matnn {

namespace {

using namespace extxyz_detail;

// Splits a buffer into lines ('\n' or "\r\n"), counting them from 1.
class LineReader {
 public:
  explicit LineReader(std::string_view data) : data_(data) {}
  bool next(std::string_view& line) {
    if (pos_ >= data_.size()) return false;
    const char* begin = data_.data() + pos_;
    const void* nl = std::memchr(begin, '\n', data_.size() - pos_);
    std::size_t len = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin) : data_.size() - pos_;
    pos_ += len + (nl ? 1 : 0);
    if (len > 0 && begin[len - 1] == '\r') --len;
    line = std::string_view(begin, len);
    ++line_;
    return true;
  }
  std::size_t line_number() const noexcept { return line_; }
  std::size_t bytes_left() const noexcept { return data_.size() - pos_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  std::size_t line_ = 0;
};

std::string shorten(std::string_view s) {
  return s.size() <= 60 ? std::string(s) : std::string(s.substr(0, 57)) + "...";
}

void split_blanks(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    while (i < n && is_blank(line[i])) ++i;
    const std::size_t b = i;
    while (i < n && !is_blank(line[i])) ++i;
    if (i > b) out.push_back(line.substr(b, i - b));
  }
}

// An info value interpreted as ASE does: all numbers, else all logicals, else text.
struct InfoValue {
  enum class Kind { numbers, logicals, text } kind = Kind::text;
  std::vector<double> numbers;  // logicals as 0/1
};

bool always_text(const std::string& key) {
  std::string lower = key;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "uid" || key == "id" || key == "config_type" || key == "prototype";
}

InfoValue interpret(const KeyValue& kv) {
  InfoValue v;
  if (!kv.has_value) {
    v.kind = InfoValue::Kind::logicals;
    v.numbers = {1.0};
    return v;
  }
  if (always_text(kv.key)) return v;
  std::string_view text = kv.value;
  std::string json;
  if (text.starts_with("_JSON ")) {
    // ASE's encoding of info values that are not scalars or 1-D arrays: numeric (nested) lists
    // become numbers, flattened in row-major order; anything else stays text.
    json.assign(text.substr(6));
    for (char& c : json) {
      if (c == '[' || c == ']') c = ' ';
    }
    text = json;
  }
  const auto parts = split_list(text);
  if (parts.empty()) return v;
  v.numbers.resize(parts.size());
  bool numeric = true;
  for (std::size_t i = 0; i < parts.size() && numeric; ++i) numeric = parse_double(parts[i], v.numbers[i]);
  if (numeric) {
    v.kind = InfoValue::Kind::numbers;
    return v;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    bool b = false;
    if (!parse_logical(parts[i], b)) {
      v.numbers.clear();
      return v;
    }
    v.numbers[i] = b ? 1.0 : 0.0;
  }
  v.kind = InfoValue::Kind::logicals;
  return v;
}

enum class Role { species, z, pos, real, integer, logical, skip };

struct Column {
  std::string name;  // Record name (after mapping)
  Role role;
  int ncols;
  int first;         // index of its first token on an atom line
  int slot = -1;     // index into the per-atom value matrices
};

Vec3 cross(const Vec3& a, const Vec3& b) {
  return Vec3(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
}

std::string capitalize(std::string_view s) {
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    out[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view data, const std::string& source, const ExtxyzKeys& keys)
      : lines_(data), source_(source), keys_(keys) {}

  std::vector<Record> run() {
    std::vector<Record> records;
    std::string_view line;
    while (lines_.next(line)) {
      if (trim(line).empty()) continue;  // blank lines between frames and at the end
      records.push_back(frame(line, records.size()));
    }
    // An empty file is far more often a failed write or a wrong path than an empty dataset.
    if (records.empty()) error(MATNN_ERROR_FORMAT, 1, "no frames: the file is empty or holds only blank lines");
    return records;
  }

 private:
  template <typename... Args>
  [[noreturn]] void error(matnn_status status, std::size_t line, fmt::format_string<Args...> format,
                          Args&&... args) const {
    throw Error(status, fmt::format("{}:{}: ", source_, line) + fmt::format(format, std::forward<Args>(args)...));
  }

  Record frame(std::string_view count_line, std::size_t index) {
    const std::size_t header_line = lines_.line_number();
    std::int64_t natoms64 = 0;
    if (!parse_int(trim(count_line), natoms64)) {
      error(MATNN_ERROR_FORMAT, header_line, "expected the number of atoms of frame {} (a non-negative integer), found '{}'",
            index, shorten(trim(count_line)));
    }
    if (natoms64 < 0) {
      error(MATNN_ERROR_FORMAT, header_line, "expected a non-negative number of atoms, found {}", natoms64);
    }
    const auto natoms = static_cast<std::size_t>(natoms64);

    std::string_view comment;
    if (!lines_.next(comment)) {
      error(MATNN_ERROR_FORMAT, header_line + 1, "expected the comment line of the frame announced at line {}, found the end of the file",
            header_line);
    }
    const std::size_t comment_line = lines_.line_number();

    std::vector<KeyValue> pairs;
    try {
      pairs = split_comment_line(comment);
    } catch (const SyntaxError& e) {
      error(MATNN_ERROR_FORMAT, comment_line, "malformed comment line, column {}: {}", e.column, e.message);
    }

    Record rec;
    Structure& s = rec.structure;
    std::string properties_spec = "species:S:1:pos:R:3";
    bool have_lattice = false, have_pbc = false;
    std::optional<std::vector<double>> virial;

    auto single = [&](const KeyValue& kv, const InfoValue& v) {
      if (v.kind != InfoValue::Kind::numbers || v.numbers.size() != 1) {
        error(MATNN_ERROR_FORMAT, comment_line, "expected one number for '{}', found '{}'", kv.key, shorten(kv.value));
      }
      return v.numbers;
    };
    auto finite = [&](const KeyValue& kv, const std::vector<double>& x) {
      for (double d : x) {
        if (!std::isfinite(d)) error(MATNN_ERROR_NON_FINITE, comment_line, "'{}' has a non-finite value: '{}'", kv.key, shorten(kv.value));
      }
    };
    auto forget = [&](const std::string& name) {  // a repeated key: the last one wins, as in ASE
      rec.properties.erase(name);
      rec.tags.erase(name);
    };

    for (const KeyValue& kv : pairs) {
      const std::string& key = kv.key;
      if (key == "Properties") {
        if (!kv.has_value) error(MATNN_ERROR_FORMAT, comment_line, "expected Properties=name:type:ncols:...");
        properties_spec = kv.value;
        continue;
      }
      if (key == "timestamp") {
        rec.timestamp = timestamp(kv, comment_line);
        continue;
      }
      const InfoValue v = interpret(kv);
      if (key == "Lattice") {
        if (v.kind != InfoValue::Kind::numbers || v.numbers.size() != 9) {
          error(MATNN_ERROR_FORMAT, comment_line, "expected Lattice=\"ax ay az bx by bz cx cy cz\" (9 numbers), found '{}'",
                shorten(kv.value));
        }
        finite(kv, v.numbers);
        for (int r = 0; r < 3; ++r)
          for (int c = 0; c < 3; ++c) s.cell(r, c) = v.numbers[static_cast<std::size_t>(3 * r + c)];
        have_lattice = true;
      } else if (key == "pbc") {
        if (v.kind == InfoValue::Kind::text || (v.numbers.size() != 1 && v.numbers.size() != 3)) {
          error(MATNN_ERROR_FORMAT, comment_line, "expected pbc=\"T T T\" (1 or 3 logical values), found '{}'", shorten(kv.value));
        }
        for (std::size_t a = 0; a < 3; ++a) s.pbc[a] = v.numbers[v.numbers.size() == 1 ? 0 : a] != 0.0;
        have_pbc = true;
      } else if (key == keys_.energy || key == keys_.free_energy) {
        const char* name = key == keys_.energy ? "energy" : "free_energy";
        const auto x = single(kv, v);
        finite(kv, x);
        rec.properties[name] = x;
      } else if (key == keys_.stress) {
        if (v.kind != InfoValue::Kind::numbers || (v.numbers.size() != 6 && v.numbers.size() != 9)) {
          error(MATNN_ERROR_FORMAT, comment_line, "expected {} as 6 Voigt numbers or 9 numbers (3x3), found '{}'", key,
                shorten(kv.value));
        }
        finite(kv, v.numbers);
        rec.properties["stress"] = voigt(v.numbers);
      } else if ((key == "energy" && keys_.energy != "energy") || (key == "free_energy" && keys_.free_energy != "free_energy") ||
                 (key == "stress" && keys_.stress != "stress")) {
        continue;  // the reserved label comes from the key `keys` names
      } else if (key == keys_.virial) {
        if (v.kind != InfoValue::Kind::numbers || v.numbers.size() != 9) {
          error(MATNN_ERROR_FORMAT, comment_line, "expected {} as 9 numbers (3x3), found '{}'", key, shorten(kv.value));
        }
        finite(kv, v.numbers);
        forget("virial");
        rec.properties["virial"] = v.numbers;
        virial = v.numbers;
      } else if (v.kind == InfoValue::Kind::text) {
        forget(key);
        rec.tags[key] = kv.value;
      } else {
        finite(kv, v.numbers);
        forget(key);
        rec.properties[key] = v.numbers;
      }
    }
    if (!have_pbc) s.pbc = {have_lattice, have_lattice, have_lattice};
    check_cell(s, comment_line, index);

    const std::vector<Column> columns = parse_properties(properties_spec, comment_line);
    read_atoms(rec, columns, natoms, header_line);

    if (virial && !rec.properties.count("stress")) {
      const Vec3 a = s.cell.row(0).transpose(), b = s.cell.row(1).transpose(), c = s.cell.row(2).transpose();
      const double volume = std::abs(a.dot(cross(b, c)));
      if (volume > 0.0 && std::isfinite(volume)) {
        std::vector<double> st = voigt(*virial);
        for (double& x : st) x = -x / volume;
        rec.properties["stress"] = st;
      }
    }

    try {
      rec.validate();
    } catch (const Error& e) {
      error(e.status(), header_line, "frame {}: {}", index, e.what());
    }
    return rec;
  }

  // 6 numbers are Voigt already; 9 numbers are the 3x3 matrix in Fortran order as ASE reads
  // stress/virial (m[i][j] = v[i + 3 j]), whose xx yy zz yz xz xy ASE takes without symmetrising.
  static std::vector<double> voigt(const std::vector<double>& v) {
    if (v.size() == 6) return v;
    return {v[0], v[4], v[8], v[7], v[6], v[3]};
  }

  std::int64_t timestamp(const KeyValue& kv, std::size_t line) const {
    const std::string_view text = trim(kv.value);
    std::int64_t t = 0;
    if (parse_int(text, t)) return t;
    double d = 0;
    if (parse_double(text, d) && std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.0e18) {
      return static_cast<std::int64_t>(d);
    }
    if (const auto iso = parse_iso8601(text)) return *iso;
    error(MATNN_ERROR_FORMAT, line,
          "expected timestamp as an integer number of seconds since 1970 or an ISO 8601 date/time "
          "(2021-03-04 or 2021-03-04T05:06:07Z), found '{}'",
          shorten(kv.value));
  }

  void check_cell(const Structure& s, std::size_t line, std::size_t index) const {
    if (!s.cell.allFinite()) error(MATNN_ERROR_NON_FINITE, line, "frame {}: the Lattice has a non-finite value", index);
    std::vector<Vec3> vs;
    std::string axes;
    for (int a = 0; a < 3; ++a) {
      if (!s.pbc[static_cast<std::size_t>(a)]) continue;
      vs.push_back(s.cell.row(a).transpose());
      axes += axes.empty() ? "" : ", ";
      axes += "abc"[a];
    }
    double measure = 1.0, scale = 1.0;
    for (const Vec3& v : vs) scale *= v.norm();
    if (vs.size() == 1) measure = vs[0].norm();
    if (vs.size() == 2) measure = cross(vs[0], vs[1]).norm();
    if (vs.size() == 3) measure = std::abs(vs[0].dot(cross(vs[1], vs[2])));
    if (!vs.empty() && (scale == 0.0 || measure <= 1e-12 * scale)) {
      error(MATNN_ERROR_SINGULAR_CELL, line,
            "frame {}: singular cell: the lattice vectors of the periodic axes ({}) are zero or linearly dependent; "
            "expected a Lattice with independent vectors (or pbc=F on those axes)",
            index, axes);
    }
  }

  std::vector<Column> parse_properties(const std::string& spec, std::size_t line) const {
    std::vector<std::string_view> fields;
    std::string_view rest(spec);
    for (;;) {
      const auto colon = rest.find(':');
      fields.push_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    if (fields.size() % 3 != 0) {
      error(MATNN_ERROR_FORMAT, line, "expected Properties as name:type:ncols triples, found '{}'", shorten(spec));
    }
    std::vector<Column> cols;
    bool has_species = false, has_z = false, has_pos = false, has_charges = false;
    for (std::size_t i = 0; i < fields.size(); i += 3) {
      if (fields[i] == "charges") has_charges = true;
    }
    int first = 0, slot = 0;
    for (std::size_t i = 0; i < fields.size(); i += 3) {
      const std::string_view name = fields[i], type = fields[i + 1];
      std::int64_t n = 0;
      if (name.empty()) error(MATNN_ERROR_FORMAT, line, "Properties: expected a column name, found an empty one");
      if (type.size() != 1 || std::string_view("RISL").find(type[0]) == std::string_view::npos) {
        error(MATNN_ERROR_FORMAT, line, "Properties: expected type R, I, S or L for '{}', found '{}'", name, type);
      }
      if (!parse_int(fields[i + 2], n) || n < 1 || n > 1000000) {
        error(MATNN_ERROR_FORMAT, line, "Properties: expected a positive column count for '{}', found '{}'", name,
              fields[i + 2]);
      }
      if (first + n > 1000000) error(MATNN_ERROR_FORMAT, line, "Properties: more than a million columns");
      const char t = type[0];
      Column c{std::string(name), Role::skip, static_cast<int>(n), first};
      first += c.ncols;
      if (name == "species") {
        if (t != 'S' || n != 1) error(MATNN_ERROR_FORMAT, line, "Properties: expected species:S:1, found species:{}:{}", type, n);
        c.role = Role::species;
        has_species = true;
      } else if (name == "Z") {
        if (t != 'I' || n != 1) error(MATNN_ERROR_FORMAT, line, "Properties: expected Z:I:1, found Z:{}:{}", type, n);
        c.role = Role::z;
        has_z = true;
      } else if (name == "pos") {
        if (t != 'R' || n != 3) error(MATNN_ERROR_FORMAT, line, "Properties: expected pos:R:3, found pos:{}:{}", type, n);
        c.role = Role::pos;
        has_pos = true;
      } else if (t == 'S') {
        c.role = Role::skip;  // per-atom text other than species has no place in a Record
      } else if (name == "forces" && keys_.forces != "forces") {
        c.role = Role::skip;  // the forces label comes from the column `keys` names
      } else {
        c.role = t == 'R' ? Role::real : t == 'I' ? Role::integer : Role::logical;
        if (name == keys_.forces) c.name = "forces";
        if (name == "charge" && !has_charges) c.name = "charges";
        if (is_reserved_atom_label(c.name) && reserved_label_width(c.name) > 0 && reserved_label_width(c.name) != c.ncols) {
          error(MATNN_ERROR_FORMAT, line, "Properties: expected {} column(s) for '{}', found {}",
                reserved_label_width(c.name), c.name, c.ncols);
        }
        c.slot = slot++;
      }
      for (const Column& other : cols) {
        if (c.role != Role::skip && other.role != Role::skip && other.name == c.name) error(MATNN_ERROR_FORMAT, line, "Properties: '{}' is listed twice", c.name);
      }
      cols.push_back(std::move(c));
    }
    if (!has_pos) error(MATNN_ERROR_FORMAT, line, "Properties: expected a pos:R:3 column, found '{}'", shorten(spec));
    if (!has_species && !has_z) {
      error(MATNN_ERROR_FORMAT, line, "Properties: expected a species:S:1 or Z:I:1 column, found '{}'", shorten(spec));
    }
    return cols;
  }

  int lookup_symbol(std::string_view token, std::size_t line) {
    for (const auto& [sym, z] : symbol_cache_) {
      if (sym == token) return z;
    }
    const std::string cap = capitalize(token);
    int z = 0;
    try {
      z = atomic_number(cap);
    } catch (const Error&) {
      error(MATNN_ERROR_UNKNOWN_ELEMENT, line, "expected an element symbol, found '{}'", shorten(token));
    }
    symbol_cache_.emplace_back(std::string(token), z);
    return z;
  }

  void read_atoms(Record& rec, const std::vector<Column>& columns, std::size_t natoms, std::size_t header_line) {
    Structure& s = rec.structure;
    const int ncols_total = columns.back().first + columns.back().ncols;
    // Do not trust a huge announced count for memory: a complete atom line takes at least two
    // bytes per column (token and separator), so the rest of the file bounds the count.
    const std::size_t reserve =
        std::min(natoms, lines_.bytes_left() / (2 * static_cast<std::size_t>(ncols_total)) + 1);
    std::vector<AtomValues> values;
    for (const Column& c : columns) {
      if (c.slot >= 0) values.emplace_back(AtomValues::Zero(static_cast<Eigen::Index>(reserve), c.ncols));
    }
    s.numbers.assign(reserve, 0);
    s.positions.resize(static_cast<Eigen::Index>(reserve), 3);
    const bool z_column = have_z_column(columns);
    std::vector<std::string_view> tok;
    tok.reserve(static_cast<std::size_t>(ncols_total));

    for (std::size_t i = 0; i < natoms; ++i) {
      std::string_view line;
      const bool got = lines_.next(line);
      if (!got || trim(line).empty()) {
        error(MATNN_ERROR_FORMAT, lines_.line_number() + (got ? 0 : 1),
              "expected atom line {} of {} (frame announced at line {}), found {}", i + 1, natoms, header_line,
              got ? "a blank line" : "the end of the file (truncated)");
      }
      if (i >= reserve) {
        throw Error(MATNN_ERROR_INTERNAL, "extxyz: atom count reservation exceeded");
      }
      const std::size_t ln = lines_.line_number();
      split_blanks(line, tok);
      if (static_cast<int>(tok.size()) != ncols_total) {
        error(MATNN_ERROR_FORMAT, ln, "expected {} columns on an atom line (as Properties says), found {}", ncols_total,
              tok.size());
      }
      const auto row = static_cast<Eigen::Index>(i);
      for (const Column& c : columns) {
        const std::string_view* t = tok.data() + c.first;
        switch (c.role) {
          case Role::species: {
            const int z = lookup_symbol(t[0], ln);
            if (!z_column) s.numbers[i] = z;
            break;
          }
          case Role::z: {
            std::int64_t z = 0;
            if (!parse_int(t[0], z)) error(MATNN_ERROR_FORMAT, ln, "expected an integer atomic number in column Z, found '{}'", shorten(t[0]));
            if (z < 1 || z > max_atomic_number) error(MATNN_ERROR_UNKNOWN_ELEMENT, ln, "expected an atomic number from 1 to {}, found {}", max_atomic_number, z);
            s.numbers[i] = static_cast<int>(z);
            break;
          }
          case Role::pos:
            for (int k = 0; k < 3; ++k) {
              double x = 0;
              if (!parse_double(t[k], x)) error(MATNN_ERROR_FORMAT, ln, "expected a real number in column pos, found '{}'", shorten(t[k]));
              if (!std::isfinite(x)) error(MATNN_ERROR_NON_FINITE, ln, "expected a finite position, found '{}'", shorten(t[k]));
              s.positions(row, k) = x;
            }
            break;
          case Role::real: {
            AtomValues& m = values[static_cast<std::size_t>(c.slot)];
            for (int k = 0; k < c.ncols; ++k) {
              double x = 0;
              if (!parse_double(t[k], x)) error(MATNN_ERROR_FORMAT, ln, "expected a real number in column {}, found '{}'", c.name, shorten(t[k]));
              if (!std::isfinite(x)) error(MATNN_ERROR_NON_FINITE, ln, "expected a finite value in column {}, found '{}'", c.name, shorten(t[k]));
              m(row, k) = x;
            }
            break;
          }
          case Role::integer: {
            AtomValues& m = values[static_cast<std::size_t>(c.slot)];
            for (int k = 0; k < c.ncols; ++k) {
              std::int64_t x = 0;
              if (!parse_int(t[k], x)) error(MATNN_ERROR_FORMAT, ln, "expected an integer in column {}, found '{}'", c.name, shorten(t[k]));
              m(row, k) = static_cast<double>(x);
            }
            break;
          }
          case Role::logical: {
            AtomValues& m = values[static_cast<std::size_t>(c.slot)];
            for (int k = 0; k < c.ncols; ++k) {
              bool b = false;
              if (!parse_logical(t[k], b)) error(MATNN_ERROR_FORMAT, ln, "expected T or F in column {}, found '{}'", c.name, shorten(t[k]));
              m(row, k) = b ? 1.0 : 0.0;
            }
            break;
          }
          case Role::skip:
            break;
        }
      }
    }
    std::size_t v = 0;
    for (const Column& c : columns) {
      if (c.slot < 0) continue;
      rec.atom_properties[c.name] = std::move(values[v++]);
    }
  }

  static bool have_z_column(const std::vector<Column>& columns) {
    for (const Column& c : columns) {
      if (c.role == Role::z) return true;
    }
    return false;
  }

  LineReader lines_;
  const std::string& source_;
  const ExtxyzKeys& keys_;
  std::vector<std::pair<std::string, int>> symbol_cache_;
};

}  // namespace

std::vector<Record> read_extxyz(std::istream& in, const std::string& source_name, const ExtxyzKeys& keys) {
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail(MATNN_ERROR_IO, "{}:0: cannot read the stream", source_name);
  const std::string data = std::move(buffer).str();
  return Parser(data, source_name, keys).run();
}

std::vector<Record> read_extxyz(const std::string& path, const ExtxyzKeys& keys) {
  check_input_file(path, "an extended XYZ file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(MATNN_ERROR_IO, "{}:0: cannot open the file for reading ({})", path, std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0 || !in) fail(MATNN_ERROR_IO, "{}:0: cannot read the file (is it a directory?)", path);
  std::string data(static_cast<std::size_t>(size), '\0');
  if (size > 0 && !in.read(data.data(), size)) fail(MATNN_ERROR_IO, "{}:0: cannot read the file ({})", path, std::strerror(errno));
  return Parser(data, path, keys).run();
}

}  // namespace matnn
