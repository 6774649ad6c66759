#!/usr/bin/env python3
"""Generates simulated micrographs as a matnn dataset (images under the signal "micrograph").

Two microstructures, each computed from physics rather than drawn:
  - polycrystals: a Poisson-Voronoi tessellation of a periodic square (the grain structure of
    site-saturated nucleation and isotropic growth), imaged as in a backscatter or optical
    micrograph: each grain has its own grey level (orientation contrast), boundaries are dark
    lines, then blur and noise. Label: grain_size, the mean equivalent-circle diameter of the
    grains (sqrt(4 area / pi)), in nm, from the exact tessellation.
  - two-phase mixtures: the Cahn-Hilliard equation dc/dt = laplace(c^3 - c - kappa laplace c)
    integrated by a semi-implicit spectral scheme from a random field of mean c0, for a random
    time (spinodal decomposition and coarsening), imaged with the phases' contrast, blur and
    noise. Labels: phase_fraction, the area fraction of the c > 0 phase, and
    characteristic_length, 2 pi / <k> of the structure factor, in nm.
Each image has its own pixel size (10 to 40 nm, as micrographs taken at several magnifications)
so lengths in pixels and in nm differ. Every label is present only where it applies
(grain_size for polycrystals, phase_fraction and characteristic_length for mixtures), and the tag
"microstructure" says which.

The file follows docs/dataset-format.md, written with h5py. Every image is drawn from its own
seed (base seed and index).

Run with Debian's interpreter:
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/generate_micrographs.py OUT.h5 --images 1200
"""
import argparse

import h5py
import numpy as np

SIZE = 64  # pixels per side


def blur(image, sigma):
    """Periodic Gaussian blur by FFT."""
    k = np.fft.fftfreq(image.shape[0])
    kx, ky = np.meshgrid(k, k, indexing="ij")
    return np.real(np.fft.ifft2(np.fft.fft2(image) * np.exp(-2 * (np.pi * sigma) ** 2 * (kx ** 2 + ky ** 2))))


def polycrystal(rng):
    """(image, grain size in pixels) of a periodic Poisson-Voronoi tessellation."""
    grains = int(rng.integers(6, 60))
    seeds = rng.uniform(0, SIZE, size=(grains, 2))
    y, x = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    best = np.full((SIZE, SIZE), np.inf)
    label = np.zeros((SIZE, SIZE), int)
    for g, (sy, sx) in enumerate(seeds):
        dy = np.abs(y - sy)
        dx = np.abs(x - sx)
        d = np.minimum(dy, SIZE - dy) ** 2 + np.minimum(dx, SIZE - dx) ** 2
        closer = d < best
        best[closer], label[closer] = d[closer], g
    areas = np.bincount(label.ravel(), minlength=grains)
    areas = areas[areas > 0]
    size_px = np.mean(np.sqrt(4 * areas / np.pi))
    levels = rng.uniform(0.3, 1.0, size=grains)
    image = levels[label]
    boundary = (label != np.roll(label, 1, 0)) | (label != np.roll(label, 1, 1))
    image[boundary] *= rng.uniform(0.1, 0.4)
    return image, size_px


def cahn_hilliard(rng):
    """(image, phase fraction, characteristic length in pixels) after spinodal decomposition."""
    c0 = rng.uniform(-0.45, 0.45)
    kappa, dt = 1.0, 0.1
    c = c0 + 0.05 * rng.standard_normal((SIZE, SIZE))
    k = 2 * np.pi * np.fft.fftfreq(SIZE)
    k2 = np.add.outer(k ** 2, k ** 2)
    steps = int(rng.integers(200, 1200))
    for _ in range(steps):
        c_hat = np.fft.fft2(c)
        nonlinear = np.fft.fft2(c ** 3 - c)
        c = np.real(np.fft.ifft2((c_hat - dt * k2 * nonlinear) / (1 + dt * kappa * k2 ** 2)))
    fraction = float(np.mean(c > 0))
    power = np.abs(np.fft.fft2(c - c.mean())) ** 2
    kk = np.sqrt(k2)
    mean_k = np.sum(kk * power) / np.sum(power)
    image = 0.3 + 0.5 * (np.tanh(3 * c) + 1) / 2
    return image, fraction, 2 * np.pi / mean_k


def write_dataset(path, rows):
    S = len(rows)

    def column(group, name, data, units=None):
        d = group.create_dataset(name, data=data, maxshape=(None,) + data.shape[1:], chunks=True)
        if units is not None:
            d.attrs["units"] = np.bytes_(units)

    with h5py.File(path, "w", libver=("v110", "latest")) as f:
        f.attrs["format"] = np.bytes_("matnn-dataset")
        f.attrs["format_version"] = np.int64(1)
        f.attrs["matnn_version"] = np.bytes_("generate_micrographs.py")
        f.attrs["n_structures"] = np.int64(S)
        f.attrs["total_atoms"] = np.int64(0)
        st, at = f.create_group("structures"), f.create_group("atoms")
        column(st, "n_atoms", np.zeros(S, np.int64))
        column(st, "atom_offset", np.zeros(S + 1, np.int64))
        column(st, "cell", np.zeros((S, 3, 3)), "Angstrom")
        column(st, "pbc", np.zeros((S, 3), np.uint8))
        column(st, "timestamp", np.full(S, np.iinfo(np.int64).min, np.int64), "s")
        column(st, "timestamp_present", np.zeros(S, np.uint8))
        column(at, "numbers", np.zeros(0, np.int32))
        column(at, "positions", np.zeros((0, 3)), "Angstrom")
        props = f.create_group("properties")
        f.create_group("atom_properties")
        for name, unit in (("grain_size", "nm"), ("phase_fraction", ""), ("characteristic_length", "nm")):
            g = props.create_group(name)
            values = np.array([r.get(name, np.nan) for r in rows])
            column(g, "values", values, unit)
            column(g, "present", np.isfinite(values).astype(np.uint8))
        tags = f.create_group("tags")
        for name in ("id", "microstructure"):
            values = [r[name].encode() for r in rows]
            tags.create_dataset(name, data=np.array(values, dtype=f"S{max(len(v) for v in values)}"), maxshape=(None,),
                                chunks=True)
        signal = f.create_group("signals").create_group("micrograph")
        signal.attrs["kind"] = np.bytes_("image")
        column(signal, "values", np.stack([r["image"] for r in rows])[:, None, :, :].astype(np.float32))
        column(signal, "present", np.ones(S, np.uint8))
        column(signal, "pixel_size", np.array([r["pixel"] for r in rows]), "nm")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", help="the dataset to write (.h5)")
    parser.add_argument("--images", type=int, default=1200, help="images, half of each microstructure")
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args()
    rows = []
    for i in range(args.images):
        rng = np.random.default_rng([args.seed, i])
        pixel = rng.uniform(10.0, 40.0)
        row = {"id": f"micrograph-{i:05d}", "pixel": pixel}
        if i % 2 == 0:
            image, size_px = polycrystal(rng)
            row.update(microstructure="polycrystal", grain_size=size_px * pixel)
        else:
            image, fraction, length_px = cahn_hilliard(rng)
            row.update(microstructure="two_phase", phase_fraction=fraction, characteristic_length=length_px * pixel)
        image = blur(image, rng.uniform(0.5, 1.2))
        image = image + rng.uniform(0.02, 0.08) * rng.standard_normal(image.shape)
        row["image"] = image
        rows.append(row)
    write_dataset(args.output, rows)
    print(f"wrote {len(rows)} micrographs of {SIZE} x {SIZE} pixels to {args.output}")


if __name__ == "__main__":
    main()
