#!/usr/bin/env python3
"""Tests of examples/close_approach.py (a potential below its data's shortest distance), one case
per CTest test (tests/validate/CMakeLists.txt).

Usage: close_approach_cases.py CASE

Run with Debian's /usr/bin/python3 (ASE, numpy) and PYTHONPATH=<repo>/python.

  self   the command line with ASE's EMT as both model and reference: the two scans agree, EMT
         pushes the atom back at every distance, exit 0, and the JSON holds the scan
  well   scan() of an attractive Lennard-Jones pair (sigma 1.2 A, so still attractive at 1.9 A)
         against EMT: spurious_wells() finds every distance; the same scan of EMT finds none
  usage  exit 2 and a message naming the thing: a distance beyond the nearest neighbours, a
         missing model file, an unknown element
"""
import json
import os
import subprocess
import sys
import tempfile

from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "examples", "close_approach.py")
sys.path.insert(0, os.path.dirname(SCRIPT))
import close_approach  # noqa: E402

CU = ["--lattice", "fcc", "--element", "Cu", "--a0", "3.6", "--supercell", "2"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def cli(*args):
    result = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)
    print(f"$ close_approach.py {' '.join(args)}\n  exit {result.returncode}\n{result.stdout}{result.stderr}")
    return result.returncode, result.stdout, result.stderr


def case_self():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "scan.json")
        code, stdout, _ = cli("emt", "--reference", "emt", *CU, "--distances", "2.2,2.0,1.8", "--json", out)
        check(code == 0, f"exit {code}, expected 0")
        check("repulsive wherever the reference is" in stdout, "verdict missing")
        with open(out) as f:
            scan = json.load(f)
        check([r["distance"] for r in scan["model"]] == [2.2, 2.0, 1.8], "distances not kept")
        for m, r in zip(scan["model"], scan["reference_scan"]):
            check(abs(m["energy"] - r["energy"]) < 1e-12 and abs(m["force"] - r["force"]) < 1e-12,
                  f"model and reference differ at {m['distance']}")
            check(r["force"] < 0, f"EMT does not push back at {r['distance']}")
        energies = [r["energy"] for r in scan["model"]]
        check(energies == sorted(energies), f"energy does not rise as the pair closes: {energies}")
        check(os.listdir(tmp) == ["scan.json"], f"left behind: {os.listdir(tmp)}")


def case_well():
    perfect = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    distances = [2.2, 2.0, 1.9]
    reference = close_approach.scan(EMT(), perfect, distances)
    attractive = close_approach.scan(LennardJones(sigma=1.2, epsilon=0.5, rc=3.0), perfect, distances)
    wells = close_approach.spurious_wells(attractive, reference)
    check(wells == distances, f"wells {wells}, expected {distances}: {attractive}")
    check(close_approach.spurious_wells(reference, reference) == [], "EMT against itself has a well")


def case_usage():
    for args, needle in [
            (["emt", "--reference", "emt", *CU, "--distances", "3.0"], "nearest-neighbour distance"),
            (["emt", "--reference", "emt", *CU, "--distances", "2,x"], "--distances"),
            (["missing.model.h5", "--reference", "emt", *CU], "missing.model.h5"),
            (["emt", "--reference", "emt", "--lattice", "fcc", "--element", "Xx", "--a0", "3.6"], "Xx")]:
        code, _, stderr = cli(*args)
        check(code == 2, f"exit {code}, expected 2 for {args}")
        check(needle in stderr, f"message does not name {needle!r}: {stderr}")


if __name__ == "__main__":
    {"self": case_self, "well": case_well, "usage": case_usage}[sys.argv[1]]()
