"""Pictures of how good a trained model is: parity plots, calibration and learning curves.

    PYTHONPATH=python /usr/bin/python3 -m matnn.plot parity PREDICTIONS.extxyz -o parity.png [--title T]
    PYTHONPATH=python /usr/bin/python3 -m matnn.plot property PREDICTIONS.csv -o property.png [--title T]
    PYTHONPATH=python /usr/bin/python3 -m matnn.plot curves LOG.csv [LOG2.csv ...] -o curves.png [--title T]

`matnn plot ARGS...` runs this module with the same arguments (src/cli/cmd_plot.cpp).

parity   reads what `matnn predict MODEL DATA.h5 -o PREDICTIONS.extxyz` writes for a potential: the
         predicted energy, forces and stress (which ASE hands over in a SinglePointCalculator),
         the ensemble's energy_sigma, and the dataset's labels as REF_energy, REF_forces and
         REF_stress. It draws the energy per atom (eV/atom), the force components (eV/A) and,
         where the file has both, the stress components of fully periodic cells (GPa) as
         predicted against reference, each with the line y = x and its MAE and RMSE (meV/atom,
         meV/A, GPa), points coloured by the frames' config_type, and the ensemble's sigma per
         atom as error bars on the energy panel when it is nonzero.
property reads what `matnn predict MODEL DATA.h5 -o PREDICTIONS.csv` writes for a property model,
         finding its columns by name (<target>_predicted, <target>_sigma, ood, <target>,
         probability_K; other columns are ignored). For a regression model it draws the
         predicted against the target value with y = x, MAE, RMSE and R^2, sigma as error bars
         and the points coloured by the ood flag (with counts); beside it the calibration curve:
         for each expected coverage p of a central Gaussian interval, the observed fraction of
         rows with |error| <= z(p) sigma (z(p) the (1 + p)/2 quantile of the standard normal),
         with the diagonal and the miscalibration area (the area between curve and diagonal,
         0 for perfect calibration, at most 0.5). When every sigma is 0 (a single model without
         dropout) there is no calibration panel, and the picture says why. For a classifier
         (probability_K columns) it draws the confusion matrix (rows: target class, columns:
         predicted class) with the accuracy. Rows with an empty target cell are left out and
         counted; a file without the target column, or with no row that has a target value, is
         refused.
curves   reads the training logs `matnn train` writes next to the model (<model>.log.csv, or
         <model>.log.csv.memberK.csv per ensemble member) and draws the training and validation
         loss against the epoch (log scale), every other validation metric the log has
         (val_energy_mae_meV_atom and val_force_mae_meV_A of potentials, val_mae_std_units or
         val_accuracy of property models, ...), and the learning rate; one colour per log,
         labelled by its file name, one line style per metric.

The picture is written under a temporary name in the output's folder and renamed into place;
its format follows the output's extension (png, pdf, svg, ...).

Exit status: 0 on success, 2 for bad usage or input that cannot be read (a missing file, a file
without reference labels or predictions, an output path equal to an input), with a message
naming the file.

From Python: parity(path, out, title=None), property(path, out, title=None) and
curves(paths, out, title=None) return the numbers they drew (MAE and RMSE per panel; MAE, RMSE,
R^2, counts and the calibration curve, or the confusion matrix; the columns of each log) and
raise UsageError (a ValueError).

Written for Debian bookworm's python3-matplotlib 3.6 and python3-ase 3.22; needs no display
(figures are drawn with the Agg canvas, pyplot is not used).
"""
import csv
import math
import os
import sys

import numpy as np
from ._cli import UsageError, UsageParser, check_output, write_atomically

EV_PER_A3_TO_GPA = 160.21766208
# Voigt order of ASE: xx yy zz yz xz xy.
_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
_NO_TAG = "(no config_type)"




# --------------------------------------------------------------------------- reading predictions

def _voigt(value):
    """A stress as 6 Voigt numbers (xx yy zz yz xz xy) from 6 or 9 (3x3) numbers; None otherwise."""
    if value is None:
        return None
    array = np.asarray(value, dtype=float).reshape(-1)
    if array.size == 6:
        return array
    if array.size == 9:
        full = array.reshape(3, 3)
        return np.array([full[i, j] for i, j in _VOIGT])
    return None


def _predicted(atoms, key):
    """A predicted property: from the SinglePointCalculator ASE puts them in, else info/arrays."""
    calc = atoms.calc
    if calc is not None and key in getattr(calc, "results", {}):
        return calc.results[key]
    if key in atoms.info:
        return atoms.info[key]
    if key in atoms.arrays:
        return atoms.arrays[key]
    return None


