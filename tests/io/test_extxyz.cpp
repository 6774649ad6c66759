// Extended XYZ: the comment-line grammar on hand-written snippets, exact write/read round trips,
// every documented error with its status, file name and line number, and atomic writes.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "matnn/error.hpp"
#include "matnn/extxyz.hpp"

namespace matnn {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "matnn_extxyz_XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name, const std::string& content) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path_), fs::directory_iterator()));
  }

 private:
  fs::path path_;
};

std::vector<Record> parse(const std::string& text, const ExtxyzKeys& keys = {}) {
  std::istringstream in(text);
  return read_extxyz(in, "snippet.xyz", keys);
}

Record parse_one(const std::string& text, const ExtxyzKeys& keys = {}) {
  auto r = parse(text, keys);
  if (r.size() != 1) throw std::runtime_error("expected one frame");
  return r[0];
}

std::vector<double> vec(std::initializer_list<double> v) { return v; }

// ---------------------------------------------------------------------------------------------
// Grammar

TEST(ExtxyzRead, BasicFrameWithLatticeDefaultsToPeriodic) {
  const Record r = parse_one(
      "2\n"
      "Lattice=\"4 0 0 0.5 4 0 0 0 4.25\" Properties=species:S:1:pos:R:3 energy=-1.5\n"
      "Fe 0 0 0\n"
      "fe 2.0 2.0 2.0\n");
  EXPECT_EQ(r.structure.numbers, (std::vector<int>{26, 26}));  // case as ASE: capitalised
  EXPECT_EQ(r.structure.pbc, (std::array<bool, 3>{true, true, true}));
  EXPECT_EQ(r.structure.cell(1, 0), 0.5);  // rows are lattice vectors
  EXPECT_EQ(r.structure.cell(2, 2), 4.25);
  EXPECT_EQ(r.structure.positions(1, 2), 2.0);
  EXPECT_EQ(r.properties.at("energy"), vec({-1.5}));
  EXPECT_TRUE(r.atom_properties.empty());
  EXPECT_FALSE(r.timestamp.has_value());
}

TEST(ExtxyzRead, NoLatticeMeansNoCellAndNoPeriodicity) {
  const Record r = parse_one("1\n\nH 0.5 -1e-3 +2\n");  // empty comment, default Properties
  EXPECT_EQ(r.structure.pbc, (std::array<bool, 3>{false, false, false}));
  EXPECT_TRUE(r.structure.cell.isZero(0.0));
  EXPECT_EQ(r.structure.positions(0, 1), -1e-3);
  EXPECT_EQ(r.structure.positions(0, 2), 2.0);
  EXPECT_TRUE(r.properties.empty());
}

TEST(ExtxyzRead, ValueForms) {
  const Record r = parse_one(
      "1\n"
      "comment=\"he said \\\"hi\\\" = ok\" single='a b' curly={1 2 3} square=[4,5.5,6] bare_flag "
      "n=3 x=2.5e-3 y=+1.5 is_metal=T not_metal=False mask=\"T F T\" spaced = 7 url=a=b "
      "config_type=bulk id=123 prototype=NaCl empty=\"\"\n"
      "H 0 0 0\n");
  EXPECT_EQ(r.tags.at("comment"), "he said \"hi\" = ok");
  EXPECT_EQ(r.tags.at("single"), "a b");
  EXPECT_EQ(r.properties.at("curly"), vec({1, 2, 3}));
  EXPECT_EQ(r.properties.at("square"), vec({4, 5.5, 6}));
  EXPECT_EQ(r.properties.at("bare_flag"), vec({1}));
  EXPECT_EQ(r.properties.at("n"), vec({3}));
  EXPECT_EQ(r.properties.at("x"), vec({2.5e-3}));
  EXPECT_EQ(r.properties.at("y"), vec({1.5}));
  EXPECT_EQ(r.properties.at("is_metal"), vec({1}));
  EXPECT_EQ(r.properties.at("not_metal"), vec({0}));
  EXPECT_EQ(r.properties.at("mask"), vec({1, 0, 1}));
  EXPECT_EQ(r.properties.at("spaced"), vec({7}));
  EXPECT_EQ(r.tags.at("url"), "a=b");
  EXPECT_EQ(r.tags.at("config_type"), "bulk");
  EXPECT_EQ(r.tags.at("id"), "123");  // identifiers stay text even when they look like numbers
  EXPECT_EQ(r.tags.at("prototype"), "NaCl");
  EXPECT_EQ(r.tags.at("empty"), "");
  EXPECT_EQ(r.properties.count("comment"), 0u);
}

