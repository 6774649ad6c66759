#!/usr/bin/env python3
"""Generates powder X-ray diffraction patterns of many crystals as a matnn dataset.

The peaks (positions, intensities with structure factors, multiplicities and the
Lorentz-polarisation factor, Cu K-alpha) come from pymatgen's XRDCalculator (Debian's
python3-pymatgen; Ong et al., Comput. Mater. Sci. 68, 314 (2013)), which nobody in this project
wrote. What a diffractometer adds to them is modelled here, differently for every pattern:
  - peak shape: pseudo-Voigt, with the instrument's Caglioti width sqrt(U tan^2 t + V tan t + W)
    plus Scherrer size broadening 0.9 lambda / (L cos t) for a crystallite size L of 15-120 nm;
  - preferred orientation: March-Dollase factors (r in 0.6-1, along a random low-index
    direction), averaged over each peak's equivalent reflections;
  - sample displacement: every peak shifted by up to +-0.03 degrees;
  - background: a decaying exponential, a broad amorphous hump and a constant;
  - counting noise: Poisson statistics at 2,000 to 50,000 counts in the strongest peak.
Intensities are then divided by the pattern's maximum.

Crystals: 26 prototypes in six crystal systems (cubic, hexagonal, trigonal, tetragonal,
orthorhombic, monoclinic), each built from its space group and Wyckoff positions with ASE
(ase.spacegroup.crystal), with elements drawn from pools that suit the prototype and lattice
parameters drawn from ranges of real compounds of that type. Each crystal ("material") gives
--patterns-per-material patterns.

Labels (per row): crystal_system (class index, in the order of CRYSTAL_SYSTEMS), prototype_index
(class index into the sorted prototype names), lattice_a (Angstrom, the conventional a),
volume_per_atom (Angstrom^3). Tags: id, material, prototype, crystal_system_name. The crystal
itself is stored as the row's atoms, so matnn's grouped splits (composition, chemical_system,
prototype) keep all patterns of one material on one side.

The file follows docs/dataset-format.md, written with h5py (matnn reads files of other writers;
they carry no seal). Every material is drawn from its own seed (base seed and index), so the
file does not depend on anything but the arguments.

Run with Debian's interpreter:
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/generate_xrd_data.py OUT.h5 --materials 400
"""
import argparse
import sys

import h5py
import numpy as np
from ase.spacegroup import crystal
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.io.ase import AseAtomsAdaptor

CRYSTAL_SYSTEMS = ["cubic", "hexagonal", "trigonal", "tetragonal", "orthorhombic", "monoclinic"]
WAVELENGTH = 1.54184  # Cu K-alpha (weighted), Angstrom: XRDCalculator's "CuKa"

METALS = ["Al", "Cu", "Ni", "Ag", "Au", "Pt", "Pd", "Fe", "Cr", "Mo", "W", "V", "Nb", "Ta", "Ti", "Zr", "Mg",
          "Zn", "Co", "Sn", "Pb", "In"]
CATIONS = ["Li", "Na", "K", "Mg", "Ca", "Sr", "Ba", "Zn", "Cd", "Ni", "Co", "Fe", "Mn", "Ti", "Zr", "Ga", "Al",
           "Cu", "Ag", "Pb", "Sn", "Ce", "La"]
ANIONS = ["O", "S", "Se", "Te", "F", "Cl", "Br", "I", "N", "P", "As", "Sb"]
B_SITE = ["Ti", "Zr", "Nb", "Ta", "Fe", "Mn", "Co", "Ni", "Sn", "Hf"]


def p(*coords):
    return tuple(coords)


# name: (crystal system, space group, Wyckoff sites [(pool, position)], lattice sampler)
# A sampler returns (a, b, c, alpha, beta, gamma) in Angstrom and degrees from a random generator.
def cubic(lo, hi):
    return lambda rng: (lambda a: (a, a, a, 90, 90, 90))(rng.uniform(lo, hi))


def hexagonal(lo, hi, c_lo, c_hi):
    return lambda rng: (lambda a: (a, a, a * rng.uniform(c_lo, c_hi), 90, 90, 120))(rng.uniform(lo, hi))


def tetragonal(lo, hi, c_lo, c_hi):
    return lambda rng: (lambda a: (a, a, a * rng.uniform(c_lo, c_hi), 90, 90, 90))(rng.uniform(lo, hi))


def orthorhombic(lo, hi, b_ratio, c_ratio):
    return lambda rng: (lambda a: (a, a * rng.uniform(*b_ratio), a * rng.uniform(*c_ratio), 90, 90, 90))(
        rng.uniform(lo, hi))


