#!/usr/bin/env python3
"""Check with ASE that an extended XYZ file written by matnn carries the same frames as the
original (ASE-written) file. Exits 0 if they agree, 1 listing every difference otherwise.

Usage: compare_extxyz_with_ase.py ORIGINAL.extxyz MATNN.extxyz
           [--energy-key K] [--forces-key K] [--stress-key K] [--free-energy-key K] [--rtol R]

What matnn is documented to change, and that is therefore accepted here:
  * per-atom string arrays other than the symbols are not carried;
  * per-atom integer and bool arrays come back as real arrays of the same values, and bool
    info values as 1/0;
  * timestamp comes back as integer seconds (the original may be an ISO 8601 string);
  * stress under the stress key is compared in Voigt form (matnn always writes 9 numbers);
  * info arrays of more than one dimension (ASE's _JSON) come back flattened;
  * with renamed keys (e.g. --energy-key REF_energy) the original's plain energy/forces/stress
    /free_energy, which matnn ignores when reading, are not expected in matnn's file.
"""
import argparse
import datetime
import sys

import numpy as np
from ase.io import read


def seconds(value):
    if isinstance(value, (int, np.integer)):
        return int(value)
    text = str(value)
    if len(text) == 10:
        text += "T00:00:00"
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())


def voigt(value):
    a = np.asarray(value, dtype=float)
    if a.shape == (3, 3):
        return np.array([a[0, 0], a[1, 1], a[2, 2], a[1, 2], a[0, 2], a[0, 1]])
    a = a.ravel()
    if a.size == 9:  # Fortran order, as ASE reads a 3x3 key
        return a[[0, 4, 8, 7, 6, 3]]
    return a


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("original")
    p.add_argument("matnn")
    p.add_argument("--energy-key", default="energy")
    p.add_argument("--forces-key", default="forces")
    p.add_argument("--stress-key", default="stress")
    p.add_argument("--free-energy-key", default="free_energy")
    p.add_argument("--rtol", type=float, default=1e-12)
    args = p.parse_args()

    keys = {"energy": args.energy_key, "forces": args.forces_key, "stress": args.stress_key,
            "free_energy": args.free_energy_key}
    ignored = {name for name, key in keys.items() if key != name}  # remapped: plain name is dropped
    problems = []

    def close(where, a, b):
        a = np.asarray(a, dtype=float).ravel()
        b = np.asarray(b, dtype=float).ravel()
        if a.shape != b.shape:
            problems.append("%s: shape %s != %s" % (where, a.shape, b.shape))
            return
        bad = np.abs(a - b) > args.rtol * np.maximum(np.abs(a), np.abs(b))
        if bad.any():
            i = int(np.argmax(bad))
            problems.append("%s: %r != %r (element %d)" % (where, a[i], b[i], i))

    orig = read(args.original, index=":", format="extxyz")
    mine = read(args.matnn, index=":", format="extxyz")
    if len(orig) != len(mine):
        problems.append("frame count %d != %d" % (len(orig), len(mine)))
    for f, (a, b) in enumerate(zip(orig, mine)):
        w = "frame %d" % f
        if list(a.numbers) != list(b.numbers):
            problems.append("%s: numbers %s != %s" % (w, list(a.numbers), list(b.numbers)))
            continue
        if list(a.pbc) != list(b.pbc):
            problems.append("%s: pbc %s != %s" % (w, a.pbc, b.pbc))
        close(w + " positions", a.positions, b.positions)
        close(w + " cell", np.asarray(a.cell), np.asarray(b.cell))

        info_a = {k: v for k, v in a.info.items() if k not in ignored}
        if set(info_a) != set(b.info):
            problems.append("%s: info keys %s != %s" % (w, sorted(info_a), sorted(b.info)))
        for k in set(info_a) & set(b.info):
            va, vb = info_a[k], b.info[k]
            if k == "timestamp":
                if seconds(va) != seconds(vb):
                    problems.append("%s: timestamp %r != %r" % (w, va, vb))
            elif isinstance(va, str) or isinstance(vb, str):
                if va != vb:
                    problems.append("%s: info %s %r != %r" % (w, k, va, vb))
            elif k == args.stress_key:
                close("%s info %s" % (w, k), voigt(va), voigt(vb))
            else:
                close("%s info %s" % (w, k), va, vb)

        skip = ignored | {"numbers", "positions"}
        arrays_a = {k: v for k, v in a.arrays.items() if v.dtype.kind in "biuf" and k not in skip}
        arrays_b = {k: v for k, v in b.arrays.items() if k not in skip}
        if set(arrays_a) != set(arrays_b):
            problems.append("%s: arrays %s != %s" % (w, sorted(arrays_a), sorted(arrays_b)))
        for k in set(arrays_a) & set(arrays_b):
            close("%s array %s" % (w, k), arrays_a[k], arrays_b[k])

        res_a = {k: v for k, v in (a.calc.results.items() if a.calc else []) if k not in ignored}
        res_b = dict(b.calc.results) if b.calc else {}
        if set(res_a) != set(res_b):
            problems.append("%s: calculator results %s != %s" % (w, sorted(res_a), sorted(res_b)))
        for k in set(res_a) & set(res_b):
            close("%s calc %s" % (w, k), res_a[k], res_b[k])

    for line in problems:
        print(line)
    print("%d frames compared, %d differences" % (len(orig), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
