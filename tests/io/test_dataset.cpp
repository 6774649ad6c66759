// Tests of the HDF5 dataset format: round trips, partial reads, appends, and the errors that
// bad files and bad records must give (status code and the file path in the message).
#include <hdf5.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "io/hdf5_seal.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/record.hpp"

namespace matnn {
namespace {

namespace fs = std::filesystem;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// ---- helpers ----------------------------------------------------------------------------------

/// A fresh directory per test, removed afterwards.
class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<unsigned> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("matnn_test_dataset_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  /// Names of the entries in the test directory.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

/// Runs fn, expects matnn::Error with `status` whose message contains every string in `parts`.
template <typename Fn>
void expect_error(Fn&& fn, matnn_status status, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << status_name(e.status()) << ": " << e.what();
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << "message lacks \"" << part << "\": " << e.what();
    return;
  }
  ADD_FAILURE() << "expected matnn::Error " << status_name(status);
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool same_bits(const double* a, const double* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(double)) == 0; }

/// Bit-identical comparison of two records.
void expect_same(const Record& a, const Record& b, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(a.structure.numbers, b.structure.numbers);
  ASSERT_EQ(a.structure.positions.rows(), b.structure.positions.rows());
  EXPECT_TRUE(same_bits(a.structure.positions.data(), b.structure.positions.data(),
                        static_cast<std::size_t>(a.structure.positions.size())));
  EXPECT_TRUE(same_bits(a.structure.cell.data(), b.structure.cell.data(), 9));
  EXPECT_EQ(a.structure.pbc, b.structure.pbc);
  EXPECT_EQ(a.timestamp, b.timestamp);
  EXPECT_EQ(a.tags, b.tags);
  ASSERT_EQ(a.properties.size(), b.properties.size());
  for (const auto& [name, values] : a.properties) {
    const auto it = b.properties.find(name);
    ASSERT_NE(it, b.properties.end()) << name;
    ASSERT_EQ(values.size(), it->second.size()) << name;
    EXPECT_TRUE(same_bits(values.data(), it->second.data(), values.size())) << name;
  }
  ASSERT_EQ(a.atom_properties.size(), b.atom_properties.size());
  for (const auto& [name, values] : a.atom_properties) {
    const auto it = b.atom_properties.find(name);
    ASSERT_NE(it, b.atom_properties.end()) << name;
    ASSERT_EQ(values.rows(), it->second.rows()) << name;
    ASSERT_EQ(values.cols(), it->second.cols()) << name;
    EXPECT_TRUE(same_bits(values.data(), it->second.data(), static_cast<std::size_t>(values.size()))) << name;
  }
}

void expect_same(const std::vector<Record>& a, const std::vector<Record>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) expect_same(a[i], b[i], fmt::format("record {}", i));
}

AtomValues random_values(std::mt19937& rng, std::size_t rows, int cols) {
  std::normal_distribution<double> normal(0.0, 1.0);
  AtomValues v(static_cast<Eigen::Index>(rows), cols);
  for (Eigen::Index i = 0; i < v.size(); ++i) v.data()[i] = normal(rng);
  return v;
}

Structure random_structure(std::mt19937& rng, std::size_t natoms, std::array<bool, 3> pbc) {
  std::uniform_real_distribution<double> uniform(0.0, 8.0);
  std::uniform_int_distribution<int> element(1, 86);
  Structure s;
  s.numbers.resize(natoms);
  for (int& z : s.numbers) z = element(rng);
  s.positions.resize(static_cast<Eigen::Index>(natoms), 3);
  for (Eigen::Index i = 0; i < s.positions.size(); ++i) s.positions.data()[i] = uniform(rng);
  s.cell << 8.1, 0, 0, 0.3, 7.9, 0, -0.2, 0.1, 8.4;
  s.pbc = pbc;
  if (!pbc[2]) s.cell.row(2).setZero();
  if (!pbc[0] && !pbc[1] && !pbc[2]) s.cell.setZero();
  return s;
}

/// Varied records: sizes 1 to 17 atoms; bulk, slab and molecule; labels present in some only;
/// per-structure vectors; per-atom widths 1, 2 and 3; tags; timestamps present and absent.
std::vector<Record> varied_records() {
  std::mt19937 rng(12345);
  std::vector<Record> records;

  Record nacl;  // periodic, everything
  nacl.structure.numbers = {11, 17};
  nacl.structure.positions.resize(2, 3);
  nacl.structure.positions << 0, 0, 0, 2.82, -0.0, 0;
  nacl.structure.cell << 0, 2.82, 2.82, 2.82, 0, 2.82, 2.82, 2.82, 0;
  nacl.structure.pbc = {true, true, true};
  nacl.properties["energy"] = {-6.789012345678901};
  nacl.properties["free_energy"] = {-6.8};
  nacl.properties["stress"] = {0.01, 0.01, 0.01, -0.0, 1e-300, 4.9e-324};
  nacl.properties["formation_energy"] = {-2.1};
  nacl.atom_properties["forces"] = random_values(rng, 2, 3);
  nacl.atom_properties["charges"] = random_values(rng, 2, 1);
  nacl.tags = {{"id", "mp-22862"}, {"config_type", "bulk"}, {"prototype", "NaCl"}};
  nacl.timestamp = 1700000000;
  records.push_back(nacl);

  Record atom;  // a single atom in vacuum, energy only
  atom.structure.numbers = {1};
  atom.structure.positions.resize(1, 3);
  atom.structure.positions << 5.0, 5.0, 5.0;
  atom.properties["energy"] = {-13.6};
  atom.tags = {{"id", "H-atom"}};
  records.push_back(atom);

  Record slab;  // periodic in x and y only; no energy, vector labels, no id
  slab.structure = random_structure(rng, 5, {true, true, false});
  slab.atom_properties["forces"] = random_values(rng, 5, 3);
  slab.atom_properties["site_features"] = random_values(rng, 5, 2);
  slab.properties["dos_moments"] = {0.5, -1.25, 3.0, 1e300};
  slab.properties["is_metal"] = {1.0};
  slab.tags = {{"config_type", "slab \xce\xb1-Fe\xe2\x82\x82O\xe2\x82\x83"}};  // UTF-8
  slab.timestamp = -86400;
  records.push_back(slab);

  Record water;  // molecule
  water.structure.numbers = {8, 1, 1};
  water.structure.positions.resize(3, 3);
  water.structure.positions << 0, 0, 0.119, 0, 0.763, -0.477, 0, -0.763, -0.477;
  water.properties["energy"] = {-14.22};
  water.properties["band_gap"] = {6.9};
  water.atom_properties["forces"] = random_values(rng, 3, 3);
  water.atom_properties["charges"] = random_values(rng, 3, 1);
  water.tags = {{"id", "h2o"}, {"prototype", "H2O"}};
  records.push_back(water);

  Record big;  // 17 atoms, periodic, timestamp at the epoch itself
  big.structure = random_structure(rng, 17, {true, true, true});
  big.properties["energy"] = {-101.5};
  big.properties["stress"] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  big.properties["dos_moments"] = {1, 2, 3, 4};
  big.properties["is_metal"] = {0.0};
  big.atom_properties["forces"] = random_values(rng, 17, 3);
  big.atom_properties["site_features"] = random_values(rng, 17, 2);
  big.atom_properties["magmoms"] = random_values(rng, 17, 1);
  big.tags = {{"id", "big"}, {"config_type", "md"}};
  big.timestamp = 0;
  records.push_back(big);
  return records;
}

/// n records of 1..12 atoms with energy on most, forces on half, and an id tag.
std::vector<Record> many_records(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> size(1, 12);
  std::vector<Record> records;
  for (std::size_t i = 0; i < n; ++i) {
    Record r;
    const std::size_t natoms = size(rng);
    r.structure = random_structure(rng, natoms, {true, true, i % 3 != 0});
    if (i % 7 != 3) r.properties["energy"] = {-1.0 * static_cast<double>(i) - 0.5};
    if (i % 2 == 0) r.atom_properties["forces"] = random_values(rng, natoms, 3);
    r.tags["id"] = fmt::format("s{}", i);
    if (i % 4 == 0) r.timestamp = 1600000000 + static_cast<std::int64_t>(i);
    records.push_back(std::move(r));
  }
  return records;
}

DatasetWriteOptions user_units() {
  DatasetWriteOptions options;
  options.units = {{"formation_energy", "eV/atom"}, {"band_gap", "eV"}, {"energy", "eV"}};
  return options;
}

// ---- round trip -------------------------------------------------------------------------------

TEST_F(DatasetTest, RoundTripIsBitIdentical) {
  const std::vector<Record> records = varied_records();
  const std::string path = file("varied.h5");
  write_dataset(path, records, user_units());
  EXPECT_EQ(entries(), std::vector<std::string>{"varied.h5"});  // no temporary file left

  const DatasetReader reader(path);
  EXPECT_EQ(reader.path(), path);
  EXPECT_EQ(reader.size(), records.size());
  EXPECT_EQ(reader.total_atoms(), 2u + 1 + 5 + 3 + 17);
  EXPECT_EQ(reader.atom_count(1), 1);
  EXPECT_EQ(reader.atom_count(4), 17);
  expect_error([&] { reader.atom_count(5); }, MATNN_ERROR_INVALID_ARGUMENT, {path});
  EXPECT_EQ(reader.property_names(), (std::vector<std::string>{"band_gap", "dos_moments", "energy",
                                                               "formation_energy", "free_energy", "is_metal",
                                                               "stress"}));
  EXPECT_EQ(reader.atom_property_names(),
            (std::vector<std::string>{"charges", "forces", "magmoms", "site_features"}));
  EXPECT_EQ(reader.tag_names(), (std::vector<std::string>{"config_type", "id", "prototype"}));
  EXPECT_EQ(reader.unit("energy"), "eV");
  EXPECT_EQ(reader.unit("stress"), "eV/Angstrom^3");
  EXPECT_EQ(reader.unit("forces"), "eV/Angstrom");
  EXPECT_EQ(reader.unit("formation_energy"), "eV/atom");
  EXPECT_EQ(reader.unit("dos_moments"), "");
  EXPECT_EQ(reader.unit("no_such_label"), "");

  expect_same(reader.read_all(), records);
}

TEST_F(DatasetTest, EmptyDatasetRoundTrips) {
  const std::string path = file("empty.h5");
  write_dataset(path, std::span<const Record>{});
  const DatasetReader reader(path);
  EXPECT_EQ(reader.size(), 0u);
  EXPECT_EQ(reader.total_atoms(), 0u);
  EXPECT_TRUE(reader.read_all().empty());
  EXPECT_TRUE(reader.summarize().empty());
}

TEST_F(DatasetTest, OverwritesAnExistingFile) {
  const std::string path = file("data.h5");
  write_dataset(path, many_records(10, 1));
  const std::vector<Record> records = varied_records();
  write_dataset(path, records);
  expect_same(DatasetReader(path).read_all(), records);
  EXPECT_EQ(entries(), std::vector<std::string>{"data.h5"});
}

// ---- partial reads ----------------------------------------------------------------------------

TEST_F(DatasetTest, SlicesAndIndexListsMatchReadAll) {
  const std::string path = file("many.h5");
  const std::vector<Record> records = many_records(300, 7);
  write_dataset(path, records);
  const DatasetReader reader(path);
  const std::vector<Record> all = reader.read_all();
  expect_same(all, records);

  for (const auto& [begin, end] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 1}, {10, 20}, {299, 300}, {0, 300}, {150, 150}, {137, 263}}) {
    const std::vector<Record> slice = reader.read(begin, end);
    ASSERT_EQ(slice.size(), end - begin);
    for (std::size_t i = begin; i < end; ++i) expect_same(slice[i - begin], all[i], fmt::format("slice {}", i));
  }

  // Out of order, with duplicates, runs of neighbours and isolated indices.
  const std::vector<std::size_t> indices{42, 7, 7, 299, 0, 43, 44, 45, 200, 7, 1, 2, 3, 150, 42};
  const std::vector<Record> picked = reader.read(indices);
  ASSERT_EQ(picked.size(), indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) expect_same(picked[k], all[indices[k]], fmt::format("index {}", k));

  // A random shard, as a training rank would read it.
  std::vector<std::size_t> shard;
  for (std::size_t i = 3; i < 300; i += 4) shard.push_back(i);
  std::shuffle(shard.begin(), shard.end(), std::mt19937(3));
  const std::vector<Record> shard_records = reader.read(shard);
  for (std::size_t k = 0; k < shard.size(); ++k) expect_same(shard_records[k], all[shard[k]], "shard");

  EXPECT_TRUE(reader.read(std::span<const std::size_t>{}).empty());
  expect_error([&] { reader.read(10, 301); }, MATNN_ERROR_INVALID_ARGUMENT, {path});
  expect_error([&] { reader.read(20, 10); }, MATNN_ERROR_INVALID_ARGUMENT, {path});
  const std::vector<std::size_t> bad{1, 300};
  expect_error([&] { reader.read(bad); }, MATNN_ERROR_INVALID_ARGUMENT, {path, "300"});
}

