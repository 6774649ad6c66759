#!/usr/bin/env python3
"""Tests of the Python binding (python/matnn) and of the C/Fortran hosts, one case per CTest test.

Usage: bindings_cases.py CASE WORKDIR [C_HOST FORTRAN_HOST] [--model bp|nequip]

WORKDIR holds what make_bindings_model.py wrote (the CTest fixture "bindings_model"); --model
picks its Behler-Parrinello (default) or NequIP-style potential, cu_<model>.model.h5. Run with
Debian's /usr/bin/python3 (ASE 3.22, numpy), PYTHONPATH=<repo>/python and
MATNN_LIBRARY=<libmatnn.so>. Cases:

  forces  ASE's calculate_numerical_forces (d = 1e-4) agrees with the forces (float64)
  stress  ASE's calculate_numerical_stress agrees with the stress; none for wires and molecules
  slab_stress  a slab (pbc T T F): xx, yy, xy are finite differences of the energy under in-plane
          strain / V, zz, yz, xz are 0; unsuitable slabs are refused with the reason; a masked
          UnitCellFilter relaxation of the in-plane lattice lowers the in-plane stress
  virials  per-atom virials sum to V x stress (periodic) and to -sym(sum r (x) F) (free cluster);
          the calculator's 'stresses' are virials / V, sum to 'stress', are refused unless fully periodic
  neighbor_list  compute_local with a brute-force host list (1 A skin) equals matnn's own search;
          the ghosts' forces and virials folded onto their owners give the periodic cell's
  kwargs  unknown keyword arguments are refused; precision reaches the library's load options
  copy    copy.copy, copy.deepcopy and pickle reopen the model; copies outlive the original
  nve     VelocityVerlet NVE, 300 steps of 1 fs from 600 K: total energy conserved
  bfgs    BFGS on the positions of a rattled cell reaches fmax 0.01 eV/A
  errors  bad input raises MatnnError subclasses with the right status, and nothing crashes
  hosts   the C host, the Fortran md_example and the ASE calculator give the same energy and
          forces to 1e-10 relative (float64); md_example's short NVE run conserves energy
  spectra  a cnn1d trained through matnn.train on patterns written with h5py in the documented
          layout predicts numpy arrays, on its grid and on a finer one, and refuses bad ones
  coverage  every function of matnn.h has ctypes types in python/matnn/_lib.py and a bind(C)
          interface in fortran/matnn_module.f90, and libmatnn.so exports exactly those
"""
import ctypes
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
    def __init__(self, workdir, hosts, kind="bp"):
        self.workdir = workdir
        self.kind = kind
        self.model = os.path.join(workdir, f"cu_{kind}.model.h5")
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
    # Slabs have stress (case slab_stress); wires and molecules have none.
    for pbc in ([True, False, False], [False, False, False]):
        other = c.atoms()
        other.pbc = pbc
        other.get_forces()
        try:
            other.get_stress()
        except PropertyNotImplementedError as e:
            check("periodic direction" in str(e), f"pbc={pbc}: the refusal does not say why: {e}")
            continue
        raise AssertionError(f"stress of a cell with pbc={pbc} did not raise PropertyNotImplementedError")


def strained_energy(atoms, i, j, t):
    """Energy after a symmetric strain t in component (i, j) of cell and positions together."""
    strained = atoms.copy()
    strained.calc = atoms.calc
    eps = np.zeros((3, 3))
    eps[i, j] += 0.5 * t
    eps[j, i] += 0.5 * t
    strained.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
    return strained.get_potential_energy()


def slab_from_fixture(c, vacuum_factor=2.0):
    """The fixture's rattled, sheared cell as a slab: pbc T T F and a longer third vector, so
    that there is vacuum above the atoms (a and b lie in the xy plane)."""
    slab = c.atoms()
    slab.pbc = [True, True, False]
    cell = slab.cell.array.copy()
    cell[2] *= vacuum_factor
    slab.set_cell(cell, scale_atoms=False)
    return slab


