#!/usr/bin/python3
"""Makes ixi_axial2.h5, the tiny fully sampled multi-coil fastMRI-layout file of the maskeval
tests, from two real axial T1 slices of IXI subject IXI132-HH-1415 (../shared/data/train;
CC BY-SA 3.0, see README.md).

Recipe (../shared/data/train/README.md): a real magnitude slice, a synthetic smooth phase,
synthetic smooth coil maps, FFT to k-space, complex Gaussian noise. Run once with Debian's
python3-numpy, python3-h5py and python3-nibabel:

    /usr/bin/python3 tests/data/maskeval/make_maskeval_data.py \
        /work/shared/data/train/ixi_t1_2mm/IXI132-HH-1415_T1.nii.gz tests/data/maskeval
"""
import os
import sys

import h5py
import nibabel as nib
import numpy as np

H, W, NC = 72, 60, 8
SLICES = (74, 78)  # axial indices along the S axis (axis codes P, S, R)


def fft2c(x):
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=(-2, -1)), norm="ortho"),
                           axes=(-2, -1))


def ifft2c(x):
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(x, axes=(-2, -1)), norm="ortho"),
                           axes=(-2, -1))


def resample(img):
    """120 x 90 -> 72 x 54 by centred k-space truncation, then zero columns to 72 x 60."""
    k = fft2c(img.astype(np.complex128))
    h0 = (k.shape[0] - H) // 2
    w0 = (k.shape[1] - 54) // 2
    small = ifft2c(k[h0:h0 + H, w0:w0 + 54]) * np.sqrt(H * 54 / img.size)
    out = np.zeros((H, W))
    out[:, 3:57] = np.abs(small)
    return out


def coil_maps():
    """Eight smooth Gaussian coil profiles on a ring around the head, with linear phase."""
    y, x = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing="ij")
    maps = []
    for c in range(NC):
        a = 2 * np.pi * c / NC
        cy, cx = 1.2 * np.sin(a), 1.2 * np.cos(a)
        mag = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * 0.9 ** 2))
        ph = np.exp(1j * (0.6 * np.cos(a) * x + 0.6 * np.sin(a) * y + a))
        maps.append(mag * ph)
    maps = np.array(maps)
    return maps / np.sqrt(np.sum(np.abs(maps) ** 2, axis=0, keepdims=True))


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    vol = np.asarray(nib.load(src).get_fdata())
    rng = np.random.RandomState(20261128)
    maps = coil_maps()
    y, x = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing="ij")
    phase = np.exp(1j * (0.8 * x - 0.5 * y + 0.4 * x * y))  # smooth object phase
    ksp = np.zeros((len(SLICES), NC, H, W), np.complex64)
    rss = np.zeros((len(SLICES), H, W), np.float32)
    for i, s in enumerate(SLICES):
        img = resample(vol[:, s, :])  # index 0 = anterior: the top row
        img /= img.max()
        coil = maps * (img * phase)[None]
        sigma = 0.005 * np.abs(coil).max()
        coil = coil + sigma * (rng.standard_normal(coil.shape)
                               + 1j * rng.standard_normal(coil.shape)) / np.sqrt(2)
        ksp[i] = fft2c(coil).astype(np.complex64)
        rss[i] = np.sqrt(np.sum(np.abs(ifft2c(ksp[i].astype(np.complex128))) ** 2, axis=0))
    path = os.path.join(outdir, "ixi_axial2.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=ksp)
        f.create_dataset("reconstruction_rss", data=rss)
        f.attrs["acquisition"] = "AXT1"
        f.attrs["patient_id"] = "IXI132-HH-1415"
        f.attrs["max"] = float(rss.max())
        f.attrs["norm"] = float(np.linalg.norm(rss))
        f.attrs["source"] = ("IXI132-HH-1415 T1 (IXI dataset, CC BY-SA 3.0), axial slices "
                             "74 and 78, synthetic phase and coil maps; see README.md")
    print(path, ksp.shape, os.path.getsize(path))


if __name__ == "__main__":
    main()