TEST_F(DatasetTest, SparseIndexListsAcrossManyWindows) {
  // Wide rows and large gaps, so that a shard is read as many separate windows in several
  // HDF5 calls (the reader merges only nearby structures).
  const std::string path = file("sparse.h5");
  std::mt19937 rng(9);
  std::vector<Record> records;
  for (std::size_t i = 0; i < 10000; ++i) {
    Record r;
    r.structure = random_structure(rng, 1 + i % 3, {false, false, false});
    if (i % 2 == 0) {
      const AtomValues v = random_values(rng, 1, 64);
      r.properties["spectrum"] = std::vector<double>(v.data(), v.data() + 64);
    }
    if (i % 5 == 0) r.tags["id"] = fmt::format("id{}", i);
    records.push_back(std::move(r));
  }
  write_dataset(path, records);
  const DatasetReader reader(path);
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < 10000; i += 97) indices.push_back(i);
  indices.insert(indices.end(), {1, 2, 3, 5000, 5001, 9999, 4, 5002});
  std::shuffle(indices.begin(), indices.end(), std::mt19937(4));
  const std::vector<Record> picked = reader.read(indices);
  ASSERT_EQ(picked.size(), indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    expect_same(picked[k], records[indices[k]], fmt::format("index {}", indices[k]));
  }
}