def read_predictions(path):
    """The pairs of `matnn predict`'s extended XYZ: a dict with, per quantity that has pairs,

      energy: ref, pred (eV/atom, per frame), sigma (eV/atom, per frame), tags (per frame)
      forces: ref, pred (eV/A, per component), tags (per component)
      stress: ref, pred (GPa, per component of fully periodic frames), tags (per component)

    and "frames" (the number of frames) and "tagged" (whether any frame has a config_type).
    Raises UsageError for a missing or unreadable file, or one without reference labels or
    without predictions."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a folder, not a predictions file")
    try:
        from ase.io import read
        frames = read(path, index=":", format="extxyz")
    except Exception as e:  # ASE raises many kinds for malformed files
        raise UsageError(f"{path}: cannot read it as extended XYZ: {type(e).__name__}: {e}") from None
    if not frames:
        raise UsageError(f"{path}: has no frames")

    energy = {"ref": [], "pred": [], "sigma": [], "tags": []}
    forces = {"ref": [], "pred": [], "tags": []}
    stress = {"ref": [], "pred": [], "tags": []}
    has_ref = has_pred = tagged = False
    for index, atoms in enumerate(frames):
        n = len(atoms)
        tag = atoms.info.get("config_type")
        tagged = tagged or tag is not None
        tag = _NO_TAG if tag is None else str(tag)
        ref_e, ref_f, ref_s = (atoms.info.get("REF_energy"), atoms.arrays.get("REF_forces"),
                               atoms.info.get("REF_stress"))
        pred_e, pred_f, pred_s = (_predicted(atoms, "energy"), _predicted(atoms, "forces"),
                                  _predicted(atoms, "stress"))
        has_ref = has_ref or any(v is not None for v in (ref_e, ref_f, ref_s))
        has_pred = has_pred or any(v is not None for v in (pred_e, pred_f, pred_s))
        if ref_e is not None and pred_e is not None and n > 0:
            energy["ref"].append(float(ref_e) / n)
            energy["pred"].append(float(pred_e) / n)
            sigma = atoms.info.get("energy_sigma")
            if sigma is None and atoms.calc is not None:
                sigma = atoms.calc.results.get("energy_sigma")
            energy["sigma"].append(0.0 if sigma is None else float(sigma) / n)
            energy["tags"].append(tag)
        if ref_f is not None and pred_f is not None:
            ref_f, pred_f = np.asarray(ref_f, dtype=float), np.asarray(pred_f, dtype=float)
            if ref_f.shape != (n, 3) or pred_f.shape != (n, 3):
                raise UsageError(f"{path}: frame {index} has forces of shape "
                                 f"{pred_f.shape} and REF_forces of shape {ref_f.shape}, not ({n}, 3)")
            forces["ref"].append(ref_f.reshape(-1))
            forces["pred"].append(pred_f.reshape(-1))
            forces["tags"].extend([tag] * ref_f.size)
        ref_s, pred_s = _voigt(ref_s), _voigt(pred_s)
        if ref_s is not None and pred_s is not None and bool(np.all(atoms.pbc)):
            stress["ref"].append(ref_s * EV_PER_A3_TO_GPA)
            stress["pred"].append(pred_s * EV_PER_A3_TO_GPA)
            stress["tags"].extend([tag] * 6)

    if not has_ref:
        raise UsageError(f"{path}: has no reference labels (REF_energy, REF_forces, REF_stress); "
                         "write it with `matnn predict MODEL DATA.h5 -o OUT.extxyz` from a labelled dataset")
    if not has_pred:
        raise UsageError(f"{path}: has no predictions (energy, forces, stress)")
    result = {"frames": len(frames), "tagged": tagged}
    for name, data in (("energy", energy), ("forces", forces), ("stress", stress)):
        if not data["ref"]:
            continue
        join = np.asarray if name == "energy" else np.concatenate
        result[name] = {key: value if key == "tags" else join(value) for key, value in data.items()}
    if not any(name in result for name in ("energy", "forces", "stress")):
        raise UsageError(f"{path}: no frame has both a prediction and its reference label")
    return result


# --------------------------------------------------------------------------- drawing

def _check_output(out, inputs):
    """Refuses an output that is one of the inputs, lies in a missing folder or has a format
    matplotlib cannot write; returns the format."""
    if not out:
        raise UsageError("no output file (-o OUT.png)")
    check_output(out, "-o", inputs)
    extension = os.path.splitext(out)[1].lstrip(".").lower()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if extension not in supported:
        raise UsageError(f"{out}: unknown picture format {extension!r}: use one of "
                         + ", ".join(sorted(supported)))
    return extension


def _save(figure, out, extension, dpi):
    """Writes the figure under a temporary name beside OUT, then renames it into place."""
    try:
        write_atomically(out, lambda f: figure.savefig(f, format=extension, dpi=dpi, bbox_inches="tight",
                                                        pad_inches=0.08), binary=True)
    except OSError as e:
        raise UsageError(f"{out}: cannot write it: {e}") from None


def _figure(columns, width=4.3, height=4.6):
    from matplotlib.figure import Figure
    figure = Figure(figsize=(width * columns, height))
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.86, wspace=0.3)
    return figure


def _colours(tags):
    """A colour per config_type tag, in order of first appearance."""
    from matplotlib import colormaps
    order = list(dict.fromkeys(tags))
    cmap = colormaps["tab10" if len(order) <= 10 else "tab20"]
    return {tag: cmap(i % cmap.N) for i, tag in enumerate(order)}


def _errors(ref, pred):
    difference = np.asarray(pred) - np.asarray(ref)
    return float(np.mean(np.abs(difference))), float(np.sqrt(np.mean(difference ** 2)))


def _parity_panel(ax, data, unit, scale, unit_error, title, colours, size, sigma=None):
    """One parity panel: points per tag, y = x, MAE and RMSE (times scale, in unit_error)."""
    ref, pred, tags = data["ref"], data["pred"], np.asarray(data["tags"])
    if sigma is not None:
        for tag, colour in colours.items():
            mask = tags == tag
            if np.any(mask):
                ax.errorbar(ref[mask], pred[mask], yerr=sigma[mask], fmt="none", ecolor=colour,
                            elinewidth=0.8, alpha=0.6, zorder=1)
    # One scatter in a fixed shuffled order, so that no config_type hides the others.
    order = np.random.default_rng(0).permutation(ref.size)
    ax.scatter(ref[order], pred[order], s=size, c=[colours[t] for t in tags[order]], alpha=0.7,
               linewidths=0, zorder=2, rasterized=ref.size > 5000)
    low = float(min(ref.min(), pred.min()))
    high = float(max(ref.max(), pred.max()))
    pad = 0.05 * (high - low) if high > low else max(abs(high), 1.0) * 0.05
    low, high = low - pad, high + pad
    ax.plot([low, high], [low, high], color="0.3", lw=0.9, ls="--", zorder=0)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"reference {title} ({unit})")
    ax.set_ylabel(f"predicted {title} ({unit})")
    mae, rmse = _errors(ref, pred)
    fmt = "{:.3g}"
    ax.text(0.04, 0.96, f"MAE  {fmt.format(mae * scale)} {unit_error}\nRMSE {fmt.format(rmse * scale)} {unit_error}"
                        f"\n{ref.size} values",
            transform=ax.transAxes, va="top", ha="left", fontsize=9, family="monospace",
            bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="0.8", alpha=0.9))
    ax.grid(True, lw=0.3, alpha=0.5)
    return {"mae": mae * scale, "rmse": rmse * scale, "unit": unit_error, "count": int(ref.size)}


def parity(path, out, title=None, dpi=100):
    """Draws the parity plots of `matnn predict`'s extended XYZ PATH into OUT; returns
    {"energy"|"forces"|"stress": {"mae", "rmse", "unit", "count"}} for the panels drawn."""
    extension = _check_output(out, [path])
    data = read_predictions(path)
    panels = [name for name in ("energy", "forces", "stress") if name in data]
    every_tag = [t for name in panels for t in data[name]["tags"]]
    colours = _colours(every_tag)
    figure = _figure(len(panels))
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    numbers = {}
    for ax, name in zip(axes, panels):
        if name == "energy":
            sigma = data["energy"]["sigma"]
            numbers[name] = _parity_panel(ax, data[name], "eV/atom", 1000.0, "meV/atom", "energy",
                                          colours, 14, sigma if np.any(sigma > 0) else None)
            ax.set_title("energy per atom" + (" (bars: ensemble σ)" if np.any(sigma > 0) else ""))
        elif name == "forces":
            numbers[name] = _parity_panel(ax, data[name], "eV/Å", 1000.0, "meV/Å", "force",
                                          colours, 3)
            ax.set_title("force components")
        else:
            numbers[name] = _parity_panel(ax, data[name], "GPa", 1.0, "GPa", "stress", colours, 10)
            ax.set_title("stress components (periodic cells)")
    if data["tagged"]:
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], ls="none", marker="o", ms=5, color=colour, label=tag)
                   for tag, colour in colours.items()]
        axes[0].legend(handles=handles, loc="lower right", fontsize=8, title="config_type",
                       title_fontsize=8, framealpha=0.9)
    figure.suptitle(title if title else f"{os.path.basename(path)}: {data['frames']} structures")
    _save(figure, out, extension, dpi)
    return numbers


# --------------------------------------------------------------------------- property predictions

_PREDICTED = "_predicted"
_PROBABILITY = "probability_"


def _property_columns(path, header):
    """The target's name and the classifier's probability columns, from a predictions header."""
    targets = [name[:-len(_PREDICTED)] for name in header if name.endswith(_PREDICTED) and len(name) > len(_PREDICTED)]
    if not targets:
        raise UsageError(f"{path}: not the predictions of a property model (no column <target>{_PREDICTED}); "
                         "write it with `matnn predict MODEL DATA.h5 -o OUT.csv`")
    with_label = [t for t in targets if t in header]
    if len(targets) > 1 and len(with_label) == 1:
        targets = with_label
    if len(targets) > 1:
        raise UsageError(f"{path}: several predicted columns ({', '.join(t + _PREDICTED for t in targets)}); "
                         "expected one")
    target = targets[0]
    if target not in header:
        raise UsageError(f"{path}: has no target column {target!r} beside {target + _PREDICTED!r}, so there is "
                         "nothing to compare the predictions with")
    classes = sorted(int(name[len(_PROBABILITY):]) for name in header
                     if name.startswith(_PROBABILITY) and name[len(_PROBABILITY):].isdigit())
    return target, classes


def read_property_predictions(path):
    """The rows of `matnn predict`'s CSV for a property model that have a target value, as a dict:

      target (the column name), task ("regression" or "classification"), classes (class count),
      predicted, sigma, value (numpy arrays), ood (bool array), rows (the CSV rows in the file),
      without_target (rows left out because their target cell is empty), has_sigma (whether
      the file has a <target>_sigma column), has_ood (whether it has an ood column).

    Columns are found by name and unknown columns are ignored. Raises UsageError for a missing
    or unreadable file, one without <target>_predicted or without the target column, a cell that
    is not a finite number, or no row with a target value."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a folder, not a predictions file")
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(f"{path}: cannot read it: {e}") from None
    if not rows:
        raise UsageError(f"{path}: is empty")
    header = [name.strip() for name in rows[0]]
    target, classes = _property_columns(path, header)
    where = {name: header.index(name) for name in header}
    sigma_column, ood_column = target + "_sigma", "ood"

    def number(row, line, name):
        cell = row[where[name]].strip()
        try:
            value = float(cell)
        except ValueError:
            raise UsageError(f"{path}: line {line}: {name} is not a number: {cell!r}") from None
        if not math.isfinite(value):
            raise UsageError(f"{path}: line {line}: {name} is {cell}")
        return value

    predicted, sigma, value, ood, lines = [], [], [], [], []
    without_target = 0
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise UsageError(f"{path}: line {line} has {len(row)} fields, the header {len(header)}")
        if not row[where[target]].strip():
            without_target += 1
            continue
        predicted.append(number(row, line, target + _PREDICTED))
        value.append(number(row, line, target))
        sigma.append(number(row, line, sigma_column) if sigma_column in where else 0.0)
        ood.append(number(row, line, ood_column) != 0 if ood_column in where else False)
        lines.append(line)
    if not value:
        raise UsageError(f"{path}: no row has a value of {target!r} ({without_target} rows without one): "
                         "predict on a dataset labelled with it")
    result = {"target": target, "predicted": np.asarray(predicted), "sigma": np.asarray(sigma),
              "value": np.asarray(value), "ood": np.asarray(ood, dtype=bool), "rows": np.asarray(lines) - 2,
              "without_target": without_target, "has_sigma": sigma_column in where,
              "has_ood": ood_column in where}
    if classes:
        labels = np.concatenate([result["value"], result["predicted"]])
        if np.any(labels != np.round(labels)) or np.any(labels < 0):
            raise UsageError(f"{path}: a classifier's {target} and {target + _PREDICTED} must be class "
                             "numbers 0, 1, ...")
        result["task"] = "classification"
        result["classes"] = max(classes[-1] + 1, int(labels.max()) + 1)
    else:
        result["task"] = "regression"
        result["classes"] = 0
    return result


