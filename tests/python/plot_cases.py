#!/usr/bin/env python3
"""Tests of python/matnn/plot.py (parity plots, property pictures and learning curves) and of
`matnn plot`, one case per CTest test (tests/plot/CMakeLists.txt).

Usage: plot_cases.py CASE MATNN_CLI WORKDIR

For plots and usage, WORKDIR is the bindings fixture's folder (tests/python/make_bindings_model.py):
cu.h5, the 2-member Behler-Parrinello model cu_bp.model.h5 and its logs
cu_bp.model.h5.log.csv.memberK.csv. For the property cases it is the plot fixture's folder, which
setup_property fills. Run with Debian's /usr/bin/python3 (ASE, matplotlib), PYTHONPATH=<repo>/python,
MPLBACKEND=Agg.

  plots   `matnn predict` of the fixture model on cu.h5 into extended XYZ, then
          `python -m matnn.plot parity` and `curves` (both member logs): exit 0, valid PNGs of
          nonzero size, no temporary file left beside them; the printed MAE and RMSE match a
          direct computation from the extended XYZ, and the ensemble's sigma is nonzero
  usage   exit 2 with a message naming the file: predictions without REF_ labels, labels without
          predictions, a missing file, -o equal to the input (parity and curves), a file that is
          not a training log, a missing output folder, no subcommand
  setup_property   the fixture: converts examples/data/emt_alloys.extxyz, trains a composition-MLP
          ensemble of 2 for formation_energy and an is_stable classifier (6 epochs each, seconds)
          and `matnn predict`s both into CSV
  property   `matnn.plot property` of the ensemble's CSV: MAE, RMSE, R^2, counts and every point of
          the calibration curve against a computation here (coverage counted with the normal
          quantile of statistics.NormalDist, the miscalibration area by quadrature); constructed
          CSVs with known answers (area 1/(4n) for errors at the levels (k + 1/2)/n, 1/2 for exact
          predictions, an overconfident case), columns in another order with an unknown extra
          column and rows without a target; all sigmas 0 (no calibration panel, a note); the
          classifier's confusion matrix against counts here; curves of property-model logs
  property_usage   exit 2 with a message naming the file: a missing file, a CSV without the
          target column, without any target value, not a property CSV, a row with an extra field,
          a NaN prediction, -o equal to the input, a missing output folder, an unknown format
  cli     `matnn plot property ...` through the executable prints what python -m matnn.plot
          prints and writes the picture (a file name with a space and quotes); the exit status
          passes through (2); --help; a stand-in package (MATNN_PYTHONPATH) shows the argument
          vector and an exit status of 7 arrive unchanged; a missing MATNN_PYTHON is exit 9
"""
import csv
import json
import os
import statistics
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


# --------------------------------------------------------------------------- property models
#
# The property cases use the plot fixture's folder (setup_property): a composition-MLP ensemble of
# 2 for formation_energy and a classifier for is_stable, trained for a few epochs on the shipped
# EMT alloys, and their `matnn predict` CSVs.

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALLOYS = os.path.join(ROOT, "examples", "data", "emt_alloys.extxyz")

PROPERTY_CONFIG = """dataset: {dataset}
seed: 5
model: {{kind: composition_mlp, task: {task}, target: {target}, hidden: [16], ensemble: {ensemble}}}
split: {{kind: composition, validation: 0.2, test: 0.2}}
training: {{epochs: 6, batch_size: 16}}
output: {{model: {model}}}
"""


def run_matnn(matnn, *args, env=None):
    start = time.time()
    result = subprocess.run([matnn, *args], capture_output=True, text=True, env=env)
    print(f"$ matnn {' '.join(args)}\n  exit {result.returncode} in {time.time() - start:.1f} s")
    return result


