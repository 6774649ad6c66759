#!/usr/bin/env python3
"""Generates matnn's reference datasets for training and testing interatomic potentials.

No reference data can be downloaded, so the labels come from physics that nobody in this project
wrote and that gives exactly consistent energies, forces and stresses:

  cu  copper with ASE's EMT calculator (effective-medium theory; Jacobsen, Stoltze and Norskov,
      Surf. Sci. 366, 394 (1996)). Cubic fcc 2x2x2 supercells (32 atoms) at EMT's own lattice
      constant: Langevin MD at 300, 600, 900 and 1200 K (config_type bulk_md), randomly strained
      and slightly rattled cells (bulk_strained, the stress data), a 31-atom vacancy cell at
      600 K (vacancy_md), and (111) and (100) slabs with pbc=(T, T, F) and vacuum along z at 300
      and 600 K (slab_md, the partly periodic data; no stress, see below).
  si  silicon with the Tersoff potential in LAMMPS's Si.tersoff, which holds Tersoff's "Si(B)"
      parameters (J. Tersoff, Phys. Rev. B 37, 6991 (1988), as the file's header says; not the
      later Si(C) of Phys. Rev. B 38, 9902 (1988)), evaluated by LAMMPS through ASE's LAMMPSlib. Diamond-cubic 2x2x2 supercells
      (64 atoms, a = 5.431 A): Langevin MD at 300, 800, 1200 and 1600 K (bulk_md), strained and
      rattled cells (bulk_strained), and 63-atom vacancy cells at 800 and 1200 K (vacancy_md).

Why these pieces: MD snapshots at several temperatures give forces over a growing range of
distortions; the strained cells (random symmetric strain up to +-3 %, non-orthogonal cells)
give stresses well away from zero; vacancies and surfaces give atoms with other coordination,
which a potential must not only interpolate in bulk. MD snapshots are taken after an
equilibration of 500 fs and then every 75 fs (cu: 15 steps of 5 fs; ASE's EMT is slow, about
30 ms a step) or 100 fs (si: 50 steps of 2 fs), i.e. more than one thermostat time constant
(50 fs) and about half to one phonon period apart, so consecutive snapshots are largely but not
perfectly decorrelated.

Every structure carries energy (eV), forces (eV/A) and, where the cell is periodic in all three
directions, stress (eV/A^3, ASE's sign convention: positive = tensile) through a
SinglePointCalculator, and info tags `id`, `config_type` and, for MD snapshots,
`temperature_K` (the thermostat's target). Slabs carry no stress: with a vacuum direction the
"stress" would be divided by a volume that depends on the arbitrary vacuum thickness.

Consistency is checked before writing (`--check`, default 2 structures per system): forces
against central finite differences of the energy, stress against ASE's numerical stress, and
the written file read back against the labels in memory. A failed check stops the run.

Runs are reproducible: every random choice derives from --seed.

Run with Debian's interpreter (it has ASE 3.22 and the LAMMPS Python module):
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/generate_potential_data.py cu examples/data/cu_emt_md.extxyz
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/generate_potential_data.py si examples/data/si_tersoff_md.extxyz
"""
import argparse
import time

import numpy as np
from ase import Atoms, units
from ase.build import bulk, fcc100, fcc111
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

SI_TERSOFF_FILE = "/usr/share/lammps/potentials/Si.tersoff"
SI_LATTICE = 5.431  # Angstrom; Si.tersoff's stress there is -0.012 GPa, i.e. about its minimum

# Tolerances of the consistency checks.
FORCE_TOLERANCE = 1e-4    # eV/A, force against the finite difference of the energy
STRESS_TOLERANCE = 1e-6   # eV/A^3 (0.16 MPa), stress against ASE's numerical stress
FILE_TOLERANCE = 1e-7     # eV/A or eV/A^3, written and read back against memory


# --------------------------------------------------------------------------- calculators

def emt_calculator():
    from ase.calculators.emt import EMT
    return EMT()


def tersoff_calculator():
    """LAMMPS's Tersoff Si through ASE 3.22's LAMMPSlib.

    keep_alive=True is needed: without it LAMMPSlib closes the LAMMPS instance after the first
    calculation but still believes it is running, and the next one fails. LAMMPSlib always builds
    a triclinic ('prism') box, rotates non-orthogonal cells into LAMMPS's lower-triangular form
    and rotates forces and stress back, so strained cells are fine (checked in --check by a rigid
    rotation of a strained cell). log_file=None keeps LAMMPS from writing log.lammps here.
    """
    from ase.calculators.lammpslib import LAMMPSlib
    return LAMMPSlib(lmpcmds=["pair_style tersoff", f"pair_coeff * * {SI_TERSOFF_FILE} Si"],
                     atom_types={"Si": 1}, keep_alive=True, log_file=None)