TEST(ExtxyzRead, JsonArraysAndRepeatedKeys) {
  const Record r = parse_one(
      "1\n"
      "m=\"_JSON [[1, 2], [3, 4.5]]\" j=\"_JSON {\\\"a\\\": 1}\" k=1 k=text\n"
      "H 0 0 0\n");
  EXPECT_EQ(r.properties.at("m"), vec({1, 2, 3, 4.5}));
  EXPECT_EQ(r.tags.at("j"), "_JSON {\"a\": 1}");
  EXPECT_EQ(r.tags.at("k"), "text");  // the last one wins, as in ASE
  EXPECT_EQ(r.properties.count("k"), 0u);
}

TEST(ExtxyzRead, Pbc) {
  const std::string lattice = "Lattice=\"3 0 0 0 3 0 0 0 10\"";
  EXPECT_EQ(parse_one("1\n" + lattice + " pbc=\"T T F\"\nH 0 0 0\n").structure.pbc,
            (std::array<bool, 3>{true, true, false}));
  EXPECT_EQ(parse_one("1\n" + lattice + " pbc=F\nH 0 0 0\n").structure.pbc,
            (std::array<bool, 3>{false, false, false}));
  EXPECT_EQ(parse_one("1\npbc=\"F F F\"\nH 0 0 0\n").structure.pbc, (std::array<bool, 3>{false, false, false}));
  // A slab whose non-periodic vector is zero is fine.
  EXPECT_EQ(parse_one("1\nLattice=\"3 0 0 0 3 0 0 0 0\" pbc=\"T T F\"\nH 0 0 0\n").structure.pbc,
            (std::array<bool, 3>{true, true, false}));
}

TEST(ExtxyzRead, PerAtomColumns) {
  const Record r = parse_one(
      "2\n"
      "Lattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3:forces:R:3:site:I:1:fixed:L:1:label:S:1:charge:R:1:"
      "initial_magmoms:R:1\n"
      "Na 0 0 0  0.1 -0.2 0.3  -4 T  x1  0.9 1.5\n"
      "Cl 2.5 2.5 2.5  -0.1 0.2 -0.3  7 F  x2  -0.9 -1.5\n");
  EXPECT_EQ(r.structure.numbers, (std::vector<int>{11, 17}));
  const AtomValues& f = r.atom_properties.at("forces");
  ASSERT_EQ(f.rows(), 2);
  ASSERT_EQ(f.cols(), 3);
  EXPECT_EQ(f(1, 2), -0.3);
  EXPECT_EQ(r.atom_properties.at("site")(0, 0), -4.0);
  EXPECT_EQ(r.atom_properties.at("fixed")(0, 0), 1.0);
  EXPECT_EQ(r.atom_properties.at("fixed")(1, 0), 0.0);
  EXPECT_EQ(r.atom_properties.at("charges")(1, 0), -0.9);  // ASE's "charge" column
  EXPECT_EQ(r.atom_properties.at("initial_magmoms")(0, 0), 1.5);
  EXPECT_EQ(r.atom_properties.count("label"), 0u);  // per-atom strings are skipped
  ASSERT_NE(r.forces(), nullptr);
}

TEST(ExtxyzRead, AtomicNumberColumn) {
  const Record z_only = parse_one("2\nProperties=Z:I:1:pos:R:3\n8 0 0 0\n1 0 0 1\n");
  EXPECT_EQ(z_only.structure.numbers, (std::vector<int>{8, 1}));
  // With both, Z decides, as in ASE.
  const Record both = parse_one("1\nProperties=species:S:1:pos:R:3:Z:I:1\nH 0 0 0 2\n");
  EXPECT_EQ(both.structure.numbers, (std::vector<int>{2}));
}

