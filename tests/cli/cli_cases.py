#!/usr/bin/env python3
"""End-to-end tests of the `matnn` executable, one case per CTest test.

Usage: cli_cases.py MATNN_EXECUTABLE CASE

Run with Debian's /usr/bin/python3 (ASE, h5py, numpy). Each case works in a fresh temporary
directory and checks the exit code (the matnn_status numbers of include/matnn/status.h), that
the message names the file (and the line or structure where it applies), and that no output or
temporary file is left behind after a failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(ROOT, "examples", "data", "emt_alloys.extxyz")

SUCCESS, INVALID_ARGUMENT, IO, FORMAT, UNKNOWN_ELEMENT, NON_FINITE, SINGULAR_CELL = 0, 1, 2, 3, 4, 5, 6

GOOD_FRAME = """2
Lattice="3.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 3.0" Properties=species:S:1:pos:R:3 energy=-1.5 pbc="T T T"
Cu 0.0 0.0 0.0
Cu 1.5 1.5 0.0
"""


class Case:
    def __init__(self, matnn):
        self.matnn = matnn
        self.dir = tempfile.mkdtemp(prefix="matnn_cli_")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def write_bytes(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data)
        return self.path(name)

    def run(self, *args):
        return subprocess.run([self.matnn, *args], capture_output=True, text=True)

    def expect_failure(self, args, status, *fragments, output=None):
        result = self.run(*args)
        check(result.returncode == status,
              f"matnn {' '.join(args)}: exit {result.returncode}, expected {status}\n{result.stderr}")
        for fragment in fragments:
            check(fragment in result.stderr, f"message lacks {fragment!r}: {result.stderr!r}")
        if output is not None:
            check(not os.path.exists(output), f"{output} left behind after a failure")
        leftovers = [f for f in os.listdir(self.dir) if ".tmp." in f]
        check(not leftovers, f"temporary files left behind: {leftovers}")
        return result

    def expect_success(self, *args):
        result = self.run(*args)
        check(result.returncode == 0, f"matnn {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
        return result

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# --- cases -----------------------------------------------------------------------------------

def case_help(c):
    for args in (["--help"], ["convert", "--help"], ["info", "--help"], ["--version"]):
        result = c.expect_success(*args)
        check(result.stdout.strip(), f"{args}: empty output")
    c.expect_failure([], INVALID_ARGUMENT)
    c.expect_failure(["frobnicate"], INVALID_ARGUMENT)
    c.expect_failure(["convert", "only-one-arg.xyz"], INVALID_ARGUMENT)


def example_size():
    """Structures and atoms of the shipped example, as ASE counts them."""
    from ase.io import read
    frames = read(EXAMPLE, index=":")
    return len(frames), sum(len(a) for a in frames)


def case_example_info(c):
    out = c.path("example.h5")
    c.expect_success("convert", EXAMPLE, out, "--unit", "formation_energy=eV/atom")
    info = c.expect_success("info", out).stdout
    structures, atoms = example_size()
    check(f"structures   {structures}\n" in info, info)
    check(f"atoms        {atoms} " in info, info)
    for label in ("energy", "forces", "stress", "formation_energy", "is_stable"):
        check(label in info, f"info lacks {label}:\n{info}")
    check("eV/atom" in info, info)


def case_malformed_line(c):
    bad = c.write("bad.xyz", GOOD_FRAME + GOOD_FRAME.replace("Cu 1.5 1.5 0.0", "Cu 1.5 oops 0.0"))
    c.expect_failure(["convert", bad, c.path("out.h5")], FORMAT, "bad.xyz:8", output=c.path("out.h5"))


def case_truncated_extxyz(c):
    bad = c.write("short.xyz", GOOD_FRAME.replace("2\n", "3\n", 1))
    c.expect_failure(["convert", bad, c.path("out.h5")], FORMAT, "short.xyz", output=c.path("out.h5"))


def case_unknown_element(c):
    bad = c.write("xx.xyz", GOOD_FRAME + GOOD_FRAME.replace("Cu 0.0", "Xx 0.0"))
    c.expect_failure(["convert", bad, c.path("out.h5")], UNKNOWN_ELEMENT, "xx.xyz:7", "Xx", output=c.path("out.h5"))


def case_non_finite_position(c):
    bad = c.write("nan.xyz", GOOD_FRAME.replace("Cu 1.5 1.5 0.0", "Cu 1.5 nan 0.0"))
    c.expect_failure(["convert", bad, c.path("out.h5")], NON_FINITE, "nan.xyz", output=c.path("out.h5"))
    bad = c.write("inf.xyz", GOOD_FRAME.replace("Cu 1.5 1.5 0.0", "Cu inf 1.5 0.0"))
    c.expect_failure(["convert", bad, c.path("out.h5")], NON_FINITE, "inf.xyz", output=c.path("out.h5"))


def case_singular_cell(c):
    bad = c.write("flat.xyz", GOOD_FRAME.replace('0.0 0.0 3.0"', '0.0 0.0 0.0"'))
    c.expect_failure(["convert", bad, c.path("out.h5")], SINGULAR_CELL, "flat.xyz", output=c.path("out.h5"))


def case_missing_input(c):
    c.expect_failure(["convert", c.path("nowhere.xyz"), c.path("out.h5")], IO, "nowhere.xyz",
                     output=c.path("out.h5"))
    c.expect_failure(["info", c.path("nowhere.h5")], IO, "nowhere.h5")


def case_directory_as_input(c):
    # A folder where a file is expected is an I/O error that says so, whatever the reader
    # (a folder named .extxyz was once read as a stream and reported as "out of memory").
    data = c.path("data.h5")
    c.expect_success("convert", EXAMPLE, data)
    folders = {}
    for name in ("d.extxyz", "d.h5", "model.h5", "config.yaml"):
        folders[name] = c.path(name)
        os.mkdir(folders[name])
    c.expect_failure(["convert", folders["d.extxyz"], c.path("out.h5")], IO, "d.extxyz", "is a directory",
                     output=c.path("out.h5"))
    c.expect_failure(["info", folders["d.h5"]], IO, "d.h5", "is a directory")
    c.expect_failure(["predict", folders["model.h5"], data, "-o", c.path("p.csv")], IO, "model.h5", "is a directory",
                     output=c.path("p.csv"))
    c.expect_failure(["train", folders["config.yaml"]], IO, "config.yaml", "is a directory")


def case_unwritable_output(c):
    good = c.write("good.xyz", GOOD_FRAME)
    c.expect_failure(["convert", good, c.path("no/such/dir/out.h5")], IO, "out.h5")


def case_output_is_an_input(c):
    """No command may replace one of its inputs: refused before any work, the input unchanged."""
    data = c.path("data.h5")
    c.expect_success("convert", EXAMPLE, data)
    model = c.path("model.h5")
    config = c.write("train.yaml", TINY_CONFIG.format(dataset=data, model=model))
    c.expect_success("train", "--quiet", config)
    os.symlink(data, c.path("link.h5"))
    os.link(data, c.path("hard.h5"))
    before = {p: open(p, "rb").read() for p in (data, model, config)}

    c.expect_failure(["convert", data, data], INVALID_ARGUMENT, "output", "same file as the input")
    c.expect_failure(["convert", data, c.path("link.h5")], INVALID_ARGUMENT, "link.h5", "data.h5")
    c.expect_failure(["convert", data, c.path("hard.h5"), "--append"], INVALID_ARGUMENT, "hard.h5")
    c.expect_failure(["convert", data, os.path.join(c.dir, ".", "data.h5")], INVALID_ARGUMENT, "same file")
    c.expect_failure(["predict", model, data, "-o", data], INVALID_ARGUMENT, "-o", "dataset")
    c.expect_failure(["predict", model, data, "-o", model], INVALID_ARGUMENT, "-o", "model")
    c.expect_failure(["predict", model, data, "-o", c.path("missing/p.csv")], IO, "missing")
    for output, role in (("{{model: {data}}}", "output.model"), ("{{model: {config}}}", "output.model"),
                         ("{{model: {model}, log: {data}}}", "output.log"),
                         ("{{model: {model}, checkpoint: {model}}}", "output.checkpoint")):
        text = TINY_CONFIG.format(dataset=data, model=model).split("output:")[0]
        bad = c.write("bad.yaml", text + "output: " + output.format(data=data, config=c.path("bad.yaml"), model=model) + "\n")
        c.expect_failure(["train", bad], INVALID_ARGUMENT, role, "same file")
    for p, content in before.items():
        check(open(p, "rb").read() == content, f"{p} changed")


def case_corrupt_hdf5(c):
    good = c.path("good.h5")
    c.expect_success("convert", EXAMPLE, good)
    data = open(good, "rb").read()
    truncated = c.path("truncated.h5")
    with open(truncated, "wb") as f:
        f.write(data[: len(data) // 2])
    c.expect_failure(["info", truncated], FORMAT, "truncated.h5")
    c.expect_failure(["convert", truncated, c.path("out.xyz")], FORMAT, "truncated.h5", output=c.path("out.xyz"))
    garbage = c.write("garbage.h5", "this is not an HDF5 file\n")
    c.expect_failure(["info", garbage], FORMAT, "garbage.h5")


def case_inconsistent_arrays(c):
    good = c.path("good.h5")
    c.expect_success("convert", EXAMPLE, good)
    with h5py.File(good, "r+") as f:
        positions = f["atoms/positions"][...]
        del f["atoms/positions"]
        f.create_dataset("atoms/positions", data=positions[:-5])
    # The edit broke the seal matnn wrote; `matnn seal` reads the file as an unsealed one and
    # refuses to seal content that is inconsistent, leaving the file as it was.
    c.expect_failure(["info", good], FORMAT, "good.h5", "seal")
    before = open(good, "rb").read()
    c.expect_failure(["seal", good], FORMAT, "good.h5", "positions", "not resealed")
    check(open(good, "rb").read() == before, "a refused seal changed the file")
    with open(good, "r+b") as f:  # drop the seal: an unsealed file gets the content checks
        f.write(bytes(512))
    c.expect_failure(["info", good], FORMAT, "good.h5", "positions")
    c.expect_failure(["convert", good, c.path("out.xyz")], FORMAT, "positions", output=c.path("out.xyz"))


def case_seal_after_edit(c):
    """An intended h5py edit of a sealed dataset is refused until `matnn seal` accepts it."""
    data = c.path("data.h5")
    c.expect_success("convert", EXAMPLE, data)
    with h5py.File(data, "r+") as f:
        f["properties/energy/values"][0] += 1.0
        edited = float(f["properties/energy/values"][0])
    c.expect_failure(["info", data], FORMAT, "data.h5", "matnn seal")
    c.expect_success("seal", data)
    c.expect_success("info", data)
    c.expect_success("convert", data, c.path("out.xyz"))
    from ase.io import read
    frames = read(c.path("out.xyz"), index=":")
    check(abs(frames[0].get_potential_energy() - edited) < 1e-9, "the edited energy did not survive resealing")
    # A file matnn did not write has no room for a seal, and sealing it is refused.
    other = c.path("other.h5")
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "matnn-dataset"
    c.expect_failure(["seal", other], FORMAT, "other.h5", "no room for a seal")


def case_unknown_format(c):
    good = c.write("good.xyz", GOOD_FRAME)
    c.expect_failure(["convert", good, c.path("out.csv")], INVALID_ARGUMENT, "out.csv", output=c.path("out.csv"))
    c.expect_failure(["convert", good, c.path("out.h5"), "--unit", "broken"], INVALID_ARGUMENT, "NAME=UNIT",
                     output=c.path("out.h5"))


def case_failed_convert_keeps_old_output(c):
    """A failing conversion must leave a previous output untouched."""
    out = c.path("out.h5")
    c.expect_success("convert", c.write("good.xyz", GOOD_FRAME), out)
    before = open(out, "rb").read()
    bad = c.write("bad.xyz", GOOD_FRAME.replace("Cu 1.5 1.5 0.0", "Cu 1.5 1.5"))
    c.expect_failure(["convert", bad, out], FORMAT, "bad.xyz:4")
    check(open(out, "rb").read() == before, "failed conversion modified the existing output")


def case_append(c):
    out = c.path("out.h5")
    good = c.write("good.xyz", GOOD_FRAME)
    c.expect_success("convert", good, out)
    c.expect_success("convert", EXAMPLE, out, "--append")
    with h5py.File(out, "r") as f:
        structures, _ = example_size()
        check(f["structures/n_atoms"].shape[0] == 1 + structures, "append did not add the example's structures")
        present = f["properties/formation_energy/present"][...]
        energy_present = f["properties/energy/present"][...]
        check(present[0] == 0 and present[1:].any(), "formation_energy mask wrong after append")
        check(energy_present.all(), "energy mask wrong after append")


def _h5_frame(f, s):
    """Structure s of a matnn HDF5 dataset, read with h5py alone (docs/dataset-format.md)."""
    begin, end = f["structures/atom_offset"][s], f["structures/atom_offset"][s + 1]
    frame = {"numbers": f["atoms/numbers"][begin:end], "positions": f["atoms/positions"][begin:end],
             "cell": f["structures/cell"][s], "pbc": f["structures/pbc"][s].astype(bool),
             "properties": {}, "atom_properties": {}, "tags": {}, "timestamp": None}
    for name, group in f["properties"].items():
        if group["present"][s]:
            frame["properties"][name] = np.atleast_1d(group["values"][s])
    for name, group in f["atom_properties"].items():
        if group["present"][s]:
            values = group["values"][begin:end]
            frame["atom_properties"][name] = values.reshape(end - begin, -1)
    if "tags" in f:
        for name, values in f["tags"].items():
            text = values[s].decode() if isinstance(values[s], bytes) else values[s]
            if text:
                frame["tags"][name] = text
    if f["structures/timestamp_present"][s]:
        frame["timestamp"] = int(f["structures/timestamp"][s])
    return frame


def _compare_with_ase(h5_path, extxyz_path, renamed=None):
    """Every value ASE reads from extxyz_path must be in the HDF5 file, and nothing else."""
    from ase.io import read
    sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
    from dump_extxyz_with_ase import to_seconds
    renamed = renamed or {}
    frames = read(extxyz_path, index=":", format="extxyz")
    close = lambda a, b: np.allclose(np.asarray(a, float).ravel(), np.asarray(b, float).ravel(),
                                     rtol=1e-12, atol=0)
    with h5py.File(h5_path, "r") as f:
        check(f.attrs["format"] in ("matnn-dataset", b"matnn-dataset"), "format attribute")
        check(len(f["structures/n_atoms"]) == len(frames), "structure count")
        for s, atoms in enumerate(frames):
            h = _h5_frame(f, s)
            where = f"structure {s}"
            check((h["numbers"] == atoms.numbers).all(), f"{where}: numbers")
            check(close(h["positions"], atoms.positions), f"{where}: positions")
            check(close(h["cell"], np.asarray(atoms.cell)), f"{where}: cell")
            check((h["pbc"] == atoms.pbc).all(), f"{where}: pbc")
            expected = {}
            if atoms.calc is not None:
                for key, value in atoms.calc.results.items():
                    expected[key] = np.asarray(value, float)
            for key, value in atoms.info.items():
                if key in expected:
                    continue  # ASE 3.22 copies calculator results (stress as 3x3) into info too
                if key == "timestamp":
                    check(h["timestamp"] == to_seconds(value), f"{where}: timestamp")
                elif key in renamed:
                    value = np.asarray(value, float).ravel()
                    if renamed[key] == "stress" and value.size == 9:
                        m = value.reshape(3, 3)
                        value = np.array([m[0, 0], m[1, 1], m[2, 2], m[1, 2], m[0, 2], m[0, 1]])
                    expected[renamed[key]] = value
                elif isinstance(value, str):
                    check(h["tags"].get(key) == value, f"{where}: tag {key}: {h['tags'].get(key)!r} != {value!r}")
                else:
                    expected[key] = np.asarray(value, float)
            for name, arr in atoms.arrays.items():
                if name in ("numbers", "positions") or arr.dtype.kind not in "biuf":
                    continue
                expected[renamed.get(name, name)] = np.asarray(arr, float)
            got = dict(h["properties"])
            got.update(h["atom_properties"])
            for key, value in expected.items():
                check(key in got, f"{where}: {key} missing from the HDF5 file (has {sorted(got)})")
                check(close(got[key], value), f"{where}: {key}: {got[key]} != {value}")
            check(not (set(got) - set(expected)), f"{where}: unexpected labels {set(got) - set(expected)}")


def case_ase_roundtrip(c):
    """ASE writes varied extxyz; matnn converts it; h5py finds every value; ASE reads it back."""
    scripts = os.path.join(ROOT, "tests", "python")
    varied, renamed = c.path("varied.extxyz"), c.path("renamed.extxyz")
    subprocess.run([sys.executable, os.path.join(scripts, "make_varied_extxyz.py"), varied, renamed], check=True)

    h5 = c.path("varied.h5")
    c.expect_success("convert", varied, h5)
    _compare_with_ase(h5, varied)
    back = c.path("back.extxyz")
    c.expect_success("convert", h5, back)
    subprocess.run([sys.executable, os.path.join(scripts, "compare_extxyz_with_ase.py"), varied, back], check=True)

    h5_ref = c.path("renamed.h5")
    keys = ["--energy-key", "REF_energy", "--forces-key", "REF_forces", "--stress-key", "REF_stress"]
    c.expect_success("convert", renamed, h5_ref, *keys)
    _compare_with_ase_renamed(c, renamed, h5_ref)


def _compare_with_ase_renamed(c, renamed, h5_ref):
    # With REF_ keys, a calculator's plain "energy" in the same file is not a label: strip the
    # calculator results, then compare as usual with the REF_ names mapped.
    from ase.io import read, write
    frames = read(renamed, index=":")
    for atoms in frames:
        atoms.calc = None
        for key in ("energy", "free_energy", "stress"):
            atoms.info.pop(key, None)  # ASE's copy of the calculator results
    stripped = c.path("renamed_stripped.extxyz")
    write(stripped, frames, format="extxyz")
    _compare_with_ase(h5_ref, stripped,
                      renamed={"REF_energy": "energy", "REF_forces": "forces", "REF_stress": "stress"})


TINY_CONFIG = """dataset: {dataset}
seed: 3
model: {{target: formation_energy, hidden: [16], ensemble: 2}}
split: {{kind: composition, validation: 0.2, test: 0.2}}
training: {{epochs: 4, batch_size: 16}}
output: {{model: {model}}}
"""


def printed_metrics(text, stop="by config_type"):
    """The "  name value" lines of `matnn train`/`matnn eval` output, up to `stop`: name -> string."""
    out = {}
    for line in text.splitlines():
        if stop and stop in line:
            break
        parts = line.split()
        if len(parts) == 2 and line.startswith("  "):
            try:
                float(parts[1])
            except ValueError:
                continue
            out[parts[0]] = parts[1]
    return out


def check_printed(printed, value, what, digits=6):
    """`printed` (a number printed with `digits` significant digits) is `value` rounded."""
    p = float(printed)
    unit = 10.0 ** (np.floor(np.log10(abs(p))) - (digits - 1)) if p != 0 else 1e-300
    check(abs(value - p) <= 0.51 * unit + 1e-12 * abs(value),
          f"{what}: printed {printed}, computed {value!r} (differs by {abs(value - p) / unit:.2f} units of the last digit)")


def case_train_predict_eval(c):
    data = c.path("data.h5")
    c.expect_success("convert", EXAMPLE, data)
    model = c.path("model.h5")
    config = c.write("train.yaml", TINY_CONFIG.format(dataset=data, model=model))
    out = c.expect_success("train", config).stdout
    check("held-out test set" in out and "mae" in out, out)
    check(os.path.exists(model), "no model file")
    check(not os.path.exists(model + ".checkpoint.h5"), "checkpoint left behind after a finished run")
    check(os.path.exists(model + ".log.csv.member1.csv"), "no training log for member 2")
    held_out = printed_metrics(out.split("held-out test set")[1])

    evaluation = c.expect_success("eval", model, data, "--subset", "test").stdout
    check("rmse" in evaluation and "r2" in evaluation, evaluation)
    # eval --subset test rebuilds the split recorded in the model: the metrics train printed.
    test_metrics = printed_metrics(evaluation)
    for name in ("n", "mae", "rmse", "r2"):
        check(test_metrics.get(name) == held_out.get(name),
              f"{name}: eval --subset test printed {test_metrics.get(name)}, train printed {held_out.get(name)}")
    csv = c.path("pred.csv")
    c.expect_success("predict", model, data, "-o", csv)
    rows = open(csv).read().splitlines()
    structures, _ = example_size()
    check(len(rows) == 1 + structures, f"{len(rows)} CSV rows for {structures} structures")
    check(rows[0].startswith("index,id,formula,formation_energy_predicted,formation_energy_sigma,ood"), rows[0])

    # The metrics of eval --subset all are those of predict's values against the dataset's labels.
    header = rows[0].split(",")
    column = header.index("formation_energy_predicted")
    predicted = np.array([float(r.split(",")[column]) for r in rows[1:]])
    with h5py.File(data, "r") as f:
        present = f["properties/formation_energy/present"][...].astype(bool)
        labels = f["properties/formation_energy/values"][...].reshape(len(present))
    check(present.sum() > 10, "too few formation_energy labels")
    error = predicted[present] - labels[present]
    all_metrics = printed_metrics(c.expect_success("eval", model, data, "--subset", "all").stdout)
    check(int(float(all_metrics["n"])) == present.sum(), f"eval n {all_metrics['n']}, {present.sum()} labels")
    check_printed(all_metrics["mae"], np.abs(error).mean(), "eval mae")
    check_printed(all_metrics["rmse"], np.sqrt((error ** 2).mean()), "eval rmse")
    y = labels[present]
    check_printed(all_metrics["r2"], 1.0 - (error ** 2).sum() / ((y - y.mean()) ** 2).sum(), "eval r2")
    # Monte-Carlo dropout needs a model trained with dropout.
    c.expect_failure(["predict", model, data, "-o", c.path("mc.csv"), "--mc-samples", "4"], 9, "dropout",
                     output=c.path("mc.csv"))


# A small Behler-Parrinello potential on a copper sample with every config_type (bulk with stress,
# strained bulk, vacancies, slabs without stress); the Kalman filter, the default for it.
POTENTIAL_CONFIG = """dataset: {dataset}
seed: 4
model: {{kind: behler_parrinello, cutoff: 4.0, radial: {{count: 4}}, angular: {{zeta: [1]}}, hidden: [8]}}
split: {{kind: random, validation: 0.2, test: 0.2}}
training: {{epochs: {epochs}}}
output: {{model: {model}}}
"""


def copper_sample(c, per_type=5):
    """The first `per_type` frames of each config_type of the shipped copper data, as HDF5."""
    from ase.io import read, write
    picked, count = [], {}
    for atoms in read(os.path.join(ROOT, "examples", "data", "cu_emt_md.extxyz"), index=":"):
        kind = atoms.info.get("config_type")
        if count.get(kind, 0) < per_type:
            count[kind] = count.get(kind, 0) + 1
            picked.append(atoms)
    check(len(count) == 4, f"config types {sorted(count)}")
    xyz, data = c.path("cu.extxyz"), c.path("cu.h5")
    write(xyz, picked, format="extxyz")
    c.expect_success("convert", xyz, data)
    return xyz, data, picked


def voigt(stress):
    stress = np.asarray(stress, float).ravel()
    if stress.size == 9:
        m = stress.reshape(3, 3)
        return np.array([m[0, 0], m[1, 1], m[2, 2], m[1, 2], m[0, 2], m[0, 1]])
    return stress


def potential_errors(frames):
    """Energy (meV/atom), force (meV/A) and stress (GPa) MAE and RMSE of predict's extxyz frames
    against their REF_ labels: stress only for fully periodic cells, as docs/training-config.md says."""
    from ase.units import GPa
    de, df, ds = [], [], []
    for atoms in frames:
        de.append((atoms.get_potential_energy() - atoms.info["REF_energy"]) / len(atoms))
        df.append((atoms.get_forces() - atoms.arrays["REF_forces"]).ravel())
        if atoms.pbc.all() and "REF_stress" in atoms.info:
            ds.append(voigt(atoms.get_stress()) - voigt(atoms.info["REF_stress"]))
    out = {}
    for name, errors, scale in (("energy", np.array(de), 1000.0), ("force", np.concatenate(df), 1000.0),
                                ("stress", np.concatenate(ds) if ds else np.zeros(0), 1.0 / GPa)):
        if errors.size:
            unit = {"energy": "meV_atom", "force": "meV_A", "stress": "GPa"}[name]
            out[f"{name}_mae_{unit}"] = scale * np.abs(errors).mean()
            out[f"{name}_rmse_{unit}"] = scale * np.sqrt((errors ** 2).mean())
    return out


def case_potential_predict_eval(c):
    """matnn eval's potential errors are those of matnn predict's output against the labels, and
    predict's energies, forces and stress are what the ASE calculator (the C ABI) computes."""
    from ase.io import read
    from matnn.calculator import MatnnCalculator
    xyz, data, frames = copper_sample(c)
    model = c.path("bp.h5")
    out = c.expect_success("train", "--quiet", c.write("bp.yaml", POTENTIAL_CONFIG.format(
        dataset=data, model=model, epochs=2))).stdout
    held_out = printed_metrics(out.split("held-out test set")[1])

    predictions = c.path("predicted.extxyz")
    c.expect_success("predict", model, data, "-o", predictions)
    predicted = read(predictions, index=":")
    check(len(predicted) == len(frames), f"{len(predicted)} predicted frames for {len(frames)}")

    evaluation = c.expect_success("eval", model, data).stdout
    printed = printed_metrics(evaluation)
    computed = potential_errors(predicted)
    check(sorted(computed) == sorted(k for k in printed if k != "n"), f"printed {sorted(printed)}, computed {sorted(computed)}")
    check(printed["n"] == str(len(frames)), evaluation)
    for name, value in computed.items():
        check_printed(printed[name], value, f"eval {name}")
    # The table per config_type (4 significant digits): energy and force MAE.
    table = evaluation.split("by config_type:")[1].splitlines()
    for kind in ("bulk_md", "bulk_strained", "vacancy_md", "slab_md"):
        row = next(line.split() for line in table if line.split()[:1] == [kind])
        mine = potential_errors([a for a in predicted if a.info["config_type"] == kind])
        check(row[1] == "5", f"{kind}: {row}")
        check_printed(row[2], mine["energy_mae_meV_atom"], f"{kind} energy MAE", digits=4)
        check_printed(row[4], mine["force_mae_meV_A"], f"{kind} force MAE", digits=4)
        check((row[6] == "-") == (kind == "slab_md"), f"{kind}: stress column {row[6]}")
    # eval --subset test: the held-out metrics train printed.
    test_metrics = printed_metrics(c.expect_success("eval", model, data, "--subset", "test").stdout)
    for name in ("n", "energy_mae_meV_atom", "force_mae_meV_A", "stress_mae_GPa"):
        check(test_metrics.get(name) == held_out.get(name),
              f"{name}: eval --subset test printed {test_metrics.get(name)}, train printed {held_out.get(name)}")

    # The ASE calculator on the original frames: the energies, forces and stress predict wrote.
    calc = MatnnCalculator(model)
    for k, (atoms, p) in enumerate(zip(read(xyz, index=":"), predicted)):
        check(p.info["REF_energy"] == atoms.get_potential_energy(), f"frame {k}: REF_energy")
        atoms.calc = calc
        energy = atoms.get_potential_energy()
        check(abs(energy - p.get_potential_energy()) <= 1e-6 * abs(energy) + 1e-6,
              f"frame {k}: calculator {energy}, predict {p.get_potential_energy()}")
        check(np.allclose(atoms.get_forces(), p.get_forces(), rtol=1e-5, atol=1e-6), f"frame {k}: forces")
        if atoms.pbc.all():
            check(np.allclose(atoms.get_stress(), voigt(p.get_stress()), rtol=1e-5, atol=1e-7), f"frame {k}: stress")
    calc.close()