# --------------------------------------------------------------------------- building blocks

def bare(atoms):
    """A copy with only species, positions, cell and pbc (no momenta, no calculator)."""
    out = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    out.wrap()  # wraps only along periodic directions
    return out


def labelled(atoms, calc_factory, with_stress=True, calc=None):
    """A bare copy of `atoms` with energy, forces (and stress) from a fresh calculator."""
    out = bare(atoms)
    out.calc = calc if calc is not None else calc_factory()
    energy = out.get_potential_energy()
    forces = out.get_forces()
    stress = out.get_stress(voigt=True) if with_stress else None
    out.calc = SinglePointCalculator(out, energy=energy, forces=forces, stress=stress)
    return out


def symmetric_strain(atoms, rng, max_strain, rattle):
    """Applies a random symmetric strain (each component uniform in +-max_strain) and a rattle."""
    out = atoms.copy()
    eps = rng.uniform(-max_strain, max_strain, size=(3, 3))
    eps = 0.5 * (eps + eps.T)
    out.set_cell(out.cell @ (np.eye(3) + eps), scale_atoms=True)
    out.rattle(stdev=rattle, seed=int(rng.integers(1 << 31)))
    return out


def md_snapshots(atoms, calc_factory, rng, temperature, n_snapshots, dt_fs, interval, n_equil,
                 with_stress=True):
    """Langevin MD at `temperature` (K); returns labelled snapshots every `interval` steps after
    `n_equil` equilibration steps. The thermostat's friction is 0.02/fs (a 50 fs time constant):
    Langevin dynamics samples the canonical ensemble whatever the friction, and a strong one
    equilibrates quickly and decorrelates snapshots that are only a few time constants apart."""
    atoms = bare(atoms)
    calc = calc_factory()
    atoms.calc = calc
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    Stationary(atoms)
    dyn = Langevin(atoms, dt_fs * units.fs, temperature_K=temperature, friction=0.02 / units.fs,
                   rng=rng, logfile=None)
    dyn.run(n_equil)
    frames = []
    for _ in range(n_snapshots):
        dyn.run(interval)
        # A fresh calculator per label: the labels never depend on the MD calculator's state.
        frame = labelled(atoms, calc_factory, with_stress)
        frame.info["temperature_K"] = float(temperature)
        frames.append(frame)
    return frames


def emt_lattice_constant():
    """EMT's equilibrium fcc lattice constant of Cu (a scan, refined by a parabola)."""
    grid = np.linspace(3.50, 3.70, 41)
    energies = []
    for a in grid:
        atoms = bulk("Cu", "fcc", a=a, cubic=True)
        atoms.calc = emt_calculator()
        energies.append(atoms.get_potential_energy())
    i = int(np.argmin(energies))
    c = np.polyfit(grid[i - 2:i + 3], energies[i - 2:i + 3], 2)
    return -c[1] / (2 * c[0])


# --------------------------------------------------------------------------- the two systems

def make_cu(args, rng_for):
    a0 = emt_lattice_constant()
    print(f"cu: EMT equilibrium lattice constant {a0:.4f} A")
    cell = bulk("Cu", "fcc", a=a0, cubic=True).repeat(2)  # 32 atoms
    dt, interval, n_equil = 5.0, args.interval or 15, 100  # fs, steps, steps: 75 fs apart
    frames = []
    for k, temperature in enumerate((300, 600, 900, 1200)):
        for f in md_snapshots(cell, emt_calculator, rng_for("md", k), temperature,
                              args.md_per_temperature or 32, dt, interval, n_equil):
            f.info["config_type"] = "bulk_md"
            frames.append(f)
    rng = rng_for("strained", 0)
    for _ in range(args.strained if args.strained is not None else 40):
        f = labelled(symmetric_strain(cell, rng, 0.03, 0.03), emt_calculator)
        f.info["config_type"] = "bulk_strained"
        frames.append(f)
    vacancy = cell.copy()
    del vacancy[0]
    for f in md_snapshots(vacancy, emt_calculator, rng_for("vacancy", 0), 600,
                          args.vacancy if args.vacancy is not None else 24, dt, interval, n_equil):
        f.info["config_type"] = "vacancy_md"
        frames.append(f)
    n_slab = args.slab if args.slab is not None else 48
    slabs = [fcc111("Cu", size=(3, 3, 4), a=a0, vacuum=6.0),   # 36 atoms, hexagonal cell
             fcc100("Cu", size=(3, 3, 4), a=a0, vacuum=6.0)]   # 36 atoms, square cell
    runs = [(slab, t) for slab in slabs for t in (300, 600)]
    for k, (slab, temperature) in enumerate(runs):
        count = n_slab // len(runs) + (1 if k < n_slab % len(runs) else 0)
        for f in md_snapshots(slab, emt_calculator, rng_for("slab", k), temperature, count, dt,
                              interval, n_equil, with_stress=False):
            f.info["config_type"] = "slab_md"
            frames.append(f)
    return frames, emt_calculator


