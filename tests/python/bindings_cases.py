#!/usr/bin/env python3
"""Tests of the Python binding (python/matnn) and of the C/Fortran hosts, one case per CTest test.

Usage: bindings_cases.py CASE WORKDIR [C_HOST FORTRAN_HOST]

WORKDIR holds what make_bindings_model.py wrote (the CTest fixture "bindings_model"). Run with
Debian's /usr/bin/python3 (ASE 3.22, numpy), PYTHONPATH=<repo>/python and
MATNN_LIBRARY=<libmatnn.so>. Cases:

  forces  ASE's calculate_numerical_forces (d = 1e-4) agrees with the forces (float64)
  stress  ASE's calculate_numerical_stress agrees with the stress; no stress without full pbc
  nve     VelocityVerlet NVE, 300 steps of 1 fs from 600 K: total energy conserved
  bfgs    BFGS on the positions of a rattled cell reaches fmax 0.01 eV/A
  errors  bad input raises MatnnError subclasses with the right status, and nothing crashes
  hosts   the C host, the Fortran md_example and the ASE calculator give the same energy and
          forces to 1e-10 relative (float64); md_example's short NVE run conserves energy
  coverage  every function of matnn.h has ctypes types in python/matnn/_lib.py and a bind(C)
          interface in fortran/matnn_module.f90, and libmatnn.so exports exactly those
"""
import os
import re
import subprocess
import sys
import time

import numpy as np
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError

import matnn
from matnn.calculator import MatnnCalculator


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def read_structure(path):
    """md_example's plain format: natoms, three lattice vectors, natoms lines of Z x y z."""
    with open(path) as f:
        lines = [l.split() for l in f if l.strip() and not l.lstrip().startswith("#")]
    natoms = int(lines[0][0])
    cell = np.array([[float(x) for x in l[:3]] for l in lines[1:4]])
    atoms = lines[4:4 + natoms]
    numbers = [int(l[0]) for l in atoms]
    positions = np.array([[float(x) for x in l[1:4]] for l in atoms])
    return Atoms(numbers=numbers, positions=positions, cell=cell, pbc=True)


class Context:
    def __init__(self, workdir, hosts):
        self.workdir = workdir
        self.model = os.path.join(workdir, "cu_bp.model.h5")
        self.property_model = os.path.join(workdir, "formation_energy.model.h5")
        self.structure_path = os.path.join(workdir, "structure.txt")
        self.hosts = hosts

    def atoms(self, precision="float64"):
        atoms = read_structure(self.structure_path)
        atoms.calc = MatnnCalculator(self.model, precision=precision)
        return atoms


# --- cases -----------------------------------------------------------------------------------

def case_forces(c):
    atoms = c.atoms()
    forces = atoms.get_forces()
    energy = atoms.get_potential_energy()
    energies = atoms.calc.get_property("energies", atoms)
    check(abs(energies.sum() - energy) < 1e-12 * len(atoms), "per-atom energies do not sum to the energy")
    check(atoms.get_potential_energy(force_consistent=True) == energy, "free_energy != energy")
    numerical = atoms.calc.calculate_numerical_forces(atoms, d=1e-4)
    error = np.abs(forces - numerical).max()
    # Central differences err by ~ d^2/6 |d3E/dx3|: measured 5.6e-7 eV/A at d = 1e-4 here, falling
    # as d^2 (round-off, ~eps |E| / d, is ~1e-12). Richardson extrapolation with d/2 removes the
    # d^2 term, so the analytic forces must match it far more closely than either difference.
    half = atoms.calc.calculate_numerical_forces(atoms, d=5e-5)
    richardson = np.abs(forces - (4 * half - numerical) / 3).max()
    print(f"max |F - F_numerical| = {error:.3e} eV/A at d = 1e-4, {np.abs(forces - half).max():.3e} at d = 5e-5, "
          f"{richardson:.3e} extrapolated (max |F| = {np.abs(forces).max():.3f} eV/A)")
    check(error < 5e-6, f"forces disagree with finite differences (d = 1e-4) by {error:.3e} eV/A")
    check(richardson < 1e-7, f"forces disagree with extrapolated finite differences by {richardson:.3e} eV/A")
    check(np.abs(forces).max() > 0.05, "forces are suspiciously small: the test would prove little")
    check(np.abs(forces.sum(axis=0)).max() < 1e-10, "forces of a periodic cell do not sum to zero")


