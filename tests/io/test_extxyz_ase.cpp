// Extended XYZ against ASE itself: ASE writes a varied file (tests/python/make_varied_extxyz.py),
// ASE dumps what it reads from it (dump_extxyz_with_ase.py) and matnn's reader must agree; then
// matnn writes the records back and ASE must read the same frames from matnn's file
// (compare_extxyz_with_ase.py). Skipped when MATNN_PYTHON has no ASE.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"

namespace matnn {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "matnn_extxyz_ase_XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string script(const std::string& name) {
  return (fs::path(MATNN_TEST_DATA_DIR).parent_path() / "python" / name).string();
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

int python(const std::string& args) {
  const std::string cmd = std::string(quoted(MATNN_PYTHON)) + " " + args;
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

bool have_ase() { return python("-c 'import ase, numpy' > /dev/null 2>&1") == 0; }

// What ASE saw in one frame (see dump_extxyz_with_ase.py for the format).
struct AseFrame {
  std::vector<int> numbers;
  std::vector<int> pbc;
  std::vector<double> cell, positions;
  std::map<std::string, std::vector<double>> info_num;
  std::map<std::string, std::string> info_str;
  std::optional<std::int64_t> timestamp;
  std::map<std::string, std::pair<int, std::vector<double>>> arrays;
  std::set<std::string> string_arrays;
  std::map<std::string, std::vector<double>> calc;
};

template <typename T>
std::vector<T> rest_of(std::istringstream& in) {
  std::vector<T> v;
  T x;
  while (in >> x) v.push_back(x);
  return v;
}

std::vector<double> numbers_of(std::istringstream& in) {
  // repr() of floats, read back exactly with strtod (operator>> would also do, but be explicit)
  std::vector<double> v;
  std::string tok;
  while (in >> tok) v.push_back(std::strtod(tok.c_str(), nullptr));
  return v;
}

std::vector<AseFrame> load_dump(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::vector<AseFrame> frames;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream in(line);
    std::string what, key;
    in >> what;
    if (what == "frame") {
      frames.emplace_back();
      continue;
    }
    if (frames.empty() || what == "end" || what == "natoms") continue;
    AseFrame& f = frames.back();
    if (what == "numbers") {
      f.numbers = rest_of<int>(in);
    } else if (what == "pbc") {
      f.pbc = rest_of<int>(in);
    } else if (what == "cell") {
      f.cell = numbers_of(in);
    } else if (what == "positions") {
      f.positions = numbers_of(in);
    } else if (what == "timestamp") {
      std::int64_t t = 0;
      in >> t;
      f.timestamp = t;
    } else if (what == "info_num") {
      std::size_t n = 0;
      in >> key >> n;
      f.info_num[key] = numbers_of(in);
      EXPECT_EQ(f.info_num[key].size(), n) << key;
    } else if (what == "info_str") {
      in >> key;
      const std::string prefix = "info_str " + key + " ";
      f.info_str[key] = line.size() > prefix.size() ? line.substr(prefix.size()) : std::string();
    } else if (what == "array") {
      int ncols = 0;
      in >> key >> ncols;
      f.arrays[key] = {ncols, numbers_of(in)};
    } else if (what == "array_str") {
      in >> key;
      f.string_arrays.insert(key);
    } else if (what == "calc") {
      std::size_t n = 0;
      in >> key >> n;
      f.calc[key] = numbers_of(in);
    } else {
      ADD_FAILURE() << "unexpected dump line: " << line;
    }
  }
  return frames;
}

::testing::AssertionResult close(const std::vector<double>& expected, const double* actual, std::size_t n) {
  if (expected.size() != n) {
    return ::testing::AssertionFailure() << "size " << n << ", expected " << expected.size();
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double a = expected[i], b = actual[i];
    if (!(std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b)))) {
      return ::testing::AssertionFailure() << "element " << i << ": " << b << ", expected " << a;
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult close(const std::vector<double>& expected, const std::vector<double>& actual) {
  return close(expected, actual.data(), actual.size());
}

// 9 numbers as the file lists them (Fortran order for ASE's 3x3 keys) -> Voigt; 6 stay.
std::vector<double> voigt(const std::vector<double>& v) {
  if (v.size() == 9) return {v[0], v[4], v[8], v[7], v[6], v[3]};
  return v;
}

void compare(const std::vector<AseFrame>& ase, const std::vector<Record>& records, const ExtxyzKeys& keys) {
  ASSERT_EQ(ase.size(), records.size());
  for (std::size_t i = 0; i < ase.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    const AseFrame& f = ase[i];
    const Record& r = records[i];
    const Structure& s = r.structure;
    EXPECT_EQ(s.numbers, f.numbers);
    ASSERT_EQ(f.pbc.size(), 3u);
    for (std::size_t a = 0; a < 3; ++a) EXPECT_EQ(s.pbc[a], f.pbc[a] != 0) << "axis " << a;
    EXPECT_TRUE(close(f.cell, s.cell.data(), 9)) << "cell";
    EXPECT_TRUE(close(f.positions, s.positions.data(), static_cast<std::size_t>(s.positions.size()))) << "positions";

    // Per-structure numbers: reserved names through `keys`, the plain names ignored when renamed.
    std::map<std::string, std::vector<double>> expected;
    for (const auto& [key, values] : f.info_num) {
      if (key == keys.energy) {
        expected["energy"] = values;
      } else if (key == keys.free_energy) {
        expected["free_energy"] = values;
      } else if (key == keys.stress) {
        expected["stress"] = voigt(values);
      } else if (key == "energy" || key == "free_energy" || key == "stress") {
        continue;
      } else {
        expected[key] = values;
      }
    }
    EXPECT_EQ(r.properties.size(), expected.size());
    for (const auto& [name, values] : expected) {
      const auto it = r.properties.find(name);
      if (it == r.properties.end()) {
        ADD_FAILURE() << "missing property " << name;
        continue;
      }
      EXPECT_TRUE(close(values, it->second)) << name;
    }
    EXPECT_EQ(r.tags, f.info_str);
    EXPECT_EQ(r.timestamp, f.timestamp);

    // Calculator results that ASE built from the same file agree with the labels.
    if (keys.energy == "energy" && f.calc.count("energy")) {
      EXPECT_TRUE(close(f.calc.at("energy"), r.properties.at("energy"))) << "calc energy";
    }
    if (keys.stress == "stress" && f.calc.count("stress")) {
      EXPECT_TRUE(close(f.calc.at("stress"), r.properties.at("stress"))) << "calc stress";
    }

    // Per-atom arrays.
    std::size_t n_expected = 0;
    for (const auto& [name, data] : f.arrays) {
      std::string mapped = name;
      if (name == keys.forces) {
        mapped = "forces";
      } else if (name == "forces") {
        continue;
      }
      ++n_expected;
      const auto it = r.atom_properties.find(mapped);
      if (it == r.atom_properties.end()) {
        ADD_FAILURE() << "missing per-atom label " << mapped;
        continue;
      }
      EXPECT_EQ(it->second.cols(), data.first) << mapped;
      EXPECT_EQ(static_cast<std::size_t>(it->second.rows()), s.size()) << mapped;
      EXPECT_TRUE(close(data.second, it->second.data(), static_cast<std::size_t>(it->second.size()))) << mapped;
    }
    EXPECT_EQ(r.atom_properties.size(), n_expected);
    for (const std::string& name : f.string_arrays) EXPECT_EQ(r.atom_properties.count(name), 0u) << name;
  }
}

void check_against_ase(const std::string& original, const ExtxyzKeys& keys, const std::string& key_args,
                       const ScratchDir& dir, const std::string& stem) {
  const std::string dump = dir.path(stem + "_ase.txt");
  ASSERT_EQ(python(quoted(script("dump_extxyz_with_ase.py")) + " " + quoted(original) + " " + quoted(dump)), 0);
  const std::vector<Record> records = read_extxyz(original, keys);
  const std::vector<AseFrame> ase = load_dump(dump);
  ASSERT_GE(ase.size(), 10u);
  compare(ase, records, keys);

  const std::string mine = dir.path(stem + "_matnn.extxyz");
  write_extxyz(mine, records, keys);
  EXPECT_EQ(python(quoted(script("compare_extxyz_with_ase.py")) + " " + quoted(original) + " " + quoted(mine) + key_args), 0)
      << "ASE reads different frames from matnn's file (differences printed above)";

  // And matnn reads its own file back to the same records.
  const std::vector<Record> again = read_extxyz(mine, keys);
  ASSERT_EQ(again.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_TRUE(again[i].structure.positions == records[i].structure.positions);
    EXPECT_EQ(again[i].properties, records[i].properties);
    EXPECT_EQ(again[i].tags, records[i].tags);
    EXPECT_EQ(again[i].timestamp, records[i].timestamp);
  }
}

TEST(ExtxyzAse, VariedFileAgreesWithAseBothWays) {
  if (!have_ase()) GTEST_SKIP() << MATNN_PYTHON << " has no ASE";
  ScratchDir dir;
  const std::string varied = dir.path("varied.extxyz"), ref = dir.path("varied_ref.extxyz");
  ASSERT_EQ(python(quoted(script("make_varied_extxyz.py")) + " " + quoted(varied) + " " + quoted(ref)), 0);

  {
    SCOPED_TRACE("ASE names");
    check_against_ase(varied, ExtxyzKeys{}, "", dir, "varied");
  }
  {
    SCOPED_TRACE("REF_ names");
    ExtxyzKeys keys;
    keys.energy = "REF_energy";
    keys.forces = "REF_forces";
    keys.stress = "REF_stress";
    check_against_ase(ref, keys, " --energy-key REF_energy --forces-key REF_forces --stress-key REF_stress", dir, "ref");
  }
}

}  // namespace
}  // namespace matnn