def _normal_cdf(x):
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def coverage_levels(error, sigma):
    """For each row, the smallest expected coverage p of the central Gaussian interval
    +-z(p) sigma that holds its error: p = erf(|error| / (sigma sqrt 2)). With sigma 0, p is 0
    for an exact prediction and 1 otherwise."""
    error, sigma = np.abs(np.asarray(error, dtype=float)), np.asarray(sigma, dtype=float)
    ratio = np.full(error.shape, np.inf)
    np.divide(error, sigma, out=ratio, where=sigma > 0)
    ratio[(sigma <= 0) & (error == 0)] = 0.0
    return 2.0 * _normal_cdf(ratio) - 1.0


def calibration(error, sigma, expected=None):
    """The calibration curve of Gaussian uncertainties: for each expected coverage p (default
    0, 0.01, ..., 1), the observed fraction of rows with |error| <= z(p) sigma, and the
    miscalibration area, the integral over p in [0, 1] of |observed(p) - p|, computed exactly
    from the rows' coverage levels (the observed fraction is their empirical distribution)."""
    levels = np.sort(coverage_levels(error, sigma))
    n = levels.size
    if expected is None:
        expected = np.linspace(0.0, 1.0, 101)
    expected = np.asarray(expected, dtype=float)
    observed = np.searchsorted(levels, expected, side="right") / n
    # Between consecutive levels the observed fraction is the constant k / n.
    a = np.concatenate([[0.0], levels])
    b = np.concatenate([levels, [1.0]])
    c = np.arange(n + 1) / n
    below = np.clip(c, a, b)  # where the diagonal crosses the constant, clipped to [a, b]
    area = float(np.sum(((below - a) * (c - a + c - below)) / 2.0 + ((b - below) * (b - c + below - c)) / 2.0))
    return {"expected": expected, "observed": observed, "levels": levels, "miscalibration_area": area}