def case_stress(c):
    atoms = c.atoms()
    stress = atoms.get_stress()
    numerical = atoms.calc.calculate_numerical_stress(atoms, d=1e-5)
    error = np.abs(stress - numerical).max()
    print(f"stress {np.array2string(stress, precision=6)} eV/A^3; max |s - s_numerical| = {error:.3e} eV/A^3")
    check(error < 1e-7, f"stress disagrees with finite differences by {error:.3e} eV/A^3")
    check(np.abs(stress[3:]).max() > 1e-5, "off-diagonal stress of the sheared cell is zero: nothing was tested")
    # Voigt order and symmetry: the 3x3 form ASE builds from it must be what get_stress(voigt=False) gives.
    full = atoms.get_stress(voigt=False)
    check(np.allclose(full, full.T) and np.isclose(full[1, 2], stress[3]) and np.isclose(full[0, 1], stress[5]),
          "Voigt order is not xx yy zz yz xz xy")
    for pbc in ([True, True, False], [False, False, False]):
        slab = c.atoms()
        slab.pbc = pbc
        slab.get_forces()
        try:
            slab.get_stress()
        except PropertyNotImplementedError:
            continue
        raise AssertionError(f"stress of a cell with pbc={pbc} did not raise PropertyNotImplementedError")


def case_nve(c):
    from ase import units
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
    from ase.md.verlet import VelocityVerlet

    atoms = c.atoms()
    MaxwellBoltzmannDistribution(atoms, temperature_K=600, rng=np.random.default_rng(3))
    Stationary(atoms)
    dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    totals, potentials = [], []

    def record():
        potentials.append(atoms.get_potential_energy())
        totals.append(potentials[-1] + atoms.get_kinetic_energy())

    dyn.attach(record, interval=1)
    start = time.time()
    dyn.run(300)
    totals, potentials = np.array(totals), np.array(potentials)
    n = len(atoms)
    fluctuation = (totals.max() - totals.min()) / n
    drift = abs(np.polyfit(np.arange(len(totals)), totals, 1)[0]) * len(totals) / n
    swing = (potentials.max() - potentials.min()) / n
    print(f"{len(totals) - 1} steps in {time.time() - start:.1f} s; per atom: E_pot swings {swing * 1e3:.2f} meV, "
          f"E_tot fluctuates {fluctuation * 1e3:.4f} meV, linear drift over the run {drift * 1e3:.4f} meV")
    # Velocity Verlet conserves a shadow Hamiltonian: with 1 fs (1/30 of a Cu vibration period) the
    # total energy oscillates by O(dt^2) ~ 1e-5 of the potential-energy swing and does not drift for a
    # smooth potential (polynomial cutoff, tanh networks, float64). Measured: fluctuation 0.035 and
    # drift 0.0005 meV/atom against a 59 meV/atom swing of E_pot; the bounds (0.2 and 0.01) leave
    # room for other CPUs and are still far below what forces inconsistent with the energy give.
    check(swing > 5e-3, "potential energy hardly moved: the run tested nothing")
    check(fluctuation < 2e-4, f"total energy fluctuates by {fluctuation * 1e3:.3f} meV/atom (bound 0.2)")
    check(drift < 1e-5, f"total energy drifts by {drift * 1e3:.4f} meV/atom over the run (bound 0.01)")


def case_bfgs(c):
    from ase.optimize import BFGS

    atoms = c.atoms()
    atoms.rattle(stdev=0.1, seed=4)
    start_energy = atoms.get_potential_energy()
    opt = BFGS(atoms, logfile=None)
    converged = opt.run(fmax=0.01, steps=300)
    fmax = np.sqrt((atoms.get_forces() ** 2).sum(axis=1)).max()
    print(f"BFGS: {opt.nsteps} steps, converged {converged}, fmax {fmax:.4f} eV/A, "
          f"energy {start_energy:.4f} -> {atoms.get_potential_energy():.4f} eV")
    check(converged and fmax < 0.01, f"BFGS did not reach fmax 0.01 in 300 steps (fmax {fmax:.4f})")
    check(atoms.get_potential_energy() < start_energy, "relaxation did not lower the energy")


