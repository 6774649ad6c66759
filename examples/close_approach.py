#!/usr/bin/env python3
"""How a potential behaves below the shortest distance of its training data, against its reference.

Usage:
  close_approach.py MODEL --reference SPEC --lattice fcc|diamond --element X --a0 A
                    [--supercell N] [--distances D1,D2,...] [--json OUT.json]

A network knows nothing about pairs closer than its data brought them, and hot MD visits them.
This moves atom 0 of the perfect cubic supercell bulk(X, lattice, a=A, cubic=True).repeat(N)
straight towards its nearest neighbour, so that the pair is D apart, for each D of
--distances (default: from 0.9 to 0.6 times the nearest-neighbour distance), and prints for the
model and the reference (emt, or KIND:FILE as in `python -m matnn.validate`) the energy of the
cell relative to the perfect lattice and the force on the moved atom along the approach
(negative: pushed back, as a repulsive core does).

Exit status: 0 when the model's force pushes the atom back at every distance at which the
reference's does; 1 when at some distance it pulls the atom in instead (a spurious well: hot MD
can fall into it); 2 for bad usage (missing or unreadable model, unknown element, bad option).
Run with Debian's /usr/bin/python3 and PYTHONPATH=python, e.g.

  PYTHONPATH=python MATNN_LIBRARY=build/capi/libmatnn.so /usr/bin/python3 examples/close_approach.py \\
    out/cu_nequip.model.h5 --reference eam:/usr/share/lammps/potentials/Cu_mishin1.eam.alloy \\
    --lattice fcc --element Cu --a0 3.615
"""
import math
import sys

import numpy as np
from ase.build import bulk
from ase.data import atomic_numbers

from matnn._cli import UsageError, UsageParser, check_output
from matnn.errors import MatnnError
from matnn.validate import model_calculator, reference_calculator, write_json

LATTICES = ("fcc", "diamond")


def nearest_neighbour(atoms):
    """Index of atom 0's nearest neighbour and the vector to it (minimum image)."""
    d = atoms.get_distances(0, range(1, len(atoms)), mic=True, vector=True)
    k = int(np.argmin(np.linalg.norm(d, axis=1)))
    return k + 1, d[k]


def scan(calc, perfect, distances):
    """Energy (eV, relative to the perfect cell) and force along the approach (eV/A) at each
    distance."""
    atoms = perfect.copy()
    atoms.calc = calc
    e0 = atoms.get_potential_energy()
    _, to_neighbour = nearest_neighbour(perfect)
    d0 = np.linalg.norm(to_neighbour)
    unit = to_neighbour / d0
    rows = []
    for d in distances:
        atoms.positions = perfect.positions
        atoms.positions[0] += unit * (d0 - d)
        energy = atoms.get_potential_energy() - e0
        force = float(atoms.get_forces()[0] @ unit)
        rows.append({"distance": d, "energy": energy, "force": force})
    return rows


def spurious_wells(model_rows, reference_rows):
    """The distances at which the reference pushes the atom back and the model pulls it in."""
    return [m["distance"] for m, r in zip(model_rows, reference_rows) if r["force"] < 0 <= m["force"]]


def _parser():
    p = UsageParser(prog="close_approach.py", description=__doc__.split("\n")[0])
    p.add_argument("model", help="matnn potential file (or a reference SPEC, to check the script)")
    p.add_argument("--reference", required=True, metavar="SPEC", help="emt or KIND:FILE, as in matnn.validate")
    p.add_argument("--lattice", required=True, choices=LATTICES)
    p.add_argument("--element", required=True)
    p.add_argument("--a0", type=float, required=True, help="cubic lattice constant (A)")
    p.add_argument("--supercell", type=int, default=3, help="repeats of the cubic cell (default 3)")
    p.add_argument("--distances", help="comma-separated pair distances, A (default: 0.9 to 0.6 times "
                   "the nearest-neighbour distance in 7 steps)")
    p.add_argument("--json", metavar="OUT.json", help="write the scan here (atomically)")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if not (math.isfinite(args.a0) and args.a0 > 0) or args.supercell < 1:
            raise UsageError("--a0 and --supercell must be positive")
        if args.element not in atomic_numbers:
            raise UsageError(f"unknown element {args.element!r}")
        perfect = bulk(args.element, args.lattice, a=args.a0, cubic=True).repeat(args.supercell)
        _, to_neighbour = nearest_neighbour(perfect)
        d0 = float(np.linalg.norm(to_neighbour))
        if args.distances:
            try:
                distances = [float(x) for x in args.distances.split(",")]
            except ValueError:
                raise UsageError(f"--distances must be numbers separated by commas, got {args.distances!r}")
            if not all(math.isfinite(d) and 0 < d < d0 for d in distances):
                raise UsageError(f"--distances must lie in (0, {d0:.4f}) A, the nearest-neighbour distance")
        else:
            distances = [round(d0 * f, 4) for f in np.linspace(0.9, 0.6, 7)]
        if args.json:
            check_output(args.json, "--json", [args.model, args.reference.partition(":")[2]])
        model = model_calculator(args.model, args.element)
        reference = reference_calculator(args.reference, args.element)
    except UsageError as e:
        print(f"close_approach: error: {e}", file=sys.stderr)
        return 2

    try:
        model_rows = scan(model, perfect, distances)
    except MatnnError as e:
        print(f"close_approach: error: the model failed: {e}", file=sys.stderr)
        return 2
    reference_rows = scan(reference, perfect, distances)
    print(f"close_approach {args.model} against {args.reference}: {len(perfect)} atoms of {args.lattice} "
          f"{args.element}, nearest neighbours {d0:.4f} A apart")
    print(f"{'distance':>9} {'E model':>10} {'E ref':>10} {'F model':>10} {'F ref':>10}")
    print(f"{'A':>9} {'eV':>10} {'eV':>10} {'eV/A':>10} {'eV/A':>10}")
    wells = spurious_wells(model_rows, reference_rows)
    for m, r in zip(model_rows, reference_rows):
        flag = "  pulled in" if m["distance"] in wells else ""
        print(f"{m['distance']:9.4f} {m['energy']:10.4f} {r['energy']:10.4f} {m['force']:10.3f} {r['force']:10.3f}{flag}")
    if wells:
        print("verdict: SPURIOUS WELL: the model pulls the atom in at " + ", ".join(f"{d:g}" for d in wells) +
              " A, where the reference pushes it back")
    else:
        print("verdict: repulsive wherever the reference is")
    if args.json:
        write_json({"model_source": args.model, "reference": args.reference, "lattice": args.lattice,
                    "element": args.element, "a0": args.a0, "supercell": args.supercell,
                    "nearest_neighbour": d0, "model": model_rows, "reference_scan": reference_rows,
                    "spurious_well_at": wells}, args.json)
    return 1 if wells else 0


if __name__ == "__main__":
    sys.exit(main())