def make_si(args, rng_for):
    cell = bulk("Si", "diamond", a=SI_LATTICE, cubic=True).repeat(2)  # 64 atoms
    dt, interval, n_equil = 2.0, args.interval or 50, 250  # fs, steps, steps: 100 fs apart
    frames = []
    for k, temperature in enumerate((300, 800, 1200, 1600)):
        for f in md_snapshots(cell, tersoff_calculator, rng_for("md", k), temperature,
                              args.md_per_temperature or 32, dt, interval, n_equil):
            f.info["config_type"] = "bulk_md"
            frames.append(f)
    rng = rng_for("strained", 0)
    for _ in range(args.strained if args.strained is not None else 40):
        f = labelled(symmetric_strain(cell, rng, 0.03, 0.03), tersoff_calculator)
        f.info["config_type"] = "bulk_strained"
        frames.append(f)
    vacancy = cell.copy()
    del vacancy[0]
    n_vac = args.vacancy if args.vacancy is not None else 32
    for k, temperature in enumerate((800, 1200)):
        count = n_vac // 2 + (1 if k < n_vac % 2 else 0)
        for f in md_snapshots(vacancy, tersoff_calculator, rng_for("vacancy", k), temperature,
                              count, dt, interval, n_equil):
            f.info["config_type"] = "vacancy_md"
            frames.append(f)
    return frames, tersoff_calculator


# --------------------------------------------------------------------------- checks

def finite_difference_forces(atoms, calc_factory, h=1e-4):
    probe = bare(atoms)
    probe.calc = calc_factory()
    forces = np.zeros((len(probe), 3))
    for i in range(len(probe)):
        for c in range(3):
            x0 = probe.positions[i, c]
            probe.positions[i, c] = x0 + h
            e_plus = probe.get_potential_energy()
            probe.positions[i, c] = x0 - h
            e_minus = probe.get_potential_energy()
            probe.positions[i, c] = x0
            forces[i, c] = -(e_plus - e_minus) / (2 * h)
    return forces


def check_frame(frame, calc_factory):
    """Largest deviations of the stored labels from finite differences (forces, stress)."""
    stored = frame.calc
    df = np.abs(finite_difference_forces(frame, calc_factory) - stored.results["forces"]).max()
    ds = None
    if "stress" in stored.results:
        probe = bare(frame)
        probe.calc = calc_factory()
        numerical = probe.calc.calculate_numerical_stress(probe, d=1e-6)
        ds = np.abs(numerical - stored.results["stress"]).max()
    return df, ds


def rotation_check(frame, calc_factory, rng):
    """Energy, forces and stress of a rigidly rotated copy against the rotated labels: checks
    that the calculator handles a general (non-orthogonal, rotated) cell."""
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    turned = bare(frame)
    turned.set_cell(frame.cell @ rot.T, scale_atoms=True)
    turned.calc = calc_factory()
    s0 = frame.calc.results["stress"]
    s0 = np.array([[s0[0], s0[5], s0[4]], [s0[5], s0[1], s0[3]], [s0[4], s0[3], s0[2]]])
    de = abs(turned.get_potential_energy() - frame.calc.results["energy"])
    df = np.abs(turned.get_forces() - frame.calc.results["forces"] @ rot.T).max()
    ds = np.abs(turned.get_stress(voigt=False) - rot @ s0 @ rot.T).max()
    return de, df, ds


def run_checks(name, frames, calc_factory, n_check, rng):
    """Checks `n_check` structures: one of each of the most demanding kinds first (the hottest
    MD snapshot, a strained non-orthogonal cell, a slab), then random ones."""
    failures = []
    picks = []
    hottest = max((i for i, f in enumerate(frames) if f.info["config_type"] == "bulk_md"),
                  key=lambda i: frames[i].info["temperature_K"])
    picks.append(hottest)
    picks += [next(i for i, f in enumerate(frames) if f.info["config_type"] == kind)
              for kind in ("bulk_strained", "slab_md")
              if any(f.info["config_type"] == kind for f in frames)]
    picks += [int(i) for i in rng.permutation(len(frames)) if int(i) not in picks]
    for i in picks[:n_check]:
        df, ds = check_frame(frames[i], calc_factory)
        text = f"{name}: check {frames[i].info['id']} ({frames[i].info['config_type']}): " \
               f"max |F - F_fd| = {df:.2e} eV/A"
        if ds is not None:
            text += f", max |stress - numerical| = {ds:.2e} eV/A^3"
        print(text)
        if df > FORCE_TOLERANCE or (ds is not None and ds > STRESS_TOLERANCE):
            failures.append(frames[i].info["id"])
    strained = next((f for f in frames if f.info["config_type"] == "bulk_strained"), None)
    if n_check > 0 and strained is not None:
        de, df, ds = rotation_check(strained, calc_factory, rng)
        print(f"{name}: rotated strained cell: |dE| = {de:.2e} eV, max |dF| = {df:.2e} eV/A, "
              f"max |dstress| = {ds:.2e} eV/A^3")
        if de > 1e-8 or df > 1e-8 or ds > 1e-10:
            failures.append("rotation")
    return failures