def case_setup_property(matnn, workdir, tmp):
    """The fixture: writes alloys.h5, fe.model.h5 (+ member logs), fe_pred.csv, stable.model.h5,
    stable_pred.csv into WORKDIR."""
    os.makedirs(workdir, exist_ok=True)
    data = os.path.join(workdir, "alloys.h5")
    steps = [["convert", ALLOYS, data]]
    for name, task, target, ensemble in (("fe", "regression", "formation_energy", 2),
                                         ("stable", "classification", "is_stable", 1)):
        config = os.path.join(workdir, name + ".yaml")
        model = os.path.join(workdir, name + ".model.h5")
        with open(config, "w") as f:
            f.write(PROPERTY_CONFIG.format(dataset=data, task=task, target=target, ensemble=ensemble, model=model))
        steps += [["train", config, "--quiet"], ["predict", model, data, "-o", os.path.join(workdir, name + "_pred.csv")]]
    for args in steps:
        result = run_matnn(matnn, *args)
        check(result.returncode == 0, f"matnn {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")


def read_csv(path):
    """{column: list of strings} of a CSV file."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {name: [row[k] for row in rows[1:] if row] for k, name in enumerate(rows[0])}


def write_csv(path, columns):
    """Writes {column: values} (same lengths) as CSV in the columns' order."""
    names = list(columns)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for row in zip(*(columns[n] for n in names)):
            w.writerow(row)


def printed_numbers(stdout):
    """The `name value` lines `matnn.plot property` prints: name -> value (the rest of the line)."""
    numbers = {}
    for line in stdout.splitlines():
        words = line.split(None, 1)
        if len(words) == 2 and not line.startswith("wrote "):
            numbers[words[0]] = words[1]
    return numbers


def observed_coverage(error, sigma, p):
    """The fraction of rows with |error| <= z(p) sigma, z the (1 + p)/2 normal quantile."""
    z = statistics.NormalDist().inv_cdf((1 + p) / 2) if p > 0 else 0.0
    return float(np.mean(np.abs(error) <= z * sigma))


def dense_area(error, sigma, points=20001):
    """The miscalibration area by the midpoint rule on a fine grid of p (independent of plot.py)."""
    normal = statistics.NormalDist()
    ratio = np.sort(np.abs(error) / sigma)
    p = (np.arange(points) + 0.5) / points
    z = np.array([normal.inv_cdf((1 + q) / 2) for q in p])
    observed = np.searchsorted(ratio, z, side="right") / ratio.size
    return float(np.mean(np.abs(observed - p)))


def import_plot():
    import matnn.plot
    return matnn.plot


def check_regression_numbers(numbers, path):
    """MAE, RMSE, R^2 and counts of the picture of PATH against a computation from the CSV."""
    columns = read_csv(path)
    keep = [k for k, cell in enumerate(columns["formation_energy"]) if cell.strip()]
    y = np.array([float(columns["formation_energy"][k]) for k in keep])
    pred = np.array([float(columns["formation_energy_predicted"][k]) for k in keep])
    ood = np.array([int(columns["ood"][k]) for k in keep])
    error = pred - y
    expected = {"mae": np.mean(np.abs(error)), "rmse": np.sqrt(np.mean(error ** 2)),
                "r2": 1 - np.sum(error ** 2) / np.sum((y - y.mean()) ** 2)}
    for name, value in expected.items():
        check(abs(numbers[name] - value) <= 1e-9 * max(abs(value), 1e-12),
              f"{name}: drawn {numbers[name]!r}, computed {value!r}")
    check(numbers["count"] == len(keep) and numbers["ood"] == int(ood.sum())
          and numbers["without_target"] == len(columns["formation_energy"]) - len(keep),
          f"counts {numbers['count']}, {numbers['ood']}, {numbers['without_target']}; file {len(keep)} rows with "
          f"a target, {int(ood.sum())} OOD")
    return error, np.array([float(columns["formation_energy_sigma"][k]) for k in keep])