TEST_F(DatasetTest, PresentLabelWithNaNIsANonFiniteError) {
  const std::string path = file("nan.h5");
  write_dataset(path, varied_records());
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, "/properties/energy/values", H5P_DEFAULT);
    ASSERT_GE(d, 0);
    const std::vector<double> values{nan, nan, nan, nan, nan};  // structure 0 is marked present
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(d);
    H5Fclose(f);
    h5::write_seal(path, path);
  }
  const DatasetReader reader(path);
  EXPECT_EQ(reader.read(2, 3).size(), 1u);  // structure 2 has no energy: fine
  // The non-finite code (the CLI's exit 5), as for NaN in an extended XYZ label, not "format".
  expect_error([&] { reader.read(0, 1); }, MATNN_ERROR_NON_FINITE, {path, "/properties/energy/values"});
}

TEST_F(DatasetTest, ReaderIsMovable) {
  const std::string path = file("m.h5");
  const std::vector<Record> records = varied_records();
  write_dataset(path, records);
  DatasetReader a(path);
  DatasetReader b(std::move(a));
  expect_same(b.read(2, 3)[0], records[2], "moved");
  DatasetReader c(path);
  c = std::move(b);
  EXPECT_EQ(c.size(), records.size());
}

TEST_F(DatasetTest, SummarizeCountsAndRanges) {
  const std::string path = file("summary.h5");
  const std::vector<Record> records = varied_records();
  write_dataset(path, records, user_units());
  const std::vector<LabelSummary> summaries = DatasetReader(path).summarize();
  auto find = [&](const std::string& name) {
    for (const LabelSummary& s : summaries) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << "no summary for " << name;
    return LabelSummary{};
  };
  const LabelSummary energy = find("energy");
  EXPECT_FALSE(energy.per_atom);
  EXPECT_EQ(energy.width, 1);
  EXPECT_EQ(energy.unit, "eV");
  EXPECT_EQ(energy.present, 4u);
  EXPECT_DOUBLE_EQ(energy.min, -101.5);
  EXPECT_DOUBLE_EQ(energy.max, -6.789012345678901);
  EXPECT_DOUBLE_EQ(energy.mean, (-6.789012345678901 - 13.6 - 14.22 - 101.5) / 4);

  const LabelSummary dos = find("dos_moments");
  EXPECT_EQ(dos.width, 4);
  EXPECT_EQ(dos.present, 2u);
  EXPECT_DOUBLE_EQ(dos.min, -1.25);
  EXPECT_DOUBLE_EQ(dos.max, 1e300);

  const LabelSummary forces = find("forces");
  EXPECT_TRUE(forces.per_atom);
  EXPECT_EQ(forces.width, 3);
  EXPECT_EQ(forces.unit, "eV/Angstrom");
  EXPECT_EQ(forces.present, 4u);
  double lo = 1e9, hi = -1e9, sum = 0;
  int count = 0;
  for (const Record& r : records) {
    if (const AtomValues* f = r.forces()) {
      lo = std::min(lo, f->minCoeff());
      hi = std::max(hi, f->maxCoeff());
      sum += f->sum();
      count += static_cast<int>(f->size());
    }
  }
  EXPECT_DOUBLE_EQ(forces.min, lo);
  EXPECT_DOUBLE_EQ(forces.max, hi);
  EXPECT_NEAR(forces.mean, sum / count, 1e-12);
  EXPECT_EQ(find("site_features").width, 2);
  EXPECT_EQ(find("magmoms").present, 1u);
}

