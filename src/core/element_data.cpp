// The periodic table, Z = 1..118: the one place where matnn keeps element facts.
//
// Sources
//   mass       IUPAC/CIAAW standard atomic weights 2021, abridged to five significant figures
//              (conventional values for elements given as intervals, e.g. H 1.008, Li 6.94,
//              Ar 39.95). Elements with no stable isotope: the mass number of the longest-lived
//              isotope, in brackets in IUPAC's table (Tc 98 ... Og 294).
//   group      1..18; the lanthanides La-Lu and the actinides Ac-Lr are all put in group 3.
//   mendeleev  Mendeleev number: the chemical scale of Pettifor (Solid State Commun. 51, 31,
//              1984) as revised by Villars et al. (J. Alloys Compd. 367, 167, 2004) and used by
//              Magpie (Ward et al., npj Comput. Mater. 2, 16028, 2016). The scale stops at Lr;
//              -1 beyond.
//   en         Pauling electronegativity as tabulated in the CRC Handbook of Chemistry and
//              Physics (Allred 1961 revision). NaN for He, Ne, Ar (no compounds) and from Lr on.
//   rcov       Covalent radius, single bond: Cordero et al., Dalton Trans. 2008, 2832 (C: sp3;
//              Mn, Fe, Co: the low-spin values). Where Cordero has none (Bk onwards): Pyykko &
//              Atsumi, Chem. Eur. J. 15, 186 (2009).
//   mp, bp     Melting and boiling point at 101.325 kPa, CRC Handbook. C and As do not melt at
//              one atmosphere: mp is their triple point, bp their sublimation point. He does not
//              solidify at one atmosphere (mp NaN). Values that exist only as estimates are
//              NaN: mp, bp and density of At and Fr; bp of Pm, Ra, Pa, Np, Am and from Cm on;
//              mp and density from Fm on.
//   density    g/cm^3 near room temperature, CRC Handbook (C: graphite, P: white, S: alpha,
//              Sn: white, As and Se: grey). Gases (H2, He, N2, O2, F2, Ne, Cl2, Ar, Kr, Xe, Rn):
//              ideal gas at 25 C and 101.325 kPa, as the CRC Handbook gives them.
//   ie1        First ionization energy, NIST Atomic Spectra Database (ASD), eV; measured values
//              reach Lr, from Rf on only calculated ones exist (NaN).
//   ea         Electron affinity, eV: photodetachment measurements as compiled by Hotop &
//              Lineberger (J. Phys. Chem. Ref. Data 14, 731, 1985) and Andersen, Haugen & Hotop
//              (ibid. 28, 1511, 1999) and updated by later measurements (Ga, In, Tl, La, Pr, Nd,
//              Tm, Lu, At ...), as collected in the Wikipedia "Electron affinity (data page)"
//              that pymatgen ships. Two departures from that page: H is 1H, 0.754195 (the page
//              has deuterium's 0.7546), and Th is the measured 0.60769 (Tang et al., Phys. Rev.
//              Lett. 123, 203002, 2019) instead of an older estimate of 1.17. Anions that are not
//              bound (He, Be, N, Ne, Mg, Ar, Mn, Zn, Kr, Cd, Xe, Yb, Hg, Rn) carry the negative
//              estimates tabulated there: CGCNN's range (-3 to 3.7 eV) is built on them, and NaN
//              would lose the fact that the anion is unbound. Calculated or estimated, not
//              measured: several lanthanides (Pm, Sm, Dy, Ho, Er), Po, Fr, Ra, Ac and Pa-Lr; kept
//              as tabulated. From Rf on only predictions exist: NaN, as for ie1.
//   s p d f    Valence electrons by orbital of the ground-state configuration, counted as Magpie
//              counts them (NsValence, NpValence, NdValence, NfValence): electrons of the outer
//              s and p shells, of the open or just-filled d shell (d10 counts from Cu/Zn on to
//              the end of the period: Ga s2 p1 d10) and of the open or just-filled f shell (f14
//              counts from Yb/Lu on: Hf f14). For Ds and Rg, which are not measured, Magpie's
//              Pt- and Au-like s1 assignments; for Lr and Nh..Og the predicted 7s2 7p^n.
//
// Unknown values: NaN (`na` below) for numbers, -1 for integers.