def monoclinic(lo, hi, b_ratio, c_ratio, beta):
    return lambda rng: (lambda a: (a, a * rng.uniform(*b_ratio), a * rng.uniform(*c_ratio), 90,
                                   rng.uniform(*beta), 90))(rng.uniform(lo, hi))


PROTOTYPES = {
    "fcc": ("cubic", 225, [("M", p(0, 0, 0))], cubic(3.5, 4.2)),
    "bcc": ("cubic", 229, [("M", p(0, 0, 0))], cubic(2.8, 3.4)),
    "sc": ("cubic", 221, [("M", p(0, 0, 0))], cubic(2.4, 3.4)),
    "diamond": ("cubic", 227, [("M", p(0, 0, 0))], cubic(5.0, 6.6)),
    "rocksalt": ("cubic", 225, [("C", p(0, 0, 0)), ("A", p(0.5, 0.5, 0.5))], cubic(4.0, 6.4)),
    "cesium_chloride": ("cubic", 221, [("C", p(0, 0, 0)), ("A", p(0.5, 0.5, 0.5))], cubic(3.0, 4.4)),
    "zincblende": ("cubic", 216, [("C", p(0, 0, 0)), ("A", p(0.25, 0.25, 0.25))], cubic(5.2, 6.6)),
    "fluorite": ("cubic", 225, [("C", p(0, 0, 0)), ("A", p(0.25, 0.25, 0.25))], cubic(5.0, 6.2)),
    "perovskite": ("cubic", 221, [("C", p(0.5, 0.5, 0.5)), ("B", p(0, 0, 0)), ("A", p(0.5, 0, 0))], cubic(3.7, 4.3)),
    "L1_2": ("cubic", 221, [("M", p(0, 0, 0)), ("M2", p(0, 0.5, 0.5))], cubic(3.6, 4.2)),
    "hcp": ("hexagonal", 194, [("M", p(1 / 3, 2 / 3, 0.25))], hexagonal(2.5, 3.4, 1.55, 1.7)),
    "wurtzite": ("hexagonal", 186, [("C", p(1 / 3, 2 / 3, 0)), ("A", p(1 / 3, 2 / 3, 0.375))],
                 hexagonal(3.0, 4.4, 1.58, 1.66)),
    "nickel_arsenide": ("hexagonal", 194, [("C", p(0, 0, 0)), ("A", p(1 / 3, 2 / 3, 0.25))],
                        hexagonal(3.3, 4.0, 1.25, 1.45)),
    "tungsten_carbide": ("hexagonal", 187, [("M", p(0, 0, 0)), ("A", p(1 / 3, 2 / 3, 0.5))],
                         hexagonal(2.8, 3.2, 0.95, 1.0)),
    "arsenic": ("trigonal", 166, [("A", p(0, 0, 0.227))], hexagonal(3.7, 4.5, 2.6, 2.9)),
    "corundum": ("trigonal", 167, [("C", p(0, 0, 0.352)), ("A", p(0.306, 0, 0.25))], hexagonal(4.7, 5.1, 2.6, 2.8)),
    "delafossite": ("trigonal", 166, [("C", p(0, 0, 0)), ("B", p(0, 0, 0.5)), ("A", p(0, 0, 0.108))],
                    hexagonal(2.8, 3.1, 5.6, 6.1)),
    "rutile": ("tetragonal", 136, [("C", p(0, 0, 0)), ("A", p(0.305, 0.305, 0))], tetragonal(4.3, 4.8, 0.62, 0.68)),
    "L1_0": ("tetragonal", 123, [("M", p(0, 0, 0)), ("M2", p(0.5, 0.5, 0.5))], tetragonal(2.7, 4.0, 0.9, 1.4)),
    "beta_tin": ("tetragonal", 141, [("M", p(0, 0, 0))], tetragonal(5.6, 6.0, 0.52, 0.56)),
    "anatase": ("tetragonal", 141, [("C", p(0, 0, 0)), ("A", p(0, 0, 0.208))], tetragonal(3.7, 3.9, 2.45, 2.6)),
    "alpha_uranium": ("orthorhombic", 63, [("M", p(0, 0.1, 0.25))], orthorhombic(2.7, 3.0, (1.95, 2.1), (1.65, 1.75))),
    "iron_boride": ("orthorhombic", 62, [("C", p(0.18, 0.25, 0.12)), ("A", p(0.03, 0.25, 0.61))],
                    orthorhombic(5.2, 5.6, (0.53, 0.57), (0.73, 0.78))),
    "cementite_like": ("orthorhombic", 47, [("C", p(0, 0, 0)), ("A", p(0.5, 0.5, 0)), ("A", p(0, 0.5, 0.5))],
                       orthorhombic(3.0, 4.0, (1.1, 1.3), (1.35, 1.6))),
    "monoclinic_ab": ("monoclinic", 10, [("C", p(0, 0, 0)), ("A", p(0.5, 0.5, 0.5))],
                      monoclinic(3.0, 4.5, (1.1, 1.4), (1.2, 1.6), (95, 115))),
    "monoclinic_c2m": ("monoclinic", 12, [("C", p(0.1, 0, 0.3)), ("A", p(0.35, 0, 0.8))],
                       monoclinic(5.0, 6.5, (0.55, 0.7), (0.9, 1.2), (100, 120))),
}
POOLS = {"M": METALS, "M2": METALS, "C": CATIONS, "A": ANIONS, "B": B_SITE}