def case_slab_stress(c):
    from ase.build import fcc111
    from ase.constraints import UnitCellFilter
    from ase.optimize import BFGS

    slab = slab_from_fixture(c)
    stress = slab.get_stress()
    volume = slab.get_volume()
    check(abs(volume - abs(np.linalg.det(slab.cell.array))) < 1e-9 * volume, "volume is not |det(cell)|")
    d = 1e-5
    print(f"slab stress {np.array2string(stress, precision=7)} eV/A^3, V = {volume:.3f} A^3")
    for voigt, (i, j) in ((0, (0, 0)), (1, (1, 1)), (5, (0, 1))):
        numerical = (strained_energy(slab, i, j, d) - strained_energy(slab, i, j, -d)) / (2 * d) / volume
        error = abs(stress[voigt] - numerical)
        print(f"  Voigt {voigt}: {stress[voigt]:+.9f}, finite difference {numerical:+.9f}, |difference| {error:.2e}")
        check(abs(numerical) > 1e-5, f"Voigt {voigt}: the strain hardly changes the energy, the test proves little")
        check(error < 1e-7, f"slab stress component {voigt} disagrees with finite differences by {error:.3e}")
    # zz, yz, xz are 0 by convention, although straining along z does change the energy.
    check(np.all(stress[2:5] == 0.0), f"slab stress has out-of-plane components {stress[2:5]}")
    zz = (strained_energy(slab, 2, 2, d) - strained_energy(slab, 2, 2, -d)) / (2 * d) / volume
    check(abs(zz) > 1e-5, "straining the slab along z changes nothing: the zero zz proves little")
    full = slab.get_stress(voigt=False)
    check(np.allclose(full, full.T) and full[0, 1] == stress[5], "3x3 stress of the slab is inconsistent")
    # get_forces() brought the stress along: get_stress() afterwards must not recompute.
    fresh = slab_from_fixture(c)
    fresh.get_forces()
    check("stress" in fresh.calc.results, "stress of a slab did not come with the forces")

    # Refused, with the reason: a wire, a molecule, a slab without a third vector, a tilted slab.
    wire = slab_from_fixture(c)
    wire.pbc = [True, False, False]
    flat = slab_from_fixture(c)
    flat.cell[2] = 0.0
    tilted = slab_from_fixture(c)
    tilted.rotate(10, "x", rotate_cell=True)  # a and b leave the xy plane
    for name, atoms, reason in (("wire", wire, "1 periodic direction"), ("flat slab", flat, "nonzero"),
                                ("tilted slab", tilted, "perpendicular")):
        energy = atoms.get_potential_energy()  # energy and forces still work
        try:
            atoms.get_stress()
            raise AssertionError(f"{name}: stress did not raise PropertyNotImplementedError")
        except PropertyNotImplementedError as e:
            print(f"ok  {name}: {e}")
            check(reason in str(e), f"{name}: the message does not say why: {e}")
        check(np.isfinite(energy), f"{name}: no energy")
    check(abs(tilted.get_potential_energy() - slab.get_potential_energy()) < 1e-9 * abs(slab.get_potential_energy()),
          "rotating the slab changed its energy")

    # A compressed Cu(111) slab relaxed in-plane with a masked cell filter (xx, yy, xy free).
    surface = fcc111("Cu", size=(2, 2, 4), a=3.50, vacuum=6.0, periodic=False)
    surface.pbc = [True, True, False]
    surface.calc = MatnnCalculator(c.model, precision="float64")
    mask = [1, 1, 0, 0, 0, 1]
    start_stress = surface.get_stress()
    start_energy = surface.get_potential_energy()
    third = surface.cell.array[2].copy()
    in_plane = lambda s: np.linalg.norm(np.asarray(s)[[0, 1, 5]])  # noqa: E731
    filtered = UnitCellFilter(surface, mask=mask)
    opt = BFGS(filtered, logfile=None)
    converged = opt.run(fmax=0.01, steps=200)
    end_stress = surface.get_stress()
    print(f"masked relaxation: {opt.nsteps} steps, converged {converged}; in-plane stress "
          f"{in_plane(start_stress):.3e} -> {in_plane(end_stress):.3e} eV/A^3, energy "
          f"{start_energy:.4f} -> {surface.get_potential_energy():.4f} eV, in-plane lattice "
          f"{np.linalg.norm(surface.cell.array[0]):.4f} A")
    check(in_plane(start_stress) > 1e-3, "the compressed slab has no in-plane stress: the test proves little")
    check(converged, "the masked relaxation did not converge in 200 steps")
    check(in_plane(end_stress) < 0.05 * in_plane(start_stress), "the relaxation did not lower the in-plane stress")
    check(surface.get_potential_energy() < start_energy, "the relaxation did not lower the energy")
    check(np.allclose(surface.cell.array[2], third) and np.all(surface.cell.array[:2, 2] == 0),
          "the masked relaxation moved the vacuum vector or tilted the plane")


def voigt(full):
    """A symmetric 3x3 tensor as Voigt xx yy zz yz xz xy."""
    return full[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]