def expect_error(what, cls, status, function):
    try:
        function()
    except matnn.MatnnError as e:
        check(isinstance(e, cls), f"{what}: raised {type(e).__name__}, expected {cls.__name__}")
        check(e.status == status, f"{what}: status {e.status!r}, expected {status!r}")
        check(e.message, f"{what}: empty message")
        print(f"ok  {what}: {type(e).__name__}: {e}")
        return e
    raise AssertionError(f"{what}: no exception")


def case_errors(c):
    S = matnn.Status
    pot = matnn.Potential(c.model, precision="float64")
    base = read_structure(c.structure_path)

    def compute_atoms(atoms):
        atoms.calc = MatnnCalculator(pot)
        return atoms.get_forces()

    unknown = base.copy()
    unknown.numbers[3] = 28
    expect_error("unknown element (Ni in a Cu model)", matnn.UnknownElementError, S.UNKNOWN_ELEMENT,
                 lambda: compute_atoms(unknown))
    nan = base.copy()
    nan.positions[5, 1] = np.nan
    expect_error("NaN position", matnn.NonFiniteError, S.NON_FINITE, lambda: compute_atoms(nan))
    inf_cell = base.copy()
    inf_cell.cell[0, 0] = np.inf
    expect_error("infinite cell", matnn.NonFiniteError, S.NON_FINITE,
                 lambda: pot.compute(base.numbers, base.positions, inf_cell.cell.array, pbc=True))
    overlap = base.copy()
    overlap.positions[7] = overlap.positions[2]
    expect_error("overlapping atoms", matnn.GeometryError, S.GEOMETRY, lambda: compute_atoms(overlap))
    flat = base.cell.array.copy()
    flat[2] = flat[0] + flat[1]
    expect_error("singular cell", matnn.SingularCellError, S.SINGULAR_CELL,
                 lambda: pot.compute(base.numbers, base.positions, flat, pbc=True))

    # Wrong model kind: the C library's own check, then the wrappers'.
    expect_error("property model in the calculator", matnn.ModelError, S.MODEL,
                 lambda: MatnnCalculator(c.property_model))
    expect_error("potential as a property model", matnn.ModelError, S.MODEL,
                 lambda: matnn.PropertyModel(c.model))
    expect_error("a dataset file as a model", matnn.ModelError, S.MODEL,
                 lambda: matnn.Potential(os.path.join(c.workdir, "cu.h5")))
    prop = matnn.PropertyModel(c.property_model)
    from matnn import _lib
    results = _lib.PotentialResults()
    _lib.lib.matnn_potential_results_init(results)
    status = _lib.lib.matnn_potential_compute(prop._handle, 1, np.array([29], dtype=np.intc), np.zeros((1, 3)),
                                              None, None, results)
    check(status == S.MODEL, f"matnn_potential_compute on a property model: status {status}, expected 8")
    out = prop.predict_compositions([29, 28], [[1.0, 0.0], [0.5, 0.5]])
    check(out["values"].shape == (2,) and np.all(np.isfinite(out["values"])), "property prediction failed")
    expect_error("a negative fraction", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: prop.predict_compositions([29], [[-1.0]]))

    expect_error("missing model file", matnn.FileError, S.IO, lambda: matnn.Potential("/nonexistent/model.h5"))
    expect_error("unknown precision", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: matnn.Potential(c.model, precision="float16"))
    # Shapes and types are checked in Python before C sees a pointer.
    expect_error("positions of the wrong shape", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: pot.compute(base.numbers, base.positions[:-1]))
    expect_error("positions (n, 2)", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: pot.compute(base.numbers, base.positions[:, :2]))
    expect_error("non-numeric numbers", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: pot.compute(["Cu"] * len(base), base.positions))
    expect_error("2x2 cell", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: pot.compute(base.numbers, base.positions, np.eye(2), pbc=True))
    expect_error("periodic without a cell", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: pot.compute(base.numbers, base.positions, None, pbc=True))
    expect_error("no atoms", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: pot.compute([], np.zeros((0, 3))))
    expect_error("stress of a free cluster", matnn.UnsupportedError, S.UNSUPPORTED,
                 lambda: pot.compute(base.numbers, base.positions, stress=True))
    err = expect_error("MatnnError is a ValueError for bad input", matnn.MatnnError, S.NON_FINITE,
                       lambda: compute_atoms(nan))
    check(isinstance(err, ValueError), "NonFiniteError is not a ValueError")

    # Inputs that are already C-contiguous float64 reach C without a copy.
    from matnn._model import _as_array
    positions = np.ascontiguousarray(base.positions, dtype=np.float64)
    check(_as_array(positions, np.float64, (-1, 3), "positions") is positions, "a C-contiguous input was copied")
    # Non-contiguous and integer inputs are converted, not refused.
    strided = np.asfortranarray(base.positions)
    a = pot.compute(base.numbers, strided, base.cell.array, pbc=True)
    b = pot.compute(base.numbers.astype(np.int64), base.positions, base.cell.array, pbc=True)
    check(a["energy"] == b["energy"], "Fortran-ordered positions changed the result")

    # After all that the same handle still works, and closing twice is harmless.
    good = base.copy()
    good.calc = MatnnCalculator(pot)
    check(np.isfinite(good.get_potential_energy()), "the potential no longer works after errors")
    check(good.calc.get_property("energy_sigma") >= 0 and good.calc.get_property("force_deviation").shape == (len(good),),
          "uncertainty keys missing")
    check(abs(good.calc.get_property("max_force_deviation") - good.calc.results["force_deviation"].max()) < 1e-12,
          "max_force_deviation is not the maximum of force_deviation")
    pot.close()
    pot.close()
    expect_error("a closed model", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: pot.compute(base.numbers, base.positions))

    # matnn_train through the binding: a callback that cancels after the first epoch.
    calls = []
    config = os.path.join(c.workdir, "formation_energy.yaml")
    output = os.path.join(c.workdir, "cancelled.model.h5")
    expect_error("training cancelled by the callback", matnn.CancelledError, S.CANCELLED,
                 lambda: matnn.train(config, output, progress=lambda *args: calls.append(args) or True))
    check(len(calls) == 1 and not os.path.exists(output), "cancelled training called back twice or wrote a model")

    def raising(*args):
        raise KeyError("from the callback")
    try:
        matnn.train(config, output, progress=raising)
        raise AssertionError("an exception in the callback was swallowed")
    except KeyError:
        print("ok  an exception in the progress callback cancels training and is re-raised")


