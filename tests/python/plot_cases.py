#!/usr/bin/env python3
"""Tests of python/matnn/plot.py (parity plots and learning curves), one case per CTest test
(tests/plot/CMakeLists.txt).

Usage: plot_cases.py CASE MATNN_CLI WORKDIR

WORKDIR is the bindings fixture's folder (tests/python/make_bindings_model.py): cu.h5, the
2-member Behler-Parrinello model cu_bp.model.h5 and its logs cu_bp.model.h5.log.csv.memberK.csv.
Run with Debian's /usr/bin/python3 (ASE, matplotlib), PYTHONPATH=<repo>/python, MPLBACKEND=Agg.

  plots   `matnn predict` of the fixture model on cu.h5 into extended XYZ, then
          `python -m matnn.plot parity` and `curves` (both member logs): exit 0, valid PNGs of
          nonzero size, no temporary file left beside them; the printed MAE and RMSE match a
          direct computation from the extended XYZ, and the ensemble's sigma is nonzero
  usage   exit 2 with a message naming the file: predictions without REF_ labels, labels without
          predictions, a missing file, -o equal to the input (parity and curves), a file that is
          not a training log, a missing output folder, no subcommand
"""
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np
from ase.io import read, write

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def plot(*args):
    """Runs python -m matnn.plot ARGS; returns (exit status, stdout, stderr)."""
    start = time.time()
    result = subprocess.run([sys.executable, "-m", "matnn.plot", *args], capture_output=True, text=True)
    print(f"$ matnn.plot {' '.join(args)}\n  exit {result.returncode} in {time.time() - start:.1f} s")
    print(result.stdout, end="")
    if result.stderr:
        print(result.stderr, end="", file=sys.stderr)
    return result.returncode, result.stdout, result.stderr


def predict(matnn, workdir, out):
    result = subprocess.run([matnn, "predict", os.path.join(workdir, "cu_bp.model.h5"),
                             os.path.join(workdir, "cu.h5"), "-o", out], capture_output=True, text=True)
    check(result.returncode == 0, f"matnn predict: exit {result.returncode}\n{result.stdout}\n{result.stderr}")


def check_png(path):
    """A PNG: the signature, a nonzero IHDR size, every chunk's CRC, ending in IEND."""
    check(os.path.isfile(path), f"{path} was not written")
    with open(path, "rb") as f:
        data = f.read()
    check(len(data) > 1000, f"{path}: only {len(data)} bytes")
    check(data.startswith(PNG_SIGNATURE), f"{path}: no PNG signature")
    position, chunks = len(PNG_SIGNATURE), []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        crc = struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0]
        check(zlib.crc32(kind + body) == crc, f"{path}: bad CRC of chunk {kind!r}")
        chunks.append((kind, body))
        position += 12 + length
    check(chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND", f"{path}: chunks {[c[0] for c in chunks]}")
    width, height = struct.unpack(">II", chunks[0][1][:8])
    check(width > 100 and height > 100, f"{path}: {width} x {height} pixels")
    leftovers = [n for n in os.listdir(os.path.dirname(path)) if n.startswith("." + os.path.basename(path))]
    check(not leftovers, f"temporary files left beside {path}: {leftovers}")
    print(f"  {path}: PNG {width} x {height}, {len(data)} bytes")


def printed_errors(stdout):
    """{quantity: (MAE, RMSE)} from the lines the parity command prints."""
    numbers = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) >= 6 and words[1] == "MAE" and words[4] == "RMSE":
            numbers[words[0]] = (float(words[2]), float(words[5]))
    return numbers