def case_virials(c):
    atoms = c.atoms()
    pot = atoms.calc.potential
    n, volume = len(atoms), atoms.get_volume()
    out = pot.compute(atoms.numbers, atoms.positions, atoms.cell.array, pbc=True, stress=True, virials=True)
    virials = out["virials"]
    check(virials.shape == (n, 6), f"virials have shape {virials.shape}, expected ({n}, 6)")
    # A fully periodic cell: they sum to V x stress (ASE's sign).
    target = volume * out["stress"]
    error = np.abs(virials.sum(axis=0) - target).max()
    print(f"sum of per-atom virials {np.array2string(virials.sum(axis=0), precision=6)} eV, V x stress "
          f"{np.array2string(target, precision=6)} eV; max difference {error:.2e}")
    check(np.abs(target[3:]).max() > 1e-3, "off-diagonal V x stress is ~0: the sum proves little")
    check(error < 1e-10 * np.abs(target).max(), f"per-atom virials do not sum to V x stress (off by {error:.2e} eV)")
    # Per-atom, not V x stress / n: the rattled atoms' shares differ.
    check(np.ptp(virials, axis=0).max() > 1e-2, "every atom has the same virial")
    # A free cluster has no stress, but its virials sum to dE/d(strain) = -sym(sum_i r_i (x) F_i),
    # which checks their sign independently of the library's stress.
    free = pot.compute(atoms.numbers, atoms.positions, virials=True)
    moment = -np.einsum("ia,ib->ab", atoms.positions, free["forces"])
    expected = voigt(0.5 * (moment + moment.T))
    error = np.abs(free["virials"].sum(axis=0) - expected).max()
    print(f"free cluster: sum of virials vs -sym(sum r (x) F): max difference {error:.2e} eV")
    check(error < 1e-10 * np.abs(expected).max(), f"a free cluster's virials are not -sym(sum r (x) F) ({error:.2e})")

    # ASE's per-atom stresses: virials / V, summing to the stress, as ase.calculators.lj gives them.
    stresses = atoms.get_stresses()
    stress = atoms.get_stress()
    check(stresses.shape == (n, 6), f"stresses have shape {stresses.shape}")
    error = np.abs(stresses.sum(axis=0) - stress).max()
    print(f"ASE: sum of stresses - stress = {error:.2e} eV/A^3 (|stress| {np.abs(stress).max():.3e})")
    check(error < 1e-10 * np.abs(stress).max(), f"'stresses' do not sum to 'stress' (off by {error:.2e})")
    check(np.allclose(stresses, virials / volume, rtol=1e-12, atol=0), "'stresses' are not virials / V")
    check(np.abs(atoms.get_forces() - out["forces"]).max() < 1e-12, "asking for stresses changed the forces")
    # Refused, with the reason, where they would not sum to a stress; energy and forces still work.
    for pbc in ([False, False, False], [True, True, False]):
        other = c.atoms()
        other.pbc = pbc
        check(np.isfinite(other.get_forces()).all(), f"pbc={pbc}: no forces")
        try:
            other.get_stresses()
        except PropertyNotImplementedError as e:
            print(f"ok  pbc={pbc}: {e}")
            check("fully periodic" in str(e), f"pbc={pbc}: the refusal does not say why: {e}")
            continue
        raise AssertionError(f"stresses with pbc={pbc} did not raise PropertyNotImplementedError")


def ghost_shell(atoms, shell):
    """The cell's atoms followed by their periodic images within `shell` of one of them: the
    local atoms and ghosts of compute_local. Returns numbers, positions and each atom's owner."""
    cell = atoms.cell.array
    heights = atoms.get_volume() / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    k = int(np.ceil(shell / heights.min())) + 1  # + 1: rattled atoms stick out of the cell
    shifts = np.array([s for s in np.ndindex(2 * k + 1, 2 * k + 1, 2 * k + 1) if s != (k, k, k)]) - k
    images = (atoms.positions[None] + (shifts @ cell)[:, None]).reshape(-1, 3)
    owners = np.tile(np.arange(len(atoms)), len(shifts))
    near = np.linalg.norm(images[:, None] - atoms.positions[None], axis=2).min(axis=1) < shell
    return (np.concatenate([atoms.numbers, atoms.numbers[owners[near]]]),
            np.concatenate([atoms.positions, images[near]]),
            np.concatenate([np.arange(len(atoms)), owners[near]]))


def brute_force_list(positions, radius):
    """Every pair closer than radius, as the CSR arrays of compute_local's neighbour list."""
    distances = np.linalg.norm(positions[:, None] - positions[None], axis=2)
    within = distances < radius
    np.fill_diagonal(within, False)
    return np.concatenate([[0], np.cumsum(within.sum(axis=1))]), np.nonzero(within)[1], distances[within]


