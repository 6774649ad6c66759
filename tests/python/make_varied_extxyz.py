#!/usr/bin/env python3
"""Write a varied extended XYZ reference file with ASE (ase.io.write, format="extxyz").

Usage: make_varied_extxyz.py OUT.extxyz [OUT_REF.extxyz]

OUT gets ~12 frames: fcc/bcc/hcp metals, a triclinic cell, a slab with pbc=(T,T,F), a free
molecule without a cell, a one-atom cell; energy/forces/stress/free_energy through a
SinglePointCalculator on some frames only; per-structure properties (formation_energy,
band_gap, a vector, is_metal as bool, a 3x3 array that ASE writes as _JSON); string tags (id,
config_type, prototype); timestamps (integer and ISO 8601); per-atom arrays (initial_magmoms,
a custom real array, an integer array, a bool array, a string array).
OUT_REF (optional) gets frames whose labels use REF_energy/REF_forces/REF_stress keys in
atoms.info/atoms.arrays instead of a calculator, as fitting codes write them.
The numbers are random but seeded, so the files are the same on every run.
"""
import sys

import numpy as np
from ase import Atoms
from ase.build import bulk, fcc111, molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write


def structures(rng):
    frames = []
    frames.append(bulk("Cu", "fcc", a=3.61) * (2, 1, 1))
    frames.append(bulk("Fe", "bcc", a=2.87, cubic=True))
    frames.append(bulk("Mg", "hcp", a=3.21, c=5.21))
    tri = Atoms("NaClO", scaled_positions=[[0, 0, 0], [0.5, 0.4, 0.3], [0.25, 0.7, 0.9]],
                cell=[[4.1, 0.0, 0.0], [0.9, 3.8, 0.0], [-0.7, 1.3, 5.2]], pbc=True)
    frames.append(tri)
    slab = fcc111("Al", size=(2, 2, 3), vacuum=7.5)
    slab.pbc = (True, True, False)
    slab.info.pop("adsorbate_info", None)  # a dict, which extxyz cannot carry
    frames.append(slab)
    frames.append(molecule("CH3CH2OH"))  # free molecule: no cell, pbc F F F
    frames.append(Atoms("Po", positions=[[0, 0, 0]], cell=[3.35, 3.35, 3.35], pbc=True))
    frames.append(bulk("NiO", "rocksalt", a=4.17) * (1, 1, 2))
    frames.append(bulk("Si", "diamond", a=5.43))
    frames.append(bulk("W", "bcc", a=3.16) * (2, 2, 1))
    frames.append(bulk("Ti", "hcp", a=2.95, c=4.68) * (1, 2, 1))
    frames.append(molecule("H2O"))
    for atoms in frames:
        # break the symmetry so that positions have many digits
        atoms.positions += rng.normal(scale=0.03, size=atoms.positions.shape)
    return frames


def random_stress(rng):
    return rng.normal(scale=0.01, size=6)


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    rng = np.random.default_rng(20240501)
    frames = structures(rng)
    for i, atoms in enumerate(frames):
        n = len(atoms)
        atoms.info["id"] = "varied-%03d" % i
        atoms.info["config_type"] = ["bulk", "surface", "molecule"][0 if atoms.pbc.all() else (1 if atoms.pbc.any() else 2)]
        atoms.info["prototype"] = atoms.get_chemical_formula(mode="reduce")
        if i % 2 == 0:
            atoms.info["formation_energy"] = float(rng.normal())
        if i % 3 != 2:
            atoms.info["band_gap"] = abs(float(rng.normal()))
            atoms.info["is_metal"] = bool(i % 2)
        if i in (1, 4, 7):
            atoms.info["dipole_guess"] = rng.normal(size=3)  # a vector property
        if i == 3:
            atoms.info["comment"] = 'a tag with spaces and "quotes"'
            atoms.info["strain_tensor"] = rng.normal(scale=0.01, size=(3, 3))  # written as _JSON
            atoms.info["n_steps"] = 42
        if i % 4 == 0:
            atoms.info["timestamp"] = 1600000000 + 86400 * i
        elif i % 4 == 1:
            atoms.info["timestamp"] = "2021-03-%02dT05:06:07Z" % (i + 1)
        elif i % 4 == 2:
            atoms.info["timestamp"] = "2022-11-%02d" % (i + 1)
        atoms.set_initial_magnetic_moments(rng.normal(size=n) if i % 2 == 0 else np.zeros(n))
        if i in (0, 2, 5, 9):
            atoms.new_array("charge_guess", rng.normal(size=n))
            atoms.new_array("bec", rng.normal(size=(n, 3)))
        if i in (2, 9):
            atoms.new_array("site_index", np.arange(n, dtype=int) * 3 - 1)
            atoms.new_array("fixed", np.arange(n) % 2 == 0)
            atoms.new_array("site_label", np.array(["s%d" % k for k in range(n)]))
        # Labels through a calculator on most frames but not all.
        if i % 5 != 4:
            results = {"energy": float(rng.normal(-3.0 * n, 1.0)),
                       "forces": rng.normal(scale=0.2, size=(n, 3))}
            if atoms.pbc.all():
                results["stress"] = random_stress(rng)
            if i % 3 == 0:
                results["free_energy"] = results["energy"] - abs(float(rng.normal(scale=0.01)))
            atoms.calc = SinglePointCalculator(atoms, **results)
    write(argv[1], frames, format="extxyz")

    if len(argv) == 3:
        ref = structures(rng)
        for i, atoms in enumerate(ref):
            n = len(atoms)
            atoms.info["config_type"] = "ref"
            if i % 4 != 3:
                atoms.info["REF_energy"] = float(rng.normal(-2.0 * n, 1.0))
                atoms.new_array("REF_forces", rng.normal(scale=0.3, size=(n, 3)))
                if atoms.pbc.all():
                    s = random_stress(rng)
                    if i % 2:
                        atoms.info["REF_stress"] = s  # 6 Voigt numbers
                    else:
                        xx, yy, zz, yz, xz, xy = s
                        atoms.info["REF_stress"] = np.array([xx, xy, xz, xy, yy, yz, xz, yz, zz])  # 9 numbers
            if i % 3 == 0:
                # a calculator energy beside REF_energy: read with REF_ keys, it must be ignored
                atoms.calc = SinglePointCalculator(atoms, energy=float(rng.normal()))
        write(argv[2], ref, format="extxyz")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