def parse_host_output(text):
    energy, forces, stress, steps = None, [], None, []
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "energy":
            energy = float(fields[1])
        elif fields[0] == "force":
            forces.append([float(x) for x in fields[2:5]])
        elif fields[0] == "stress":
            stress = np.array([float(x) for x in fields[1:7]])
        elif fields[0] == "step":
            steps.append([float(x) for x in fields[2:5]])
    return energy, np.array(forces), stress, np.array(steps)


def run_host(args):
    result = subprocess.run(args, capture_output=True, text=True)
    check(result.returncode == 0, f"{' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return parse_host_output(result.stdout)


def case_hosts(c):
    c_host, fortran_host = c.hosts
    atoms = c.atoms(precision="float64")
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    stress = atoms.get_stress()
    c_energy, c_forces, c_stress, _ = run_host([c_host, c.model, c.structure_path])
    f_energy, f_forces, _, steps = run_host([fortran_host, c.model, c.structure_path, "20", "1.0"])
    scale = np.abs(forces).max()
    for name, e, f in (("C", c_energy, c_forces), ("Fortran", f_energy, f_forces)):
        check(f.shape == forces.shape, f"{name}: {f.shape} forces, expected {forces.shape}")
        de = abs(e - energy) / abs(energy)
        df = np.abs(f - forces).max() / scale
        print(f"{name:8s} vs Python: energy {e:.16e} (relative difference {de:.1e}), "
              f"forces max difference / max |F| = {df:.1e}")
        check(de <= 1e-10, f"{name} energy differs from Python's by {de:.2e} relative")
        check(df <= 1e-10, f"{name} forces differ from Python's by {df:.2e} relative to max |F|")
    ds = np.abs(c_stress - stress).max() / np.abs(stress).max()
    print(f"C        vs Python: stress max difference / max |s| = {ds:.1e}")
    check(ds <= 1e-10, f"C stress differs from Python's by {ds:.2e}")
    # md_example: 20 velocity-Verlet steps of 1 fs from rest; total energy = step's column 3.
    totals = steps[:, 2]
    check(len(totals) == 21, f"md_example printed {len(totals)} steps, expected 21")
    swing = np.ptp(steps[:, 0]) / len(atoms)
    drift = np.ptp(totals) / len(atoms)
    print(f"md_example: 20 steps, E_pot swings {swing * 1e3:.3f} meV/atom, E_tot varies {drift * 1e3:.5f} meV/atom")
    check(drift < 2e-4 and drift < 0.05 * swing, f"md_example does not conserve energy ({drift:.2e} eV/atom)")

    # A failure without a status argument: the Fortran module prints matnn's message and stops.
    bad = os.path.join(c.workdir, "structure_ni.txt")
    with open(c.structure_path) as src, open(bad, "w") as dst:
        lines = src.readlines()
        first_atom = 5  # comment, natoms, three lattice vectors
        lines[first_atom] = "28 " + lines[first_atom].split(" ", 1)[1]
        dst.writelines(lines)
    result = subprocess.run([fortran_host, c.model, bad, "1"], capture_output=True, text=True)
    print(f"md_example on a Ni atom: exit {result.returncode}, {result.stderr.strip().splitlines()[0]!r}")
    check(result.returncode != 0 and "MATNN_ERROR_UNKNOWN_ELEMENT" in result.stderr and "atomic number 28" in result.stderr,
          f"md_example did not stop with matnn's message: exit {result.returncode}, {result.stderr!r}")


def case_coverage(c):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "include", "matnn", "matnn.h")) as f:
        header = set(re.findall(r"MATNN_API[^;(]*?\b(matnn_\w+)\s*\(", f.read()))
    with open(os.path.join(root, "fortran", "matnn_module.f90")) as f:
        fortran = set(re.findall(r'bind\(C, name="(matnn_\w+)"\)', f.read()))
    from matnn import _lib
    python = set(_lib._PROTOTYPES)
    exported = set(re.findall(r"\b(matnn_\w+)\b", subprocess.run(
        ["nm", "-D", "--defined-only", _lib.lib.path], capture_output=True, text=True, check=True).stdout))
    print(f"{len(header)} functions in matnn.h, {len(python)} in _lib.py, {len(fortran)} in the Fortran module, "
          f"{len(exported)} exported")
    check(len(header) > 20, f"could not read the header's functions: {sorted(header)}")
    check(python == header, f"_lib.py lacks {sorted(header - python)}, has extra {sorted(python - header)}")
    check(fortran == header, f"Fortran lacks {sorted(header - fortran)}, has extra {sorted(fortran - header)}")
    check(exported == header, f"libmatnn.so lacks {sorted(header - exported)}, exports extra {sorted(exported - header)}")
    for name in python:
        function = getattr(_lib.lib, name)
        check(function.argtypes is not None, f"{name}: argtypes not declared")


CASES = {name[len("case_"):]: f for name, f in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(CASES)}}} WORKDIR [C_HOST FORTRAN_HOST]")
    context = Context(os.path.abspath(sys.argv[2]), sys.argv[3:5])
    print(f"matnn {matnn.version()} from {matnn._lib.lib.path}")
    CASES[sys.argv[1]](context)
    print("PASS")


if __name__ == "__main__":
    main()