def case_neighbor_list(c):
    atoms = read_structure(c.structure_path)
    pot = matnn.Potential(c.model, precision="float64")
    n, volume = len(atoms), atoms.get_volume()
    periodic = pot.compute(atoms.numbers, atoms.positions, atoms.cell.array, pbc=True, stress=True)
    numbers, positions, owners = ghost_shell(atoms, pot.interaction_range)
    # Every atom, ghosts included, gets its full list (a message-passing model needs the ghosts'
    # environments), with a 1 A skin that matnn must skip.
    offsets, neighbors, distances = brute_force_list(positions, pot.cutoff + 1.0)
    skin = int((distances >= pot.cutoff).sum())
    print(f"{n} local atoms, {len(numbers) - n} ghosts; {len(neighbors)} listed pairs, {skin} of them in the skin")
    check(skin > 0.2 * len(neighbors), "hardly any listed pair is in the skin: it proves little")
    start = time.time()
    searched = pot.compute_local(n, numbers, positions, virials=True)
    middle = time.time()
    listed = pot.compute_local(n, numbers, positions, virials=True, neighbor_offsets=offsets, neighbors=neighbors)
    print(f"matnn's search {middle - start:.2f} s, the host's list {time.time() - middle:.2f} s")
    for name, reference in (("matnn's own search", searched), ("the periodic cell", periodic)):
        de = abs(listed["energy"] - reference["energy"]) / n
        print(f"host's list vs {name}: energy {listed['energy']:.12f} vs {reference['energy']:.12f} eV "
              f"({de:.1e} eV/atom)")
        check(de < 1e-10, f"the host's list changes the energy by {de:.2e} eV/atom against {name}")
    df = np.abs(listed["forces"] - searched["forces"]).max()
    dv = np.abs(listed["virials"] - searched["virials"]).max()
    print(f"host's list vs matnn's search: forces {df:.1e} eV/A, virials {dv:.1e} eV (ghosts included)")
    check(df < 1e-10 and dv < 1e-10, "the host's list changes the forces or virials")
    # The list is what matnn uses: without atom 0's candidates atom 0 has no environment.
    trimmed = pot.compute_local(n, numbers, positions, neighbor_offsets=np.concatenate([[0], offsets[1:] - offsets[1]]),
                                neighbors=neighbors[offsets[1]:])
    check(abs(trimmed["energy"] - listed["energy"]) > 1e-3, "leaving out atom 0's neighbours changes nothing")
    # The ghosts' shares added to their owners give the periodic cell's forces and V x stress.
    folded = np.zeros((n, 3))
    np.add.at(folded, owners, listed["forces"])
    df = np.abs(folded - periodic["forces"]).max()
    target = volume * periodic["stress"]
    dv = np.abs(listed["virials"].sum(axis=0) - target).max()
    print(f"folded onto owners vs the periodic cell: forces {df:.1e} eV/A, sum of virials - V x stress {dv:.1e} eV")
    check(df < 1e-10, f"folded forces differ from the periodic cell's by {df:.2e} eV/A")
    check(dv < 1e-10 * np.abs(target).max(), f"compute_local's virials do not sum to V x stress ({dv:.2e} eV)")


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


def case_kwargs(c):
    # Unknown keywords are refused, naming the argument and the accepted ones.
    for kwargs in ({"device": "cuda"}, {"default_dtype": "float64"}, {"device": "cpu", "restart": "x"}):
        try:
            MatnnCalculator(c.model, **kwargs)
            raise AssertionError(f"MatnnCalculator accepted {kwargs}")
        except TypeError as e:
            print(f"ok  {kwargs}: {e}")
            for name in kwargs:
                check(repr(name) in str(e), f"the error does not name {name!r}: {e}")
            check("precision" in str(e) and "label" in str(e), f"the error does not list the accepted arguments: {e}")
    calc = MatnnCalculator(c.model)
    try:
        calc.set(device="cuda")
        raise AssertionError("calc.set(device=...) was accepted")
    except TypeError as e:
        print(f"ok  set(device=...): {e}")
    check(not calc.parameters, f"parameters were stored: {calc.parameters}")

    # precision reaches the library: the model reports it, and the numbers differ slightly.
    check(calc.precision == "float32" and calc.potential.precision == "float32", "default precision is not float32")
    results = {}
    for precision in ("float32", "float64"):
        atoms = c.atoms(precision=precision)
        check(atoms.calc.potential.precision == precision and atoms.calc.precision == precision,
              f"asked for {precision}, the library loaded {atoms.calc.potential.precision}")
        results[precision] = (atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress())
    (e32, f32, s32), (e64, f64, s64) = results["float32"], results["float64"]
    # EMT-like energies are near 0 eV in total, so the energy is compared per atom, not relatively.
    de, df, ds = abs(e32 - e64) / len(f64), np.abs(f32 - f64).max(), np.abs(s32 - s64).max()
    print(f"float32 vs float64: energy {e32:.10f} vs {e64:.10f} eV ({de:.1e} eV/atom), forces {df:.1e} eV/A, "
          f"stress {ds:.1e} eV/A^3")
    check(e32 != e64 and df > 0, "float32 and float64 give identical numbers: precision did not reach the library")
    # Measured: 2.1e-8 eV/atom, 3.8e-6 eV/A, 5.5e-8 eV/A^3 (Behler-Parrinello); 5.5e-8, 1.0e-6,
    # 9.1e-9 (NequIP). The bounds are about 10x the larger of the two.
    check(de < 5e-7 and df < 4e-5 and ds < 5e-7, "float32 and float64 disagree by more than round-off")
    for bad in ("float16", "double", 64):
        expect_error(f"precision={bad!r}", matnn.InvalidArgumentError, matnn.Status.INVALID_ARGUMENT,
                     lambda: MatnnCalculator(c.model, precision=bad))
    pot = matnn.Potential(c.model, precision="float32")
    check(MatnnCalculator(pot).precision == "float32" and MatnnCalculator(pot, precision="float32").potential is pot,
          "a Potential's own precision was not accepted")
    err = expect_error("precision other than the Potential's", matnn.InvalidArgumentError,
                       matnn.Status.INVALID_ARGUMENT, lambda: MatnnCalculator(pot, precision="float64"))
    check(isinstance(err, ValueError), "a bad precision is not a ValueError")