def model_tensors(path):
    """Every tensor of a model file (the members' parameters and buffers): name -> array."""
    out = {}
    with h5py.File(path, "r") as f:
        f["tensors"].visititems(lambda name, obj: out.__setitem__(name, obj[...])
                                if isinstance(obj, h5py.Dataset) else None)
    return out


def log_rows(path):
    """The training log without its seconds column."""
    return [line.rsplit(",", 1)[0] for line in open(path).read().splitlines()]


def case_potential_resume(c):
    """train --resume continues a potential's run from its checkpoint: stopped after N epochs, it
    ends, bit for bit, where a straight run of 2N epochs ends (README, docs/training-config.md)."""
    import matnn
    from matnn.errors import CancelledError
    _, data, _ = copper_sample(c)
    n = 2
    straight = c.path("straight.h5")
    c.expect_success("train", "--quiet", c.write("straight.yaml", POTENTIAL_CONFIG.format(
        dataset=data, model=straight, epochs=2 * n)))
    reference = model_tensors(straight)
    check(len(reference) > 2, f"tensors {sorted(reference)}")

    def resumed(name, first_epochs):
        # A run of `first_epochs` stopped after epoch n (through the C ABI's progress callback,
        # so that it stops at the same place every time), then `matnn train --resume` to 2n.
        model = c.path(name + ".h5")
        first = c.write(name + "_first.yaml", POTENTIAL_CONFIG.format(dataset=data, model=model, epochs=first_epochs))
        seen = []
        try:
            matnn.train(first, progress=lambda epoch, epochs, train, validation: seen.append(epoch) or epoch >= n)
            check(False, "the run was not cancelled")
        except CancelledError:
            pass
        check(seen == list(range(1, n + 1)), f"epochs {seen}")
        check(os.path.exists(model + ".checkpoint.h5") and not os.path.exists(model), "no checkpoint after the stop")
        second = c.write(name + ".yaml", POTENTIAL_CONFIG.format(dataset=data, model=model, epochs=2 * n))
        result = c.expect_success("train", "--resume", second)
        check(f"resumed from {model}.checkpoint.h5 at epoch {n + 1}" in result.stdout, result.stdout)
        # A changed epoch count is allowed but said: here the Kalman filter (no schedule) trains,
        # so the result still matches; a cosine schedule or a second stage would not.
        changed = f"the checkpoint's run had {first_epochs} epochs and this one has {2 * n}"
        check((changed in result.stderr) == (first_epochs != 2 * n), f"{name}: {result.stderr!r}")
        check(not os.path.exists(model + ".checkpoint.h5"), "checkpoint left behind")
        got = model_tensors(model)
        check(sorted(got) == sorted(reference), f"{name}: tensors {sorted(got)}")
        for key, value in reference.items():
            check(got[key].dtype == value.dtype and np.array_equal(got[key], value),
                  f"{name}: {key} differs from the straight run by up to {np.abs(got[key] - value).max()}")
        check(log_rows(model + ".log.csv") == log_rows(straight + ".log.csv"), f"{name}: logs differ")

    resumed("stopped", 2 * n)  # the documented case: the same config, stopped and resumed
    resumed("extended", n)     # a finished-looking N-epoch run extended to 2N

    # A checkpoint is only resumed by its own run: another seed is refused with exit code 8.
    model = c.path("other.h5")
    try:
        matnn.train(c.write("other_first.yaml", POTENTIAL_CONFIG.format(dataset=data, model=model, epochs=2 * n)),
                    progress=lambda epoch, *_: epoch >= 1)
    except CancelledError:
        pass
    other = c.write("other.yaml", POTENTIAL_CONFIG.format(dataset=data, model=model, epochs=2 * n).replace(
        "seed: 4", "seed: 5"))
    c.expect_failure(["train", "--resume", other], 8, "checkpoint", output=model)