#include <array>
#include <cstddef>
#include <limits>
#include <span>

#include "matnn/elements.hpp"

namespace matnn {
namespace {

constexpr double na = std::numeric_limits<double>::quiet_NaN();

// Columns (sources in the block at the top of this file):
//   z     atomic number              sym, name  symbol, English name (IUPAC spelling)
//   mass  standard atomic weight, u  grp, per   group (1..18), period (1..7)
//   mend  Mendeleev number           en         Pauling electronegativity
//   rcov  covalent radius, Angstrom  mp, bp     melting and boiling point, K
//   rho   density, g/cm^3            ie1        first ionization energy, eV
//   ea    electron affinity, eV      s p d f    valence electrons in the s, p, d and f orbitals
constexpr std::array<ElementData, max_atomic_number> table{{
   //   z  sym   name             mass    grp  per  mend  en    rcov  mp        bp       rho       ie1        ea         s  p   d   f
    {  1, "H",  "Hydrogen",      1.008,    1,   1,   92, 2.20, 0.31, 13.99,    20.271,  8.240e-5, 13.598434, 0.754195,  1, 0,  0,  0},
    {  2, "He", "Helium",        4.0026,  18,   1,   98, na,   0.28, na,       4.222,   1.636e-4, 24.587389, -0.52,     2, 0,  0,  0},
    {  3, "Li", "Lithium",       6.94,     1,   2,    1, 0.98, 1.28, 453.65,   1615.0,  0.534,    5.391715,  0.618049,  1, 0,  0,  0},
    {  4, "Be", "Beryllium",     9.0122,   2,   2,   67, 1.57, 0.96, 1560.0,   2742.0,  1.85,     9.322699,  -0.52,     2, 0,  0,  0},
    {  5, "B",  "Boron",         10.81,   13,   2,   72, 2.04, 0.84, 2350.0,   4273.0,  2.34,     8.298019,  0.279723,  2, 1,  0,  0},
    {  6, "C",  "Carbon",        12.011,  14,   2,   77, 2.55, 0.76, 4762.0,   4098.0,  2.267,    11.260288, 1.262114,  2, 2,  0,  0},
    {  7, "N",  "Nitrogen",      14.007,  15,   2,   82, 3.04, 0.71, 63.15,    77.355,  1.145e-3, 14.53413,  -0.07,     2, 3,  0,  0},
    {  8, "O",  "Oxygen",        15.999,  16,   2,   87, 3.44, 0.66, 54.36,    90.188,  1.308e-3, 13.618055, 1.461105,  2, 4,  0,  0},
    {  9, "F",  "Fluorine",      18.998,  17,   2,   93, 3.98, 0.57, 53.48,    85.03,   1.553e-3, 17.42282,  3.40119,   2, 5,  0,  0},
    { 10, "Ne", "Neon",          20.180,  18,   2,   99, na,   0.58, 24.56,    27.104,  8.248e-4, 21.564540, -1.22,     2, 6,  0,  0},
    { 11, "Na", "Sodium",        22.990,   1,   3,    2, 0.93, 1.66, 370.944,  1156.09, 0.968,    5.139078,  0.547926,  1, 0,  0,  0},
    { 12, "Mg", "Magnesium",     24.305,   2,   3,   68, 1.31, 1.41, 923.0,    1363.0,  1.738,    7.646236,  -0.42,     2, 0,  0,  0},
    { 13, "Al", "Aluminium",     26.982,  13,   3,   73, 1.61, 1.21, 933.47,   2792.0,  2.70,     5.985769,  0.432835,  2, 1,  0,  0},
    { 14, "Si", "Silicon",       28.085,  14,   3,   78, 1.90, 1.11, 1687.0,   3538.0,  2.3296,   8.151683,  1.389521,  2, 2,  0,  0},
    { 15, "P",  "Phosphorus",    30.974,  15,   3,   83, 2.19, 1.07, 317.3,    553.65,  1.823,    10.486686, 0.746607,  2, 3,  0,  0},
    { 16, "S",  "Sulfur",        32.06,   16,   3,   88, 2.58, 1.05, 388.36,   717.76,  2.07,     10.36001,  2.077105,  2, 4,  0,  0},
    { 17, "Cl", "Chlorine",      35.45,   17,   3,   94, 3.16, 1.02, 171.65,   239.11,  2.898e-3, 12.967633, 3.612725,  2, 5,  0,  0},
    { 18, "Ar", "Argon",         39.95,   18,   3,  100, na,   1.06, 83.81,    87.302,  1.633e-3, 15.759610, -1.02,     2, 6,  0,  0},
    { 19, "K",  "Potassium",     39.098,   1,   4,    3, 0.82, 2.03, 336.65,   1032.0,  0.862,    4.340664,  0.501459,  1, 0,  0,  0},
    { 20, "Ca", "Calcium",       40.078,   2,   4,    7, 1.00, 1.76, 1115.0,   1757.0,  1.54,     6.113155,  0.024551,  2, 0,  0,  0},
    { 21, "Sc", "Scandium",      44.956,   3,   4,   11, 1.36, 1.70, 1814.0,   3109.0,  2.985,    6.56149,   0.1882,    2, 0,  1,  0},
    { 22, "Ti", "Titanium",      47.867,   4,   4,   43, 1.54, 1.60, 1941.0,   3560.0,  4.506,    6.828120,  0.075545,  2, 0,  2,  0},
    { 23, "V",  "Vanadium",      50.942,   5,   4,   46, 1.63, 1.53, 2183.0,   3680.0,  6.11,     6.746187,  0.527662,  2, 0,  3,  0},
    { 24, "Cr", "Chromium",      51.996,   6,   4,   49, 1.66, 1.39, 2180.0,   2944.0,  7.19,     6.76651,   0.675841,  1, 0,  5,  0},
    { 25, "Mn", "Manganese",     54.938,   7,   4,   52, 1.55, 1.39, 1519.0,   2334.0,  7.21,     7.434038,  -0.52,     2, 0,  5,  0},
    { 26, "Fe", "Iron",          55.845,   8,   4,   55, 1.83, 1.32, 1811.0,   3134.0,  7.874,    7.902468,  0.153236,  2, 0,  6,  0},
    { 27, "Co", "Cobalt",        58.933,   9,   4,   58, 1.88, 1.26, 1768.0,   3200.0,  8.90,     7.88101,   0.662265,  2, 0,  7,  0},
    { 28, "Ni", "Nickel",        58.693,  10,   4,   61, 1.91, 1.24, 1728.0,   3186.0,  8.908,    7.639878,  1.157161,  2, 0,  8,  0},
    { 29, "Cu", "Copper",        63.546,  11,   4,   64, 1.90, 1.32, 1357.77,  2835.0,  8.96,     7.726380,  1.235784,  1, 0, 10,  0},
    { 30, "Zn", "Zinc",          65.38,   12,   4,   69, 1.65, 1.22, 692.68,   1180.0,  7.134,    9.394197,  -0.62,     2, 0, 10,  0},
    { 31, "Ga", "Gallium",       69.723,  13,   4,   74, 1.81, 1.22, 302.9146, 2502.0,  5.91,     5.999302,  0.301201,  2, 1, 10,  0},
    { 32, "Ge", "Germanium",     72.630,  14,   4,   79, 2.01, 1.20, 1211.40,  3106.0,  5.323,    7.899435,  1.232676,  2, 2, 10,  0},
    { 33, "As", "Arsenic",       74.922,  15,   4,   84, 2.18, 1.19, 1090.0,   887.0,   5.727,    9.78855,   0.80482,   2, 3, 10,  0},
    { 34, "Se", "Selenium",      78.971,  16,   4,   89, 2.55, 1.20, 494.0,    958.0,   4.81,     9.752392,  2.020605,  2, 4, 10,  0},
    { 35, "Br", "Bromine",       79.904,  17,   4,   95, 2.96, 1.20, 265.8,    332.0,   3.1028,   11.81381,  3.363588,  2, 5, 10,  0},
    { 36, "Kr", "Krypton",       83.798,  18,   4,  101, 3.00, 1.16, 115.78,   119.735, 3.425e-3, 13.999606, -1.02,     2, 6, 10,  0},
    { 37, "Rb", "Rubidium",      85.468,   1,   5,    4, 0.82, 2.20, 312.45,   961.0,   1.532,    4.177128,  0.485916,  1, 0,  0,  0},
    { 38, "Sr", "Strontium",     87.62,    2,   5,    8, 0.95, 1.95, 1050.0,   1650.0,  2.64,     5.694867,  0.052066,  2, 0,  0,  0},
    { 39, "Y",  "Yttrium",       88.906,   3,   5,   12, 1.22, 1.90, 1799.0,   3618.0,  4.472,    6.21726,   0.30712,   2, 0,  1,  0},
    { 40, "Zr", "Zirconium",     91.222,   4,   5,   44, 1.33, 1.75, 2128.0,   4679.0,  6.52,     6.634126,  0.433289,  2, 0,  2,  0},
    { 41, "Nb", "Niobium",       92.906,   5,   5,   47, 1.6,  1.64, 2750.0,   5017.0,  8.57,     6.75885,   0.917407,  1, 0,  4,  0},
    { 42, "Mo", "Molybdenum",    95.95,    6,   5,   50, 2.16, 1.54, 2896.0,   4912.0,  10.28,    7.09243,   0.74733,   1, 0,  5,  0},
    { 43, "Tc", "Technetium",    98.0,     7,   5,   53, 1.9,  1.47, 2430.0,   4538.0,  11.5,     7.11938,   0.552,     2, 0,  5,  0},
    { 44, "Ru", "Ruthenium",     101.07,   8,   5,   56, 2.2,  1.46, 2607.0,   4423.0,  12.45,    7.36050,   1.046383,  1, 0,  7,  0},
    { 45, "Rh", "Rhodium",       102.91,   9,   5,   59, 2.28, 1.42, 2237.0,   3968.0,  12.41,    7.45890,   1.142892,  1, 0,  8,  0},
    { 46, "Pd", "Palladium",     106.42,  10,   5,   62, 2.20, 1.39, 1828.05,  3236.0,  12.023,   8.336839,  0.562141,  0, 0, 10,  0},
    { 47, "Ag", "Silver",        107.87,  11,   5,   65, 1.93, 1.45, 1234.93,  2435.0,  10.49,    7.576234,  1.304473,  1, 0, 10,  0},
    { 48, "Cd", "Cadmium",       112.41,  12,   5,   70, 1.69, 1.44, 594.22,   1040.0,  8.65,     8.993820,  -0.72,     2, 0, 10,  0},
    { 49, "In", "Indium",        114.82,  13,   5,   75, 1.78, 1.42, 429.75,   2345.0,  7.31,     5.786355,  0.383926,  2, 1, 10,  0},
    { 50, "Sn", "Tin",           118.71,  14,   5,   80, 1.96, 1.39, 505.08,   2875.0,  7.287,    7.343918,  1.11207,   2, 2, 10,  0},
    { 51, "Sb", "Antimony",      121.76,  15,   5,   85, 2.05, 1.39, 903.78,   1860.0,  6.697,    8.608389,  1.047401,  2, 3, 10,  0},
    { 52, "Te", "Tellurium",     127.60,  16,   5,   90, 2.1,  1.38, 722.66,   1261.0,  6.24,     9.009808,  1.970876,  2, 4, 10,  0},
    { 53, "I",  "Iodine",        126.90,  17,   5,   96, 2.66, 1.39, 386.85,   457.55,  4.933,    10.45126,  3.059052,  2, 5, 10,  0},
    { 54, "Xe", "Xenon",         131.29,  18,   5,  102, 2.6,  1.40, 161.40,   165.051, 5.366e-3, 12.129844, -0.82,     2, 6, 10,  0},
    { 55, "Cs", "Caesium",       132.91,   1,   6,    5, 0.79, 2.44, 301.59,   944.0,   1.93,     3.893906,  0.47163,   1, 0,  0,  0},
    { 56, "Ba", "Barium",        137.33,   2,   6,    9, 0.89, 2.15, 1000.0,   2118.0,  3.51,     5.211664,  0.144626,  2, 0,  0,  0},
    { 57, "La", "Lanthanum",     138.91,   3,   6,   13, 1.10, 2.07, 1193.0,   3737.0,  6.162,    5.5769,    0.557546,  2, 0,  1,  0},
    { 58, "Ce", "Cerium",        140.12,   3,   6,   15, 1.12, 2.04, 1068.0,   3716.0,  6.770,    5.5386,    0.572,     2, 0,  1,  1},
    { 59, "Pr", "Praseodymium",  140.91,   3,   6,   17, 1.13, 2.03, 1204.0,   3793.0,  6.77,     5.4702,    0.109235,  2, 0,  0,  3},
    { 60, "Nd", "Neodymium",     144.24,   3,   6,   19, 1.14, 2.01, 1297.0,   3347.0,  7.01,     5.5250,    0.097493,  2, 0,  0,  4},
    { 61, "Pm", "Promethium",    145.0,    3,   6,   21, 1.13, 1.99, 1315.0,   na,      7.26,     5.582,     0.129,     2, 0,  0,  5},
    { 62, "Sm", "Samarium",      150.36,   3,   6,   23, 1.17, 1.98, 1345.0,   2067.0,  7.52,     5.64371,   0.162,     2, 0,  0,  6},
    { 63, "Eu", "Europium",      151.96,   3,   6,   25, 1.2,  1.98, 1095.0,   1802.0,  5.244,    5.670385,  0.11613,   2, 0,  0,  7},
    { 64, "Gd", "Gadolinium",    157.25,   3,   6,   27, 1.20, 1.96, 1586.0,   3546.0,  7.90,     6.149800,  0.137,     2, 0,  1,  7},
    { 65, "Tb", "Terbium",       158.93,   3,   6,   29, 1.1,  1.94, 1632.0,   3503.0,  8.23,     5.8638,    0.131318,  2, 0,  0,  9},
    { 66, "Dy", "Dysprosium",    162.50,   3,   6,   31, 1.22, 1.92, 1685.0,   2840.0,  8.55,     5.93905,   0.352,     2, 0,  0, 10},
    { 67, "Ho", "Holmium",       164.93,   3,   6,   33, 1.23, 1.92, 1745.0,   2973.0,  8.80,     6.0215,    0.338,     2, 0,  0, 11},
    { 68, "Er", "Erbium",        167.26,   3,   6,   35, 1.24, 1.89, 1802.0,   3141.0,  9.066,    6.1077,    0.312,     2, 0,  0, 12},
    { 69, "Tm", "Thulium",       168.93,   3,   6,   37, 1.25, 1.90, 1818.0,   2223.0,  9.32,     6.18431,   1.02922,   2, 0,  0, 13},
    { 70, "Yb", "Ytterbium",     173.05,   3,   6,   39, 1.1,  1.87, 1097.0,   1469.0,  6.90,     6.254160,  -0.02,     2, 0,  0, 14},
    { 71, "Lu", "Lutetium",      174.97,   3,   6,   41, 1.27, 1.87, 1936.0,   3675.0,  9.841,    5.425871,  0.23887,   2, 0,  1, 14},
    { 72, "Hf", "Hafnium",       178.49,   4,   6,   45, 1.3,  1.75, 2506.0,   4873.0,  13.31,    6.825069,  0.17807,   2, 0,  2, 14},
    { 73, "Ta", "Tantalum",      180.95,   5,   6,   48, 1.5,  1.70, 3290.0,   5731.0,  16.69,    7.549571,  0.32312,   2, 0,  3, 14},
    { 74, "W",  "Tungsten",      183.84,   6,   6,   51, 2.36, 1.62, 3695.0,   5828.0,  19.25,    7.86403,   0.816268,  2, 0,  4, 14},
    { 75, "Re", "Rhenium",       186.21,   7,   6,   54, 1.9,  1.51, 3459.0,   5869.0,  21.02,    7.83352,   0.060397,  2, 0,  5, 14},
    { 76, "Os", "Osmium",        190.23,   8,   6,   57, 2.2,  1.44, 3306.0,   5285.0,  22.59,    8.43823,   1.077801,  2, 0,  6, 14},
    { 77, "Ir", "Iridium",       192.22,   9,   6,   60, 2.20, 1.41, 2719.0,   4701.0,  22.56,    8.96702,   1.564362,  2, 0,  7, 14},
    { 78, "Pt", "Platinum",      195.08,  10,   6,   63, 2.28, 1.36, 2041.4,   4098.0,  21.45,    8.95883,   2.125105,  1, 0,  9, 14},
    { 79, "Au", "Gold",          196.97,  11,   6,   66, 2.54, 1.36, 1337.33,  3109.0,  19.30,    9.225554,  2.30861,   1, 0, 10, 14},
    { 80, "Hg", "Mercury",       200.59,  12,   6,   71, 2.00, 1.32, 234.32,   629.77,  13.534,   10.437504, -0.52,     2, 0, 10, 14},
    { 81, "Tl", "Thallium",      204.38,  13,   6,   76, 1.62, 1.45, 577.0,    1746.0,  11.85,    6.108287,  0.320053,  2, 1, 10, 14},
    { 82, "Pb", "Lead",          207.2,   14,   6,   81, 2.33, 1.46, 600.61,   2022.0,  11.34,    7.416680,  0.356721,  2, 2, 10, 14},
    { 83, "Bi", "Bismuth",       208.98,  15,   6,   86, 2.02, 1.48, 544.55,   1837.0,  9.78,     7.285516,  0.942362,  2, 3, 10, 14},
    { 84, "Po", "Polonium",      209.0,   16,   6,   91, 2.0,  1.40, 527.0,    1235.0,  9.196,    8.418070,  1.407,     2, 4, 10, 14},
    { 85, "At", "Astatine",      210.0,   17,   6,   97, 2.2,  1.50, na,       na,      na,       9.31751,   2.415787,  2, 5, 10, 14},
    { 86, "Rn", "Radon",         222.0,   18,   6,  103, 2.2,  1.50, 202.0,    211.45,  9.074e-3, 10.74850,  -0.72,     2, 6, 10, 14},
    { 87, "Fr", "Francium",      223.0,    1,   7,    6, 0.7,  2.60, na,       na,      na,       4.072741,  0.486,     1, 0,  0,  0},
    { 88, "Ra", "Radium",        226.0,    2,   7,   10, 0.9,  2.21, 969.0,    na,      5.5,      5.278424,  0.1,       2, 0,  0,  0},
    { 89, "Ac", "Actinium",      227.0,    3,   7,   14, 1.1,  2.15, 1323.0,   3473.0,  10.07,    5.380226,  0.35,      2, 0,  1,  0},
    { 90, "Th", "Thorium",       232.04,   3,   7,   16, 1.3,  2.06, 2023.0,   5058.0,  11.72,    6.3067,    0.60769,   2, 0,  2,  0},
    { 91, "Pa", "Protactinium",  231.04,   3,   7,   18, 1.5,  2.00, 1841.0,   na,      15.37,    5.89,      0.55,      2, 0,  1,  2},
    { 92, "U",  "Uranium",       238.03,   3,   7,   20, 1.38, 1.96, 1405.3,   4404.0,  19.1,     6.19405,   0.53,      2, 0,  1,  3},
    { 93, "Np", "Neptunium",     237.0,    3,   7,   22, 1.36, 1.90, 912.0,    na,      20.45,    6.2655,    0.48,      2, 0,  1,  4},
    { 94, "Pu", "Plutonium",     244.0,    3,   7,   24, 1.28, 1.87, 912.5,    3501.0,  19.85,    6.02576,   -0.5,      2, 0,  0,  6},
    { 95, "Am", "Americium",     243.0,    3,   7,   26, 1.13, 1.80, 1449.0,   na,      13.67,    5.97381,   0.1,       2, 0,  0,  7},
    { 96, "Cm", "Curium",        247.0,    3,   7,   28, 1.28, 1.69, 1613.0,   na,      13.51,    5.99141,   0.28,      2, 0,  1,  7},
    { 97, "Bk", "Berkelium",     247.0,    3,   7,   30, 1.3,  1.68, 1259.0,   na,      14.78,    6.19785,   -1.72,     2, 0,  0,  9},
    { 98, "Cf", "Californium",   251.0,    3,   7,   32, 1.3,  1.68, 1173.0,   na,      15.1,     6.28166,   -1.01,     2, 0,  0, 10},
    { 99, "Es", "Einsteinium",   252.0,    3,   7,   34, 1.3,  1.65, 1133.0,   na,      8.84,     6.36758,   -0.3,      2, 0,  0, 11},
    {100, "Fm", "Fermium",       257.0,    3,   7,   36, 1.3,  1.67, na,       na,      na,       6.50,      0.35,      2, 0,  0, 12},
    {101, "Md", "Mendelevium",   258.0,    3,   7,   38, 1.3,  1.73, na,       na,      na,       6.58,      0.98,      2, 0,  0, 13},
    {102, "No", "Nobelium",      259.0,    3,   7,   40, 1.3,  1.76, na,       na,      na,       6.62621,   -2.33,     2, 0,  0, 14},
    {103, "Lr", "Lawrencium",    266.0,    3,   7,   42, na,   1.61, na,       na,      na,       4.96,      -0.31,     2, 1,  0, 14},
    {104, "Rf", "Rutherfordium", 267.0,    4,   7,   -1, na,   1.57, na,       na,      na,       na,        na,        2, 0,  2, 14},
    {105, "Db", "Dubnium",       268.0,    5,   7,   -1, na,   1.49, na,       na,      na,       na,        na,        2, 0,  3, 14},
    {106, "Sg", "Seaborgium",    269.0,    6,   7,   -1, na,   1.43, na,       na,      na,       na,        na,        2, 0,  4, 14},
    {107, "Bh", "Bohrium",       270.0,    7,   7,   -1, na,   1.41, na,       na,      na,       na,        na,        2, 0,  5, 14},
    {108, "Hs", "Hassium",       269.0,    8,   7,   -1, na,   1.34, na,       na,      na,       na,        na,        2, 0,  6, 14},
    {109, "Mt", "Meitnerium",    278.0,    9,   7,   -1, na,   1.29, na,       na,      na,       na,        na,        2, 0,  7, 14},
    {110, "Ds", "Darmstadtium",  281.0,   10,   7,   -1, na,   1.28, na,       na,      na,       na,        na,        1, 0,  9, 14},
    {111, "Rg", "Roentgenium",   282.0,   11,   7,   -1, na,   1.21, na,       na,      na,       na,        na,        1, 0, 10, 14},
    {112, "Cn", "Copernicium",   285.0,   12,   7,   -1, na,   1.22, na,       na,      na,       na,        na,        2, 0, 10, 14},
    {113, "Nh", "Nihonium",      286.0,   13,   7,   -1, na,   1.36, na,       na,      na,       na,        na,        2, 1, 10, 14},
    {114, "Fl", "Flerovium",     289.0,   14,   7,   -1, na,   1.43, na,       na,      na,       na,        na,        2, 2, 10, 14},
    {115, "Mc", "Moscovium",     290.0,   15,   7,   -1, na,   1.62, na,       na,      na,       na,        na,        2, 3, 10, 14},
    {116, "Lv", "Livermorium",   293.0,   16,   7,   -1, na,   1.75, na,       na,      na,       na,        na,        2, 4, 10, 14},
    {117, "Ts", "Tennessine",    294.0,   17,   7,   -1, na,   1.65, na,       na,      na,       na,        na,        2, 5, 10, 14},
    {118, "Og", "Oganesson",     294.0,   18,   7,   -1, na,   1.57, na,       na,      na,       na,        na,        2, 6, 10, 14},
}};

constexpr bool rows_in_order() {
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].z != static_cast<int>(i) + 1) return false;
  }
  return true;
}
static_assert(rows_in_order(), "periodic table rows must be ordered by atomic number, index z-1");

}  // namespace

std::span<const ElementData> periodic_table() noexcept { return table; }

}  // namespace matnn