def file_check(path, frames):
    back = read(path, index=":", format="extxyz")
    assert len(back) == len(frames), "structure count differs after reading back"
    worst = 0.0
    for a, b in zip(frames, back):
        assert a.info["id"] == b.info["id"] and a.info["config_type"] == b.info["config_type"]
        assert np.array_equal(a.pbc, b.pbc)
        worst = max(worst, np.abs(a.positions - b.positions).max(),
                    np.abs(a.calc.results["forces"] - b.get_forces()).max(),
                    abs(a.calc.results["energy"] - b.get_potential_energy()))
        if "stress" in a.calc.results:
            worst = max(worst, np.abs(a.calc.results["stress"] - b.get_stress()).max())
    return worst


# --------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=["cu", "si"], help="cu: Cu with EMT; si: Si with Tersoff")
    parser.add_argument("output", help="extended XYZ file to write")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--md-per-temperature", type=int, default=None,
                        help="bulk MD snapshots per temperature (default 32)")
    parser.add_argument("--strained", type=int, default=None, help="strained cells (default 40)")
    parser.add_argument("--vacancy", type=int, default=None,
                        help="vacancy MD snapshots (default cu 24, si 32)")
    parser.add_argument("--slab", type=int, default=None, help="cu only: slab snapshots (default 48)")
    parser.add_argument("--interval", type=int, default=None,
                        help="MD steps between snapshots (default cu 15 steps of 5 fs, si 50 of 2 fs)")
    parser.add_argument("--check", type=int, default=2,
                        help="structures to check against finite differences (0: none)")
    args = parser.parse_args()

    start = time.time()
    tags = {"md": 1, "strained": 2, "vacancy": 3, "slab": 4, "check": 5}

    def rng_for(part, k):
        # Independent streams per part, so changing one count leaves the other parts unchanged.
        return np.random.default_rng([args.seed, 0 if args.system == "cu" else 1, tags[part], k])

    if args.system == "cu":
        frames, calc_factory = make_cu(args, rng_for)
        prefix = "cu-emt"
    else:
        frames, calc_factory = make_si(args, rng_for)
        prefix = "si-tersoff"
    for i, f in enumerate(frames):
        info = {"id": f"{prefix}-{i:04d}", "config_type": f.info["config_type"]}
        if "temperature_K" in f.info:
            info["temperature_K"] = f.info["temperature_K"]
        f.info.clear()
        f.info.update(info)
    generated = time.time() - start

    failures = run_checks(args.system, frames, calc_factory, args.check, rng_for("check", 0))
    if failures:
        raise SystemExit(f"{args.system}: consistency check failed for {', '.join(failures)}")

    write(args.output, frames, format="extxyz")
    worst = file_check(args.output, frames)
    print(f"{args.system}: file read back, max deviation from memory {worst:.1e}")
    if worst > FILE_TOLERANCE:
        raise SystemExit(f"{args.system}: written file differs from the labels in memory")

    n_atoms = np.array([len(f) for f in frames])
    energies = np.array([f.calc.results["energy"] for f in frames])
    forces = np.concatenate([f.calc.results["forces"] for f in frames])
    per_atom = energies / n_atoms
    counts = {}
    for f in frames:
        counts[f.info["config_type"]] = counts.get(f.info["config_type"], 0) + 1
    print(f"{args.system}: {len(frames)} structures ({', '.join(f'{k} {v}' for k, v in counts.items())}), "
          f"{n_atoms.sum()} atoms, E {energies.min():.3f}..{energies.max():.3f} eV "
          f"({per_atom.min():.4f}..{per_atom.max():.4f} eV/atom), "
          f"force RMS {np.sqrt(np.mean(forces ** 2)):.3f} eV/A, "
          f"generation {generated:.1f} s, total {time.time() - start:.1f} s -> {args.output}")


if __name__ == "__main__":
    main()