def case_property(matnn, workdir, tmp):
    plot_module = import_plot()
    predictions = os.path.join(workdir, "fe_pred.csv")

    # 1. The trained ensemble's predictions, from the command line and from Python.
    out = os.path.join(tmp, "parity.png")
    status, stdout, _ = plot("property", predictions, "-o", out, "--title", "tiny composition MLP")
    check(status == 0, f"property: exit {status}")
    check_png(out)
    numbers = plot_module.property(predictions, os.path.join(tmp, "again.png"))
    check_png(os.path.join(tmp, "again.png"))
    error, sigma = check_regression_numbers(numbers, predictions)
    printed = printed_numbers(stdout)
    for name in ("mae", "rmse", "r2"):
        check(abs(float(printed[name]) - numbers[name]) <= 1e-5 * abs(numbers[name]),
              f"printed {name} {printed[name]}, returned {numbers[name]}")
    check(numbers["task"] == "regression" and numbers["target"] == "formation_energy", str(numbers))
    check(np.all(sigma > 0), "the 2-member ensemble has a zero sigma: the calibration panel is not exercised")
    curve = numbers["calibration"]
    check(curve is not None, "no calibration curve for an ensemble with nonzero sigma")
    for p, drawn in zip(curve["expected"], curve["observed"]):
        if 0 < p < 1:
            check(abs(drawn - observed_coverage(error, sigma, p)) <= 1.0 / error.size + 1e-12,
                  f"coverage at p = {p}: drawn {drawn}, counted {observed_coverage(error, sigma, p)}")
    area = dense_area(error, sigma)
    check(abs(curve["miscalibration_area"] - area) <= 1e-3,
          f"miscalibration area {curve['miscalibration_area']}, by quadrature {area}")
    check(abs(float(printed["miscalibration_area"]) - curve["miscalibration_area"]) <= 1e-5, printed)

    # 2. Constructed CSVs with known answers, columns in another order, an unknown extra column
    # and rows without a target.
    n = 40
    levels = (np.arange(n) + 0.5) / n          # each row at its own coverage level
    normal = statistics.NormalDist()
    z = np.array([normal.inv_cdf((1 + q) / 2) for q in levels])
    s = np.linspace(0.1, 0.5, n)
    target = np.linspace(-1, 1, n)
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)

    def constructed(name, errors, sigmas, ood=None, blank=()):
        path = os.path.join(tmp, name)
        pred = target + errors
        write_csv(path, {
            "band_gap": ["" if k in blank else repr(float(v)) for k, v in enumerate(target)],
            "comment": ["free text, ignored"] * n,
            "ood": [int(v) for v in (ood if ood is not None else np.zeros(n))],
            "band_gap_sigma": [repr(float(v)) for v in sigmas],
            "id": [f"x{k}" for k in range(n)],
            "band_gap_predicted": [repr(float(v)) for v in pred],
        })
        return path

    # Calibrated to the grid: every level once, so the area is exactly 1 / (4 n).
    ood = (np.arange(n) % 5 == 0).astype(int)
    path = constructed("calibrated.csv", sign * z * s, s, ood=ood)
    result = plot_module.property(path, os.path.join(tmp, "calibrated.png"))
    check_png(os.path.join(tmp, "calibrated.png"))
    area = result["calibration"]["miscalibration_area"]
    check(abs(area - 1 / (4 * n)) <= 1e-9, f"calibrated CSV: area {area}, expected {1 / (4 * n)}")
    check(result["ood"] == int(ood.sum()) and result["in_distribution"] == n - int(ood.sum()), str(result))
    for p in (0.1, 0.25, 0.5, 0.68, 0.9, 0.95):
        k = int(round(p * 100))
        drawn = result["calibration"]["observed"][k]
        check(abs(result["calibration"]["expected"][k] - p) < 1e-12, "the grid is 0, 0.01, ..., 1")
        check(abs(drawn - np.mean(levels <= p)) <= 1e-12, f"calibrated, p = {p}: {drawn}, expected {np.mean(levels <= p)}")
    # Overconfident: errors of twice the calibrated size; quadrature gives the area.
    path = constructed("overconfident.csv", 2 * sign * z * s, s)
    result = plot_module.property(path, os.path.join(tmp, "overconfident.png"))
    expected = dense_area(2 * sign * z * s, s)
    check(abs(result["calibration"]["miscalibration_area"] - expected) <= 1e-3,
          f"overconfident: area {result['calibration']['miscalibration_area']}, quadrature {expected}")
    check(expected > 0.1, f"overconfident area only {expected}")
    # Exact predictions: every row is inside every interval, so the area is 1/2.
    path = constructed("exact.csv", np.zeros(n), s, blank=(3, 7))
    result = plot_module.property(path, os.path.join(tmp, "exact.png"))
    check(abs(result["calibration"]["miscalibration_area"] - 0.5) <= 1e-12, str(result["calibration"]))
    check(result["mae"] == 0 and result["count"] == n - 2 and result["without_target"] == 2, str(result))
    # Every sigma 0: one panel, no calibration, a note; still exit 0.
    path = constructed("no_sigma.csv", sign * 0.1, np.zeros(n))
    status, stdout, _ = plot("property", path, "-o", os.path.join(tmp, "no_sigma.png"))
    check(status == 0, f"all sigmas 0: exit {status}")
    check_png(os.path.join(tmp, "no_sigma.png"))
    check("every sigma is 0" in stdout and "miscalibration_area" not in stdout, stdout)
    result = plot_module.property(path, os.path.join(tmp, "no_sigma2.png"))
    check(result["calibration"] is None and "every sigma is 0" in result["note"], str(result))
    check(abs(result["mae"] - 0.1) <= 1e-12, str(result["mae"]))

    # 3. The classifier: the confusion matrix counted here from its CSV.
    predictions = os.path.join(workdir, "stable_pred.csv")
    status, stdout, _ = plot("property", predictions, "-o", os.path.join(tmp, "confusion.png"))
    check(status == 0, f"classifier: exit {status}")
    check_png(os.path.join(tmp, "confusion.png"))
    result = plot_module.property(predictions, os.path.join(tmp, "confusion2.png"))
    columns = read_csv(predictions)
    matrix = np.zeros((2, 2), dtype=int)
    for truth, predicted in zip(columns["is_stable"], columns["is_stable_predicted"]):
        if truth.strip():
            matrix[int(float(truth)), int(float(predicted))] += 1
    check(result["task"] == "classification" and np.array_equal(result["confusion"], matrix),
          f"confusion {result.get('confusion')}, counted {matrix}")
    check(abs(result["accuracy"] - np.trace(matrix) / matrix.sum()) <= 1e-12, str(result["accuracy"]))
    printed = printed_numbers(stdout)
    check(printed.get("confusion_0") == f"{matrix[0, 0]} {matrix[0, 1]}"
          and printed.get("confusion_1") == f"{matrix[1, 0]} {matrix[1, 1]}", stdout)

    # 4. Learning curves of property-model logs (val_mae_std_units; val_accuracy).
    logs = [os.path.join(workdir, "fe.model.h5.log.csv.member0.csv"), os.path.join(workdir, "fe.model.h5.log.csv.member1.csv"),
            os.path.join(workdir, "stable.model.h5.log.csv")]
    logs = [log for log in logs if os.path.exists(log)]
    check(len(logs) == 3, f"expected three property-model logs in {workdir}: {os.listdir(workdir)}")
    drawn = plot_module.curves(logs, os.path.join(tmp, "curves.png"))
    check_png(os.path.join(tmp, "curves.png"))
    check(plot_module._metric_columns(list(drawn.values())) == ["val_mae_std_units", "val_accuracy"],
          f"metric columns {plot_module._metric_columns(list(drawn.values()))}")


