#!/usr/bin/env python3
"""NVE molecular dynamics of fcc copper with a matnn potential through ASE.

Usage: ase_md.py MODEL STRUCTURE_OUT [STEPS]

Builds a 32-atom fcc copper cell (EMT's lattice constant, small rattle), gives it 300 K velocities,
runs velocity-Verlet NVE steps of 1 fs with matnn's ASE calculator, and prints the energies and
the total-energy drift. It also writes the starting structure in the plain format of the Fortran
example (examples/fortran/md_example.f90), so the main job can show both hosts computing the
same energy. Run with Debian's /usr/bin/python3 and PYTHONPATH=python.
"""
import sys

import numpy as np
from ase import units
from ase.build import bulk
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

from matnn.calculator import MatnnCalculator


def write_fortran_structure(atoms, path):
    with open(path, "w") as f:
        f.write(f"{len(atoms)}\n")
        for vector in atoms.cell:
            f.write(" ".join(repr(float(x)) for x in vector) + "\n")
        for z, position in zip(atoms.numbers, atoms.positions):
            f.write(f"{z} " + " ".join(repr(float(x)) for x in position) + "\n")


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    model, structure_out = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) == 4 else 200
    atoms = bulk("Cu", "fcc", a=3.59, cubic=True).repeat((2, 2, 2))
    atoms.rattle(stdev=0.02, seed=4)
    write_fortran_structure(atoms, structure_out)

    atoms.calc = MatnnCalculator(model, precision="float64")
    print(f"ASE: energy {atoms.get_potential_energy():.12f} eV of the starting cell "
          f"(sigma {atoms.calc.get_property('energy_sigma'):.4f} eV)")
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(5))
    Stationary(atoms)
    dyn = VelocityVerlet(atoms, 1.0 * units.fs)
    totals = []

    def report():
        epot = atoms.get_potential_energy() / len(atoms)
        ekin = atoms.get_kinetic_energy() / len(atoms)
        totals.append(epot + ekin)
        if len(totals) % 10 == 1:
            print(f"ASE NVE step {dyn.nsteps:4d}  Epot {epot:.6f}  Ekin {ekin:.6f}  Etot {epot + ekin:.6f} eV/atom  "
                  f"T {ekin / (1.5 * units.kB):.0f} K")

    dyn.attach(report, interval=5)
    dyn.run(steps)
    drift = 1000 * (totals[-1] - totals[0])
    spread = 1000 * (max(totals) - min(totals))
    print(f"ASE NVE: {steps} steps of 1 fs, total energy drift {drift:.4f} meV/atom, spread {spread:.4f} meV/atom")
    return 0


if __name__ == "__main__":
    sys.exit(main())