def case_split_file(c):
    """matnn split writes a grouped split that train takes; no group straddles it, and eval
    --subset test then scores exactly the structures the file lists; matnn embed writes the
    trained model's embeddings."""
    data = c.path("data.h5")
    c.expect_success("convert", EXAMPLE, data)
    split = c.path("split.json")
    out = c.expect_success("split", data, "-o", split, "--kind", "composition", "--target", "formation_energy",
                           "--validation", "0.2", "--test", "0.2", "--seed", "4").stdout
    check("wrote" in out and "composition split" in out, out)
    lists = json.load(open(split))
    with h5py.File(data, "r") as f:
        present = f["properties/formation_energy/present"][...].astype(bool)
    labelled = set(np.flatnonzero(present).tolist())
    chosen = lists["train"] + lists["validation"] + lists["test"]
    check(sorted(chosen) == sorted(labelled), "the split does not cover the labelled structures exactly once")
    import ase.io
    frames = ase.io.read(EXAMPLE, ":")
    formulas = {}
    for name in ("train", "validation", "test"):
        for i in lists[name]:
            formulas.setdefault(frames[i].get_chemical_formula(empirical=True), set()).add(name)
    straddling = [f for f, subsets in formulas.items() if len(subsets) > 1]
    check(not straddling, f"formulas in two subsets: {straddling}")

    model = c.path("model.h5")
    config = TINY_CONFIG.format(dataset=data, model=model).replace(
        "split: {kind: composition, validation: 0.2, test: 0.2}", "split: {file: " + split + "}")
    c.expect_success("train", c.write("train.yaml", config))
    evaluation = printed_metrics(c.expect_success("eval", model, data, "--subset", "test").stdout)
    check(int(float(evaluation["n"])) == len(lists["test"]), f"eval scored {evaluation['n']}, the file lists {len(lists['test'])}")
    # The model's embeddings: one row per structure, the last hidden layer (16) wide, finite.
    embeddings = c.path("embeddings.csv")
    c.expect_success("embed", model, data, "-o", embeddings)
    rows = open(embeddings).read().splitlines()
    structures, _ = example_size()
    check(len(rows) == 1 + structures and rows[0].split(",")[:4] == ["index", "id", "formula", "e0"],
          f"{len(rows)} rows, header {rows[0][:40]}")
    values = np.array([[float(v) for v in r.split(",")[3:]] for r in rows[1:]])
    check(values.shape == (structures, 16) and np.all(np.isfinite(values)), f"embeddings of shape {values.shape}")
    check(values.std(axis=0).max() > 1e-6, "every structure has the same embedding")
    c.expect_failure(("embed", model, data, "-o", data), INVALID_ARGUMENT)
    # The split file may not replace its dataset, and a kind that does not exist is refused.
    c.expect_failure(("split", data, "-o", data), INVALID_ARGUMENT)
    c.expect_failure(("split", data, "-o", split, "--kind", "kfold"), INVALID_ARGUMENT)
    # Folds: every structure in exactly one; --clusters only with --kind cluster.
    folds = c.path("folds.json")
    c.expect_success("split", data, "-o", folds, "--kind", "chemical-system", "--folds", "3")
    lists = json.load(open(folds))["folds"]
    check(len(lists) == 3 and sorted(i for f in lists for i in f) == list(range(structures)),
          f"folds {[len(f) for f in lists]} do not cover the {structures} structures once")
    c.expect_failure(("split", data, "-o", folds, "--kind", "random", "--clusters", "4"), INVALID_ARGUMENT)
    c.expect_success("split", data, "-o", folds, "--kind", "cluster", "--clusters", "4", "--folds", "4")
    # Similar structures: a dataset entry's nearest others, and bad queries.
    out = c.expect_success("similar", model, data, "--index", "0", "-k", "3").stdout
    check(out.count("\n") >= 5 and "rank" in out, f"similar printed:\n{out}")
    c.expect_failure(("similar", model, data), INVALID_ARGUMENT)
    c.expect_failure(("similar", model, data, "--index", str(structures)), INVALID_ARGUMENT)
    # Cross-validation over 3 folds of chemical systems: a model per fold and the summary; a
    # split with a test fraction (each fold is the test set) and a split file are refused.
    cv_config = TINY_CONFIG.format(dataset=data, model=c.path("cv.h5")).replace(
        "split: {kind: composition, validation: 0.2, test: 0.2}", "split: {kind: chemical-system, validation: 0.2}")
    out = c.expect_success("train", c.write("cv.yaml", cv_config), "--cv", "3", "--quiet").stdout
    check("mean and standard deviation over the folds" in out and all(
        os.path.exists(c.path(f"cv.fold{k}.h5")) for k in (1, 2, 3)), f"--cv printed:\n{out}")
    c.expect_failure(("train", c.write("cv_test.yaml", TINY_CONFIG.format(dataset=data, model=c.path("cv.h5"))), "--cv", "3"),
                     INVALID_ARGUMENT)
    c.expect_failure(("train", c.write("train_cv.yaml", config), "--cv", "3"), INVALID_ARGUMENT)


