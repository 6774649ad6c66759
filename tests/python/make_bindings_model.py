#!/usr/bin/env python3
"""Setup of the bindings tests (CTest fixture "bindings_model"): trains small models with the
`matnn` command line and writes the test structure.

Usage: make_bindings_model.py MATNN_CLI WORKDIR

Writes into WORKDIR:
  cu.h5                 the first 60 structures of examples/data/cu_emt_md.extxyz (matnn convert)
  cu_bp.model.h5        a Behler-Parrinello potential, 2 members, a few epochs: a model that is
                        smooth and non-trivial, not an accurate one (the tests check the interfaces)
  cu_nequip.model.h5    the same for a tiny NequIP-style potential (2 interaction blocks, 8
                        channels, l_max 2, cutoff 4 A): the cases run with --model nequip use it
  alloys.h5, formation_energy.model.h5   a composition model (the "wrong kind" for potential calls)
  structure.txt         a rattled 2x2x2 fcc Cu cell (32 atoms) in md_example's plain format,
                        positions with 17 significant digits so every host reads the same doubles

Run with Debian's /usr/bin/python3 (ASE).
"""
import os
import subprocess
import sys
import time

import numpy as np
from ase.build import bulk
from ase.io import read, write

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

POTENTIAL_CONFIG = """\
dataset: {dir}/cu.h5
seed: 5
model:
  kind: behler_parrinello
  ensemble: 2
  cutoff: 4.5
  radial: {{count: 6, r_min: 1.5}}
  angular: {{zeta: [1, 4], lambda: [1, -1]}}
  hidden: [16, 16]
  activation: tanh
split: {{kind: random, validation: 0.1, test: 0.1}}
training:
  epochs: 4
  batch_size: 6
  forces_weight: 1.0
  stress_weight: 0.0
  ema_decay: 0.0
optimizer: {{name: adam, lr: 0.005}}
# A constant rate: in 4 epochs the recipe's cosine decay would stop learning too early.
schedule: {{name: constant}}
output:
  model: {dir}/cu_bp.model.h5
"""

# Two blocks (interaction range 8 A, longer than the 32-atom cell: messages cross periodic images
# twice), l_max 2 so that every coupling path up to l = 2 runs; about 3 s of training on one core.
NEQUIP_CONFIG = """\
dataset: {dir}/cu.h5
seed: 5
model:
  kind: nequip
  ensemble: 2
  cutoff: 4.0
  channels: 8
  l_max: 2
  num_layers: 2
  num_basis: 6
  radial_hidden: 16
  radial_layers: 1
  avg_num_neighbors: 18.0
split: {{kind: random, validation: 0.1, test: 0.1}}
training:
  epochs: 6
  batch_size: 6
  forces_weight: 1.0
  stress_weight: 0.0
  ema_decay: 0.0
optimizer: {{name: adam, lr: 0.005}}
schedule: {{name: constant}}
output:
  model: {dir}/cu_nequip.model.h5
"""

PROPERTY_CONFIG = """\
dataset: {dir}/alloys.h5
seed: 1
model: {{kind: composition_mlp, target: formation_energy, hidden: [8], ensemble: 1}}
split: {{kind: random, validation: 0.15, test: 0.15}}
training: {{epochs: 2, batch_size: 32}}
optimizer: {{name: adam, lr: 0.01}}
output:
  model: {dir}/formation_energy.model.h5
"""


def run(*args):
    start = time.time()
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    print(f"{' '.join(os.path.basename(a) for a in args[:2])}: {time.time() - start:.1f} s")


def write_structure(path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    atoms.rattle(stdev=0.05, seed=11)
    # A slightly sheared cell, so that off-diagonal stress and non-orthogonal cells are exercised.
    cell = atoms.cell.array.copy()
    cell[1, 0] += 0.15
    cell[2, 1] -= 0.1
    atoms.set_cell(cell, scale_atoms=True)
    with open(path, "w") as f:
        f.write("# rattled, sheared 2x2x2 fcc Cu (tests/python/make_bindings_model.py)\n")
        f.write(f"{len(atoms)}\n")
        for vector in atoms.cell.array:
            f.write(" ".join(f"{x:.17g}" for x in vector) + "\n")
        for z, position in zip(atoms.numbers, atoms.positions):
            f.write(f"{z} " + " ".join(f"{x:.17g}" for x in position) + "\n")


def main():
    matnn, workdir = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(workdir, exist_ok=True)
    frames = read(os.path.join(ROOT, "examples", "data", "cu_emt_md.extxyz"), index=":60")
    write(os.path.join(workdir, "cu.extxyz"), frames, format="extxyz")
    run(matnn, "convert", os.path.join(workdir, "cu.extxyz"), os.path.join(workdir, "cu.h5"))
    with open(os.path.join(workdir, "cu_bp.yaml"), "w") as f:
        f.write(POTENTIAL_CONFIG.format(dir=workdir))
    run(matnn, "train", os.path.join(workdir, "cu_bp.yaml"), "--quiet")
    with open(os.path.join(workdir, "cu_nequip.yaml"), "w") as f:
        f.write(NEQUIP_CONFIG.format(dir=workdir))
    run(matnn, "train", os.path.join(workdir, "cu_nequip.yaml"), "--quiet")

    run(matnn, "convert", os.path.join(ROOT, "examples", "data", "emt_alloys.extxyz"),
        os.path.join(workdir, "alloys.h5"))
    with open(os.path.join(workdir, "formation_energy.yaml"), "w") as f:
        f.write(PROPERTY_CONFIG.format(dir=workdir))
    run(matnn, "train", os.path.join(workdir, "formation_energy.yaml"), "--quiet")

    write_structure(os.path.join(workdir, "structure.txt"))


if __name__ == "__main__":
    main()
