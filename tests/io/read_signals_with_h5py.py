"""Reads the spectra and images that test_dataset_signals wrote (signal_records() there) with
nothing but h5py and numpy, following the /signals section of docs/dataset-format.md.

Usage: read_signals_with_h5py.py FILE.h5    (exit status 0 when every check passes)
"""
import sys

import h5py
import numpy as np


def main(path):
    with h5py.File(path, "r") as f:
        xrd, sem = f["signals/xrd"], f["signals/sem"]
        assert xrd.attrs["kind"].decode() == "spectrum"
        assert sem.attrs["kind"].decode() == "image"
        # One array per signal: (rows, channels, points) and (rows, channels, height, width).
        assert xrd["values"].dtype == np.float32 and xrd["values"].shape == (5, 1, 9), xrd["values"].shape
        assert sem["values"].shape == (5, 2, 4, 5), sem["values"].shape
        assert list(xrd["present"][:]) == [1, 1, 1, 0, 1]
        assert list(sem["present"][:]) == [0, 0, 0, 1, 1]
        axis = xrd["axis"]
        assert axis.attrs["name"].decode() == "2theta" and axis.attrs["units"].decode() == "degree"
        assert np.allclose(axis[:], 10.0 + 0.5 * np.arange(9))
        # pattern(i) of the test: sin(i + 0.7 k) + 1.5, in float32.
        for row in (0, 1, 2, 4):
            expected = (np.sin(row + 0.7 * np.arange(9)) + 1.5).astype(np.float32)
            assert np.array_equal(xrd["values"][row, 0], expected), (row, xrd["values"][row, 0], expected)
        assert np.isnan(xrd["values"][3]).all()
        assert sem["pixel_size"].attrs["units"].decode() == "nm"
        assert list(sem["pixel_size"][3:]) == [12.5, 25.0]
        # Labels and tags of the same rows, as for atoms.
        assert np.allclose(f["properties/lattice_a/values"][:3], [3.5, 3.6, 3.7])
        assert f["tags/crystal_system"].asstr()[1] == "hexagonal"
        assert list(f["structures/n_atoms"][:]) == [0, 0, 0, 0, 2]
    print("h5py reads the signals as documented")


if __name__ == "__main__":
    main(sys.argv[1])