def case_copy(c):
    import copy
    import gc
    import pickle

    base = c.atoms()
    rattled = base.copy()
    rattled.rattle(stdev=0.02, seed=8)
    makers = {"copy.copy": copy.copy, "copy.deepcopy": copy.deepcopy,
              "pickle": lambda calc: pickle.loads(pickle.dumps(calc))}
    for source in ("path", "Potential"):
        pot = matnn.Potential(c.model, precision="float64")
        original = MatnnCalculator(c.model if source == "path" else pot, precision="float64")
        base.calc = original
        energy = base.get_potential_energy()
        expected = original.get_potential_energy(rattled)
        expected_forces = original.get_forces(rattled)
        copies = {name: make(original) for name, make in makers.items()}
        for name, calc in copies.items():
            check(calc is not original and calc.potential is not original.potential, f"{name}: shares the Potential")
            check(calc.potential._handle.value != original.potential._handle.value, f"{name}: shares the C handle")
            check(calc.potential.precision == "float64" and calc.precision == "float64",
                  f"{name}: the copy lost the precision")
            check(calc.results is not original.results, f"{name}: the copy shares the results dict")
        original.close()
        pot.close()
        del original, pot
        base.calc = None
        gc.collect()
        for name, calc in copies.items():
            atoms = rattled.copy()
            atoms.calc = calc
            e = atoms.get_potential_energy()
            print(f"{source:9s} {name:13s}: energy {e:.12f} (original {expected:.12f})")
            check(abs(e - expected) <= 1e-12 * abs(expected), f"{name}: the copy computes {e}, the original {expected}")
            check(np.abs(atoms.get_forces() - expected_forces).max() < 1e-12, f"{name}: the copy's forces differ")
            fresh = base.copy()
            fresh.calc = calc
            check(abs(fresh.get_potential_energy() - energy) <= 1e-12 * abs(energy), f"{name}: energy changed")
    # A copy of a copy, and a calculator whose model file has gone: the copy says so.
    calc = MatnnCalculator(c.model, precision="float64")
    again = pickle.loads(pickle.dumps(copy.deepcopy(calc)))
    check(again.precision == "float64", "a copy of a copy lost the precision")
    moved = os.path.join(c.workdir, f"copy_case_{c.kind}.model.h5")  # one per model: CTest runs both at once
    import shutil
    shutil.copy(c.model, moved)
    gone = MatnnCalculator(moved)
    os.remove(moved)
    expect_error("copy after the model file was removed", matnn.FileError, matnn.Status.IO, lambda: copy.copy(gone))


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
    _lib.lib.matnn_potential_results_init2(results, ctypes.sizeof(results))
    status = _lib.lib.matnn_potential_compute(prop._handle, 1, np.array([29], dtype=np.intc), np.zeros((1, 3)),
                                              None, None, results)
    check(status == S.MODEL, f"matnn_potential_compute on a property model: status {status}, expected 8")
    out = prop.predict_compositions([29, 28], [[1.0, 0.0], [0.5, 0.5]])
    check(out["values"].shape == (2,) and np.all(np.isfinite(out["values"])), "property prediction failed")
    expect_error("a negative fraction", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: prop.predict_compositions([29], [[-1.0]]))
    # ase.Atoms go through matnn_property_predict_atoms (positions and cells): a composition
    # model gives what their atomic numbers alone give; embeddings are (n, width).
    atoms = [base.copy(), base.copy()[:4]]
    by_atoms = prop.predict_structures(atoms)["values"]
    by_numbers = prop.predict_structures([a.numbers for a in atoms])["values"]
    check(np.allclose(by_atoms, by_numbers, rtol=1e-6, atol=1e-9), f"atoms {by_atoms} vs numbers {by_numbers}")
    expect_error("a Monte-Carlo seed without Monte-Carlo samples", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                 lambda: prop.predict_structures(atoms, seed=3))
    embedding = prop.embed(atoms)
    check(embedding.shape == (2, prop.embedding_width) and np.all(np.isfinite(embedding)),
          f"embeddings of shape {embedding.shape}, width {prop.embedding_width}")

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
    # compute_local's neighbour list: the library's checks (with its message), then the binding's.
    n = len(base)
    offsets, neighbors, _ = brute_force_list(base.positions, pot.cutoff)
    local = lambda offsets, neighbors: pot.compute_local(n, base.numbers, base.positions,  # noqa: E731
                                                         neighbor_offsets=offsets, neighbors=neighbors)
    check(abs(local(offsets, neighbors)["energy"] - pot.compute_local(n, base.numbers, base.positions)["energy"])
          < 1e-10 * n, "the well-formed list of the errors case gives another energy")
    outside = neighbors.copy()
    outside[offsets[3]] = n
    err = expect_error("a neighbour index out of range", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                       lambda: local(offsets, outside))
    check(f"neighbours of atom 3: index {n} is not an atom" in err.message, f"the message does not name it: {err}")
    err = expect_error("only neighbors given", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                       lambda: local(None, neighbors))
    check("both" in err.message, f"the message does not say why: {err}")
    err = expect_error("neighbor_offsets of natoms values", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                       lambda: local(offsets[:-1], neighbors[:offsets[-2]]))
    check("neighbor_offsets must have shape" in err.message, f"the message does not name the argument: {err}")
    err = expect_error("neighbors shorter than the offsets say", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                       lambda: local(offsets, neighbors[:-1]))
    check("neighbor_offsets[natoms]" in err.message, f"the message does not name the argument: {err}")
    err = expect_error("fractional neighbors", matnn.InvalidArgumentError, S.INVALID_ARGUMENT,
                       lambda: local(offsets, neighbors + 0.5))
    check("neighbors must hold integers" in err.message, f"the message does not name the argument: {err}")
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
    bad = os.path.join(c.workdir, f"structure_ni_{c.kind}.txt")  # one per model: CTest runs both at once
    with open(c.structure_path) as src, open(bad, "w") as dst:
        lines = src.readlines()
        first_atom = 5  # comment, natoms, three lattice vectors
        lines[first_atom] = "28 " + lines[first_atom].split(" ", 1)[1]
        dst.writelines(lines)
    result = subprocess.run([fortran_host, c.model, bad, "1"], capture_output=True, text=True)
    print(f"md_example on a Ni atom: exit {result.returncode}, {result.stderr.strip().splitlines()[0]!r}")
    check(result.returncode != 0 and "MATNN_ERROR_UNKNOWN_ELEMENT" in result.stderr and "atomic number 28" in result.stderr,
          f"md_example did not stop with matnn's message: exit {result.returncode}, {result.stderr!r}")


