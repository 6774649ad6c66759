"""matnn.train(..., comm=) from an mpi4py job (run by mpirun on 2 ranks; needs python3-mpi4py and
a build of matnn with MPI): every rank trains a composition model data-parallel on
MPI.COMM_WORLD and gets the model file when train() returns; rank 0 then trains the same config
on its own, and both models must predict the same values. Also: a comm that is neither an mpi4py
communicator nor an integer is refused before any training.

Usage: mpirun -np 2 python3 train_comm_case.py MATNN_CLI WORKDIR
"""
import json
import os
import subprocess
import sys

import numpy as np
from mpi4py import MPI

import matnn

cli, workdir = sys.argv[1], sys.argv[2]
comm = MPI.COMM_WORLD
os.makedirs(workdir, exist_ok=True)
data = os.path.join(workdir, "alloys.h5")
if comm.rank == 0:
    examples = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "data", "emt_alloys.extxyz")
    # A clean environment: the launcher's variables would make the child think it is a rank too.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "PMI_"))}
    subprocess.run([cli, "convert", examples, data], check=True, stdout=subprocess.DEVNULL, env=env)
comm.Barrier()


def config(name):
    path = os.path.join(workdir, name + ".json")
    body = {"dataset": data, "seed": 5,
            "model": {"target": "formation_energy", "hidden": [16], "ensemble": 2},
            "split": {"kind": "random", "validation": 0.2, "test": 0.2},
            "training": {"epochs": 4, "batch_size": 16},
            "output": {"model": os.path.join(workdir, name + ".h5")}}
    if comm.rank == 0:
        with open(path, "w") as f:
            json.dump(body, f)
    comm.Barrier()
    return path, body["output"]["model"]


failures = []
epochs_seen = []
path, model_path = config("ranks")
matnn.train(path, progress=lambda epoch, *_: epochs_seen.append(epoch) and False, comm=comm)
if not os.path.exists(model_path):
    failures.append(f"rank {comm.rank}: no model file when train() returned")
if comm.allreduce(len(epochs_seen), op=MPI.MIN) != comm.allreduce(len(epochs_seen), op=MPI.MAX):
    failures.append("ranks saw different numbers of epochs")
try:
    matnn.train(path, comm="world")
    failures.append("a string comm was accepted")
except TypeError:
    pass

serial_path, serial_model = config("serial")
if comm.rank == 0:
    matnn.train(serial_path)
    elements = [29, 79, 28, 46]  # Cu, Au, Ni, Pd
    fractions = [[0.75, 0.25, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5], [0.25, 0, 0.75, 0]]
    with matnn.PropertyModel(model_path) as a, matnn.PropertyModel(serial_model) as b:
        va = a.predict_compositions(elements, fractions)["values"]
        vb = b.predict_compositions(elements, fractions)["values"]
        if not np.allclose(va, vb, rtol=1e-5, atol=1e-6):
            failures.append(f"data-parallel and serial models differ: {va} {vb}")

failures = sum(comm.allgather(failures), [])
if comm.rank == 0:
    print("\n".join(failures) if failures else "train(comm=) on 2 ranks: as the serial run")
sys.exit(1 if failures else 0)
