// Spectra and images in the HDF5 dataset (/signals): round trips beside atoms and labels, partial
// reads, appends, the errors of inconsistent or invalid signals, and reading with h5py.
#include <hdf5.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/hdf5_seal.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/record.hpp"

namespace matnn {
namespace {

namespace fs = std::filesystem;

class SignalDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<unsigned> counter{0};
    dir_ = fs::temp_directory_path() / ("matnn_test_signals_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::vector<double> two_theta_grid(int points) {
  std::vector<double> axis(static_cast<std::size_t>(points));
  for (int i = 0; i < points; ++i) axis[static_cast<std::size_t>(i)] = 10.0 + 0.5 * i;
  return axis;
}

Signal pattern(int seed, int points = 9) {
  std::vector<float> v(static_cast<std::size_t>(points));
  for (int i = 0; i < points; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(std::sin(seed + 0.7 * i) + 1.5);
  return make_spectrum(two_theta_grid(points), std::move(v), "2theta", "degree");
}

Signal micrograph(int seed, double pixel_size) {
  std::vector<float> v(2 * 4 * 5);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((seed * 31 + static_cast<int>(i) * 7) % 13) / 13.0f;
  return make_image(2, 4, 5, std::move(v), pixel_size, "nm");
}

/// Five rows: patterns with a lattice parameter, one micrograph row, one row of atoms only, and a
/// pattern with the structure that made it.
std::vector<Record> signal_records() {
  std::vector<Record> records(5);
  for (int i = 0; i < 3; ++i) {
    records[static_cast<std::size_t>(i)].signals.emplace("xrd", pattern(i));
    records[static_cast<std::size_t>(i)].properties["lattice_a"] = {3.5 + 0.1 * i};
    records[static_cast<std::size_t>(i)].tags["crystal_system"] = i == 1 ? "hexagonal" : "cubic";
  }
  records[3].signals.emplace("sem", micrograph(3, 12.5));
  records[3].properties["grain_size"] = {40.0};
  records[4].structure.numbers = {14, 14};
  records[4].structure.positions.resize(2, 3);
  records[4].structure.positions << 0, 0, 0, 1.3575, 1.3575, 1.3575;
  records[4].structure.cell << 0, 2.715, 2.715, 2.715, 0, 2.715, 2.715, 2.715, 0;
  records[4].structure.pbc = {true, true, true};
  records[4].signals.emplace("xrd", pattern(4));
  records[4].signals.emplace("sem", micrograph(4, 25.0));
  return records;
}

void expect_same_signals(const Record& a, const Record& b) {
  ASSERT_EQ(a.signals.size(), b.signals.size());
  for (const auto& [name, s] : a.signals) {
    SCOPED_TRACE(name);
    const auto it = b.signals.find(name);
    ASSERT_NE(it, b.signals.end());
    const Signal& t = it->second;
    EXPECT_EQ(s.kind, t.kind);
    EXPECT_EQ(s.shape, t.shape);
    EXPECT_EQ(s.values, t.values);  // float32 on disk and in memory: bit for bit
    EXPECT_EQ(s.axis_unit, t.axis_unit);
    if (s.kind == SignalKind::spectrum) {
      EXPECT_EQ(*s.axis, *t.axis);
      EXPECT_EQ(s.axis_name, t.axis_name);
    } else {
      EXPECT_EQ(s.pixel_size, t.pixel_size);
    }
  }
}

template <typename F>
void expect_error(F&& f, matnn_status status, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    for (const std::string& fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what() << "\nmissing: " << fragment;
  }
}

TEST_F(SignalDataset, RoundTripBesideAtomsLabelsAndTags) {
  const std::string path = file("signals.h5");
  const std::vector<Record> records = signal_records();
  write_dataset(path, records);
  const DatasetReader reader(path);
  EXPECT_EQ(reader.signal_names(), (std::vector<std::string>{"sem", "xrd"}));
  const std::vector<Record> back = reader.read_all();
  ASSERT_EQ(back.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    expect_same_signals(records[i], back[i]);
    EXPECT_EQ(back[i].properties, records[i].properties);
    EXPECT_EQ(back[i].tags, records[i].tags);
    EXPECT_EQ(back[i].structure.numbers, records[i].structure.numbers);
  }
  // Readers share one copy of a spectrum axis.
  EXPECT_EQ(back[0].signals.at("xrd").axis.get(), back[4].signals.at("xrd").axis.get());
  // Index lists (a split's rows) read the same signals, in the order asked.
  const std::vector<std::size_t> rows{4, 0, 3};
  const std::vector<Record> some = reader.read(rows);
  for (std::size_t k = 0; k < rows.size(); ++k) expect_same_signals(records[rows[k]], some[k]);
}

TEST_F(SignalDataset, AppendKeepsOneGridAndMasksMissingRows) {
  const std::string path = file("append.h5");
  std::vector<Record> first = signal_records();
  write_dataset(path, std::span<const Record>(first).first(2));
  std::vector<Record> more(first.begin() + 2, first.end());
  append_dataset(path, more);
  const std::vector<Record> back = DatasetReader(path).read_all();
  ASSERT_EQ(back.size(), first.size());
  for (std::size_t i = 0; i < first.size(); ++i) expect_same_signals(first[i], back[i]);

  // A pattern on another grid would be a different measurement axis: refused, file unchanged.
  const auto before = fs::file_size(path);
  Record shifted;
  shifted.signals.emplace("xrd", make_spectrum(std::vector<double>{10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14.1},
                                               std::vector<float>(9, 1.0f), "2theta", "degree"));
  expect_error([&] { append_dataset(path, std::vector<Record>{shifted}); }, MATNN_ERROR_FORMAT,
               {path, "\"xrd\"", "the file", "axis grids"});
  Record wider;
  wider.signals.emplace("sem", make_image(3, 4, 5, std::vector<float>(60, 0.5f), 12.5, "nm"));
  expect_error([&] { append_dataset(path, std::vector<Record>{wider}); }, MATNN_ERROR_FORMAT,
               {"\"sem\"", "shape 2 x 4 x 5 and 3 x 4 x 5"});
  EXPECT_EQ(fs::file_size(path), before);
  EXPECT_EQ(DatasetReader(path).size(), first.size());
}

TEST_F(SignalDataset, InconsistentOrInvalidSignalsAreRefusedBeforeAnythingIsWritten) {
  const std::string path = file("bad.h5");
  std::vector<Record> records = signal_records();
  records[2].signals.at("xrd") = pattern(2, 11);
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_FORMAT,
               {path, "signal \"xrd\" of structure 2", "structure 0", "shape 1 x 9 and 1 x 11"});

  records = signal_records();
  records[1].signals.at("xrd").values[3] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_NON_FINITE, {path, "structure 1", "\"xrd\""});

