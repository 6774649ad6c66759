#!/usr/bin/env python3
"""Generates a formation-energy dataset with polymorphs for structure-based property models.

The data are for crystal-graph models (CGCNN) and for honest, grouped splits. Many reduced
formulas occur in more than one structure (fcc/bcc/hcp/sc elements, L1_0/B2/B1 for AB,
L1_2/D0_3 for A3B, and ordered against random solid solutions), so a model that sees only the
composition cannot tell these polymorphs apart, while a model that sees the structure can.

Labels come from ASE's EMT calculator (effective-medium theory, Jacobsen, Stoltze and Norskov,
Surf. Sci. 366, 394 (1996)), which nobody in this project wrote, for its seven metals Al, Ni,
Cu, Pd, Ag, Pt and Au.

What is in the file:
  - Ordered prototypes, every element choice: unaries fcc, bcc, hcp (ideal c/a to start) and
    sc; binaries L1_2 (A3B, Cu3Au type) and D0_3 (A3B, Fe3Al type), both A3B and AB3, and
    L1_0 (AB, CuAu type), B2 (CsCl type) and B1 (NaCl type). Each is built from its space
    group and Wyckoff positions (ase.spacegroup.crystal; ase.build.bulk for the unaries) and
    relaxed in cell shape, volume and free coordinates with the symmetry kept (FixSymmetry).
  - Random solid solutions (2 or 3 species) on fcc (16 and 32 atoms) and bcc (8 and 16 atoms)
    supercells of the conventional cell, relaxed in positions and cell; the bcc ones keep their
    cubic cell shape (volume only), as bcc slides down the Bain path to fcc otherwise.
    Decorations that repeat with a smaller period (ordered structures) or that are symmetry
    images of one drawn before are redrawn, so no crystal occurs twice; a relaxation that does
    not converge or leaves its lattice (an atom more than 0.5 A from its site, or no clear
    first neighbour shell) is replaced by the next planned decoration.
  - config_type 'relaxed' (BFGS on ExpCellFilter) and 'strained': half of the relaxed
    structures, chosen at random, also appear with a random symmetric strain (each component
    uniform in +-3 %) and a 0.02 A Gaussian rattle, not relaxed.
  - About half of all structures are rigidly rotated (cell and positions together) by a random
    rotation before they are labelled, so a model must be rotation invariant.

Labels: energy, forces, stress (ASE's extxyz), formation_energy (eV/atom) = E/N - sum_i x_i mu_i
with mu_i the EMT energy per atom of the relaxed elemental fcc crystal, rounded to 1e-8 eV, and
is_stable = 1 if formation_energy < 0 else 0, on every structure.
Tags: id (emtp-0000 ...), prototype, config_type, chemical_system (sorted symbols joined by '-')
and a synthetic timestamp (unix seconds, strictly increasing in generation order, spread evenly
over 2024). The generation order is a seeded shuffle of the relaxed structures, each followed by
its strained copy if it has one, so a time split is close to a random split that keeps a
strained copy next to its parent.

Every structure is computed from its own seed (the base seed and its index in a fixed list), so
the file does not depend on the number of worker processes (--jobs).

Run with Debian's interpreter:
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/generate_property_data.py OUT.extxyz
"""
import os

# One BLAS thread per worker process: the arrays are tiny and the workers already use the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import itertools  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import spglib  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.calculators.singlepoint import SinglePointCalculator  # noqa: E402
from ase.constraints import ExpCellFilter  # noqa: E402
from ase.io import write  # noqa: E402
from ase.neighborlist import neighbor_list  # noqa: E402
from ase.optimize import BFGS  # noqa: E402
from ase.spacegroup import crystal  # noqa: E402
from ase.spacegroup.symmetrize import FixSymmetry  # noqa: E402