def _regression_numbers(data):
    difference = data["predicted"] - data["value"]
    mae, rmse = _errors(data["value"], data["predicted"])
    spread = float(np.sum((data["value"] - data["value"].mean()) ** 2))
    r2 = 1.0 - float(np.sum(difference ** 2)) / spread if spread > 0 else math.nan
    return {"mae": mae, "rmse": rmse, "r2": r2}


def _property_regression(figure, data):
    """Parity panel and, with a nonzero sigma, the calibration panel; returns the numbers."""
    numbers = _regression_numbers(data)
    value, predicted, sigma, ood = data["value"], data["predicted"], data["sigma"], data["ood"]
    numbers.update({"count": int(value.size), "ood": int(ood.sum()), "in_distribution": int((~ood).sum())})
    has_sigma = bool(np.any(sigma > 0))
    if has_sigma:
        numbers["calibration"] = calibration(predicted - value, sigma)
        numbers["note"] = None
    else:
        numbers["calibration"] = None
        numbers["note"] = ("no calibration panel: every sigma is 0 (a single model without dropout gives no "
                           "uncertainty)" if data["has_sigma"] else "no calibration panel: the file has no sigma column")
    axes = figure.subplots(1, 2 if has_sigma else 1, squeeze=False)[0]
    ax = axes[0]
    colours = {False: "tab:blue", True: "tab:red"}
    for flag, label in ((False, "in distribution"), (True, "OOD")):
        mask = ood == flag
        if not np.any(mask):
            continue
        if has_sigma:
            ax.errorbar(value[mask], predicted[mask], yerr=sigma[mask], fmt="none", ecolor=colours[flag],
                        elinewidth=0.7, alpha=0.4, zorder=1)
        ax.scatter(value[mask], predicted[mask], s=12, color=colours[flag], alpha=0.75, linewidths=0,
                   zorder=3 if flag else 2, label=f"{label} ({int(mask.sum())})",
                   rasterized=value.size > 5000)
    low = float(min(value.min(), predicted.min()))
    high = float(max(value.max(), predicted.max()))
    pad = 0.05 * (high - low) if high > low else max(abs(high), 1.0) * 0.05
    low, high = low - pad, high + pad
    ax.plot([low, high], [low, high], color="0.3", lw=0.9, ls="--", zorder=0)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"target {data['target']}")
    ax.set_ylabel(f"predicted {data['target']}")
    ax.set_title("predicted against target" + (" (bars: σ)" if has_sigma else ""), fontsize=10)
    r2 = "n/a" if math.isnan(numbers["r2"]) else f"{numbers['r2']:.3f}"
    ax.text(0.04, 0.96, f"MAE  {numbers['mae']:.3g}\nRMSE {numbers['rmse']:.3g}\nR²   {r2}\n{value.size} values",
            transform=ax.transAxes, va="top", ha="left", fontsize=9, family="monospace",
            bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="0.8", alpha=0.9))
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9, markerscale=1.5)
    ax.grid(True, lw=0.3, alpha=0.5)
    if not has_sigma:
        figure.text(0.5, 0.01, numbers["note"], ha="center", va="bottom", fontsize=8, color="0.3")
        return numbers

    ax = axes[1]
    curve = numbers["calibration"]
    levels = curve["levels"]
    # The observed fraction as the step function it is (it rises by 1/n at each row's level),
    # drawn as a polyline with two points per step so that the area between it and the diagonal
    # is filled exactly.
    fractions = np.arange(levels.size + 1) / levels.size
    x = np.concatenate([[0.0], np.repeat(levels, 2), [1.0]])
    y = np.repeat(fractions, 2)
    ax.fill_between(x, y, x, interpolate=True, color="tab:purple", alpha=0.2, lw=0, label="miscalibration area")
    ax.plot(x, y, color="tab:purple", lw=1.4, label="observed")
    ax.plot([0, 1], [0, 1], color="0.3", lw=0.9, ls="--", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("expected coverage p of ±z(p)σ")
    ax.set_ylabel("observed fraction within ±z(p)σ")
    ax.set_title("calibration of σ (Gaussian)", fontsize=10)
    ax.text(0.04, 0.96, f"miscalibration area {curve['miscalibration_area']:.3f}\n"
                        f"within ±1σ: {np.mean(np.abs(predicted - value) <= sigma):.2f} (0.68 expected)",
            transform=ax.transAxes, va="top", ha="left", fontsize=8.5,
            bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="0.8", alpha=0.9))
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.grid(True, lw=0.3, alpha=0.5)
    return numbers