// ---- append -----------------------------------------------------------------------------------

TEST_F(DatasetTest, AppendWithNewAndMissingLabels) {
  const std::string path = file("grow.h5");
  const std::vector<Record> first = many_records(40, 11);  // energy, forces, id
  write_dataset(path, first);

  // New records without energy, with a new per-structure label, a new per-atom label, a new tag.
  std::vector<Record> second = many_records(25, 12);
  std::mt19937 rng(5);
  for (std::size_t i = 0; i < second.size(); ++i) {
    second[i].properties.erase("energy");
    second[i].properties["band_gap"] = {0.1 * static_cast<double>(i)};
    second[i].atom_properties["charges"] = random_values(rng, second[i].structure.size(), 1);
    second[i].tags["config_type"] = i % 2 ? "md" : "relax";
    if (i == 3) second[i].tags.erase("id");
  }
  DatasetWriteOptions options;
  options.units["band_gap"] = "eV";
  append_dataset(path, second, options);
  EXPECT_EQ(entries(), std::vector<std::string>{"grow.h5"});

  // A third batch that has energy again, with the file's unit inherited for band_gap.
  const std::vector<Record> third = varied_records();
  append_dataset(path, third);
  append_dataset(path, std::span<const Record>{});  // nothing to add

  std::vector<Record> expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  expected.insert(expected.end(), third.begin(), third.end());
  const DatasetReader reader(path);
  EXPECT_EQ(reader.size(), expected.size());
  EXPECT_EQ(reader.unit("band_gap"), "eV");
  EXPECT_EQ(reader.unit("energy"), "eV");
  expect_same(reader.read_all(), expected);
  const std::vector<std::size_t> across{39, 40, 64, 65, 0, 69};
  const std::vector<Record> picked = reader.read(across);
  for (std::size_t k = 0; k < across.size(); ++k) expect_same(picked[k], expected[across[k]], "across");
}

