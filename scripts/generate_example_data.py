#!/usr/bin/env python3
"""Generates matnn's shipped example dataset with ASE's EMT calculator.

EMT (effective-medium theory, Jacobsen et al.) is the reference physics here: nobody in this
project wrote it, it is fast, and it gives consistent energies, forces and stresses for fcc
metals and their alloys (Al, Ni, Cu, Pd, Ag, Pt, Au). The file serves every model family:
  - potentials: energy, forces and stress of relaxed, strained and MD-sampled alloy cells;
  - property models: formation_energy (eV/atom) of the relaxed alloys against the relaxed
    elemental fcc references, and a class label is_stable (formation energy < 0). Only relaxed
    structures carry these labels (a formation energy of a thermal snapshot means little), so
    the file also exercises missing labels;
  - honest evaluation: tags (id, config_type, prototype) and a timestamp to split by.
The timestamps are synthetic (one 'campaign' per month, in generation order) and say so in
the dataset's config_type; they exist so time-split code has something to split.

Run with Debian's interpreter:  /usr/bin/python3 scripts/generate_example_data.py OUT.extxyz
"""
import argparse
import datetime

import numpy as np
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import ExpCellFilter
from ase.io import write
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.optimize import BFGS

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


def relax(atoms):
    """Positions and cell relaxed with EMT (BFGS on the cell filter)."""
    atoms.calc = EMT()
    BFGS(ExpCellFilter(atoms), logfile=None).run(fmax=0.02, steps=300)
    return atoms


def md_snapshot(atoms, rng, temperature):
    """A configuration after a short Langevin run at `temperature` (K)."""
    atoms.calc = EMT()
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    dyn = Langevin(atoms, 2.0 * units.fs, temperature_K=temperature, friction=0.05, rng=rng)
    dyn.run(int(rng.integers(40, 120)))
    del atoms.arrays["momenta"]  # a snapshot's velocities are not a label
    return atoms


def label(atoms, refs, index, config_type, prototype, when, with_formation):
    atoms.calc = EMT()
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    stress = atoms.get_stress(voigt=True)
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces, stress=stress)
    if with_formation:
        formation = (energy - sum(refs[s] for s in atoms.get_chemical_symbols())) / len(atoms)
        atoms.info["formation_energy"] = formation
        atoms.info["is_stable"] = int(formation < 0.0)
    atoms.info["id"] = f"emt-{index:04d}"
    atoms.info["config_type"] = config_type
    atoms.info["prototype"] = prototype
    atoms.info["timestamp"] = int(when.timestamp())
    return atoms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--structures", type=int, default=360)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    refs = reference_energies()
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    frames = []
    for i in range(args.structures):
        kind = i % 6
        if kind in (0, 1, 2):  # relaxed alloys: property-model data
            atoms = relax(random_alloy(rng, rng.integers(1, 4), (2, 2, 1), 0.0, 0.05))
            config_type, prototype = "alloy_relaxed", "fcc"
        elif kind == 3:  # strained cells: stress data
            atoms = random_alloy(rng, rng.integers(1, 3), (2, 2, 1), 0.04, 0.03)
            config_type, prototype = "alloy_strained", "fcc"
        elif kind == 4:  # thermal configurations from MD: force data
            atoms = md_snapshot(random_alloy(rng, rng.integers(2, 4), (2, 2, 1), 0.01, 0.0), rng,
                                float(rng.uniform(300, 1500)))
            config_type, prototype = "alloy_md", "fcc"
        else:            # small cells, a different prototype (for prototype splits)
            atoms = random_alloy(rng, 2, (1, 1, 2), 0.03, 0.05)
            config_type, prototype = "alloy_small", "fcc_L1x"
        when = start + datetime.timedelta(days=30 * (i * 12 // args.structures))
        frames.append(label(atoms, refs, i, config_type, prototype, when, config_type == "alloy_relaxed"))
    write(args.output, frames, format="extxyz")
    print(f"wrote {len(frames)} structures ({sum(len(f) for f in frames)} atoms) to {args.output}")


if __name__ == "__main__":
    main()