def case_append(c):
    """matnn.append_dataset: EMT-labelled Atoms into a new dataset, then more appended; the file
    holds them in order with ASE's values (read back with h5py), and mixed labels are refused."""
    import h5py
    from ase.build import bulk
    from ase.calculators.emt import EMT
    path = os.path.join(c.workdir, "appended.h5")
    if os.path.exists(path):
        os.remove(path)
    frames = []
    for k, a in enumerate((3.55, 3.60, 3.65)):
        atoms = bulk("Cu", "fcc", a=a, cubic=True).repeat((2, 1, 1))
        atoms.rattle(0.05, seed=k)
        atoms.calc = EMT()
        atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()
        frames.append(atoms)
    check(matnn.append_dataset(path, frames[:2], config_type="bulk") == 2, "append_dataset did not report 2")
    check(matnn.append_dataset(path, frames[2:]) == 1, "append_dataset did not report 1")
    with h5py.File(path, "r") as f:
        energies = f["properties/energy/values"][...].reshape(-1)
        forces = f["atom_properties/forces/values"][...]
        stress = f["properties/stress/values"][...]
        positions = f["atoms/positions"][...]
        n_atoms = f["structures/n_atoms"][...]
    expected_e = [a.get_potential_energy() for a in frames]
    print(f"appended 3 EMT frames: energies {np.round(energies, 6).tolist()}, ASE {np.round(expected_e, 6).tolist()}")
    check(list(n_atoms) == [8, 8, 8], f"atoms per structure {list(n_atoms)}")
    check(np.allclose(energies, expected_e, rtol=0, atol=1e-12), "energies differ from ASE's")
    check(np.allclose(forces, np.concatenate([a.get_forces() for a in frames]), rtol=0, atol=1e-12), "forces differ")
    check(np.allclose(stress.reshape(3, 6), [a.get_stress() for a in frames], rtol=0, atol=1e-14), "stress differs")
    check(np.allclose(positions, np.concatenate([a.get_positions() for a in frames]), rtol=0, atol=1e-12),
          "positions differ")
    unlabelled = bulk("Cu", "fcc", a=3.6)
    e = expect_error("structures with different labels", matnn.InvalidArgumentError, matnn.Status.INVALID_ARGUMENT,
                     lambda: matnn.append_dataset(path, [frames[0], unlabelled]))
    check("different labels" in e.message, f"message {e.message!r}")
    print("ok  append_dataset stores ASE's labels and refuses mixed ones")


