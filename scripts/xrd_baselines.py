#!/usr/bin/env python3
"""Classical baselines for the powder-pattern tasks, on the same split as the models.

Two ways a crystallographer without a neural network would answer "which crystal system?" and
"what lattice parameter?" for an unseen pattern, given the labelled training patterns:
  - nearest neighbour on the whole pattern: the training pattern of highest Pearson correlation
    (both scaled to their maximum) lends its label;
  - Hanawalt search-match on peak positions: the d-spacings of each pattern's three strongest
    peaks (local maxima of a 5-point smoothed pattern above 5 % of the maximum) are matched
    against every training pattern's, by the sum of relative d differences of the strongest
    three lines, and the best match lends its label (the classical powder diffraction file
    search).

Usage (Debian's interpreter; the split from `matnn split`, as the training configs use it):
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/xrd_baselines.py out/xrd.h5 out/xrd_split.json
Prints test accuracy (crystal_system, prototype_index) and test MAE (lattice_a, Angstrom) of
each baseline.
"""
import json
import sys

import h5py
import numpy as np

WAVELENGTH = 1.54184  # Cu K-alpha, as the generator


def strongest_d_spacings(two_theta, pattern, lines=3):
    """d-spacings (Angstrom) of the `lines` strongest local maxima, strongest first."""
    smooth = np.convolve(pattern, np.ones(5) / 5, mode="same")
    inner = smooth[1:-1]
    peaks = np.where((inner > smooth[:-2]) & (inner >= smooth[2:]) & (inner > 0.05 * smooth.max()))[0] + 1
    order = peaks[np.argsort(smooth[peaks])[::-1]][:lines]
    d = WAVELENGTH / (2 * np.sin(np.radians(two_theta[order] / 2)))
    return np.pad(d, (0, lines - len(d)), constant_values=np.nan)


def main(path, split_path):
    with h5py.File(path, "r") as f:
        two_theta = f["signals/xrd/axis"][:]
        patterns = f["signals/xrd/values"][:, 0, :].astype(np.float64)
        system = f["properties/crystal_system/values"][:].astype(int)
        prototype = f["properties/prototype_index/values"][:].astype(int)
        lattice = f["properties/lattice_a/values"][:]
    with open(split_path) as handle:
        split = json.load(handle)
    train, test = np.array(split["train"]), np.array(split["test"])
    # Pearson correlation of every test pattern with every training pattern.
    z = patterns - patterns.mean(axis=1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    nearest = train[np.argmax(z[test] @ z[train].T, axis=1)]
    d = np.array([strongest_d_spacings(two_theta, p) for p in patterns])
    distance = np.nansum(np.abs(d[test][:, None, :] - d[train][None, :, :]) / d[test][:, None, :], axis=2)
    matched = train[np.argmin(distance, axis=1)]
    print(f"{len(train)} training and {len(test)} test patterns ({path}, split {split_path})")
    print(f"{'baseline':<32} {'crystal_system accuracy':>24} {'prototype accuracy':>19} {'lattice_a MAE (A)':>18}")
    for name, source in (("nearest pattern (Pearson)", nearest), ("Hanawalt search-match (3 lines)", matched)):
        accuracy = np.mean(system[source] == system[test])
        prototype_accuracy = np.mean(prototype[source] == prototype[test])
        mae = np.mean(np.abs(lattice[source] - lattice[test]))
        print(f"{name:<32} {accuracy:>24.3f} {prototype_accuracy:>19.3f} {mae:>18.3f}")
    majority = np.mean(system[test] == np.bincount(system[train]).argmax())
    prototype_majority = np.mean(prototype[test] == np.bincount(prototype[train]).argmax())
    print(f"{'training mean / majority class':<32} {majority:>24.3f} {prototype_majority:>19.3f} "
          f"{np.mean(np.abs(lattice[train].mean() - lattice[test])):>18.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