def case_property_usage(matnn, workdir, tmp):
    predictions = os.path.join(workdir, "fe_pred.csv")
    columns = read_csv(predictions)
    out = os.path.join(tmp, "out.png")
    no_target = os.path.join(tmp, "no_target.csv")
    write_csv(no_target, {k: v for k, v in columns.items() if k != "formation_energy"})
    empty_target = os.path.join(tmp, "empty_target.csv")
    write_csv(empty_target, {k: (["" for _ in v] if k == "formation_energy" else v) for k, v in columns.items()})
    not_property = os.path.join(tmp, "not_property.csv")
    write_csv(not_property, {"epoch": ["0"], "train_loss": ["1.0"]})
    bad_number = os.path.join(tmp, "bad_number.csv")
    # One field too many on line 2.
    with open(bad_number, "w") as f:
        f.write(",".join(columns) + "\n")
        rows = list(zip(*columns.values()))
        f.write(",".join(rows[0]) + ",extra\n")
        for row in rows[1:]:
            f.write(",".join(row) + "\n")
    nan_value = os.path.join(tmp, "nan_value.csv")
    write_csv(nan_value, {k: (["nan"] + v[1:] if k == "formation_energy_predicted" else v) for k, v in columns.items()})
    missing = os.path.join(tmp, "missing.csv")
    cases = [
        (["property", missing, "-o", out], missing, "no such file"),
        (["property", no_target, "-o", out], no_target, "no target column 'formation_energy'"),
        (["property", empty_target, "-o", out], empty_target, "no row has a value of 'formation_energy'"),
        (["property", not_property, "-o", out], not_property, "not the predictions of a property model"),
        (["property", bad_number, "-o", out], bad_number, "line 2"),
        (["property", nan_value, "-o", out], nan_value, "line 2: formation_energy_predicted is nan"),
        (["property", predictions, "-o", predictions], predictions, "overwrite"),
        (["property", predictions, "-o", os.path.join(workdir, ".", "fe_pred.csv")], predictions, "overwrite"),
        (["property", predictions, "-o", os.path.join(tmp, "no", "such", "folder.png")], "folder", "does not exist"),
        (["property", predictions, "-o", os.path.join(tmp, "p.unknown")], "p.unknown", "unknown picture format"),
        (["property", predictions], "", "-o"),
    ]
    before = open(predictions, "rb").read()
    for args, name, phrase in cases:
        status, _, stderr = plot(*args)
        check(status == 2, f"matnn.plot {' '.join(args)}: exit {status}, expected 2")
        check(name in stderr and phrase in stderr, f"matnn.plot {' '.join(args)}: message lacks "
              f"{name!r} and {phrase!r}: {stderr}")
    check(not os.path.exists(out), f"{out} was written by a refused command")
    check(open(predictions, "rb").read() == before, f"{predictions} was changed")
    plot_module = import_plot()
    try:
        plot_module.property(no_target, out)
    except plot_module.UsageError as e:
        check(no_target in str(e) and isinstance(e, ValueError), str(e))
    else:
        raise AssertionError("property() accepted a CSV without the target column")