def _property_classification(figure, data):
    """The confusion matrix (rows: target class, columns: predicted class); returns the numbers."""
    n = data["classes"]
    truth, predicted = data["value"].astype(int), data["predicted"].astype(int)
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (truth, predicted), 1)
    accuracy = float(np.trace(matrix)) / truth.size
    ax = figure.subplots(1, 1)
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(int(matrix.max()), 1))
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=10,
                    color="white" if matrix[i, j] > 0.6 * matrix.max() else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel(f"predicted {data['target']}")
    ax.set_ylabel(f"target {data['target']}")
    ood = data["ood"]
    ax.set_title(f"confusion matrix: accuracy {accuracy:.3f}\n{truth.size} values, {int(ood.sum())} flagged OOD",
                 fontsize=10)
    return {"confusion": matrix, "accuracy": accuracy, "count": int(truth.size), "ood": int(ood.sum()),
            "in_distribution": int((~ood).sum())}


def property(path, out, title=None, dpi=100):  # noqa: A001 (the subcommand's name)
    """Draws the predictions CSV of a property model (PATH, `matnn predict`) into OUT. Returns a
    dict with task, target, count, in_distribution, ood (counts), without_target (rows left out)
    and, for regression, mae, rmse, r2 (nan for a constant target), calibration (None when every
    sigma is 0, else {"expected", "observed", "levels", "miscalibration_area"}) and note; for
    classification, confusion (target x predicted counts) and accuracy."""
    extension = _check_output(out, [path])
    data = read_property_predictions(path)
    regression = data["task"] == "regression"
    wide = regression and bool(np.any(data["sigma"] > 0))
    figure = _figure(2 if wide else 1, width=4.4, height=4.8)
    if regression:
        numbers = _property_regression(figure, data)
    else:
        numbers = _property_classification(figure, data)
    numbers.update({"task": data["task"], "target": data["target"], "without_target": data["without_target"]})
    heading = title if title else f"{os.path.basename(path)}: {data['target']}"
    if data["without_target"]:
        heading += f"\n({data['without_target']} rows without a target value left out)"
    figure.suptitle(heading, fontsize=11)
    # Room for a second heading line and for the classifier's two-line panel title.
    figure.subplots_adjust(top=0.86 - 0.05 * heading.count("\n") - (0.0 if regression else 0.06))
    _save(figure, out, extension, dpi)
    return numbers