TEST_F(DatasetTest, AppendMismatchLeavesTheFileUntouched) {
  const std::string path = file("keep.h5");
  DatasetWriteOptions options;
  options.units["formation_energy"] = "eV/atom";
  write_dataset(path, varied_records(), options);
  const std::string before = bytes_of(path);

  std::vector<Record> wider = varied_records();
  wider[2].properties["dos_moments"] = {1, 2, 3};  // the file has 4 per structure
  expect_error([&] { append_dataset(path, wider); }, MATNN_ERROR_FORMAT, {path, "dos_moments", "4", "3"});
  EXPECT_EQ(bytes_of(path), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"keep.h5"});

  std::vector<Record> per_atom = varied_records();
  std::mt19937 rng(1);
  per_atom[4].atom_properties["site_features"] = random_values(rng, 17, 3);
  expect_error([&] { append_dataset(path, per_atom); }, MATNN_ERROR_FORMAT, {path, "site_features"});

  DatasetWriteOptions other_unit;
  other_unit.units["formation_energy"] = "kJ/mol";
  expect_error([&] { append_dataset(path, varied_records(), other_unit); }, MATNN_ERROR_FORMAT,
               {path, "formation_energy", "eV/atom", "kJ/mol"});
  EXPECT_EQ(bytes_of(path), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"keep.h5"});

  expect_error([&] { append_dataset(file("absent.h5"), varied_records()); }, MATNN_ERROR_IO, {file("absent.h5")});
  EXPECT_EQ(entries(), std::vector<std::string>{"keep.h5"});
}