def build_material(name, rng):
    system, spacegroup, sites, sample = PROTOTYPES[name]
    while True:
        symbols, chosen = [], set()
        for pool, _ in sites:
            choices = [e for e in POOLS[pool] if e not in chosen]
            element = choices[rng.integers(len(choices))]
            chosen.add(element)
            symbols.append(element)
        # A repeated anion pool (cementite_like) uses one anion on both sites.
        symbols = [symbols[i] if sites[i][0] != "A" else symbols[[s[0] for s in sites].index("A")]
                   for i in range(len(sites))]
        cellpar = sample(rng)
        atoms = crystal(symbols, [pos for _, pos in sites], spacegroup=spacegroup, cellpar=cellpar,
                        primitive_cell=False)
        distances = atoms.get_all_distances(mic=True)[np.triu_indices(len(atoms), 1)]
        if len(atoms) == 1 or distances.min() > 1.2:  # no overlapping atoms from a drawn cell
            for key in list(atoms.arrays):
                if key not in ("numbers", "positions"):
                    del atoms.arrays[key]
            atoms.info.clear()
            return system, atoms, cellpar


def reflections(structure):
    """XRDCalculator's peaks: 2theta, relative intensity and one reciprocal vector per peak with
    all its equivalents (same d-spacing among sign changes and permutations of the hkl)."""
    pattern = XRDCalculator(wavelength="CuKa").get_pattern(structure, two_theta_range=(10, 80), scaled=False)
    recip = structure.lattice.reciprocal_lattice_crystallographic.matrix
    peaks = []
    for two_theta, intensity, families, d in zip(pattern.x, pattern.y, pattern.hkls, pattern.d_hkls):
        vectors = []
        for family in families:
            hkl = family["hkl"]
            hkl = np.array([hkl[0], hkl[1], hkl[-1]], float)  # (h k i l) -> (h k l)
            for sign in np.array(np.meshgrid([1, -1], [1, -1], [1, -1])).T.reshape(-1, 3):
                for perm in ([0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]):
                    g = (hkl[perm] * sign) @ recip
                    if abs(1.0 / np.linalg.norm(g) - d) < 1e-6 * d:
                        vectors.append(g)
        peaks.append((two_theta, intensity, np.unique(np.round(vectors, 10), axis=0)))
    return peaks


def measure(peaks, grid, rng):
    """One measured pattern of `peaks` on `grid` (see the module comment), scaled to max 1."""
    size_nm = rng.uniform(15, 120)
    u, v, w = rng.uniform(0.002, 0.01), rng.uniform(-0.006, 0.0), rng.uniform(0.002, 0.006)
    eta = rng.uniform(0.3, 0.7)
    r = rng.uniform(0.6, 1.0)
    direction = rng.integers(-1, 2, size=3)
    while not direction.any():
        direction = rng.integers(-1, 2, size=3)
    shift = rng.uniform(-0.03, 0.03)
    profile = np.zeros_like(grid)
    for two_theta, intensity, vectors in peaks:
        theta = np.radians(two_theta / 2)
        scherrer = np.degrees(0.9 * WAVELENGTH / (size_nm * 10.0 * np.cos(theta)))
        caglioti = np.sqrt(max(u * np.tan(theta) ** 2 + v * np.tan(theta) + w, 1e-6))
        fwhm = scherrer + caglioti
        # March-Dollase, with the direction in the reciprocal basis of the vectors themselves.
        n = direction / np.linalg.norm(direction)
        cosines = np.abs(vectors @ n) / np.linalg.norm(vectors, axis=1) if len(vectors) else np.array([0.0])
        cosines = np.clip(cosines, 0, 1)
        texture = np.mean((r ** 2 * cosines ** 2 + (1 - cosines ** 2) / r) ** -1.5)
        x = (grid - two_theta - shift) / fwhm
        gauss = np.exp(-4 * np.log(2) * x ** 2)
        lorentz = 1 / (1 + 4 * x ** 2)
        profile += intensity * texture * (eta * lorentz + (1 - eta) * gauss)
    profile /= profile.max()
    background = (rng.uniform(0.0, 0.08) * np.exp(-(grid - grid[0]) / rng.uniform(8, 30))
                  + rng.uniform(0.0, 0.04) * np.exp(-0.5 * ((grid - rng.uniform(20, 35)) / rng.uniform(4, 10)) ** 2)
                  + rng.uniform(0.005, 0.03))
    counts = rng.uniform(2e3, 5e4)
    measured = rng.poisson((profile + background) * counts) / counts
    return (measured / measured.max()).astype(np.float32)