# --------------------------------------------------------------------------- learning curves

def read_log(path):
    """A training log (`matnn train`'s CSV) as {column: numpy array}; empty cells are NaN."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(f"{path}: cannot read it: {e}") from None
    if not rows or "epoch" not in rows[0] or "train_loss" not in rows[0]:
        raise UsageError(f"{path}: not a matnn training log (no header with epoch and train_loss)")
    header = [name.strip() for name in rows[0]]
    columns = {name: [] for name in header}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise UsageError(f"{path}: line {line} has {len(row)} fields, the header {len(header)}")
        for name, cell in zip(header, row):
            try:
                columns[name].append(float(cell) if cell.strip() else math.nan)
            except ValueError:
                raise UsageError(f"{path}: line {line}: {name} is not a number: {cell!r}") from None
    if not columns["epoch"]:
        raise UsageError(f"{path}: has no epochs yet")
    return {name: np.asarray(values) for name, values in columns.items()}


def _labels(paths):
    """Each log's file name, or its path where two logs share a name."""
    names = [os.path.basename(p) for p in paths]
    return [p if names.count(n) > 1 else n for p, n in zip(paths, names)]


def _log_scale_if_positive(ax, *arrays):
    values = np.concatenate([a[np.isfinite(a)] for a in arrays if a is not None] or [np.zeros(0)])
    if values.size and np.all(values > 0):
        ax.set_yscale("log")


