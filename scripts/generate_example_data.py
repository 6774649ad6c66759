#!/usr/bin/env python3
"""Generates matnn's shipped example dataset with ASE's EMT calculator.

EMT (effective-medium theory, Jacobsen et al.) is the reference physics here: nobody in this
project wrote it, it is fast, and it gives consistent energies, forces and stresses for fcc
metals and their alloys (Al, Ni, Cu, Pd, Ag, Pt, Au). The file serves every model family:
  - potentials: energy, forces and stress of rattled, strained and heated alloy cells;
  - property models: formation_energy (eV/atom) against the elemental fcc references,
    a derived class label is_stable (formation energy < 0) and the composition;
  - honest evaluation: tags (id, config_type, prototype) and a timestamp to split by.
The timestamps are synthetic (one 'campaign' per month, in generation order) and say so in
the dataset's config_type; they exist so time-split code has something to split.

Run with Debian's interpreter:  /usr/bin/python3 scripts/generate_example_data.py OUT.extxyz
"""
import argparse
import datetime

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

ELEMENTS = ["Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au"]
# Lattice constants (Angstrom) near EMT's own equilibrium, so cells are physical.
LATTICE = {"Al": 4.05, "Ni": 3.52, "Cu": 3.61, "Pd": 3.89, "Ag": 4.09, "Pt": 3.92, "Au": 4.08}


def reference_energies():
    """EMT energy per atom of each element in its relaxed fcc lattice (a scan over a)."""
    refs = {}
    for el in ELEMENTS:
        best = None
        for a in np.linspace(0.94, 1.06, 49) * LATTICE[el]:
            atoms = bulk(el, "fcc", a=a)
            atoms.calc = EMT()
            e = atoms.get_potential_energy() / len(atoms)
            best = e if best is None or e < best else best
        refs[el] = best
    return refs


def random_alloy(rng, n_species, repeat, strain, rattle):
    species = list(rng.choice(ELEMENTS, size=n_species, replace=False))
    cubic = bulk("Cu", "fcc", a=1.0, cubic=True).repeat(repeat)
    n = len(cubic)
    weights = rng.dirichlet(np.ones(n_species))
    symbols = list(rng.choice(species, size=n, p=weights))
    # Vegard's law: the lattice constant is the composition-weighted mean.
    a = np.mean([LATTICE[s] for s in symbols])
    atoms = cubic.copy()
    atoms.set_chemical_symbols(symbols)
    atoms.set_cell(atoms.cell * a, scale_atoms=True)
    eps = rng.uniform(-strain, strain, size=(3, 3))
    eps = 0.5 * (eps + eps.T)
    atoms.set_cell(atoms.cell @ (np.eye(3) + eps), scale_atoms=True)
    atoms.rattle(stdev=rattle, seed=int(rng.integers(1 << 31)))
    return atoms


def label(atoms, refs, index, config_type, prototype, when):
    atoms.calc = EMT()
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    stress = atoms.get_stress(voigt=True)
    formation = (energy - sum(refs[s] for s in atoms.get_chemical_symbols())) / len(atoms)
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces, stress=stress)
    atoms.info["formation_energy"] = formation
    atoms.info["is_stable"] = bool(formation < 0.0)
    atoms.info["id"] = f"emt-{index:04d}"
    atoms.info["config_type"] = config_type
    atoms.info["prototype"] = prototype
    atoms.info["timestamp"] = int(when.timestamp())
    return atoms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--structures", type=int, default=240)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    refs = reference_energies()
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    frames = []
    for i in range(args.structures):
        kind = i % 4
        if kind == 0:    # near-equilibrium alloys: property-model data
            atoms = random_alloy(rng, rng.integers(1, 4), (2, 2, 2), 0.01, 0.02)
            config_type, prototype = "alloy_relaxed", "fcc"
        elif kind == 1:  # strained cells: stress data
            atoms = random_alloy(rng, rng.integers(1, 3), (2, 2, 2), 0.05, 0.05)
            config_type, prototype = "alloy_strained", "fcc"
        elif kind == 2:  # thermal rattles: force data
            atoms = random_alloy(rng, rng.integers(2, 4), (2, 2, 1), 0.02, 0.15)
            config_type, prototype = "alloy_hot", "fcc"
        else:            # primitive cells, a different prototype (for prototype splits)
            atoms = random_alloy(rng, 2, (1, 1, 2), 0.03, 0.05)
            config_type, prototype = "alloy_small", "fcc_L1x"
        when = start + datetime.timedelta(days=30 * (i * 12 // args.structures))
        frames.append(label(atoms, refs, i, config_type, prototype, when))
    write(args.output, frames, format="extxyz")
    print(f"wrote {len(frames)} structures ({sum(len(f) for f in frames)} atoms) to {args.output}")


if __name__ == "__main__":
    main()