  records = signal_records();
  records[3].signals.at("sem").pixel_size = 0;
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_FORMAT, {"structure 3", "pixel size"});

  records = signal_records();
  auto decreasing = two_theta_grid(9);
  std::swap(decreasing[4], decreasing[5]);
  records[0].signals.at("xrd").axis = std::make_shared<const std::vector<double>>(decreasing);
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_FORMAT, {"structure 0", "must increase"});

  records = signal_records();
  records[0].signals.at("xrd").values.pop_back();
  expect_error([&] { write_dataset(path, records); }, MATNN_ERROR_FORMAT, {"needs 9 values, got 8"});
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(SignalDataset, AFileWithoutTheSpectrumAxisIsAFormatError) {
  const std::string path = file("no_axis.h5");
  write_dataset(path, signal_records());
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  ASSERT_GE(H5Ldelete(f, "/signals/xrd/axis", H5P_DEFAULT), 0);
  H5Fclose(f);
  h5::write_seal(path, path);  // as `matnn seal` does after an edit
  expect_error([&] { DatasetReader reader(path); }, MATNN_ERROR_FORMAT, {path, "/signals/xrd/axis", "missing"});
}

TEST_F(SignalDataset, ReadableWithH5py) {
  const std::string path = file("for_python.h5");
  write_dataset(path, signal_records());
  const fs::path script = fs::path(__FILE__).parent_path() / "read_signals_with_h5py.py";
  const std::string command = std::string(MATNN_PYTHON) + " '" + script.string() + "' '" + path + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace matnn