def write_dataset(path, rows, grid):
    """The rows as a matnn dataset (docs/dataset-format.md)."""
    S = len(rows)
    n_atoms = np.array([len(r["atoms"]) for r in rows], np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_atoms)]).astype(np.int64)
    N = int(offsets[-1])

    def column(group, name, data, units=None):
        d = group.create_dataset(name, data=data, maxshape=(None,) + data.shape[1:], chunks=True)
        if units is not None:
            d.attrs["units"] = np.bytes_(units)
        return d

    with h5py.File(path, "w", libver=("v110", "latest")) as f:
        f.attrs["format"] = np.bytes_("matnn-dataset")
        f.attrs["format_version"] = np.int64(1)
        f.attrs["matnn_version"] = np.bytes_("generate_xrd_data.py")
        f.attrs["n_structures"] = np.int64(S)
        f.attrs["total_atoms"] = np.int64(N)
        st, at = f.create_group("structures"), f.create_group("atoms")
        column(st, "n_atoms", n_atoms)
        column(st, "atom_offset", offsets)
        column(st, "cell", np.array([r["atoms"].cell.array for r in rows]), "Angstrom")
        column(st, "pbc", np.ones((S, 3), np.uint8))
        column(st, "timestamp", np.full(S, np.iinfo(np.int64).min, np.int64), "s")
        column(st, "timestamp_present", np.zeros(S, np.uint8))
        column(at, "numbers", np.concatenate([r["atoms"].numbers for r in rows]).astype(np.int32))
        column(at, "positions", np.concatenate([r["atoms"].positions for r in rows]), "Angstrom")
        props = f.create_group("properties")
        f.create_group("atom_properties")
        for name, unit in (("crystal_system", ""), ("prototype_index", ""), ("lattice_a", "Angstrom"),
                           ("volume_per_atom", "Angstrom^3")):
            g = props.create_group(name)
            column(g, "values", np.array([r[name] for r in rows], np.float64), unit)
            column(g, "present", np.ones(S, np.uint8))
        tags = f.create_group("tags")
        for name in ("id", "material", "prototype", "crystal_system_name"):
            values = [r[name].encode() for r in rows]
            width = max(len(v) for v in values)
            tags.create_dataset(name, data=np.array(values, dtype=f"S{width}"), maxshape=(None,), chunks=True)
        xrd = f.create_group("signals").create_group("xrd")
        xrd.attrs["kind"] = np.bytes_("spectrum")
        column(xrd, "values", np.stack([r["pattern"] for r in rows])[:, None, :])
        column(xrd, "present", np.ones(S, np.uint8))
        axis = xrd.create_dataset("axis", data=grid, maxshape=(None,), chunks=True)
        axis.attrs["name"] = np.bytes_("2theta")
        axis.attrs["units"] = np.bytes_("degree")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", help="the dataset to write (.h5)")
    parser.add_argument("--materials", type=int, default=400, help="crystals to draw (default 400)")
    parser.add_argument("--patterns-per-material", type=int, default=3)
    parser.add_argument("--step", type=float, default=0.05, help="2theta step in degrees (default 0.05)")
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args()
    grid = np.round(np.arange(10.0, 80.0 + args.step / 2, args.step), 6)
    names = sorted(PROTOTYPES)
    rows = []
    for m in range(args.materials):
        rng = np.random.default_rng([args.seed, m])
        name = names[m % len(names)]  # every prototype equally often
        system, atoms, cellpar = build_material(name, rng)
        peaks = reflections(AseAtomsAdaptor.get_structure(atoms))
        for k in range(args.patterns_per_material):
            rows.append({
                "atoms": atoms, "pattern": measure(peaks, grid, rng),
                "crystal_system": CRYSTAL_SYSTEMS.index(system), "prototype_index": names.index(name),
                "lattice_a": cellpar[0], "volume_per_atom": atoms.get_volume() / len(atoms),
                "id": f"xrd-{m:04d}-{k}", "material": f"m{m:04d}-{atoms.get_chemical_formula()}",
                "prototype": name, "crystal_system_name": system,
            })
        if (m + 1) % 50 == 0:
            print(f"{m + 1} materials", file=sys.stderr)
    write_dataset(args.output, rows, grid)
    print(f"wrote {len(rows)} patterns of {args.materials} materials, {len(grid)} points each, to {args.output}")


if __name__ == "__main__":
    main()