TEST(ExtxyzRead, StressForms) {
  const std::string head = "1\nLattice=\"2 0 0 0 2 0 0 0 2\" ";
  // 9 numbers, the 3x3 tensor as ASE writes it; the reading is ASE's (Fortran order, upper triangle).
  const Record r9 = parse_one(head + "stress=\"1 6 5 6 2 4 5 4 3\"\nH 0 0 0\n");
  EXPECT_EQ(r9.properties.at("stress"), vec({1, 2, 3, 4, 5, 6}));
  const Record r6 = parse_one(head + "stress=\"1 2 3 4 5 6\"\nH 0 0 0\n");
  EXPECT_EQ(r6.properties.at("stress"), vec({1, 2, 3, 4, 5, 6}));
  // Not symmetric: like ASE, take m[1][2], m[0][2], m[0][1] of the Fortran-ordered matrix.
  const Record rn = parse_one(head + "stress=\"1 10 20 30 2 40 50 60 3\"\nH 0 0 0\n");
  EXPECT_EQ(rn.properties.at("stress"), vec({1, 2, 3, 60, 50, 30}));
}

TEST(ExtxyzRead, VirialGivesStressWhenStressIsAbsent) {
  const std::string head = "1\nLattice=\"2 0 0 0 2 0 0 0 2\" ";
  const Record r = parse_one(head + "virial=\"8 0 0 0 16 0 0 0 24\"\nH 0 0 0\n");
  EXPECT_EQ(r.properties.at("virial").size(), 9u);
  EXPECT_EQ(r.properties.at("stress"), vec({-1, -2, -3, 0, 0, 0}));  // -virial / V, V = 8
  const Record both = parse_one(head + "virial=\"8 0 0 0 16 0 0 0 24\" stress=\"1 2 3 4 5 6\"\nH 0 0 0\n");
  EXPECT_EQ(both.properties.at("stress"), vec({1, 2, 3, 4, 5, 6}));
  const Record no_cell = parse_one("1\nvirial=\"8 0 0 0 16 0 0 0 24\"\nH 0 0 0\n");
  EXPECT_EQ(no_cell.properties.count("stress"), 0u);
}

