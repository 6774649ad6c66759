#!/usr/bin/env python3
"""Read an extended XYZ file with ASE and dump what ASE sees as plain text, one item a line.

Usage: dump_extxyz_with_ase.py IN.extxyz OUT.txt

For every frame (numbers in repr form, so they read back exactly):
  frame <index>
  natoms <n>
  numbers <z...>
  pbc <0|1> <0|1> <0|1>
  cell <9 numbers, rows = lattice vectors>
  positions <3n numbers, row-major>
  info_num <key> <count> <values...>   numbers or bools (1/0) in atoms.info; 2-D arrays are
                                       flattened as the file lists them (Fortran order for
                                       ASE's 3x3 keys stress/virial, row-major for _JSON)
  info_str <key> <text up to the end of the line>
  timestamp <seconds>                  info["timestamp"] as seconds since 1970 (UTC)
  array <name> <ncols> <values...>     atoms.arrays other than numbers and positions (numeric)
  array_str <name>                     a string array (name only)
  calc <name> <count> <values...>      calculator results (stress in Voigt form)
  end
"""
import datetime
import sys

import numpy as np
from ase.io import read

SPECIAL_3_3_KEYS = ("Lattice", "virial", "stress")


def num(x):
    return repr(float(x))


def to_seconds(value):
    if isinstance(value, (int, np.integer)):
        return int(value)
    text = str(value)
    if len(text) == 10:
        text += "T00:00:00"
    text = text.replace("Z", "+00:00")
    t = datetime.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    frames = read(argv[1], index=":", format="extxyz")
    out = []
    for index, atoms in enumerate(frames):
        out.append("frame %d" % index)
        out.append("natoms %d" % len(atoms))
        out.append("numbers " + " ".join(str(int(z)) for z in atoms.numbers))
        out.append("pbc " + " ".join(str(int(bool(p))) for p in atoms.pbc))
        out.append("cell " + " ".join(num(x) for x in np.asarray(atoms.cell).ravel()))
        out.append("positions " + " ".join(num(x) for x in atoms.positions.ravel()))
        for key, value in atoms.info.items():
            if key == "timestamp":
                out.append("timestamp %d" % to_seconds(value))
                continue
            if isinstance(value, str):
                out.append("info_str %s %s" % (key, value))
                continue
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf":
                out.append("info_str %s %s" % (key, str(value)))
                continue
            order = "F" if key in SPECIAL_3_3_KEYS else "C"
            flat = arr.ravel(order=order)
            out.append("info_num %s %d %s" % (key, flat.size, " ".join(num(x) for x in flat)))
        for name, arr in atoms.arrays.items():
            if name in ("numbers", "positions"):
                continue
            if arr.dtype.kind not in "biuf":
                out.append("array_str %s" % name)
                continue
            ncols = 1 if arr.ndim == 1 else arr.shape[1]
            out.append("array %s %d %s" % (name, ncols, " ".join(num(x) for x in arr.ravel())))
        if atoms.calc is not None:
            for name, value in atoms.calc.results.items():
                flat = np.asarray(value, dtype=float).ravel()
                out.append("calc %s %d %s" % (name, flat.size, " ".join(num(x) for x in flat)))
        out.append("end")
    with open(argv[2], "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