def case_cli(matnn, workdir, tmp):
    """`matnn plot ...` runs python -m matnn.plot with the same arguments and exit status."""
    predictions = os.path.join(workdir, "fe_pred.csv")
    # A file name with a space and a quote: the arguments travel as a vector, not through a shell.
    out = os.path.join(tmp, "my \"parity\" plot.png")
    result = run_matnn(matnn, "plot", "property", predictions, "-o", out, "--title", "title with  two spaces; $HOME")
    check(result.returncode == 0, f"matnn plot property: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    check_png(out)
    direct = subprocess.run([sys.executable, "-m", "matnn.plot", "property", predictions, "-o",
                             os.path.join(tmp, "direct.png")], capture_output=True, text=True)
    check(direct.returncode == 0, direct.stderr)
    strip = lambda text: [line for line in text.splitlines() if not line.startswith("wrote ")]
    check(strip(result.stdout) == strip(direct.stdout), f"matnn plot printed\n{result.stdout}\npython printed\n{direct.stdout}")

    # The exit status of matnn.plot passes through (2 for a missing file), with its message.
    missing = os.path.join(tmp, "missing.csv")
    result = run_matnn(matnn, "plot", "property", missing, "-o", os.path.join(tmp, "x.png"))
    check(result.returncode == 2 and missing in result.stderr and "no such file" in result.stderr,
          f"missing file: exit {result.returncode}: {result.stderr}")
    # --help is the module's own (argparse's usage line), not the executable's.
    result = run_matnn(matnn, "plot", "--help")
    check(result.returncode == 0 and "usage: python -m matnn.plot" in result.stdout and "{parity,property,curves}" in result.stdout,
          f"matnn plot --help: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    result = run_matnn(matnn, "plot")
    check(result.returncode == 2 and "required" in result.stderr, f"matnn plot: exit {result.returncode}: {result.stderr}")
    result = run_matnn(matnn, "--help")
    check(result.returncode == 0 and "plot" in result.stdout, result.stdout)

    # MATNN_PYTHONPATH chooses the package: a stand-in that echoes its arguments and exits with 7
    # shows the argument vector and the exit status arrive unchanged.
    fake = os.path.join(tmp, "fake")
    os.makedirs(os.path.join(fake, "matnn"))
    with open(os.path.join(fake, "matnn", "__init__.py"), "w") as f:
        f.write("")
    with open(os.path.join(fake, "matnn", "plot.py"), "w") as f:
        f.write("import json, sys\nprint(json.dumps(sys.argv[1:]))\nsys.exit(7)\n")
    env = dict(os.environ, MATNN_PYTHONPATH=fake)
    words = ["curves", "a b.csv", "train", "--help", "-o", "it's \"here\".png", "--title", "$(echo no) `x` *", "",
             "--dpi", "50"]
    result = run_matnn(matnn, "plot", *words, env=env)
    check(result.returncode == 7, f"stand-in exit 7 came back as {result.returncode}: {result.stderr}")
    check(json.loads(result.stdout.strip().splitlines()[-1]) == words, f"arguments arrived as {result.stdout}")

    # MATNN_PYTHON chooses the interpreter; one that does not exist is a clear error (exit 9).
    env = dict(os.environ, MATNN_PYTHON=os.path.join(tmp, "no-such-python"))
    result = run_matnn(matnn, "plot", "property", predictions, "-o", os.path.join(tmp, "y.png"), env=env)
    check(result.returncode == 9 and "no-such-python" in result.stderr and "MATNN_PYTHON" in result.stderr,
          f"missing interpreter: exit {result.returncode}: {result.stderr}")
    check(not os.path.exists(os.path.join(tmp, "y.png")), "a picture without an interpreter")
    env = dict(os.environ, MATNN_PYTHON=sys.executable)
    result = run_matnn(matnn, "plot", "property", predictions, "-o", os.path.join(tmp, "z.png"), env=env)
    check(result.returncode == 0, f"MATNN_PYTHON={sys.executable}: exit {result.returncode}: {result.stderr}")
    check_png(os.path.join(tmp, "z.png"))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    case, matnn, workdir = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    cases = {"plots": case_plots, "usage": case_usage, "setup_property": case_setup_property,
             "property": case_property, "property_usage": case_property_usage, "cli": case_cli}
    if case not in cases:
        sys.exit(f"unknown case {case!r}: expected one of {', '.join(cases)}")
    with tempfile.TemporaryDirectory(prefix="matnn_plot_") as tmp:
        cases[case](matnn, workdir, tmp)
    print(f"plot.{case}: passed")


if __name__ == "__main__":
    main()
