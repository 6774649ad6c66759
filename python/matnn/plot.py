"""Pictures of how good a trained model is: parity plots and learning curves.

    PYTHONPATH=python /usr/bin/python3 -m matnn.plot parity PREDICTIONS.extxyz -o parity.png [--title T]
    PYTHONPATH=python /usr/bin/python3 -m matnn.plot curves LOG.csv [LOG2.csv ...] -o curves.png [--title T]

parity   reads what `matnn predict MODEL DATA.h5 -o PREDICTIONS.extxyz` writes for a potential: the
         predicted energy, forces and stress (which ASE hands over in a SinglePointCalculator),
         the ensemble's energy_sigma, and the dataset's labels as REF_energy, REF_forces and
         REF_stress. It draws the energy per atom (eV/atom), the force components (eV/A) and,
         where the file has both, the stress components of fully periodic cells (GPa) as
         predicted against reference, each with the line y = x and its MAE and RMSE (meV/atom,
         meV/A, GPa), points coloured by the frames' config_type, and the ensemble's sigma per
         atom as error bars on the energy panel when it is nonzero.
curves   reads the training logs `matnn train` writes next to the model (<model>.log.csv, or
         <model>.log.csv.memberK.csv per ensemble member) and draws the training and validation
         loss against the epoch (log scale), the validation energy and force MAE when the log
         has them, and the learning rate; one line per log, labelled by its file name.

The picture is written under a temporary name in the output's folder and renamed into place;
its format follows the output's extension (png, pdf, svg, ...).

Exit status: 0 on success, 2 for bad usage or input that cannot be read (a missing file, a file
without reference labels or predictions, an output path equal to an input), with a message
naming the file.

From Python: parity(path, out, title=None) and curves(paths, out, title=None) return the numbers
they drew (MAE and RMSE per panel; the columns of each log) and raise UsageError (a ValueError).

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


def curves(paths, out, title=None, dpi=100):
    """Draws the learning curves of the training logs PATHS into OUT; returns {label: columns}."""
    if not paths:
        raise UsageError("no training log given")
    extension = _check_output(out, paths)
    logs = [read_log(p) for p in paths]
    labels = _labels(paths)
    has_mae = any("val_energy_mae_meV_atom" in log or "val_force_mae_meV_A" in log for log in logs)
    has_lr = any("lr" in log for log in logs)
    columns = 1 + has_mae + has_lr
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
    if has_mae:
        ax = axes[index]
        index += 1
        drawn = []
        for log, colour, marker in zip(logs, colours, markers):
            if "val_energy_mae_meV_atom" in log:
                ax.plot(log["epoch"], log["val_energy_mae_meV_atom"], color=colour, lw=1.3, marker=marker)
                drawn.append(log["val_energy_mae_meV_atom"])
            if "val_force_mae_meV_A" in log:
                ax.plot(log["epoch"], log["val_force_mae_meV_A"], color=colour, lw=1.1, ls=":", marker=marker)
                drawn.append(log["val_force_mae_meV_A"])
        _log_scale_if_positive(ax, *drawn)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation MAE (meV/atom, meV/Å)")
        ax.set_title("validation MAE", fontsize=10)
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
        ax.legend(handles=[Line2D([], [], color="0.3", lw=1.3, label="energy (meV/atom)"),
                           Line2D([], [], color="0.3", lw=1.1, ls=":", label="force (meV/Å)")],
                  fontsize=7, loc="upper right", framealpha=0.9)
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
    p = UsageParser(prog="python -m matnn.plot", description="Parity plots and learning curves of matnn models.")
    sub = p.add_subparsers(dest="command", metavar="{parity,curves}", parser_class=UsageParser)
    sub.required = True
    q = sub.add_parser("parity", help="predicted against reference energy, forces and stress")
    q.add_argument("predictions", help="extended XYZ written by `matnn predict MODEL DATA.h5 -o OUT.extxyz`")
    q.add_argument("-o", "--output", required=True, metavar="OUT.png")
    q.add_argument("--title")
    q.add_argument("--dpi", type=float, default=100)
    c = sub.add_parser("curves", help="learning curves from training logs")
    c.add_argument("logs", nargs="+", metavar="LOG.csv", help="<model>.log.csv or <model>.log.csv.memberK.csv")
    c.add_argument("-o", "--output", required=True, metavar="OUT.png")
    c.add_argument("--title")
    c.add_argument("--dpi", type=float, default=100)
    return p


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
        else:
            curves(args.logs, args.output, title=args.title, dpi=args.dpi)
    except UsageError as e:
        print(f"matnn.plot: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