def write_signal_dataset(path, name, values, labels, axis=None, pixel_sizes=None):
    """A dataset of one signal and no atoms written with h5py alone (docs/dataset-format.md):
    values (S, C, L) spectra on `axis` or (S, C, H, W) images of `pixel_sizes` nm; labels
    {name: (S,) floats}."""
    import h5py
    S = len(values)
    arrays = [("structures/n_atoms", np.zeros(S, np.int64)), ("structures/atom_offset", np.zeros(S + 1, np.int64)),
              ("structures/cell", np.zeros((S, 3, 3))), ("structures/pbc", np.zeros((S, 3), np.uint8)),
              ("structures/timestamp", np.full(S, np.iinfo(np.int64).min)),
              ("structures/timestamp_present", np.zeros(S, np.uint8)),
              ("atoms/numbers", np.zeros(0, np.int32)), ("atoms/positions", np.zeros((0, 3))),
              (f"signals/{name}/values", np.asarray(values, np.float32)),
              (f"signals/{name}/present", np.ones(S, np.uint8))]
    arrays += [(f"properties/{k}/values", np.asarray(v, float)) for k, v in labels.items()]
    arrays += [(f"properties/{k}/present", np.ones(S, np.uint8)) for k in labels]
    arrays += [(f"signals/{name}/axis", axis)] if axis is not None else [(f"signals/{name}/pixel_size", pixel_sizes)]
    with h5py.File(path, "w", libver=("v110", "latest")) as f:
        for key, value in (("format", b"matnn-dataset"), ("matnn_version", b"test")):
            f.attrs[key] = np.bytes_(value)
        f.attrs["format_version"], f.attrs["n_structures"], f.attrs["total_atoms"] = np.int64(1), np.int64(S), np.int64(0)
        for key, value in arrays:
            f.create_dataset(key, data=value, maxshape=(None,) + value.shape[1:], chunks=True)
        f[f"signals/{name}"].attrs["kind"] = np.bytes_("spectrum" if axis is not None else "image")
        if axis is not None:
            f[f"signals/{name}/axis"].attrs["name"] = np.bytes_("2theta")
            f[f"signals/{name}/axis"].attrs["units"] = np.bytes_("degree")
        else:
            f[f"signals/{name}/pixel_size"].attrs["units"] = np.bytes_("nm")


def train_signal_model(c, stem, data, seed, epochs, model):
    """matnn.train on `data` with the `model` section (random split, Adam); the model written to
    WORKDIR/STEM.model.h5, loaded."""
    import json
    config, model_path = os.path.join(c.workdir, stem + ".json"), os.path.join(c.workdir, stem + ".model.h5")
    with open(config, "w") as f:
        json.dump({"dataset": data, "seed": seed, "model": model,
                   "split": {"kind": "random", "validation": 0.1, "test": 0.1},
                   "training": {"epochs": epochs, "batch_size": 16}, "optimizer": {"name": "adam", "lr": 3e-3},
                   "output": {"model": model_path}}, f)
    matnn.train(config)
    return matnn.PropertyModel(model_path)


def case_spectra(c):
    """A spectrum model end to end from Python: patterns written with h5py alone (docs/dataset-format.md),
    trained by matnn.train, predicted from numpy arrays."""
    rng = np.random.default_rng(3)
    axis = np.linspace(10.0, 50.0, 201)
    centres = rng.uniform(14, 46, 96)

    def patterns(grid, peaks):
        return np.exp(-0.5 * ((grid[None, :] - peaks[:, None]) / 0.4) ** 2) + 0.3 * np.exp(-0.5 * ((grid - 20) / 0.4) ** 2)

    data = os.path.join(c.workdir, "spectra_py.h5")
    write_signal_dataset(data, "xrd", patterns(axis, centres)[:, None, :], {"above_30": (centres > 30).astype(float)},
                         axis=axis)
    model = train_signal_model(c, "spectra_py", data, seed=2, epochs=20,
                               model={"kind": "cnn1d", "signal": "xrd", "task": "classification", "target": "above_30",
                                      "channels": [4, 8, 8], "kernel": 5, "hidden": 8})
    check(model.input == "spectra", f"input {model.input}")
    grid, name, unit = model.spectrum_axis
    check(np.array_equal(grid, axis) and (name, unit) == ("2theta", "degree"), f"axis {name} {unit}")
    test = np.array([15.0, 22.0, 27.0, 34.0, 40.0, 45.0])
    p = model.predict_spectra(axis, patterns(axis, test), probabilities=True, embeddings=True)
    fine = np.linspace(9.0, 51.0, 841)
    q = model.predict_spectra(fine, 1000.0 * patterns(fine, test))
    print(f"classes {p['values'].tolist()} (truth {(test > 30).astype(int).tolist()}); finer grid {q['values'].tolist()}")
    check(np.sum(p["values"] == (test > 30)) >= 5, "the model did not learn where the peak is")
    check(np.array_equal(p["values"], q["values"]), "another grid and scale changed the classes")
    check(p["embeddings"].shape == (6, 8) and p["probabilities"].shape == (6, 2), "output shapes")
    e = expect_error("a grid that does not cover the model's", matnn.InvalidArgumentError, matnn.Status.INVALID_ARGUMENT,
                     lambda: model.predict_spectra(axis[20:], patterns(axis[20:], test)))
    check("covers" in e.message, f"message {e.message!r}")
    expect_error("intensities of the wrong length", matnn.InvalidArgumentError, matnn.Status.INVALID_ARGUMENT,
                 lambda: model.predict_spectra(axis, patterns(axis, test)[:, :-1]))
    expect_error("images to a spectrum model", matnn.InvalidArgumentError, matnn.Status.INVALID_ARGUMENT,
                 lambda: model.predict_images(np.zeros((1, 4, 4)), 1.0))
    print("ok  a spectrum model trains on an h5py-written dataset and predicts numpy arrays")


