"""Reads a dataset written by test_dataset with nothing but h5py and numpy, following
docs/dataset-format.md, and checks the values the test wrote (varied_records() there).

Usage: read_with_h5py.py FILE.h5    (exit status 0 when every check passes)
"""
import sys

import h5py
import numpy as np


def read_structure(f, s):
    """Structure s with its labels, as docs/dataset-format.md describes."""
    off = f["structures/atom_offset"]
    a, b = int(off[s]), int(off[s + 1])
    out = {
        "numbers": f["atoms/numbers"][a:b],
        "positions": f["atoms/positions"][a:b],
        "cell": f["structures/cell"][s],
        "pbc": f["structures/pbc"][s].astype(bool),
        "timestamp": int(f["structures/timestamp"][s]) if f["structures/timestamp_present"][s] else None,
    }
    for name, group in f["properties"].items():
        if group["present"][s]:
            out[name] = group["values"][s]
    for name, group in f["atom_properties"].items():
        if group["present"][s]:
            out[name] = group["values"][a:b]
    for name, dataset in f["tags"].items():
        value = dataset.asstr()[s]
        if value != "":
            out["tag:" + name] = value
    return out


def text(value):
    """A string attribute: matnn writes fixed-size strings, which h5py returns as bytes."""
    assert isinstance(value, bytes), f"expected a fixed-size string attribute, got {type(value)}"
    return value.decode("utf-8")


def main(path):
    with h5py.File(path, "r") as f:
        assert text(f.attrs["format"]) == "matnn-dataset", f.attrs["format"]
        assert int(f.attrs["format_version"]) == 1
        assert text(f.attrs["matnn_version"]) != ""
        S, N = int(f.attrs["n_structures"]), int(f.attrs["total_atoms"])
        assert (S, N) == (5, 28), (S, N)
        assert f["structures/n_atoms"].dtype == np.int64
        assert f["atoms/numbers"].dtype == np.int32
        assert f["atoms/positions"].dtype == np.float64 and f["atoms/positions"].shape == (N, 3)
        assert f["structures/cell"].shape == (S, 3, 3)
        assert list(f["structures/n_atoms"][:]) == [2, 1, 5, 3, 17]
        assert list(f["structures/atom_offset"][:]) == [0, 2, 3, 8, 11, 28]
        assert text(f["atoms/positions"].attrs["units"]) == "Angstrom"
        assert text(f["properties/energy/values"].attrs["units"]) == "eV"
        assert text(f["properties/stress/values"].attrs["units"]) == "eV/Angstrom^3"
        assert text(f["properties/formation_energy/values"].attrs["units"]) == "eV/atom"
        assert text(f["atom_properties/forces/values"].attrs["units"]) == "eV/Angstrom"
        assert f["properties/stress/values"].shape == (S, 6)
        assert f["properties/energy/values"].shape == (S,)
        assert f["atom_properties/forces/values"].shape == (N, 3)
        assert f["atom_properties/charges/values"].shape == (N,)

        nacl = read_structure(f, 0)
        assert list(nacl["numbers"]) == [11, 17]
        assert nacl["positions"][1, 0] == 2.82
        assert np.array_equal(nacl["cell"], [[0, 2.82, 2.82], [2.82, 0, 2.82], [2.82, 2.82, 0]])
        assert nacl["pbc"].all()
        assert nacl["energy"] == -6.789012345678901
        assert nacl["stress"].shape == (6,) and nacl["stress"][5] == 4.9e-324
        assert nacl["forces"].shape == (2, 3)
        assert nacl["tag:id"] == "mp-22862" and nacl["tag:prototype"] == "NaCl"
        assert nacl["timestamp"] == 1700000000

        atom = read_structure(f, 1)
        assert list(atom["numbers"]) == [1] and atom["energy"] == -13.6
        assert "forces" not in atom and atom["timestamp"] is None and "tag:config_type" not in atom
        # Absent labels are NaN on disk, and the absent timestamp reads as NaT.
        assert np.isnan(f["atom_properties/forces/values"][2]).all()
        assert np.isnat(f["structures/timestamp"][1:2].astype("datetime64[s]"))[0]

        slab = read_structure(f, 2)
        assert list(slab["pbc"]) == [True, True, False]
        assert "energy" not in slab and np.isnan(f["properties/energy/values"][2])
        assert list(slab["dos_moments"]) == [0.5, -1.25, 3.0, 1e300]
        assert slab["site_features"].shape == (5, 2)
        assert slab["tag:config_type"] == "slab \u03b1-Fe\u2082O\u2083"
        assert slab["timestamp"] == -86400

        water = read_structure(f, 3)
        assert list(water["numbers"]) == [8, 1, 1] and water["band_gap"] == 6.9
        assert water["forces"].shape == (3, 3) and water["charges"].shape == (3,)
        assert not water["pbc"].any()

        big = read_structure(f, 4)
        assert big["positions"].shape == (17, 3) and big["timestamp"] == 0
        assert big["magmoms"].shape == (17,) and big["is_metal"] == 0.0

        # Whole-array use: energies per atom of the structures that have an energy.
        e = f["properties/energy"]
        mask = e["present"][:].astype(bool)
        per_atom = e["values"][:][mask] / f["structures/n_atoms"][:][mask]
        assert per_atom.shape == (4,) and np.isfinite(per_atom).all()
    print("read_with_h5py: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