def case_plots(matnn, workdir, tmp):
    predictions = os.path.join(tmp, "cu_pred.extxyz")
    predict(matnn, workdir, predictions)
    parity_png = os.path.join(tmp, "parity.png")
    status, stdout, _ = plot("parity", predictions, "-o", parity_png, "--title", "fixture Cu model")
    check(status == 0, f"parity: exit {status}")
    check_png(parity_png)

    # The numbers on the panels, computed here from the file.
    frames = read(predictions, index=":")
    check(len(frames) > 0, "no frames")
    e_ref = np.array([a.info["REF_energy"] / len(a) for a in frames])
    e_pred = np.array([a.get_potential_energy() / len(a) for a in frames])
    f_ref = np.concatenate([a.arrays["REF_forces"].ravel() for a in frames])
    f_pred = np.concatenate([a.get_forces().ravel() for a in frames])
    sigma = np.array([a.info.get("energy_sigma", 0.0) for a in frames])
    check(np.any(sigma > 0), "the 2-member ensemble has no energy_sigma: the error bars are not exercised")
    expected = {"energy": (1000 * np.mean(np.abs(e_pred - e_ref)), 1000 * np.sqrt(np.mean((e_pred - e_ref) ** 2))),
                "forces": (1000 * np.mean(np.abs(f_pred - f_ref)), 1000 * np.sqrt(np.mean((f_pred - f_ref) ** 2)))}
    printed = printed_errors(stdout)
    for name, (mae, rmse) in expected.items():
        check(name in printed, f"parity printed no {name} errors:\n{stdout}")
        check(abs(printed[name][0] - mae) <= 1e-3 * mae and abs(printed[name][1] - rmse) <= 1e-3 * rmse,
              f"{name}: printed MAE, RMSE {printed[name]}, computed {mae:.4g}, {rmse:.4g}")
    check("stress" in printed, f"parity printed no stress errors (fully periodic cells):\n{stdout}")

    logs = sorted(os.path.join(workdir, n) for n in os.listdir(workdir)
                  if n.startswith("cu_bp.model.h5.log.csv.member") and n.endswith(".csv"))
    check(len(logs) == 2, f"expected 2 member logs in {workdir}, found {logs}")
    curves_png = os.path.join(tmp, "curves.png")
    status, _, _ = plot("curves", *logs, "-o", curves_png)
    check(status == 0, f"curves: exit {status}")
    check_png(curves_png)


def case_usage(matnn, workdir, tmp):
    predictions = os.path.join(tmp, "cu_pred.extxyz")
    predict(matnn, workdir, predictions)
    out = os.path.join(tmp, "out.png")
    frames = read(predictions, index=":")

    # Predictions without REF_ labels.
    no_ref = os.path.join(tmp, "no_ref.extxyz")
    for atoms in frames:
        for key in [k for k in atoms.info if k.startswith("REF_")]:
            del atoms.info[key]
        del atoms.arrays["REF_forces"]
    write(no_ref, frames, format="extxyz")
    # REF_ labels without predictions.
    no_pred = os.path.join(tmp, "no_pred.extxyz")
    labels_only = read(predictions, index=":")
    for atoms in labels_only:
        atoms.calc = None
        for key in ("energy", "stress", "energy_sigma", "max_force_deviation"):
            atoms.info.pop(key, None)
        for key in ("forces", "energies", "force_deviation"):
            if key in atoms.arrays:
                del atoms.arrays[key]
    write(no_pred, labels_only, format="extxyz")

    log = os.path.join(workdir, "cu_bp.model.h5.log.csv.member0.csv")
    missing = os.path.join(tmp, "missing.extxyz")
    cases = [
        (["parity", no_ref, "-o", out], no_ref, "REF_"),
        (["parity", no_pred, "-o", out], no_pred, "no predictions"),
        (["parity", missing, "-o", out], missing, "no such file"),
        (["parity", predictions, "-o", predictions], predictions, "overwrite"),
        (["parity", predictions, "-o", os.path.join(tmp, ".", "cu_pred.extxyz")], predictions, "overwrite"),
        (["parity", predictions, "-o", os.path.join(tmp, "no", "such", "folder.png")], "folder", "does not exist"),
        (["curves", os.path.join(tmp, "missing.csv"), "-o", out], "missing.csv", "no such file"),
        (["curves", log, "-o", log], log, "overwrite"),
        (["curves", predictions, "-o", out], predictions, "not a matnn training log"),
        ([], "", "required"),
    ]
    for args, name, phrase in cases:
        status, _, stderr = plot(*args)
        check(status == 2, f"matnn.plot {' '.join(args)}: exit {status}, expected 2")
        check(name in stderr and phrase in stderr, f"matnn.plot {' '.join(args)}: message lacks "
              f"{name!r} and {phrase!r}: {stderr}")
    check(not os.path.exists(out), f"{out} was written by a refused command")
    with open(log) as f:
        check(f.readline().startswith("epoch,"), f"{log} was overwritten")
    check(os.path.getsize(predictions) > 1000, f"{predictions} was overwritten")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    case, matnn, workdir = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    cases = {"plots": case_plots, "usage": case_usage}
    if case not in cases:
        sys.exit(f"unknown case {case!r}: expected one of {', '.join(cases)}")
    with tempfile.TemporaryDirectory(prefix="matnn_plot_") as tmp:
        cases[case](matnn, workdir, tmp)
    print(f"plot.{case}: passed")


if __name__ == "__main__":
    main()