TEST(ExtxyzRead, RenamedKeys) {
  ExtxyzKeys keys;
  keys.energy = "REF_energy";
  keys.forces = "REF_forces";
  keys.stress = "REF_stress";
  keys.free_energy = "REF_free_energy";
  const Record r = parse_one(
      "1\n"
      "Lattice=\"2 0 0 0 2 0 0 0 2\" Properties=species:S:1:pos:R:3:REF_forces:R:3:forces:R:3 "
      "REF_energy=-2 energy=99 REF_stress=\"1 2 3 4 5 6\" stress=\"9 9 9 9 9 9\" REF_free_energy=-2.5\n"
      "H 0 0 0 1 2 3 7 8 9\n",
      keys);
  EXPECT_EQ(r.properties.at("energy"), vec({-2}));
  EXPECT_EQ(r.properties.at("free_energy"), vec({-2.5}));
  EXPECT_EQ(r.properties.at("stress"), vec({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.atom_properties.at("forces")(0, 2), 3.0);
  EXPECT_EQ(r.properties.count("REF_energy"), 0u);
  EXPECT_EQ(r.atom_properties.count("REF_forces"), 0u);
  EXPECT_EQ(r.properties.size(), 3u);        // plain energy/stress ignored when renamed
  EXPECT_EQ(r.atom_properties.size(), 1u);  // plain forces ignored when renamed
}

TEST(ExtxyzRead, Timestamps) {
  auto ts = [](const std::string& v) { return parse_one("1\ntimestamp=" + v + "\nH 0 0 0\n").timestamp; };
  EXPECT_EQ(ts("1614834367"), 1614834367);
  EXPECT_EQ(ts("-86400"), -86400);
  EXPECT_EQ(ts("2021-03-04"), 1614816000);
  EXPECT_EQ(ts("2021-03-04T05:06:07Z"), 1614834367);
  EXPECT_EQ(ts("\"2021-03-04 05:06:07\""), 1614834367);
  EXPECT_EQ(ts("2021-03-04T05:06:07.75+01:00"), 1614834367 - 3600);
  EXPECT_EQ(ts("1970-01-01T00:00"), 0);
  EXPECT_EQ(ts("2000-02-29"), 951782400);
}

TEST(ExtxyzRead, FramesBlankLinesAndCrlf) {
  const auto r = parse(
      "1\r\nenergy=1\r\nH 0 0 0\r\n"
      "\n"
      "0\n\n"
      "2\nenergy=3\nHe 0 0 0\nHe 0 0 1\n"
      "\n  \n\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].properties.at("energy"), vec({1}));
  EXPECT_EQ(r[1].structure.size(), 0u);
  EXPECT_EQ(r[2].structure.numbers, (std::vector<int>{2, 2}));
}

TEST(ExtxyzRead, FileWithoutFramesIsAnError) {
  for (const char* text : {"", "\n\n", "  \r\n\t\n"}) {
    try {
      parse(text);
      FAIL() << "no error for " << ::testing::PrintToString(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), MATNN_ERROR_FORMAT);
      EXPECT_NE(std::string(e.what()).find("no frames"), std::string::npos) << e.what();
    }
  }
}

TEST(ExtxyzRead, ExampleDatasetParses) {
  const auto r = read_extxyz(std::string(MATNN_EXAMPLES_DATA_DIR) + "/emt_alloys.extxyz");
  ASSERT_FALSE(r.empty());
  EXPECT_TRUE(r[0].energy().has_value());
  EXPECT_NE(r[0].forces(), nullptr);
  EXPECT_NE(r[0].stress(), nullptr);
  EXPECT_EQ(r[0].tags.at("id"), "emt-0000");
  EXPECT_EQ(r[0].timestamp, 1704067200);
}

// ---------------------------------------------------------------------------------------------
// Round trip

std::vector<Record> sample_records() {
  std::vector<Record> out;
  Record a;
  a.structure.numbers = {26, 8, 1};
  a.structure.positions.resize(3, 3);
  a.structure.positions << 0.1, 1.0 / 3.0, -2.0 / 7.0, 1e-300, 12345.678901234567, -0.0, std::nextafter(1.0, 2.0),
      5e-324, 1.7976931348623157e308 / 1e300;
  a.structure.cell << 5.123456789012345, 0.1, 0.0, -1.0 / 3.0, 4.987654321098765, 0.0, 0.2, 0.3, 7.000000000000001;
  a.structure.pbc = {true, true, true};
  a.properties["energy"] = {-12.345678901234567};
  a.properties["free_energy"] = {-12.4};
  a.properties["stress"] = {0.01, -0.02, 0.03, 1e-17, -5.5e-3, 2.0 / 3.0};
  a.properties["band_gap"] = {1.0 / 7.0};
  a.properties["vector_prop"] = {1, -2.5, 3e20};
  a.properties["count"] = {42};
  a.atom_properties["forces"] = AtomValues(3, 3);
  a.atom_properties["forces"] << 0.1, 0.2, 0.3, -1.0 / 3.0, 1e-10, 7, 0, 0, -9.87654321;
  a.atom_properties["initial_magmoms"] = AtomValues(3, 1);
  a.atom_properties["initial_magmoms"] << 2.2, 0.0, -0.1;
  a.tags["id"] = "mp-123";
  a.tags["config_type"] = "bulk relaxed";
  a.tags["comment"] = "quote \" backslash \\ braces {x} [y] comma, equals=";
  a.timestamp = 1614834367;
  out.push_back(a);

  Record b;  // a free molecule: no cell, nothing else
  b.structure.numbers = {6, 1, 1, 1, 1};
  b.structure.positions = Positions::Random(5, 3);
  out.push_back(b);

  Record c;  // a slab
  c.structure.numbers = {13};
  c.structure.positions.resize(1, 3);
  c.structure.positions << 0.5, 0.25, 10.125;
  c.structure.cell << 2.86, 0, 0, 1.43, 2.4768, 0, 0, 0, 25.0;
  c.structure.pbc = {true, true, false};
  c.properties["energy"] = {-3.5};
  c.timestamp = -1;
  out.push_back(c);
  return out;
}

void expect_same(const std::vector<Record>& a, const std::vector<Record>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(a[i].structure.numbers, b[i].structure.numbers);
    EXPECT_EQ(a[i].structure.pbc, b[i].structure.pbc);
    EXPECT_TRUE(a[i].structure.positions == b[i].structure.positions);
    EXPECT_TRUE(a[i].structure.cell == b[i].structure.cell);
    EXPECT_EQ(a[i].properties, b[i].properties);
    EXPECT_EQ(a[i].tags, b[i].tags);
    EXPECT_EQ(a[i].timestamp, b[i].timestamp);
    ASSERT_EQ(a[i].atom_properties.size(), b[i].atom_properties.size());
    for (const auto& [name, v] : a[i].atom_properties) {
      ASSERT_EQ(b[i].atom_properties.count(name), 1u) << name;
      EXPECT_TRUE(v == b[i].atom_properties.at(name)) << name;
    }
  }
}

TEST(ExtxyzWrite, RoundTripIsExact) {
  TempDir dir;
  const auto records = sample_records();
  const std::string path = dir.path("out.extxyz");
  write_extxyz(path, records);
  expect_same(records, read_extxyz(path));
  EXPECT_EQ(dir.entries(), 1u);  // no temporary file left beside it
}

TEST(ExtxyzWrite, RoundTripWithRenamedKeys) {
  ExtxyzKeys keys;
  keys.energy = "REF_energy";
  keys.forces = "REF_forces";
  keys.stress = "REF_stress";
  const auto records = sample_records();
  std::ostringstream out;
  write_extxyz(out, records, keys);
  const std::string text = out.str();
  EXPECT_NE(text.find(" REF_energy=-12.345678901234567"), std::string::npos);
  EXPECT_NE(text.find(":REF_forces:R:3"), std::string::npos);
  EXPECT_EQ(text.find(" energy="), std::string::npos);
  std::istringstream in(text);
  expect_same(records, read_extxyz(in, "memory", keys));
}

TEST(ExtxyzWrite, LayoutAsAseWritesIt) {
  std::ostringstream out;
  write_extxyz(out, {sample_records()[0]});
  std::istringstream lines(out.str());
  std::string count, comment;
  std::getline(lines, count);
  std::getline(lines, comment);
  EXPECT_EQ(count, "3");
  EXPECT_EQ(comment.rfind("Lattice=\"5.123456789012345 0.1 0 ", 0), 0u) << comment;
  EXPECT_NE(comment.find(" Properties=species:S:1:pos:R:3:forces:R:3:initial_magmoms:R:1 "), std::string::npos);
  // stress as the full symmetric 3x3 tensor, 9 numbers: xx xy xz / xy yy yz / xz yz zz
  EXPECT_NE(comment.find(" stress=\"0.01 0.6666666666666666 -0.0055 0.6666666666666666 -0.02 1e-17 -0.0055 1e-17 0.03\""),
            std::string::npos)
      << comment;
  EXPECT_NE(comment.find(" config_type=\"bulk relaxed\""), std::string::npos);
  EXPECT_NE(comment.find(" id=mp-123"), std::string::npos);
  EXPECT_NE(comment.find(" timestamp=1614834367"), std::string::npos);
  EXPECT_EQ(comment.substr(comment.size() - 12), " pbc=\"T T T\"");
  std::string atom;
  std::getline(lines, atom);
  EXPECT_EQ(atom.rfind("Fe 0.1 0.3333333333333333 -0.2857142857142857 ", 0), 0u) << atom;

  std::ostringstream molecule;
  write_extxyz(molecule, {sample_records()[1]});
  EXPECT_EQ(molecule.str().find("Lattice"), std::string::npos);
  EXPECT_NE(molecule.str().find("pbc=\"F F F\""), std::string::npos);
}

TEST(ExtxyzWrite, FailedWriteLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.path("bad.extxyz");
  auto records = sample_records();

  records[0].atom_properties["forces"] = AtomValues::Zero(2, 3);  // 2 rows for 3 atoms
  EXPECT_THROW(write_extxyz(path, records), Error);
  EXPECT_FALSE(fs::exists(path));

  records = sample_records();
  records[1].tags["note"] = "two\nlines";
  try {
    write_extxyz(path, records);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT);
  }
  EXPECT_FALSE(fs::exists(path));

  records = sample_records();
  records[2].structure.numbers[0] = 0;
  EXPECT_THROW(write_extxyz(path, records), Error);
  EXPECT_FALSE(fs::exists(path));

  // An existing file is left as it was.
  std::ofstream(path) << "old";
  EXPECT_THROW(write_extxyz(path, records), Error);
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "old");
  EXPECT_EQ(dir.entries(), 1u);

  // A directory that does not exist.
  try {
    write_extxyz(dir.path("missing/sub/out.extxyz"), sample_records());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_IO);
  }
  EXPECT_EQ(dir.entries(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Errors: status, file name and line number

struct BadCase {
  const char* name;
  std::string content;
  matnn_status status;
  int line;
  const char* says;  // a piece of the expected message
};

TEST(ExtxyzRead, ErrorsNameFileAndLine) {
  const std::string ok = "1\nLattice=\"3 0 0 0 3 0 0 0 3\"\nH 0 0 0\n";  // lines 1-3
  const std::vector<BadCase> cases = {
      {"count_text", "abc\n\nH 0 0 0\n", MATNN_ERROR_FORMAT, 1, "number of atoms"},
      {"count_float", ok + "2.5\n\nH 0 0 0\nH 0 0 1\n", MATNN_ERROR_FORMAT, 4, "number of atoms"},
      {"count_negative", "-1\n\n", MATNN_ERROR_FORMAT, 1, "non-negative"},
      {"count_huge", "1000000000000\n\nH 0 0 0\n", MATNN_ERROR_FORMAT, 4, "atom line 2 of 1000000000000"},
      {"truncated", ok + "3\n\nH 0 0 0\nH 0 0 1\n", MATNN_ERROR_FORMAT, 8, "atom line 3 of 3"},
      {"truncated_blank", "3\n\nH 0 0 0\n\nH 0 0 1\n", MATNN_ERROR_FORMAT, 4, "atom line 2 of 3"},
      {"no_comment", ok + "2", MATNN_ERROR_FORMAT, 5, "comment line"},
      {"too_few_columns", "2\n\nH 0 0 0\nH 0 0\n", MATNN_ERROR_FORMAT, 4, "expected 4 columns"},
      {"too_many_columns", ok + "1\nProperties=species:S:1:pos:R:3:forces:R:3\nH 0 0 0 1 2 3 4\n", MATNN_ERROR_FORMAT, 6,
       "expected 7 columns"},
      {"bad_number", "2\n\nH 0 0 0\nH 0 1.2.3 0\n", MATNN_ERROR_FORMAT, 4, "expected a real number"},
      {"bad_int", "1\nProperties=species:S:1:pos:R:3:k:I:1\nH 0 0 0 1.5\n", MATNN_ERROR_FORMAT, 3, "expected an integer"},
      {"bad_logical", "1\nProperties=species:S:1:pos:R:3:k:L:1\nH 0 0 0 X\n", MATNN_ERROR_FORMAT, 3, "expected T or F"},
      {"unterminated_quote", ok + "1\nLattice=\"3 0 0 0 3 0 0 0 3 pbc=T\nH 0 0 0\n", MATNN_ERROR_FORMAT, 5,
       "unterminated"},
      {"unterminated_brace", "1\nvec={1 2 3\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "unterminated"},
      {"missing_key", "1\n=3\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "key"},
      {"lattice_8", "1\nLattice=\"3 0 0 0 3 0 0 0\"\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "9 numbers"},
      {"lattice_text", "1\nLattice=\"3 0 0 0 3 0 0 0 x\"\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "9 numbers"},
      {"properties_no_pos", "1\nProperties=species:S:1:xyz:R:3\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "pos:R:3"},
      {"properties_bad_type", "1\nProperties=species:S:1:pos:X:3\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "type"},
      {"properties_not_triples", "1\nProperties=species:S:1:pos:R\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "triples"},
      {"properties_no_species", "1\nProperties=pos:R:3\n0 0 0\n", MATNN_ERROR_FORMAT, 2, "species"},
      {"forces_width", "1\nProperties=species:S:1:pos:R:3:forces:R:2\nH 0 0 0 1 2\n", MATNN_ERROR_FORMAT, 2, "forces"},
      {"bad_pbc", "1\npbc=\"T T\"\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "pbc"},
      {"bad_stress", "1\nstress=\"1 2 3\"\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "stress"},
      {"bad_energy", "1\nenergy=\"1 2\"\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "energy"},
      {"bad_timestamp", "1\ntimestamp=2021-13-01\nH 0 0 0\n", MATNN_ERROR_FORMAT, 2, "ISO 8601"},
      {"unknown_element", ok + "2\n\nH 0 0 0\nXx 0 0 0\n", MATNN_ERROR_UNKNOWN_ELEMENT, 7, "'Xx'"},
      {"unknown_z", "1\nProperties=Z:I:1:pos:R:3\n0 0 0 0\n", MATNN_ERROR_UNKNOWN_ELEMENT, 3, "atomic number"},
      {"nan_position", "2\n\nH 0 0 0\nH nan 0 0\n", MATNN_ERROR_NON_FINITE, 4, "finite"},
      {"inf_position", "1\n\nH 0 -inf 0\n", MATNN_ERROR_NON_FINITE, 3, "finite"},
      {"inf_lattice", ok + "1\nLattice=\"3 0 0 0 inf 0 0 0 3\"\nH 0 0 0\n", MATNN_ERROR_NON_FINITE, 5, "Lattice"},
      {"nan_energy", "1\nenergy=nan\nH 0 0 0\n", MATNN_ERROR_NON_FINITE, 2, "energy"},
      {"nan_forces", "1\nProperties=species:S:1:pos:R:3:forces:R:3\nH 0 0 0 0 NaN 0\n", MATNN_ERROR_NON_FINITE, 3,
       "forces"},
      {"singular_lattice", ok + "1\nLattice=\"3 0 0 6 0 0 0 0 3\"\nH 0 0 0\n", MATNN_ERROR_SINGULAR_CELL, 5, "singular"},
      {"zero_periodic_axis", "1\nLattice=\"3 0 0 0 3 0 0 0 0\" pbc=\"T T T\"\nH 0 0 0\n", MATNN_ERROR_SINGULAR_CELL, 2,
       "(a, b, c)"},
      {"pbc_without_lattice", "1\npbc=T\nH 0 0 0\n", MATNN_ERROR_SINGULAR_CELL, 2, "singular"},
  };
  TempDir dir;
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.file(std::string(c.name) + ".xyz", c.content);
    try {
      read_extxyz(path);
      ADD_FAILURE() << "no error for " << c.name;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(e.status(), c.status) << status_name(e.status()) << ": " << msg;
      const std::string prefix = path + ":" + std::to_string(c.line) + ": ";
      EXPECT_EQ(msg.rfind(prefix, 0), 0u) << "expected prefix '" << prefix << "' in: " << msg;
      EXPECT_NE(msg.find(c.says), std::string::npos) << "expected '" << c.says << "' in: " << msg;
    }
  }
}

TEST(ExtxyzRead, MissingFileIsAnIoError) {
  TempDir dir;
  const std::string path = dir.path("does_not_exist.xyz");
  try {
    read_extxyz(path);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), MATNN_ERROR_IO);
    EXPECT_EQ(std::string(e.what()).rfind(path + ":", 0), 0u) << e.what();
  }
}

TEST(ExtxyzRead, BlankTrailingLinesAreFine) {
  TempDir dir;
  const auto r = read_extxyz(dir.file("trail.xyz", "1\n\nH 0 0 0\n\n\n   \n"));
  EXPECT_EQ(r.size(), 1u);
}

TEST(ExtxyzRead, HundredThousandAtomFrameRoundTrips) {
  // A large frame through the reader and writer (their speed is bench_extxyz's to measure).
  constexpr int n = 100000;
  std::string text = std::to_string(n) +
                     "\nLattice=\"100 0 0 0 100 0 0 0 100\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1\n";
  text.reserve(static_cast<std::size_t>(n) * 120);
  const char* symbols[] = {"Fe", "Ni", "Cr", "O"};
  for (int i = 0; i < n; ++i) {
    text += symbols[i % 4];
    for (int k = 0; k < 6; ++k) {
      text += ' ';
      text += std::to_string((i * 7 + k * 13) % 1000 * 0.0999999917 - 3.25);
    }
    text += '\n';
  }
  std::istringstream in(text);
  const auto r = read_extxyz(in, "big.xyz");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].structure.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(r[0].structure.numbers[3], 8);
  std::ostringstream out;
  write_extxyz(out, r);
  std::istringstream again(out.str());
  const auto back = read_extxyz(again, "big_again.xyz");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].structure.positions, r[0].structure.positions);
  EXPECT_EQ(back[0].structure.numbers, r[0].structure.numbers);
}

}  // namespace
}  // namespace matnn