// ---- bad input --------------------------------------------------------------------------------

TEST_F(DatasetTest, MissingFile) {
  const std::string path = file("nowhere.h5");
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_IO, {path});
  expect_error([&] { DatasetReader reader(dir_.string()); }, MATNN_ERROR_IO, {dir_.string()});
}

TEST_F(DatasetTest, TextFileNamedH5) {
  const std::string path = file("text.h5");
  std::ofstream(path) << "energy,forces\n1.0,2.0\n";
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_FORMAT, {path, "not an HDF5 file"});
}

TEST_F(DatasetTest, HdfFileThatIsNotADataset) {
  const std::string path = file("other.h5");
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Fclose(f);
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_FORMAT, {path, "not a matnn dataset"});
}

TEST_F(DatasetTest, TruncatedFileIsAFormatErrorAndHdf5StaysQuiet) {
  const std::string path = file("cut.h5");
  write_dataset(path, many_records(200, 3));
  fs::resize_file(path, fs::file_size(path) / 2);

  H5E_auto2_t func_before = nullptr;
  void* data_before = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &func_before, &data_before);
  ::testing::internal::CaptureStderr();
  expect_error([&] { DatasetReader(path).read_all(); }, MATNN_ERROR_FORMAT, {path});
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed.find("HDF5-DIAG"), std::string::npos) << printed;
  // The error printing that matnn silenced is restored.
  H5E_auto2_t func_after = nullptr;
  void* data_after = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &func_after, &data_after);
  EXPECT_EQ(func_before, func_after);
  EXPECT_EQ(data_before, data_after);
}

