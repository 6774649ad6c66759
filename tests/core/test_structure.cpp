#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <unistd.h>

#include <gtest/gtest.h>

#include "matnn/atomic_file.hpp"
#include "matnn/error.hpp"
#include "matnn/record.hpp"
#include "matnn/structure.hpp"

namespace matnn {
namespace {

matnn_status status_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.status();
  }
  return MATNN_SUCCESS;
}

Structure rocksalt() {
  Structure s;
  const double a = 5.64;
  s.numbers = {11, 17};
  s.positions.resize(2, 3);
  s.positions << 0, 0, 0, a / 2, 0, 0;
  s.cell << 0, a / 2, a / 2, a / 2, 0, a / 2, a / 2, a / 2, 0;
  s.pbc = {true, true, true};
  return s;
}

TEST(Structure, VolumeAndScaledPositions) {
  const Structure s = rocksalt();
  EXPECT_NEAR(s.volume(), std::pow(5.64, 3) / 4, 1e-12);
  const Positions scaled = s.scaled_positions();
  const Positions back = scaled * s.cell;
  EXPECT_TRUE(back.isApprox(s.positions, 1e-14));
  EXPECT_NO_THROW(s.validate());
}

TEST(Structure, SupercellRepeatsAtomsAndCell) {
  const Structure s = rocksalt();
  const Structure big = make_supercell(s, {2, 3, 1});
  EXPECT_EQ(big.size(), 12u);
  EXPECT_NEAR(big.volume(), 6 * s.volume(), 1e-10);
  // Atom order as ASE's repeat: image (0,1,0) holds atoms 2 and 3.
  EXPECT_TRUE(big.positions.row(2).isApprox(s.positions.row(0) + s.cell.row(1)));
  EXPECT_EQ(big.composition().reduced_formula(), "ClNa");  // Hill order, as ASE writes it
  EXPECT_EQ(status_of([&] { make_supercell(s, {0, 1, 1}); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(Structure, ValidateRejectsBadGeometry) {
  Structure s = rocksalt();
  s.positions(1, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(status_of([&] { s.validate(); }), MATNN_ERROR_NON_FINITE);

  s = rocksalt();
  s.cell(0, 0) = std::numeric_limits<double>::infinity();
  EXPECT_EQ(status_of([&] { s.validate(); }), MATNN_ERROR_NON_FINITE);

  s = rocksalt();
  s.cell.row(2) = s.cell.row(0) + s.cell.row(1);  // coplanar
  EXPECT_EQ(status_of([&] { s.validate(); }), MATNN_ERROR_SINGULAR_CELL);

  s = rocksalt();
  s.numbers[0] = 0;
  EXPECT_EQ(status_of([&] { s.validate(); }), MATNN_ERROR_UNKNOWN_ELEMENT);

  s = rocksalt();
  s.numbers.push_back(1);
  EXPECT_EQ(status_of([&] { s.validate(); }), MATNN_ERROR_FORMAT);
}

TEST(Structure, NonPeriodicAxesMayHaveNoCell) {
  Structure molecule;
  molecule.numbers = {8, 1, 1};
  molecule.positions = Positions::Random(3, 3);
  EXPECT_NO_THROW(molecule.validate());

  Structure slab = rocksalt();
  slab.pbc = {true, true, false};
  slab.cell.row(2).setZero();
  EXPECT_NO_THROW(slab.validate());
  slab.cell.row(1) = 2.0 * slab.cell.row(0);
  EXPECT_EQ(status_of([&] { slab.validate(); }), MATNN_ERROR_SINGULAR_CELL);

  Structure wire = rocksalt();
  wire.pbc = {false, false, true};
  wire.cell.row(2).setZero();
  EXPECT_EQ(status_of([&] { wire.validate(); }), MATNN_ERROR_SINGULAR_CELL);
}

TEST(Record, ValidatesReservedLabels) {
  Record r;
  r.structure = rocksalt();
  r.properties["energy"] = {-7.5};
  r.properties["stress"] = {1, 2, 3, 4, 5, 6};
  r.atom_properties["forces"] = AtomValues::Random(2, 3);
  EXPECT_NO_THROW(r.validate());
  EXPECT_EQ(r.energy().value(), -7.5);
  EXPECT_EQ(r.stress()->size(), 6u);
  EXPECT_EQ(r.forces()->rows(), 2);

  Record bad = r;
  bad.properties["stress"] = {1, 2, 3};
  EXPECT_EQ(status_of([&] { bad.validate(); }), MATNN_ERROR_FORMAT);
  bad = r;
  bad.atom_properties["forces"] = AtomValues::Random(3, 3);
  EXPECT_EQ(status_of([&] { bad.validate(); }), MATNN_ERROR_FORMAT);
  bad = r;
  bad.properties["band_gap"] = {std::nan("")};
  EXPECT_EQ(status_of([&] { bad.validate(); }), MATNN_ERROR_NON_FINITE);
  bad = r;
  bad.properties["forces"] = {1, 2, 3};
  EXPECT_EQ(status_of([&] { bad.validate(); }), MATNN_ERROR_FORMAT);

  EXPECT_EQ(reserved_label_width("stress"), 6);
  EXPECT_EQ(reserved_label_width("band_gap"), 0);
  EXPECT_STREQ(reserved_label_unit("forces"), "eV/Angstrom");
  EXPECT_TRUE(is_reserved_atom_label("forces"));
  EXPECT_FALSE(is_reserved_atom_label("energy"));
}

TEST(AtomicFile, CommitReplacesTargetAndAbandonLeavesNothing) {
  const auto dir = std::filesystem::temp_directory_path() / ("matnn_atomic_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string target = (dir / "out.txt").string();
  {
    AtomicFile file(target);
    std::ofstream(file.temp_path()) << "complete";
    file.commit();
  }
  EXPECT_TRUE(std::filesystem::exists(target));
  {
    AtomicFile file(target);
    std::ofstream(file.temp_path()) << "half";
    // no commit: an exception would unwind past here
  }
  std::ifstream in(target);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "complete");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace matnn