def case_audit(c):
    """matnn audit finds planted duplicates (a rotated, moved, repeated copy; fcc as its cubic
    cell) that straddle a split, and the conflicting label of one of them; --strict turns those
    findings into exit status 20; bad inputs are refused naming the file."""
    import ase.io
    from ase import Atoms
    from ase.build import bulk
    a = 3.75
    l12 = Atoms("AuCu3", scaled_positions=[[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], cell=[a, a, a], pbc=True)
    copy = l12.repeat((2, 1, 1))
    copy.rotate(33, (1, 2, 3), rotate_cell=True)
    copy.translate((0.4, -1.1, 2.0))
    frames = [(bulk("Cu", "fcc", a=3.61), 0.0, "fcc"),
              (l12, -0.05, "L1_2"),
              (bulk("Cu", "bcc", a=2.87), 0.03, "bcc"),
              (copy, -0.05, "L1_2"),
              (bulk("Cu", "fcc", a=3.61, cubic=True), 0.25, "fcc"),
              (bulk("Cu", "hcp", a=2.55, c=4.16), 0.01, "hcp")]
    for atoms, energy, prototype in frames:
        atoms.info.update(formation_energy=energy, prototype=prototype)
    ase.io.write(c.path("planted.extxyz"), [f[0] for f in frames], format="extxyz")
    data = c.path("planted.h5")
    c.expect_success("convert", c.path("planted.extxyz"), data, "--unit", "formation_energy=eV/atom")
    split = c.write("split.json", json.dumps({"train": [0, 1, 2], "validation": [5], "test": [3, 4]}))
    report = c.path("audit.json")
    out = c.expect_success("audit", data, "--split", split, "-o", report).stdout
    check("exact duplicates: 2 groups, 4 structures" in out, out)
    check("2 duplicate groups straddle" in out and "label conflicts: 1" in out, out)
    check("AB3_cP4_221_a_c" in out and "A_cF4_225_a" in out, out)
    r = json.load(open(report))
    check([g["members"] for g in r["duplicate_groups"]] == [[0, 4], [1, 3]], r["duplicate_groups"])
    check([leak["subsets"] for leak in r["leaks"]] == [{"train": [0], "test": [4]}, {"train": [1], "test": [3]}], r["leaks"])
    conflict = r["label_conflicts"][0]
    check(conflict["label"] == "formation_energy" and conflict["members"] == [0, 4] and abs(conflict["spread"] - 0.25) < 1e-9,
          conflict)
    check(r["structure_labels"][1] == r["structure_labels"][3] == "AB3_cP4_221_a_c", r["structure_labels"])
    check(all(t["agrees"] for t in r["prototype_tags"]), r["prototype_tags"])
    # --strict: the audit runs and writes its report, then exits 20 for the leaks and the conflict.
    os.remove(report)
    strict = c.run("audit", data, "--split", split, "--strict", "-o", report)
    check(strict.returncode == 20 and os.path.exists(report), f"exit {strict.returncode}\n{strict.stderr}")
    check(c.run("audit", data, "--strict").returncode == 20, "the conflict alone fails --strict")
    check(c.run("audit", data, "--strict", "--target-tolerance", "0.3").returncode == 0, "nothing to fail")
    # Bad inputs: the report may not replace an input; a split beyond the dataset; no dataset.
    before = open(data, "rb").read()
    c.expect_failure(("audit", data, "-o", data), INVALID_ARGUMENT, "-o")
    c.expect_failure(("audit", data, "--split", split, "-o", split), INVALID_ARGUMENT, "--split")
    check(open(data, "rb").read() == before, "the dataset changed")
    beyond = c.write("beyond.json", json.dumps({"train": [0, 1], "validation": [], "test": [6]}))
    c.expect_failure(("audit", data, "--split", beyond, "-o", c.path("r2.json")), INVALID_ARGUMENT, "beyond.json",
                     "structure 6", output=c.path("r2.json"))
    c.expect_failure(("audit", c.path("nowhere.h5")), IO, "nowhere.h5")
    c.expect_failure(("audit", data, "--target", "band_gap"), INVALID_ARGUMENT, "band_gap")


def case_train_bad_config(c):
    data = c.path("data.h5")
    c.expect_success("convert", EXAMPLE, data)
    model = c.path("model.h5")
    good = TINY_CONFIG.format(dataset=data, model=model)
    typo = c.write("typo.yaml", good.replace("epochs: 4", "epochz: 4"))
    c.expect_failure(["train", typo], INVALID_ARGUMENT, "training.epochz", output=model)
    broken = c.write("broken.yaml", good.replace("hidden: [16]", "hidden: [16"))
    c.expect_failure(["train", broken], FORMAT, "broken.yaml", output=model)
    missing = c.write("missing.yaml", good.replace(data, c.path("nowhere.h5")))
    c.expect_failure(["train", missing], IO, "nowhere.h5", output=model)
    c.expect_failure(["train", c.path("no-config.yaml")], IO, "no-config.yaml", output=model)
    no_target = c.write("target.yaml", good.replace("formation_energy", "band_gap"))
    c.expect_failure(["train", no_target], INVALID_ARGUMENT, "band_gap", output=model)


def case_absurd_config_before_data(c):
    # The dataset does not exist: each bad value must be refused, naming its key, before the data
    # are read (otherwise the run fails with IO on the dataset instead).
    model = c.path("model.h5")
    tiny = TINY_CONFIG.format(dataset=c.path("nowhere.h5"), model=model)
    potential = ("dataset: {data}\nmodel: {{kind: {kind}{extra}}}\ntraining: {{epochs: 2}}\n"
                 "output: {{model: {model}}}\n")
    cases = [
        (tiny.replace("epochs: 4", "epochs: 1000000000000"), "training.epochs"),
        (tiny + "optimizer: {name: adam, lr: -0.1}\n", "optimizer.lr"),
        (tiny + "optimizer: {name: adam, lr: .nan}\n", "optimizer.lr"),
        (tiny + "schedule: {name: cosine, warmup: 9}\n", "warmup"),
        (tiny.replace("hidden: [16]", "hidden: []"), "model.hidden"),
        (potential.format(data=c.path("nowhere.h5"), kind="behler_parrinello", extra=", hidden: []", model=model),
         "model.hidden"),
        (potential.format(data=c.path("nowhere.h5"), kind="nequip", extra=", l_max: 9", model=model), "model.l_max"),
        (potential.format(data=c.path("nowhere.h5"), kind="behler_parrinello", extra="", model=model)
         + "optimizer: {name: kalman, eta0: -1}\n", "eta0"),
    ]
    for k, (text, key) in enumerate(cases):
        c.expect_failure(["train", c.write(f"absurd{k}.yaml", text)], INVALID_ARGUMENT, key, output=model)


def case_wrong_model_file(c):
    data = c.path("data.h5")
    c.expect_success("convert", EXAMPLE, data)
    c.expect_failure(["eval", data, data], 8, "data.h5")  # a dataset is not a model
    c.expect_failure(["predict", c.path("none.h5"), data, "-o", c.path("p.csv")], IO, "none.h5",
                     output=c.path("p.csv"))
    c.expect_failure(["eval", c.write("junk.h5", "junk"), data], 8, "junk.h5")


def case_import_signals(c):
    """matnn import: text and CSV spectra with a label table, PNG images; bad lines, a second grid
    and labels of no input are refused naming the file, with no output left."""
    grid = np.arange(10.0, 12.01, 0.5)
    c.write("a.xy", "# 2theta intensity\n" + "".join(f"{x} {y}\n" for x, y in zip(grid, [1, 5, 2, 1, 0.5])))
    c.write("b.csv", "2theta,intensity\n" + "".join(f"{x},{y}\n" for x, y in zip(grid, [2, 1, 7, 1, 0])))
    labels = c.write("labels.csv", "file,lattice_a,phase\na.xy,4.05,fcc\nb.csv,3.61,\n")
    out = c.path("spectra.h5")
    c.expect_success("import", out, c.path("a.xy"), c.path("b.csv"), "--signal", "xrd", "--labels", labels,
                     "--unit", "lattice_a=Angstrom")
    with h5py.File(out, "r") as f:
        check(f["signals/xrd/values"].shape == (2, 1, 5), f"shape {f['signals/xrd/values'].shape}")
        check(np.allclose(f["signals/xrd/values"][1, 0], [2, 1, 7, 1, 0]), "b.csv intensities")
        check(np.allclose(f["signals/xrd/axis"][:], grid), "axis")
        check(list(f["properties/lattice_a/values"][:]) == [4.05, 3.61], "lattice_a")
        check(f["properties/lattice_a/values"].attrs["units"] == b"Angstrom", "unit")
        check(f["tags/phase"].asstr()[0] == "fcc" and f["tags/phase"].asstr()[1] == "", "phase tag")
        check(f["tags/id"].asstr()[1] == "b", "id tag")
    info = c.expect_success("info", out).stdout
    check("spectrum" in info and "2theta 10 to 12 degree" in info, info)

    bad = c.write("bad.xy", "10 1\n10.5 2\n11 x\n")
    c.expect_failure(["import", c.path("bad.h5"), bad, "--signal", "xrd"], FORMAT, "bad.xy:3", output=c.path("bad.h5"))
    c.write("shifted.xy", "".join(f"{x + 0.1} 1\n" for x in grid))
    c.expect_failure(["import", c.path("bad.h5"), c.path("a.xy"), c.path("shifted.xy"), "--signal", "xrd"], FORMAT,
                     "shifted.xy", "one grid", output=c.path("bad.h5"))
    stray = c.write("stray.csv", "file,y\na.xy,1\nmissing.xy,2\n")
    c.expect_failure(["import", c.path("bad.h5"), c.path("a.xy"), "--signal", "xrd", "--labels", stray],
                     INVALID_ARGUMENT, "missing.xy", output=c.path("bad.h5"))
    c.expect_failure(["import", out, c.path("a.xy"), "--signal", "xrd", "--labels", out], INVALID_ARGUMENT, "labels")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image
    pixels = np.linspace(0, 1, 12).reshape(3, 4)
    matplotlib.image.imsave(c.path("m.png"), pixels, cmap="gray", vmin=0, vmax=1)
    images = c.path("images.h5")
    c.expect_failure(["import", images, c.path("m.png"), "--signal", "sem"], INVALID_ARGUMENT, "--pixel-size",
                     output=images)
    c.expect_success("import", images, c.path("m.png"), "--signal", "sem", "--pixel-size", "12.5")
    with h5py.File(images, "r") as f:
        values = f["signals/sem/values"][0]
        check(values.shape == (3, 3, 4), f"a colour PNG is 3 channels of 3 x 4, got {values.shape}")
        check(np.allclose(values[0], np.round(pixels * 255) / 255, atol=1.5 / 255), "grey levels")
        check(f["signals/sem/pixel_size"][0] == 12.5, "pixel size")
    c.expect_failure(["import", c.path("x.h5"), c.path("m.png"), "--signal", "sem", "--pixel-size", "1",
                      "--axis-unit", "eV"], INVALID_ARGUMENT, "--axis", output=c.path("x.h5"))
    c.expect_failure(["import", c.path("x.h5"), c.path("a.xy"), "--signal", "xrd", "--pixel-unit", "um"],
                     INVALID_ARGUMENT, "--pixel-unit", output=c.path("x.h5"))
    c.expect_failure(["import", c.path("mixed.h5"), c.path("m.png"), c.path("a.xy"), "--signal", "x",
                      "--pixel-size", "1"], INVALID_ARGUMENT, "mix", output=c.path("mixed.h5"))


def case_import_tiff(c):
    """matnn import of TIFF micrographs written by tifffile and Pillow: 16-bit grey in strips,
    float RGB in planar tiles with partial edge tiles, MINISWHITE, a palette image (libtiff's
    RGB conversion), a reduced-resolution preview (skipped); a stack, a truncated file and a NaN
    pixel are refused naming the file, with no output left."""
    import tifffile
    from PIL import Image
    rng = np.random.default_rng(3)
    grey16 = rng.integers(0, 65536, size=(5, 7), dtype=np.uint16)
    tifffile.imwrite(c.path("g16.tif"), grey16, photometric="minisblack", rowsperstrip=2)
    out = c.path("grey.h5")
    c.expect_success("import", out, c.path("g16.tif"), "--signal", "sem", "--pixel-size", "2", "--pixel-unit", "um")
    with h5py.File(out, "r") as f:
        values = f["signals/sem/values"][0]
        check(values.shape == (1, 5, 7), f"16-bit grey is 1 x 5 x 7, got {values.shape}")
        check(np.allclose(values[0], grey16 / 65535.0, atol=1e-6), "16-bit grey levels")
        check(f["signals/sem/pixel_size"].attrs["units"] == b"um", "pixel unit")

    # Big-endian and deflate-compressed (tifffile), LZW-compressed RGB (Pillow): libtiff decodes.
    tifffile.imwrite(c.path("be.tif"), grey16, byteorder=">", compression="zlib")
    rgb8 = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    Image.fromarray(rgb8).save(c.path("lzw.tif"), compression="tiff_lzw")
    c.expect_success("import", c.path("more.h5"), c.path("be.tif"), "--signal", "sem", "--pixel-size", "2")
    c.expect_success("import", c.path("lzw.h5"), c.path("lzw.tif"), "--signal", "sem", "--pixel-size", "2")
    with h5py.File(c.path("more.h5"), "r") as f:
        check(np.allclose(f["signals/sem/values"][0, 0], grey16 / 65535.0, atol=1e-6), "big-endian deflate TIFF")
    with h5py.File(c.path("lzw.h5"), "r") as f:
        check(np.allclose(f["signals/sem/values"][0], rgb8.transpose(2, 0, 1) / 255.0, atol=1e-6), "LZW RGB TIFF")

    rgb = rng.normal(size=(3, 20, 24)).astype(np.float32)
    tifffile.imwrite(c.path("rgb.tiff"), rgb, photometric="rgb", planarconfig="separate", tile=(16, 16))
    white = rng.integers(0, 256, size=(4, 6), dtype=np.uint8)
    tifffile.imwrite(c.path("white.TIF"), white, photometric="miniswhite")
    out = c.path("colour.h5")
    c.expect_success("import", out, c.path("rgb.tiff"), "--signal", "eds", "--pixel-size", "1")
    with h5py.File(out, "r") as f:
        check(np.array_equal(f["signals/eds/values"][0], rgb), "float RGB from separate planes in tiles")
    c.expect_success("import", c.path("white.h5"), c.path("white.TIF"), "--signal", "sem", "--pixel-size", "1")
    with h5py.File(c.path("white.h5"), "r") as f:
        check(np.allclose(f["signals/sem/values"][0, 0], 1 - white / 255.0, atol=1e-6), "MINISWHITE is inverted")

    palette = Image.fromarray(rng.integers(0, 4, size=(6, 5), dtype=np.uint8), mode="P")
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]
    palette.putpalette([v for rgb_ in colours for v in rgb_] + [0] * (3 * 252))
    palette.save(c.path("palette.tif"))
    c.expect_success("import", c.path("palette.h5"), c.path("palette.tif"), "--signal", "sem", "--pixel-size", "1")
    with h5py.File(c.path("palette.h5"), "r") as f:
        expect = np.array(colours, dtype=float)[np.asarray(palette)].transpose(2, 0, 1) / 255.0
        check(np.allclose(f["signals/sem/values"][0], expect, atol=1e-6), "palette through libtiff's RGB conversion")

    with tifffile.TiffWriter(c.path("preview.tif")) as tif:
        tif.write(grey16, photometric="minisblack")
        tif.write(grey16[::2, ::2], photometric="minisblack", subfiletype=1)
    c.expect_success("import", c.path("preview.h5"), c.path("preview.tif"), "--signal", "sem", "--pixel-size", "1")
    with h5py.File(c.path("preview.h5"), "r") as f:
        check(f["signals/sem/values"].shape == (1, 1, 5, 7), "the preview is skipped, the image read")

    tifffile.imwrite(c.path("stack.tif"), np.stack([grey16, grey16]), photometric="minisblack", metadata=None)
    c.expect_failure(["import", c.path("bad.h5"), c.path("stack.tif"), "--signal", "sem", "--pixel-size", "1"],
                     FORMAT, "stack.tif", "2 full-size images", output=c.path("bad.h5"))
    data = open(c.path("g16.tif"), "rb").read()
    c.write_bytes("cut.tif", data[:40])
    c.expect_failure(["import", c.path("bad.h5"), c.path("cut.tif"), "--signal", "sem", "--pixel-size", "1"],
                     FORMAT, "cut.tif", output=c.path("bad.h5"))
    nan = np.zeros((3, 4), dtype=np.float32)
    nan[2, 1] = np.nan
    tifffile.imwrite(c.path("nan.tif"), nan)
    c.expect_failure(["import", c.path("bad.h5"), c.path("nan.tif"), "--signal", "sem", "--pixel-size", "1"],
                     NON_FINITE, "nan.tif", "row 2, column 1", output=c.path("bad.h5"))

CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(f"usage: {sys.argv[0]} MATNN CASE  (CASE one of {', '.join(sorted(CASES))})", file=sys.stderr)
        return 2
    case = Case(sys.argv[1])
    try:
        CASES[sys.argv[2]](case)
    finally:
        case.close()
    print(f"{sys.argv[2]}: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