# Columns of a training log that are not metrics; every other column is drawn as one.
_NOT_METRICS = ("epoch", "train_loss", "val_loss", "lr", "seconds")
_METRIC_LABELS = {"val_energy_mae_meV_atom": "energy MAE (meV/atom)", "val_force_mae_meV_A": "force MAE (meV/Å)",
                  "val_mae_std_units": "MAE (standardised units)", "val_accuracy": "accuracy"}


def _metric_columns(logs):
    """The metric columns of the logs (every column but epoch, losses, lr and seconds), in the
    order of first appearance."""
    names = [name for log in logs for name in log if name not in _NOT_METRICS]
    return list(dict.fromkeys(names))


def _metric_label(name):
    if name in _METRIC_LABELS:
        return _METRIC_LABELS[name]
    return name[len("val_"):] if name.startswith("val_") else name


def _bounded(name):
    """Whether a metric lies in [0, 1] and is better drawn on a linear scale."""
    return any(word in name for word in ("accuracy", "f1", "auc", "r2", "recall", "precision"))


def curves(paths, out, title=None, dpi=100):
    """Draws the learning curves of the training logs PATHS into OUT; returns {label: columns}."""
    if not paths:
        raise UsageError("no training log given")
    extension = _check_output(out, paths)
    logs = [read_log(p) for p in paths]
    labels = _labels(paths)
    metrics = _metric_columns(logs)
    has_lr = any("lr" in log for log in logs)
    columns = 1 + bool(metrics) + has_lr
    figure = _figure(columns, width=4.6, height=3.9)
    axes = list(figure.subplots(1, columns, squeeze=False)[0])
    from matplotlib import colormaps
    from matplotlib.lines import Line2D
    cmap = colormaps["tab10" if len(logs) <= 10 else "tab20"]
    colours = [cmap(i % cmap.N) for i in range(len(logs))]
    # Short logs get a marker on each epoch, so that a log of one epoch still shows.
    markers = ["." if log["epoch"].size <= 30 else None for log in logs]

    ax = axes[0]
    drawn = []
    for log, colour, marker in zip(logs, colours, markers):
        ax.plot(log["epoch"], log["train_loss"], color=colour, lw=1.0, ls="--", alpha=0.8, marker=marker)
        drawn.append(log["train_loss"])
        if "val_loss" in log:
            ax.plot(log["epoch"], log["val_loss"], color=colour, lw=1.3, marker=marker)
            drawn.append(log["val_loss"])
            finite = np.isfinite(log["val_loss"])
            if np.any(finite):
                best = int(np.nanargmin(np.where(finite, log["val_loss"], np.inf)))
                ax.plot(log["epoch"][best], log["val_loss"][best], "o", color=colour, ms=5)
    _log_scale_if_positive(ax, *drawn)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("loss (dashed: training, solid: validation)", fontsize=10)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    handles = [Line2D([], [], color=c, lw=1.5, label=l) for c, l in zip(colours, labels)]
    handles.append(Line2D([], [], color="0.3", marker="o", ls="none", ms=5, label="best validation"))
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.9)

    index = 1
    if metrics:
        ax = axes[index]
        index += 1
        drawn = []
        styles = ["-", ":", "-.", (0, (5, 2)), (0, (1, 3)), (0, (3, 1, 1, 1, 1, 1))]
        for log, colour, marker in zip(logs, colours, markers):
            for k, name in enumerate(metrics):
                if name in log:
                    ax.plot(log["epoch"], log[name], color=colour, lw=1.3 if k == 0 else 1.1,
                            ls=styles[k % len(styles)], marker=marker)
                    drawn.append(log[name])
        if not any(_bounded(name) for name in metrics):
            _log_scale_if_positive(ax, *drawn)
        only_mae = all("mae" in name for name in metrics)
        ax.set_xlabel("epoch")
        if len(metrics) == 1:
            ax.set_ylabel("validation " + _metric_label(metrics[0]))
        else:
            ax.set_ylabel("validation MAE" if only_mae else "validation metric")
        ax.set_title("validation MAE" if only_mae else "validation metrics", fontsize=10)
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
        ax.legend(handles=[Line2D([], [], color="0.3", lw=1.3 if k == 0 else 1.1, ls=styles[k % len(styles)],
                                  label=_metric_label(name)) for k, name in enumerate(metrics)],
                  fontsize=7, loc="best", framealpha=0.9)
    if has_lr:
        ax = axes[index]
        drawn = []
        for log, colour, marker in zip(logs, colours, markers):
            if "lr" in log:
                ax.plot(log["epoch"], log["lr"], color=colour, lw=1.2, marker=marker)
                drawn.append(log["lr"])
        _log_scale_if_positive(ax, *drawn)
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.set_title("learning rate", fontsize=10)
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    from matplotlib.ticker import MaxNLocator
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        figure.suptitle(title)
    _save(figure, out, extension, dpi)
    return dict(zip(labels, logs))


