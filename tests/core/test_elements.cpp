// The periodic table: symbol <-> atomic number look-ups, spot checks of the data, and sanity
// checks that would catch a row shifted by one.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <set>
#include <string>
#include <string_view>

#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace {

using matnn::atomic_number;
using matnn::element;
using matnn::ElementData;
using matnn::max_atomic_number;
using matnn::periodic_table;

// Runs `statement`, expects a matnn::Error, and checks its status code.
#define EXPECT_MATNN_ERROR(statement, expected_status)                       \
  EXPECT_THROW(                                                              \
      {                                                                      \
        try {                                                                \
          statement;                                                         \
        } catch (const matnn::Error& error_) {                               \
          EXPECT_EQ(error_.status(), expected_status) << error_.what();      \
          throw;                                                             \
        }                                                                    \
      },                                                                     \
      matnn::Error)

// Written out independently of the table, so that a dropped or doubled row shows.
constexpr std::array<std::string_view, 118> symbols = {
    "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",
    "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
    "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh",
    "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd",
    "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Re",
    "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th",
    "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db",
    "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

int valence_total(const ElementData& e) {
  return e.valence_s + e.valence_p + e.valence_d + e.valence_f;
}

TEST(Elements, TableHasOneRowPerAtomicNumber) {
  const auto table = periodic_table();
  ASSERT_EQ(table.size(), static_cast<std::size_t>(max_atomic_number));
  for (std::size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(table[i].z, static_cast<int>(i) + 1);
    EXPECT_EQ(std::string_view(table[i].symbol), symbols[i]) << "z = " << i + 1;
    EXPECT_NE(table[i].name, nullptr);
    EXPECT_GT(std::string_view(table[i].name).size(), 0u);
  }
  EXPECT_STREQ(element(1).name, "Hydrogen");
  EXPECT_STREQ(element(118).name, "Oganesson");
}

TEST(Elements, SymbolRoundTripForAll118) {
  for (int z = 1; z <= max_atomic_number; ++z) {
    const ElementData& e = element(z);
    EXPECT_EQ(e.z, z);
    EXPECT_EQ(&e, &periodic_table()[static_cast<std::size_t>(z - 1)]);
    EXPECT_EQ(atomic_number(e.symbol), z) << e.symbol;
    EXPECT_EQ(atomic_number(symbols[static_cast<std::size_t>(z - 1)]), z);
  }
  EXPECT_EQ(atomic_number("Fe"), 26);
  EXPECT_EQ(atomic_number(std::string("Og")), 118);
  // A view into a longer buffer: only the viewed characters count.
  constexpr std::string_view line = "Cu 0.0 0.0 0.0";
  EXPECT_EQ(atomic_number(line.substr(0, 2)), 29);
  EXPECT_EQ(atomic_number(line.substr(0, 1)), 6);
}

TEST(Elements, IsKnownAtomicNumber) {
  static_assert(matnn::is_known_atomic_number(1));
  static_assert(matnn::is_known_atomic_number(118));
  static_assert(!matnn::is_known_atomic_number(0));
  static_assert(!matnn::is_known_atomic_number(119));
  static_assert(!matnn::is_known_atomic_number(-1));
}

TEST(Elements, SpotChecks) {
  const ElementData& h = element(1);
  EXPECT_DOUBLE_EQ(h.mass, 1.008);
  EXPECT_EQ(h.group, 1);
  EXPECT_EQ(h.period, 1);
  EXPECT_EQ(h.mendeleev_number, 92);
  EXPECT_DOUBLE_EQ(h.electronegativity, 2.20);
  EXPECT_DOUBLE_EQ(h.covalent_radius, 0.31);
  EXPECT_NEAR(h.first_ionization, 13.598, 1e-3);
  EXPECT_EQ(h.valence_s, 1);
  EXPECT_EQ(valence_total(h), 1);

  const ElementData& c = element(atomic_number("C"));
  EXPECT_DOUBLE_EQ(c.mass, 12.011);
  EXPECT_EQ(c.group, 14);
  EXPECT_DOUBLE_EQ(c.electronegativity, 2.55);
  EXPECT_DOUBLE_EQ(c.covalent_radius, 0.76);  // sp3
  EXPECT_NEAR(c.first_ionization, 11.260, 1e-3);
  EXPECT_EQ(c.valence_s, 2);
  EXPECT_EQ(c.valence_p, 2);

  const ElementData& o = element(atomic_number("O"));
  EXPECT_DOUBLE_EQ(o.mass, 15.999);
  EXPECT_EQ(o.group, 16);
  EXPECT_EQ(o.period, 2);
  EXPECT_DOUBLE_EQ(o.electronegativity, 3.44);
  EXPECT_DOUBLE_EQ(o.covalent_radius, 0.66);
  EXPECT_NEAR(o.melting_point, 54.36, 1e-9);
  EXPECT_NEAR(o.boiling_point, 90.19, 0.01);
  EXPECT_NEAR(o.density, 1.308e-3, 1e-6);  // gas at 25 C
  EXPECT_EQ(o.valence_s, 2);
  EXPECT_EQ(o.valence_p, 4);
  EXPECT_EQ(o.valence_d, 0);

  const ElementData& na = element(atomic_number("Na"));
  EXPECT_EQ(na.z, 11);
  EXPECT_DOUBLE_EQ(na.mass, 22.990);
  EXPECT_EQ(na.period, 3);
  EXPECT_EQ(na.mendeleev_number, 2);
  EXPECT_DOUBLE_EQ(na.electronegativity, 0.93);
  EXPECT_DOUBLE_EQ(na.covalent_radius, 1.66);
  EXPECT_NEAR(na.melting_point, 370.94, 0.01);
  EXPECT_NEAR(na.first_ionization, 5.139, 1e-3);

  const ElementData& si = element(atomic_number("Si"));
  EXPECT_DOUBLE_EQ(si.mass, 28.085);
  EXPECT_EQ(si.group, 14);
  EXPECT_DOUBLE_EQ(si.electronegativity, 1.90);
  EXPECT_DOUBLE_EQ(si.covalent_radius, 1.11);
  EXPECT_DOUBLE_EQ(si.melting_point, 1687.0);
  EXPECT_NEAR(si.density, 2.33, 0.01);
  EXPECT_NEAR(si.first_ionization, 8.152, 1e-3);

  const ElementData& fe = element(26);
  EXPECT_STREQ(fe.symbol, "Fe");
  EXPECT_STREQ(fe.name, "Iron");
  EXPECT_DOUBLE_EQ(fe.mass, 55.845);
  EXPECT_EQ(fe.group, 8);
  EXPECT_EQ(fe.period, 4);
  EXPECT_EQ(fe.mendeleev_number, 55);
  EXPECT_DOUBLE_EQ(fe.electronegativity, 1.83);
  EXPECT_DOUBLE_EQ(fe.covalent_radius, 1.32);
  EXPECT_DOUBLE_EQ(fe.melting_point, 1811.0);
  EXPECT_DOUBLE_EQ(fe.boiling_point, 3134.0);
  EXPECT_DOUBLE_EQ(fe.density, 7.874);
  EXPECT_NEAR(fe.first_ionization, 7.9025, 1e-4);
  EXPECT_EQ(fe.valence_s, 2);
  EXPECT_EQ(fe.valence_p, 0);
  EXPECT_EQ(fe.valence_d, 6);
  EXPECT_EQ(fe.valence_f, 0);

  const ElementData& cu = element(atomic_number("Cu"));
  EXPECT_DOUBLE_EQ(cu.mass, 63.546);
  EXPECT_EQ(cu.group, 11);
  EXPECT_DOUBLE_EQ(cu.electronegativity, 1.90);
  EXPECT_DOUBLE_EQ(cu.melting_point, 1357.77);
  EXPECT_DOUBLE_EQ(cu.density, 8.96);
  EXPECT_EQ(cu.valence_s, 1);
  EXPECT_EQ(cu.valence_d, 10);

  const ElementData& ga = element(atomic_number("Ga"));
  EXPECT_DOUBLE_EQ(ga.mass, 69.723);
  EXPECT_EQ(ga.group, 13);
  EXPECT_NEAR(ga.melting_point, 302.91, 0.01);
  EXPECT_EQ(ga.valence_s, 2);
  EXPECT_EQ(ga.valence_p, 1);
  EXPECT_EQ(ga.valence_d, 10);
  EXPECT_EQ(ga.valence_f, 0);

  const ElementData& ag = element(atomic_number("Ag"));
  EXPECT_EQ(ag.z, 47);
  EXPECT_DOUBLE_EQ(ag.mass, 107.87);
  EXPECT_EQ(ag.group, 11);
  EXPECT_EQ(ag.period, 5);
  EXPECT_DOUBLE_EQ(ag.electronegativity, 1.93);
  EXPECT_DOUBLE_EQ(ag.covalent_radius, 1.45);
  EXPECT_DOUBLE_EQ(ag.melting_point, 1234.93);
  EXPECT_EQ(ag.valence_s, 1);
  EXPECT_EQ(ag.valence_d, 10);

  const ElementData& la = element(atomic_number("La"));
  EXPECT_EQ(la.z, 57);
  EXPECT_DOUBLE_EQ(la.mass, 138.91);
  EXPECT_EQ(la.group, 3);
  EXPECT_EQ(la.period, 6);
  EXPECT_EQ(la.mendeleev_number, 13);
  EXPECT_DOUBLE_EQ(la.covalent_radius, 2.07);
  EXPECT_EQ(la.valence_s, 2);
  EXPECT_EQ(la.valence_d, 1);
  EXPECT_EQ(la.valence_f, 0);

  const ElementData& ce = element(atomic_number("Ce"));
  EXPECT_DOUBLE_EQ(ce.mass, 140.12);
  EXPECT_EQ(ce.group, 3);
  EXPECT_EQ(ce.mendeleev_number, 15);
  EXPECT_DOUBLE_EQ(ce.electronegativity, 1.12);
  EXPECT_EQ(ce.valence_s, 2);
  EXPECT_EQ(ce.valence_d, 1);
  EXPECT_EQ(ce.valence_f, 1);

  const ElementData& au = element(atomic_number("Au"));
  EXPECT_EQ(au.z, 79);
  EXPECT_DOUBLE_EQ(au.mass, 196.97);
  EXPECT_EQ(au.group, 11);
  EXPECT_EQ(au.period, 6);
  EXPECT_DOUBLE_EQ(au.electronegativity, 2.54);
  EXPECT_DOUBLE_EQ(au.covalent_radius, 1.36);
  EXPECT_DOUBLE_EQ(au.melting_point, 1337.33);
  EXPECT_NEAR(au.density, 19.3, 0.05);
  EXPECT_NEAR(au.first_ionization, 9.2256, 1e-4);
  EXPECT_EQ(au.valence_s, 1);
  EXPECT_EQ(au.valence_d, 10);
  EXPECT_EQ(au.valence_f, 14);

  const ElementData& u = element(atomic_number("U"));
  EXPECT_EQ(u.z, 92);
  EXPECT_DOUBLE_EQ(u.mass, 238.03);
  EXPECT_EQ(u.group, 3);
  EXPECT_EQ(u.period, 7);
  EXPECT_DOUBLE_EQ(u.electronegativity, 1.38);
  EXPECT_DOUBLE_EQ(u.covalent_radius, 1.96);
  EXPECT_EQ(u.valence_s, 2);
  EXPECT_EQ(u.valence_d, 1);
  EXPECT_EQ(u.valence_f, 3);
}

TEST(Elements, MassIncreasesWithAtomicNumberExceptKnownInversions) {
  // Standard atomic weights (and the mass numbers of Tc, Pm, Po..Ac, Np, Pu) rise with z except
  // at these pairs (z-1, z).
  const std::set<int> inversions = {19 /* Ar/K */, 28 /* Co/Ni */, 53 /* Te/I */,
                                    91 /* Th/Pa */, 93 /* U/Np */};
  for (int z = 2; z <= 94; ++z) {
    const double previous = element(z - 1).mass;
    const double current = element(z).mass;
    if (inversions.count(z) != 0) {
      EXPECT_LT(current, previous) << element(z - 1).symbol << "/" << element(z).symbol;
    } else {
      EXPECT_GT(current, previous) << element(z - 1).symbol << "/" << element(z).symbol;
    }
  }
  // From Am on, the masses are mass numbers of the longest-lived isotopes: integers near 2.5 z.
  for (int z = 95; z <= max_atomic_number; ++z) {
    const double mass = element(z).mass;
    EXPECT_EQ(mass, std::round(mass)) << element(z).symbol;
    EXPECT_GT(mass, 2.45 * z) << element(z).symbol;
    EXPECT_LT(mass, 2.60 * z) << element(z).symbol;
  }
}

TEST(Elements, PeriodBoundaries) {
  const std::set<int> period_starts = {1, 3, 11, 19, 37, 55, 87};
  int period = 0;
  for (int z = 1; z <= max_atomic_number; ++z) {
    if (period_starts.count(z) != 0) ++period;
    EXPECT_EQ(element(z).period, period) << element(z).symbol;
  }
  EXPECT_EQ(period, 7);
}

TEST(Elements, Groups) {
  const std::set<int> noble = {2, 10, 18, 36, 54, 86, 118};
  const std::set<int> alkali_and_h = {1, 3, 11, 19, 37, 55, 87};
  for (int z = 1; z <= max_atomic_number; ++z) {
    const ElementData& e = element(z);
    EXPECT_GE(e.group, 1);
    EXPECT_LE(e.group, 18);
    EXPECT_EQ(e.group == 18, noble.count(z) != 0) << e.symbol;
    EXPECT_EQ(e.group == 1, alkali_and_h.count(z) != 0) << e.symbol;
    const bool f_block_row = (z >= 57 && z <= 71) || (z >= 89 && z <= 103);
    if (f_block_row) {
      EXPECT_EQ(e.group, 3) << e.symbol;
    }
  }
  // Within a period the group never falls (the f-block rows sit in group 3).
  for (int z = 2; z <= max_atomic_number; ++z) {
    if (element(z).period == element(z - 1).period) {
      EXPECT_GE(element(z).group, element(z - 1).group) << element(z).symbol;
    }
  }
}

TEST(Elements, ValenceElectronCounts) {
  struct Expected {
    std::string_view symbol;
    int total;
  };
  const Expected expected[] = {
      {"H", 1},  {"He", 2},  {"C", 4},   {"O", 6},   {"Ne", 8},  {"Fe", 8},  {"Cu", 11},
      {"Zn", 12}, {"Ga", 13}, {"Kr", 18}, {"Pd", 10}, {"Xe", 18}, {"Ce", 4},  {"Gd", 10},
      {"Lu", 17}, {"Hf", 18}, {"Au", 25}, {"Pb", 28}, {"Rn", 32}, {"U", 6},   {"Og", 32}};
  for (const Expected& x : expected) {
    EXPECT_EQ(valence_total(element(atomic_number(x.symbol))), x.total) << x.symbol;
  }
  for (const ElementData& e : periodic_table()) {
    EXPECT_GE(e.valence_s, 0);
    EXPECT_LE(e.valence_s, 2);
    EXPECT_GE(e.valence_p, 0);
    EXPECT_LE(e.valence_p, 6);
    EXPECT_GE(e.valence_d, 0);
    EXPECT_LE(e.valence_d, 10);
    EXPECT_GE(e.valence_f, 0);
    EXPECT_LE(e.valence_f, 14);
    EXPECT_LE(valence_total(e), e.z) << e.symbol;
    // Main groups: the s + p count is the group's, as every chemistry book has it.
    if (e.group <= 2) {
      EXPECT_EQ(e.valence_s + e.valence_p, e.group) << e.symbol;
    } else if (e.group >= 13 && e.z != 2) {
      EXPECT_EQ(e.valence_s + e.valence_p, e.group - 10) << e.symbol;
    }
  }
}

TEST(Elements, UnknownValuesAreMarked) {
  for (std::string_view noble : {"He", "Ne", "Ar"}) {
    EXPECT_TRUE(std::isnan(element(atomic_number(noble)).electronegativity)) << noble;
  }
  EXPECT_DOUBLE_EQ(element(atomic_number("Kr")).electronegativity, 3.00);
  std::set<int> mendeleev_numbers;
  for (const ElementData& e : periodic_table()) {
    EXPECT_GT(e.mass, 0.0) << e.symbol;
    EXPECT_TRUE(std::isfinite(e.covalent_radius)) << e.symbol;
    EXPECT_GT(e.covalent_radius, 0.2) << e.symbol;
    EXPECT_LT(e.covalent_radius, 2.7) << e.symbol;
    if (e.z <= 103) {
      EXPECT_TRUE(std::isfinite(e.first_ionization)) << e.symbol;
      EXPECT_GT(e.mendeleev_number, 0) << e.symbol;
      EXPECT_TRUE(mendeleev_numbers.insert(e.mendeleev_number).second)
          << "duplicate Mendeleev number at " << e.symbol;
    } else {
      EXPECT_EQ(e.mendeleev_number, -1) << e.symbol;
      EXPECT_TRUE(std::isnan(e.electronegativity)) << e.symbol;
    }
    if (std::isfinite(e.first_ionization)) {
      EXPECT_GT(e.first_ionization, 3.8) << e.symbol;
      EXPECT_LT(e.first_ionization, 24.6) << e.symbol;
    }
    if (std::isfinite(e.melting_point) && std::isfinite(e.boiling_point) && e.z != 6 &&
        e.z != 33) {  // C and As sublime: their "melting point" is a triple point
      EXPECT_LT(e.melting_point, e.boiling_point) << e.symbol;
    }
  }
  // The largest first ionization energy is helium's, the smallest caesium's.
  EXPECT_NEAR(element(2).first_ionization, 24.587, 1e-3);
  EXPECT_NEAR(element(55).first_ionization, 3.894, 1e-3);
}

TEST(Elements, UnknownAtomicNumbersThrow) {
  for (int z : {0, 119, -1}) {
    EXPECT_MATNN_ERROR((void)element(z), MATNN_ERROR_UNKNOWN_ELEMENT);
  }
  try {
    (void)element(0);
    ADD_FAILURE() << "element(0) did not throw";
  } catch (const matnn::Error& error) {
    EXPECT_STREQ(error.what(), "unknown atomic number 0 (matnn knows 1..118)");
  }
}

TEST(Elements, UnknownSymbolsThrow) {
  for (std::string_view symbol : {"Xx", "fe", "", "FE", "Fe ", " Fe", "F e", "Uue", "X", "e",
                                  "1", "D", "T", "J", "Q"}) {
    EXPECT_MATNN_ERROR((void)atomic_number(symbol), MATNN_ERROR_UNKNOWN_ELEMENT);
  }
  EXPECT_MATNN_ERROR((void)atomic_number(std::string_view("Fe\0", 3)),
                     MATNN_ERROR_UNKNOWN_ELEMENT);
  try {
    (void)atomic_number("Xx");
    ADD_FAILURE() << "atomic_number(\"Xx\") did not throw";
  } catch (const matnn::Error& error) {
    EXPECT_EQ(error.status(), MATNN_ERROR_UNKNOWN_ELEMENT);
    EXPECT_STREQ(error.what(), "unknown element symbol \"Xx\"");
  }
  // A long malformed field is quoted in part only.
  const std::string long_field(500, 'A');
  try {
    (void)atomic_number(long_field);
    ADD_FAILURE() << "atomic_number(long field) did not throw";
  } catch (const matnn::Error& error) {
    EXPECT_EQ(error.status(), MATNN_ERROR_UNKNOWN_ELEMENT);
    EXPECT_LT(std::string_view(error.what()).size(), 100u);
  }
}

}  // namespace