ELEMENTS = ["Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au"]
# fcc lattice constants (Angstrom) near EMT's own; they only set the starting volumes.
LATTICE = {"Al": 4.05, "Ni": 3.52, "Cu": 3.61, "Pd": 3.89, "Ag": 4.09, "Pt": 3.92, "Au": 4.08}
VOLUME = {el: a ** 3 / 4.0 for el, a in LATTICE.items()}  # atomic volume (A^3) in fcc

FMAX_ORDERED = 0.01    # eV/A (and eV/A-equivalent stress) for the symmetric prototypes
FMAX_RANDOM = 0.02     # eV/A for the random solid solutions
STEPS_ORDERED = 300
STEPS_RANDOM = 250
STRAIN = 0.03          # each strain component uniform in +-STRAIN
RATTLE = 0.02          # Gaussian rattle (A) of the strained structures
ROTATE_FRACTION = 0.5

ORDERED_UNARY = ["fcc", "bcc", "hcp", "sc"]
SPACE_GROUP = {"fcc": 225, "bcc": 229, "hcp": 194, "sc": 221, "L1_2": 221, "D0_3": 225,
               "L1_0": 123, "B2": 221, "B1": 225}
RANDOM_CELLS = {  # prototype tag -> (lattice, repeats of the conventional cell, their odds)
    "fcc_random": ("fcc", [(2, 2, 1), (2, 2, 2)], [0.8, 0.2]),    # 16 and 32 atoms
    "bcc_random": ("bcc", [(2, 2, 1), (2, 2, 2)], [0.6, 0.4]),    # 8 and 16 atoms
}
CANDIDATES = 4         # decorations planned per random structure (the first accepted is used)
MAX_DISPLACEMENT = 0.5  # A: a relaxed random structure whose atom moved further is rejected
MAX_SHELL_RATIO = 0.95  # d_k/d_(k+1) at the first-shell edge (fcc k=12, bcc k=14): ideal 0.707


# --------------------------------------------------------------------------- structures

def scale_to_vegard(atoms):
    """Scales the cell so that the volume per atom is the mean of the elements' fcc volumes."""
    target = sum(VOLUME[s] for s in atoms.get_chemical_symbols())
    atoms.set_cell(atoms.cell * (target / atoms.get_volume()) ** (1.0 / 3.0), scale_atoms=True)
    return atoms