# --------------------------------------------------------------------------- command line

def _parser():
    p = UsageParser(prog="python -m matnn.plot",
                    description="Parity plots, calibration and learning curves of matnn models.")
    sub = p.add_subparsers(dest="command", metavar="{parity,property,curves}", parser_class=UsageParser)
    sub.required = True
    q = sub.add_parser("parity", help="predicted against reference energy, forces and stress")
    q.add_argument("predictions", help="extended XYZ written by `matnn predict MODEL DATA.h5 -o OUT.extxyz`")
    q.add_argument("-o", "--output", required=True, metavar="OUT.png")
    q.add_argument("--title")
    q.add_argument("--dpi", type=float, default=100)
    r = sub.add_parser("property", help="a property model's predictions: parity and calibration, or the "
                                        "confusion matrix of a classifier")
    r.add_argument("predictions", help="CSV written by `matnn predict MODEL DATA.h5 -o OUT.csv`")
    r.add_argument("-o", "--output", required=True, metavar="OUT.png")
    r.add_argument("--title")
    r.add_argument("--dpi", type=float, default=100)
    c = sub.add_parser("curves", help="learning curves from training logs")
    c.add_argument("logs", nargs="+", metavar="LOG.csv", help="<model>.log.csv or <model>.log.csv.memberK.csv")
    c.add_argument("-o", "--output", required=True, metavar="OUT.png")
    c.add_argument("--title")
    c.add_argument("--dpi", type=float, default=100)
    return p


def _print_property(n):
    """The numbers of a property picture, one line each (`name value`), for people and tests."""
    lines = [("target", n["target"]), ("task", n["task"]), ("count", n["count"]),
             ("in_distribution", n["in_distribution"]), ("ood", n["ood"]), ("without_target", n["without_target"])]
    if n["task"] == "regression":
        lines += [("mae", f"{n['mae']:.6g}"), ("rmse", f"{n['rmse']:.6g}"), ("r2", f"{n['r2']:.6g}")]
        if n["calibration"] is not None:
            lines.append(("miscalibration_area", f"{n['calibration']['miscalibration_area']:.6g}"))
        else:
            lines.append(("note", n["note"]))
    else:
        lines.append(("accuracy", f"{n['accuracy']:.6g}"))
        lines += [(f"confusion_{i}", " ".join(str(v) for v in row)) for i, row in enumerate(n["confusion"])]
    for name, value in lines:
        print(f"{name:20s} {value}")


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if not args.dpi > 0:
            raise UsageError(f"--dpi {args.dpi} must be positive")
        try:
            import matplotlib  # noqa: F401
        except ImportError as e:
            raise UsageError(f"matnn.plot needs matplotlib (Debian: python3-matplotlib): {e}") from None
        if args.command == "parity":
            numbers = parity(args.predictions, args.output, title=args.title, dpi=args.dpi)
            for name, n in numbers.items():
                print(f"{name:7s} MAE {n['mae']:.4g} {n['unit']}  RMSE {n['rmse']:.4g} {n['unit']}  "
                      f"({n['count']} values)")
        elif args.command == "property":
            _print_property(property(args.predictions, args.output, title=args.title, dpi=args.dpi))
        else:
            curves(args.logs, args.output, title=args.title, dpi=args.dpi)
    except UsageError as e:
        print(f"matnn.plot: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