TEST_F(DatasetTest, CorruptedBytesAreAFormatError) {
  const std::string path = file("corrupt.h5");
  write_dataset(path, many_records(400, 4));
  std::string bytes = bytes_of(path);
  const std::size_t middle = bytes.size() / 2;
  for (std::size_t i = middle; i < middle + 64; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  expect_error(
      [&] {
        const DatasetReader reader(path);
        reader.read_all();
      },
      MATNN_ERROR_FORMAT, {path});
}

/// Replaces dataset `name` of `path` by a float64 dataset of the given shape (filled with 1).
void replace_dataset(const std::string& path, const char* name, std::vector<hsize_t> dims) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  ASSERT_GE(H5Ldelete(f, name, H5P_DEFAULT), 0);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  hsize_t n = 1;
  for (hsize_t x : dims) n *= x;
  const std::vector<double> ones(n, 1.0);
  ASSERT_GE(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ones.data()), 0);
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
  h5::write_seal(path, path);  // as `matnn seal` does after an edit, so the reader sees the content
}

TEST_F(DatasetTest, InconsistentArrayLengths) {
  const std::string path = file("inconsistent.h5");
  const std::vector<Record> records = varied_records();
  write_dataset(path, records);
  const std::size_t atoms = DatasetReader(path).total_atoms();
  replace_dataset(path, "/atoms/positions", {atoms - 1, 3});
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_FORMAT,
               {path, "/atoms/positions", std::to_string(atoms - 1), std::to_string(atoms)});

  write_dataset(path, records);
  replace_dataset(path, "/properties/energy/values", {records.size() + 2});
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_FORMAT,
               {path, "/properties/energy/values", std::to_string(records.size() + 2),
                std::to_string(records.size())});

  write_dataset(path, records);
  replace_dataset(path, "/atom_properties/forces/values", {atoms + 1, 3});
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_FORMAT,
               {path, "/atom_properties/forces/values", std::to_string(atoms + 1)});
}

/// Overwrites elements [first, first + values.size()) of dataset `name` (flattened) and reseals.
template <typename T>
void overwrite_elements(const std::string& path, const char* name, hsize_t first, const std::vector<T>& values) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  const hid_t space = H5Dget_space(d);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  hsize_t row = 1;
  for (std::size_t k = 1; k < dims.size(); ++k) row *= dims[k];
  // Select whole rows covering the elements, read them, patch, write back.
  const hsize_t first_row = first / row, last_row = (first + values.size() - 1) / row;
  std::vector<hsize_t> start(dims.size(), 0), count(dims);
  start[0] = first_row;
  count[0] = last_row - first_row + 1;
  ASSERT_GE(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), 0);
  const hsize_t n = count[0] * row;
  const hid_t memory = H5Screate_simple(1, &n, nullptr);
  std::vector<T> rows(n);
  const hid_t type = std::is_same_v<T, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32;
  ASSERT_GE(H5Dread(d, type, memory, space, H5P_DEFAULT, rows.data()), 0);
  std::copy(values.begin(), values.end(), rows.begin() + static_cast<std::ptrdiff_t>(first - first_row * row));
  ASSERT_GE(H5Dwrite(d, type, memory, space, H5P_DEFAULT, rows.data()), 0);
  H5Sclose(memory);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
  h5::write_seal(path, path);
}

// Bad content inside a readable file: the message names the file and the structure's index.
TEST_F(DatasetTest, BadStructuresNameTheFileAndTheStructure) {
  const std::string path = file("bad.h5");
  // varied_records(): atoms of structure 2 (a slab, periodic along a and b) are rows 3..7;
  // structure 4 (17 atoms, periodic) starts at row 11.
  write_dataset(path, varied_records());
  overwrite_elements<std::int32_t>(path, "/atoms/numbers", 4, {200});
  expect_error([&] { DatasetReader(path).read_all(); }, MATNN_ERROR_UNKNOWN_ELEMENT, {path, "structure 2", "200"});

  write_dataset(path, varied_records());
  overwrite_elements<double>(path, "/atoms/positions", 3 * 12 + 1, {nan});
  expect_error([&] { DatasetReader(path).read(4, 5); }, MATNN_ERROR_NON_FINITE, {path, "structure 4", "atom 1"});

  write_dataset(path, varied_records());
  overwrite_elements<double>(path, "/structures/cell", 9 * 4 + 4, {std::numeric_limits<double>::infinity()});
  expect_error([&] { DatasetReader(path).read_all(); }, MATNN_ERROR_NON_FINITE, {path, "structure 4", "cell"});

  write_dataset(path, varied_records());
  overwrite_elements<double>(path, "/structures/cell", 9 * 2 + 3, {0.0, 0.0, 0.0});  // vector b of the slab
  expect_error([&] { DatasetReader(path).read_all(); }, MATNN_ERROR_SINGULAR_CELL, {path, "structure 2", "b"});

  // The structures before a bad one are still readable on their own.
  EXPECT_EQ(DatasetReader(path).read(0, 2).size(), 2u);
}

