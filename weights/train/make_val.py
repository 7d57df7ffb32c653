#!/usr/bin/python3
"""Fully sampled multi-coil validation volumes of the held-out IXI subjects (prepare_data.py's
VAL_SUBJECTS), in the fastMRI layout that `mrirecon recon` / `metrics` / `maskeval` read.

    /usr/bin/python3 weights/train/make_val.py [--src ../shared/data/train] [--out weights/train/val]

One file per subject, OUT/<subject>.h5: `kspace` complex64 (4, 8, 128, 128) (axial slices
a[:, j, :], j = 54, 60, 66, 72, fitted to 128 x 128 as in prepare_data.py, max 1), centred
orthonormal k-space; `reconstruction_rss` float32 (4, 128, 128), RSS of the noisy coil images;
`sensitivity_map` complex64 (4, 8, 128, 128) the true maps. Phase, coil maps and noise are a
fixed draw (numpy RandomState(7)) of a model unlike train.py's: 8 Gaussian coils on a circle of
radius 1.3 with width 0.8, smooth quadratic object phase, noise sigma 0.5 % of the largest
coil-image magnitude. Derived from IXI: CC BY-SA 3.0.
"""
import argparse
import os
import sys

import h5py
import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calibrate import fft2c, ifft2c  # noqa: E402  pylint: disable=wrong-import-position
from prepare_data import VAL_SUBJECTS, fit  # noqa: E402  pylint: disable=wrong-import-position

SLICES = (54, 60, 66, 72)
NC, N = 8, 128


def simulate(img, rng):
    """8 noisy coil images (NC, N, N) of a real image in [0, 1] and the true maps: smooth
    quadratic object phase, NC Gaussian coils on a circle of radius 1.3 (width 0.8) with linear
    phase, noise sigma 0.5 % of the largest coil-image magnitude (draws: 5 phase coefficients,
    the coil angle, the noise)."""
    y, x = np.meshgrid(np.linspace(-1, 1, N), np.linspace(-1, 1, N), indexing="ij")
    c = rng.uniform(-1, 1, 5)
    ph = np.exp(1j * np.pi * (c[0] + 0.5 * c[1] * x + 0.5 * c[2] * y
                              + 0.3 * c[3] * x * x + 0.3 * c[4] * y * y))
    a0 = rng.uniform(0, 2 * np.pi)
    maps = []
    for k in range(NC):
        ang = a0 + 2 * np.pi * k / NC
        mag = np.exp(-((x - 1.3 * np.cos(ang)) ** 2 + (y - 1.3 * np.sin(ang)) ** 2)
                     / (2 * 0.8 ** 2))
        maps.append(mag * np.exp(1j * (ang + 0.5 * np.cos(ang) * x + 0.5 * np.sin(ang) * y)))
    maps = np.array(maps)
    maps /= np.sqrt((np.abs(maps) ** 2).sum(0, keepdims=True))
    coil = maps * (img * ph)[None]
    sig = 0.005 * np.abs(coil).max()
    coil = coil + sig * (rng.standard_normal(coil.shape)
                         + 1j * rng.standard_normal(coil.shape)) / np.sqrt(2)
    return coil, maps


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--src", default=os.path.join(here, "../../../shared/data/train"))
    p.add_argument("--out", default=os.path.join(here, "val"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.RandomState(7)
    for sid in VAL_SUBJECTS:
        v = np.asarray(nib.load(os.path.join(a.src, "ixi_t1_2mm", sid + "_T1.nii.gz"))
                       .dataobj.get_unscaled(), np.float64)
        ksp = np.zeros((len(SLICES), NC, N, N), np.complex64)
        sens = np.zeros((len(SLICES), NC, N, N), np.complex64)
        rss = np.zeros((len(SLICES), N, N), np.float32)
        for i, j in enumerate(SLICES):
            img = fit(v[:, j, :]).astype(np.float64) / 255.0
            coil, maps = simulate(img, rng)
            ksp[i] = fft2c(coil)
            sens[i] = maps
            rss[i] = np.sqrt((np.abs(ifft2c(ksp[i].astype(np.complex128))) ** 2).sum(0))
        path = os.path.join(a.out, sid + ".h5")
        with h5py.File(path, "w") as f:
            f.create_dataset("kspace", data=ksp)
            f.create_dataset("reconstruction_rss", data=rss)
            f.create_dataset("sensitivity_map", data=sens)
            f.attrs["acquisition"] = "AXT1"
            f.attrs["patient_id"] = sid
            f.attrs["max"] = float(rss.max())
            f.attrs["norm"] = float(np.linalg.norm(rss))
            f.attrs["source"] = ("%s T1 (IXI dataset, CC BY-SA 3.0), axial slices %s, synthetic "
                                 "phase, coil maps and noise; weights/train/make_val.py"
                                 % (sid, list(SLICES)))
        print(path, ksp.shape)


if __name__ == "__main__":
    main()
