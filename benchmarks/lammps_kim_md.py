#!/usr/bin/env python3
"""LAMMPS MD speed of matnn potentials through the KIM API, beside LAMMPS' own EAM and beside the
same model called through matnn's C ABI: issue 12's table, measured, never asserted.

For each model and each fcc Cu cell (a0 3.615 A; --cells AxBxC conventional cubic cells, 4ABC
atoms: 8x8x16 is 4096 atoms, 16x16x32 is 32768) and each number of MPI ranks,
one LAMMPS run (`lmp`, one OpenMP thread per rank) does NVE from 300 K with `pair_style kim`
(the model, installed into a scratch KIM collection by `matnn kim-install`), then the same
number of steps of the same cell with `pair_style eam/alloy` and Mishin's Cu_mishin1.eam.alloy:
the classical floor, under the same load. Each timed run follows a one-step run that builds the
neighbour lists. The C ABI column times Potential.compute (energy and forces, float64 like the
KIM driver, one thread) on the same perfect cell in this process.

Reported: microseconds per atom-step of wall time (with 2 ranks, two cores share the work) and
the KIM overhead, KIM time / C ABI time - 1 on one rank. The overhead includes the ghost atoms a
domain-decomposed run adds: a message-passing model with L layers evaluates ghosts up to
(L - 1) cutoffs out, which a periodic call through the C ABI never needs.

Run on an idle machine, with Debian's interpreter:
  OPENBLAS_CORETYPE=SkylakeX PYTHONPATH=python MATNN_LIBRARY=build/capi/libmatnn.so \\
  KIM_API_MODEL_DRIVERS_DIR=build/kim/model-drivers \\
  /usr/bin/python3 benchmarks/lammps_kim_md.py build/bin/matnn MODEL.h5 [MODEL.h5 ...] \\
      [--cells 8x8x16 16x16x32] [--ranks 1 2] [--steps 10] [--precision float32|float64]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

os.environ["OMP_NUM_THREADS"] = "1"  # before matnn loads its OpenMP runtime

import numpy as np  # noqa: E402

import matnn  # noqa: E402

A0 = 3.615
EAM = "/usr/share/lammps/potentials/Cu_mishin1.eam.alloy"
LOOP = re.compile(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms")


def lammps_script(name, cells, steps):
    return f"""kim init {name} metal
boundary p p p
lattice fcc {A0}
region box block 0 {cells[0]} 0 {cells[1]} 0 {cells[2]}
create_box 1 box
create_atoms 1 box
kim interactions Cu
mass 1 63.546
velocity all create 300 7 mom yes rot yes dist gaussian
fix md all nve
timestep 0.001
thermo 0
run 1
run {steps}
pair_style eam/alloy
pair_coeff * * {EAM} Cu
run 1
run {steps}
"""


def run_lammps(script, ranks, log):
    command = ["lmp", "-in", script, "-log", log, "-screen", "none"]
    if ranks > 1:
        command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks)] + command
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = open(log).read()[-2000:] if os.path.exists(log) else ""
        sys.exit(f"lmp failed ({' '.join(command)}):\n{tail}{result.stdout[-2000:]}{result.stderr[-2000:]}")
    loops = [LOOP.search(line) for line in open(log)]
    loops = [m for m in loops if m]
    if len(loops) != 4:
        sys.exit(f"{log}: expected 4 'Loop time' lines, found {len(loops)}")
    # Runs 2 and 4 are the timed ones: seconds / (steps x atoms), in microseconds.
    return [float(m.group(1)) / (int(m.group(3)) * int(m.group(4))) * 1e6 for m in (loops[1], loops[3])]


def c_abi_time(model, cells, repeats, precision):
    """Microseconds per atom of one energy + forces call on the perfect cell, 1 thread."""
    potential = matnn.Potential(model, precision=precision)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    corners = np.array([[i, j, k] for i in range(cells[0]) for j in range(cells[1]) for k in range(cells[2])])
    positions = ((corners[:, None, :] + basis[None, :, :]).reshape(-1, 3)) * A0
    numbers = np.full(len(positions), 29)
    cell = np.diag(cells).astype(float) * A0
    potential.compute(numbers, positions, cell, [1, 1, 1], forces=True)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        potential.compute(numbers, positions, cell, [1, 1, 1], forces=True)
        best = min(best, time.perf_counter() - start)
    return best / len(positions) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("matnn", help="the matnn command (build/bin/matnn)")
    parser.add_argument("models", nargs="+", help="matnn potential files of copper")
    parser.add_argument("--cells", nargs="+", default=["8x8x16", "16x16x32"],
                        help="conventional fcc cells along x, y, z (default 8x8x16 and 16x16x32: 4096 and 32768 atoms)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=10, help="timed MD steps per run")
    parser.add_argument("--precision", choices=("float32", "float64"), default="float32",
                        help="of the KIM model and the C ABI calls (default float32, kim-install's)")
    args = parser.parse_args()
    if shutil.which("lmp") is None:
        sys.exit("lmp (Debian's lammps package) is not on PATH")
    scratch = tempfile.mkdtemp(prefix="matnn_kim_bench_")
    os.environ["KIM_API_PORTABLE_MODELS_DIR"] = os.path.join(scratch, "models")
    os.makedirs(os.environ["KIM_API_PORTABLE_MODELS_DIR"])
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f}, "
          f"{args.steps} steps per run, fcc Cu a0 {A0} A, NVE from 300 K, {args.precision}")
    print("| model | atoms | ranks | KIM (us/atom-step) | EAM (us/atom-step) | KIM / EAM | C ABI (us/atom) | KIM overhead |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    try:
        for k, model in enumerate(args.models):
            name = f"matnn_bench_{k}"
            result = subprocess.run([args.matnn, "kim-install", model, name, "--collection", "environment",
                                     "--precision", args.precision], capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"kim-install {model}: {result.stderr}")
            label = os.path.basename(model)
            for text in args.cells:
                cells = [int(c) for c in text.split("x")]
                atoms = 4 * cells[0] * cells[1] * cells[2]
                direct = c_abi_time(model, cells, repeats=2, precision=args.precision)
                script = os.path.join(scratch, f"in.{k}.{text}")
                with open(script, "w") as f:
                    f.write(lammps_script(name, cells, args.steps))
                for ranks in args.ranks:
                    kim, eam = run_lammps(script, ranks, os.path.join(scratch, f"log.{k}.{text}.{ranks}"))
                    overhead = f"{(kim / direct - 1) * 100:+.0f} %" if ranks == 1 else "-"
                    print(f"| {label} | {atoms} | {ranks} | {kim:.1f} | {eam:.2f} | {kim / eam:.0f} | {direct:.1f} | "
                          f"{overhead} |", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