def build_ordered(prototype, species):
    """The ideal prototype for `species` (one element, or (A, B) with A the majority one)."""
    if prototype in ORDERED_UNARY:
        (el,) = species
        atoms = bulk(el, prototype, a=1.0) if prototype != "hcp" else \
            bulk(el, "hcp", a=1.0, covera=np.sqrt(8.0 / 3.0))
        return scale_to_vegard(atoms)
    a, b = species
    cubic = [1.0, 1.0, 1.0, 90, 90, 90]
    if prototype == "L1_2":    # Pm-3m: B at 1a (0,0,0), A at 3c (0,1/2,1/2)  -> A3B
        atoms = crystal([b, a], basis=[(0, 0, 0), (0, 0.5, 0.5)], spacegroup=221, cellpar=cubic)
    elif prototype == "L1_0":  # P4/mmm: A at 1a, B at 1d (1/2,1/2,1/2); c/a = sqrt(2) is fcc
        atoms = crystal([a, b], basis=[(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=123,
                        cellpar=[1.0, 1.0, np.sqrt(2.0), 90, 90, 90])
    elif prototype == "B2":    # Pm-3m: A at 1a, B at 1b (1/2,1/2,1/2)
        atoms = crystal([a, b], basis=[(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=221, cellpar=cubic)
    elif prototype == "B1":    # Fm-3m: A at 4a, B at 4b (1/2,1/2,1/2); primitive cell
        atoms = crystal([a, b], basis=[(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=225,
                        cellpar=cubic, primitive_cell=True)
    elif prototype == "D0_3":  # Fm-3m: B at 4a, A at 4b and 8c (1/4,1/4,1/4) -> A3B; primitive
        atoms = crystal([b, a, a], basis=[(0, 0, 0), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)],
                        spacegroup=225, cellpar=cubic, primitive_cell=True)
    else:
        raise ValueError(f"unknown prototype {prototype}")
    # crystal() leaves its space group in info and arrays; the prototype tag says it all.
    atoms.info.clear()
    del atoms.arrays["spacegroup_kinds"]
    atoms.pbc = True
    return scale_to_vegard(atoms)


def ordered_jobs():
    """Every element choice of every ordered prototype, in a fixed order."""
    jobs = []
    for proto in ORDERED_UNARY:
        jobs += [(proto, (el,)) for el in ELEMENTS]
    pairs = list(itertools.combinations(ELEMENTS, 2))
    ordered_pairs = list(itertools.permutations(ELEMENTS, 2))
    jobs += [("L1_2", p) for p in ordered_pairs]   # A3B and AB3
    jobs += [("D0_3", p) for p in ordered_pairs]
    jobs += [("L1_0", p) for p in pairs]           # AB: A and B are equivalent
    jobs += [("B2", p) for p in pairs]
    jobs += [("B1", p) for p in pairs]
    return jobs


def ideal_supercell(prototype, repeat):
    lattice = RANDOM_CELLS[prototype][0]
    return bulk("Cu", lattice, a=1.0, cubic=True).repeat(repeat)


def site_permutations(prototype, repeat):
    """The supercell's symmetry operations as permutations of its sites (rows), and which of
    them are pure translations that are not lattice vectors of the supercell."""
    cell = ideal_supercell(prototype, repeat)
    frac = cell.get_scaled_positions()
    sym = spglib.get_symmetry((cell.cell[:], frac, cell.numbers), symprec=1e-5)
    perms, pure = [], []
    for rot, trans in zip(sym["rotations"], sym["translations"]):
        image = frac @ rot.T + trans
        diff = image[:, None, :] - frac[None, :, :]
        diff -= np.round(diff)
        match = np.linalg.norm(diff, axis=2) < 1e-6
        assert (match.sum(axis=1) == 1).all()
        perms.append(match.argmax(axis=1))
        pure.append(bool((rot == np.eye(3, dtype=int)).all() and
                         np.abs(trans - np.round(trans)).max() > 1e-6))
    return np.array(perms), np.array(pure)


def draw_decoration(prototype, rng):
    """A random occupation of an fcc or bcc supercell by 2 (80 %) or 3 species."""
    repeats, odds = RANDOM_CELLS[prototype][1:]
    repeat = repeats[rng.choice(len(repeats), p=odds)]
    n = len(ideal_supercell(prototype, repeat))
    n_species = 2 if rng.random() < 0.8 else 3
    species = list(rng.choice(ELEMENTS, size=n_species, replace=False))
    if n_species == 2:
        # 40 %: the compositions of the ordered prototypes (1/4, 1/2, 3/4), for polymorphs.
        if rng.random() < 0.4:
            n_first = n * int(rng.choice([1, 2, 3])) // 4
        else:
            n_first = int(rng.integers(1, n))
        counts = [n_first, n - n_first]
    else:
        counts = [1, 1, 1] + list(rng.multinomial(n - 3, rng.dirichlet(np.ones(3))))
        counts = [counts[i] + counts[i + 3] for i in range(3)]
    symbols = [s for s, c in zip(species, counts) for _ in range(c)]
    return tuple(repeat), tuple(str(s) for s in rng.permutation(symbols))


def plan_random(n_random, rng):
    """CANDIDATES distinct decorations for each random structure, fcc and bcc in turn.

    A decoration is rejected when it repeats with a smaller period than its supercell (it is
    then an ordered structure, e.g. L1_2, L1_0, B2 or D0_3 themselves) or when it is a symmetry
    image (rotation, reflection, translation of the supercell) of one drawn before, so that no
    two structures of the file are the same crystal. Returns the candidates and counts of the
    rejections."""
    perms = {}
    seen = set()
    rejected = {"smaller period": 0, "duplicate": 0}
    plans = []
    for i in range(n_random):
        prototype = "fcc_random" if i % 2 == 0 else "bcc_random"
        candidates = []
        while len(candidates) < CANDIDATES:
            repeat, symbols = draw_decoration(prototype, rng)
            if (prototype, repeat) not in perms:
                perms[(prototype, repeat)] = site_permutations(prototype, repeat)
            perm, pure = perms[(prototype, repeat)]
            codes = np.array([ELEMENTS.index(s) for s in symbols], dtype=np.uint8)
            images = codes[perm]
            if (images[pure] == codes).all(axis=1).any():
                rejected["smaller period"] += 1
                continue
            key = (prototype, repeat, min(row.tobytes() for row in images))
            if key in seen:
                rejected["duplicate"] += 1
                continue
            seen.add(key)
            candidates.append((repeat, symbols))
        plans.append((prototype, candidates))
    return plans, rejected


def build_random(prototype, repeat, symbols):
    atoms = ideal_supercell(prototype, repeat)
    atoms.set_chemical_symbols(list(symbols))
    return scale_to_vegard(atoms)


def still_on_lattice(prototype, start, atoms):
    """Whether a relaxed random structure is still its lattice: no atom moved more than
    MAX_DISPLACEMENT from its site (after the homogeneous strain of the cell and a common
    shift), and every atom has a clear first shell (12 for fcc, 14 = 8 + 6 for bcc)."""
    d = atoms.get_scaled_positions(wrap=False) - start.get_scaled_positions(wrap=False)
    d -= np.round(d)
    d -= d.mean(axis=0)
    displacement = np.linalg.norm(d @ atoms.cell[:], axis=1).max()
    k = 12 if prototype == "fcc_random" else 14
    first, dist = neighbor_list("id", atoms, 2.2 * max(LATTICE.values()) / np.sqrt(2.0))
    ratio = max(np.sort(dist[first == j])[k - 1] / np.sort(dist[first == j])[k]
                for j in range(len(atoms)))
    return displacement < MAX_DISPLACEMENT and ratio < MAX_SHELL_RATIO, displacement, ratio


# --------------------------------------------------------------------------- physics

def relax(atoms, keep_symmetry, fmax, steps, keep_shape=False):
    """Cell and positions relaxed with EMT by BFGS on an ExpCellFilter.

    With keep_symmetry the space group of the start is imposed on forces and stress
    (FixSymmetry), so an ordered prototype stays that prototype even where it is unstable
    (bcc, sc). With keep_shape only the volume of the cell relaxes (and the positions): a
    random bcc alloy relaxed in cell shape slides down the Bain path to fcc (c/a -> sqrt(2)),
    as bcc is unstable to that strain for EMT's metals. Returns the number of steps taken and
    whether fmax was reached."""
    atoms.calc = EMT()
    if keep_symmetry:
        atoms.set_constraint(FixSymmetry(atoms, symprec=1e-4))
    opt = BFGS(ExpCellFilter(atoms, hydrostatic_strain=keep_shape), logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    n_steps = opt.get_number_of_steps()
    atoms.set_constraint()
    return n_steps, converged


def strain_and_rattle(atoms, rng):
    eps = rng.uniform(-STRAIN, STRAIN, size=(3, 3))
    eps = 0.5 * (eps + eps.T)
    out = atoms.copy()
    out.set_cell(out.cell @ (np.eye(3) + eps), scale_atoms=True)
    out.positions += rng.normal(0.0, RATTLE, size=out.positions.shape)
    return out


def random_rotation(rng):
    """A rotation matrix uniform on SO(3) (from a normalised Gaussian quaternion)."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def labelled(atoms, rng):
    """A copy rotated with probability ROTATE_FRACTION, with EMT energy, forces and stress."""
    atoms = atoms.copy()
    atoms.pbc = True
    rotated = bool(rng.random() < ROTATE_FRACTION)
    if rotated:
        rot = random_rotation(rng)
        atoms.set_cell(atoms.cell[:] @ rot.T, scale_atoms=False)
        atoms.positions = atoms.positions @ rot.T
    # The geometry rounded to the 8 decimals that the file keeps, so the labels are those of
    # the structure as written (and the Lattice strings are short). "+ 0.0" turns -0.0 into 0.0.
    atoms.set_cell(np.round(atoms.cell[:], 8) + 0.0, scale_atoms=False)
    atoms.positions = np.round(atoms.positions, 8) + 0.0
    atoms.calc = EMT()
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    stress = atoms.get_stress(voigt=True)
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces, stress=stress)
    return atoms, rotated


def run_job(job):
    """One relaxed structure and, if asked, its strained copy. Runs in a worker process.

    A random structure is the first of its candidate decorations whose relaxation converges
    and stays on its lattice (still_on_lattice); the rejected ones are reported."""
    seed, kind, spec, with_strained = job
    rng = np.random.default_rng(seed)
    rejected = []
    if kind == "ordered":
        prototype, species = spec
        atoms = build_ordered(prototype, species)
        n_steps, converged = relax(atoms, True, FMAX_ORDERED, STEPS_ORDERED)
        if not converged:
            raise RuntimeError(f"{prototype} {species} did not converge in {n_steps} steps")
        # FixSymmetry keeps the space group; check it (ASE warns of large cell steps for hcp Al).
        number = spglib.get_symmetry_dataset(
            (atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers), symprec=1e-3)["number"]
        if number != SPACE_GROUP[prototype]:
            raise RuntimeError(f"relaxed {prototype} {species} has space group {number}, "
                               f"not {SPACE_GROUP[prototype]}")
    else:
        prototype, candidates = spec
        for repeat, symbols in candidates:
            start = build_random(prototype, repeat, symbols)
            atoms = start.copy()
            n_steps, converged = relax(atoms, False, FMAX_RANDOM, STEPS_RANDOM,
                                       keep_shape=prototype == "bcc_random")
            ok, displacement, ratio = still_on_lattice(prototype, start, atoms)
            if converged and ok:
                break
            rejected.append(f"{prototype} {atoms.get_chemical_formula()}: "
                            f"{'converged' if converged else 'not converged'} in {n_steps} "
                            f"steps, largest displacement {displacement:.2f} A, "
                            f"shell ratio {ratio:.3f}")
        else:
            raise RuntimeError(f"no candidate of a {prototype} structure was accepted: "
                               f"{rejected}")
    frames = [(labelled(atoms, rng), prototype, "relaxed")]
    if with_strained:
        frames.append((labelled(strain_and_rattle(atoms, rng), rng), prototype, "strained"))
    return frames, n_steps, rejected


def reference_energies():
    """mu_el: EMT energy per atom of the elemental fcc crystal, relaxed tightly."""
    refs = {}
    for el in ELEMENTS:
        atoms = build_ordered("fcc", (el,))
        _, converged = relax(atoms, True, 1e-6, 1000)
        if not converged:
            raise RuntimeError(f"the fcc reference of {el} did not converge")
        atoms.calc = EMT()
        refs[el] = atoms.get_potential_energy() / len(atoms)
    return refs


# --------------------------------------------------------------------------- driver

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example: OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 "
               "scripts/generate_property_data.py examples/data/emt_prototypes.extxyz")
    parser.add_argument("output", help="extended XYZ file to write (.xyz or .extxyz)")
    parser.add_argument("--random", type=int, default=850,
                        help="number of relaxed random solid solutions, split evenly between "
                             "fcc_random and bcc_random (default 850)")
    parser.add_argument("--seed", type=int, default=20250117, help="base seed (default 20250117)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default: 2, or 1 on one core); "
                             "the output does not depend on it")
    args = parser.parse_args(argv)

    out = os.path.abspath(args.output)
    if os.path.realpath(out) == os.path.realpath(os.path.abspath(__file__)):
        parser.error(f"refusing to overwrite this script ({args.output!r})")
    if os.path.isdir(out):
        parser.error(f"output {args.output!r} is a directory; give a file name such as "
                     f"{os.path.join(args.output, 'emt_prototypes.extxyz')!r}")
    if not out.endswith((".xyz", ".extxyz")):
        parser.error(f"output {args.output!r} must end in .xyz or .extxyz (extended XYZ is "
                     f"what is written)")
    if not os.path.isdir(os.path.dirname(out)):
        parser.error(f"the folder of {args.output!r} ({os.path.dirname(out)}) does not exist")
    if args.random < 0:
        parser.error(f"--random must be 0 or more, not {args.random}")
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, not {args.jobs}")
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, not {args.seed}")
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    refs = reference_energies()

    # The list of relaxed structures: a fixed order, then a seeded shuffle (generation order).
    specs = [("ordered", spec) for spec in ordered_jobs()]
    random_plans, random_rejected = plan_random(args.random, np.random.default_rng([args.seed, 2]))
    specs += [("random", plan) for plan in random_plans]
    plan_rng = np.random.default_rng([args.seed, 0])
    order = plan_rng.permutation(len(specs))
    with_strained = np.zeros(len(specs), dtype=bool)
    with_strained[plan_rng.choice(len(specs), size=len(specs) // 2, replace=False)] = True
    jobs = [(np.random.SeedSequence([args.seed, 1, int(k)]), specs[k][0], specs[k][1],
             bool(with_strained[k])) for k in order]

    results = []
    with multiprocessing.Pool(args.jobs) as pool:
        for i, result in enumerate(pool.imap(run_job, jobs, chunksize=1)):
            results.append(result)
            if (i + 1) % 100 == 0 or i + 1 == len(jobs):
                print(f"  {i + 1}/{len(jobs)} relaxed ({time.time() - t0:.0f} s)", flush=True)

    frames = [f for frs, _, _ in results for f in frs]
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
    end = datetime.datetime(2024, 12, 31, 12, tzinfo=datetime.timezone.utc).timestamp()
    out_frames = []
    n_rotated = 0
    for i, ((atoms, rotated), prototype, config_type) in enumerate(frames):
        symbols = atoms.get_chemical_symbols()
        energy = atoms.get_potential_energy()
        formation = round(energy / len(atoms) - sum(refs[s] for s in symbols) / len(atoms), 8)
        formation += 0.0  # no -0.0
        atoms.info["id"] = f"emtp-{i:04d}"
        atoms.info["prototype"] = prototype
        atoms.info["config_type"] = config_type
        atoms.info["chemical_system"] = "-".join(sorted(set(symbols)))
        atoms.info["formation_energy"] = formation
        atoms.info["is_stable"] = int(formation < 0.0)
        atoms.info["timestamp"] = int(start + (end - start) * i / len(frames))
        n_rotated += rotated
        out_frames.append(atoms)

    out = os.path.abspath(args.output)
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.tmp{os.getpid()}")
    try:
        write(tmp, out_frames, format="extxyz")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)

    steps = np.array([r[1] for r in results])
    rejected = [line for r in results for line in r[2]]
    print("references mu (eV/atom): " + ", ".join(f"{el} {refs[el]:.6f}" for el in ELEMENTS))
    print(f"random decorations drawn and not planned: {random_rejected}")
    print(f"relaxations kept: {len(results)}, steps median {int(np.median(steps))}, "
          f"max {steps.max()}; random candidates rejected after relaxing: {len(rejected)}")
    for line in rejected:
        print(f"  rejected {line}")
    print(f"rotated: {n_rotated} of {len(out_frames)}")
    print(f"wrote {len(out_frames)} structures ({sum(len(a) for a in out_frames)} atoms) to "
          f"{args.output} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