def bright_fraction_images(rng, n, size=12):
    """Two-phase images: a bright phase in random blobs at a random fraction, grey noise on top;
    returns (images (n, size, size), fractions)."""
    fractions = rng.uniform(0.1, 0.9, n)
    images = np.empty((n, size, size))
    for k, f in enumerate(fractions):
        field = rng.normal(size=(size, size))
        field = (field + np.roll(field, 1, 0) + np.roll(field, 1, 1) + np.roll(field, (1, 1), (0, 1))) / 4
        threshold = np.quantile(field, 1 - f)
        images[k] = (field > threshold) + 0.05 * rng.normal(size=(size, size))
    measured = np.array([(im > 0.5).mean() for im in images])
    return images, measured


def case_images(c):
    """An image model end to end from Python: two-phase images written with h5py alone, a cnn2d
    regression of the bright-phase fraction trained by matnn.train, predicted from numpy arrays;
    a pixel size far from the training ones is flagged, a wrong size refused."""
    rng = np.random.default_rng(5)
    images, fractions = bright_fraction_images(rng, 160)
    data = os.path.join(c.workdir, "images_py.h5")
    write_signal_dataset(data, "sem", images[:, None], {"fraction": fractions},
                         pixel_sizes=rng.uniform(8.0, 12.0, len(images)))
    model = train_signal_model(c, "images_py", data, seed=4, epochs=30,
                               model={"kind": "cnn2d", "signal": "sem", "target": "fraction",
                                      "channels": [8, 8], "kernel": 3, "hidden": 8})
    check(model.input == "images", f"input {model.input}")
    test, truth = bright_fraction_images(np.random.default_rng(6), 8)
    p = model.predict_images(test, 10.0, embeddings=True)
    mae, spread = np.mean(np.abs(p["values"] - truth)), np.mean(np.abs(truth - truth.mean()))
    print(f"fraction MAE {mae:.3f} (mean predictor {spread:.3f}); ood {p['ood'].tolist()}")
    check(mae < 0.5 * spread, "the model did not learn the bright fraction")
    check(not p["ood"].any(), "images like the training ones flagged")
    check(p["embeddings"].shape == (8, 8) and p["sigmas"].shape == (8,), "output shapes")
    # For bindings.fortran_signals: the images in C order and these predictions, to be matched.
    with open(os.path.join(c.workdir, "images_py.check.txt"), "w") as f:
        f.write(f"{test.shape[0]} {test.shape[1]} {test.shape[2]}\n")
        f.write("".join(f"{v:.17g}\n" for v in np.concatenate([test.ravel(), p["values"]])))
    far = model.predict_images(test[:, None], np.full(8, 100.0))
    check(far["ood"].all(), "a pixel size ten times the training ones is not flagged")
    expect_error("an image of another size", matnn.InvalidArgumentError, matnn.Status.INVALID_ARGUMENT,
                 lambda: model.predict_images(test[:, :10, :10], 10.0))
    expect_error("spectra to an image model", matnn.InvalidArgumentError, matnn.Status.INVALID_ARGUMENT,
                 lambda: model.predict_spectra(np.linspace(0, 1, 12), test[:, 0]))
    print("ok  an image model trains on an h5py-written dataset and predicts numpy arrays")

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
    args, kind = sys.argv[1:], "bp"
    if "--model" in args:
        at = args.index("--model")
        kind = args[at + 1] if at + 1 < len(args) else ""
        del args[at:at + 2]
    if len(args) < 2 or args[0] not in CASES or kind not in ("bp", "nequip"):
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(CASES)}}} WORKDIR [C_HOST FORTRAN_HOST] [--model bp|nequip]")
    context = Context(os.path.abspath(args[1]), args[2:4], kind)
    print(f"matnn {matnn.version()} from {matnn._lib.lib.path}, model {context.model}")
    CASES[args[0]](context)
    print("PASS")


if __name__ == "__main__":
    main()