TEST_F(DatasetTest, NewerFormatVersion) {
  const std::string path = file("future.h5");
  write_dataset(path, varied_records());
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    ASSERT_GE(a, 0);
    const std::int64_t newer = dataset_format_version + 1;
    ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT64, &newer), 0);
    H5Aclose(a);
    H5Fclose(f);
    h5::write_seal(path, path);
  }
  const std::string newer = std::to_string(dataset_format_version + 1);
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_FORMAT,
               {path, "newer matnn", fmt::format("format version {}", newer),
                fmt::format("reads up to {}", dataset_format_version)});
  expect_error([&] { append_dataset(path, varied_records()); }, MATNN_ERROR_FORMAT, {path, "newer matnn"});
}

TEST_F(DatasetTest, InvalidRecordsLeaveNoFile) {
  const std::string path = file("invalid.h5");
  std::vector<Record> records = varied_records();
  records[3].structure.positions(1, 2) = nan;
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_NON_FINITE, {path, "structure 3"});
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(entries().empty());

  records = varied_records();
  records[1].structure.numbers[0] = 200;
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_UNKNOWN_ELEMENT, {path, "structure 1"});
  EXPECT_TRUE(entries().empty());

  records = varied_records();
  records[4].atom_properties["forces"].conservativeResize(16, 3);  // one row short
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_FORMAT, {path, "forces"});
  EXPECT_TRUE(entries().empty());

  records = varied_records();
  records[0].properties["a/b"] = {1.0};
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_INVALID_ARGUMENT, {path, "a/b"});
  EXPECT_TRUE(entries().empty());

  records = varied_records();
  records[2].properties["dos_moments"] = {1.0, 2.0};  // 4 values in another structure
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_FORMAT, {path, "dos_moments"});
  EXPECT_TRUE(entries().empty());

  DatasetWriteOptions kcal;
  kcal.units["energy"] = "kcal/mol";  // reserved labels are always in ASE units
  expect_error([&] { write_dataset(path, varied_records(), kcal); }, MATNN_ERROR_INVALID_ARGUMENT,
               {path, "energy"});
  EXPECT_TRUE(entries().empty());

  // A failed append of invalid records keeps the existing file as it was.
  write_dataset(path, varied_records());
  const std::string before = bytes_of(path);
  records = varied_records();
  records[0].structure.positions(0, 0) = std::numeric_limits<double>::infinity();
  expect_error([&] { append_dataset(path, records); }, MATNN_ERROR_NON_FINITE, {path});
  EXPECT_EQ(bytes_of(path), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"invalid.h5"});
}

TEST_F(DatasetTest, UnwritableDirectoryIsAnIoError) {
  const std::string path = file("no_such_dir/data.h5");
  expect_error([&] { write_dataset(path, varied_records()); }, MATNN_ERROR_IO, {path});
}

// ---- h5py, following docs/dataset-format.md --------------------------------------------------

TEST_F(DatasetTest, ReadableWithH5py) {
  const std::string path = file("for_python.h5");
  write_dataset(path, varied_records(), user_units());
  const fs::path script = fs::path(__FILE__).parent_path() / "read_with_h5py.py";
  ASSERT_TRUE(fs::exists(script)) << script;
  const std::string command = std::string(MATNN_PYTHON) + " '" + script.string() + "' '" + path + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace matnn
