#!/usr/bin/python3
"""Builds the bundled sample data from the real 8-coil SigPy brain (BSD-3, see README.md).

Outputs (fastMRI multi-coil layout, see README.md):
  sample/brain8_poisson.h5  the real measured k-space as acquired: 2-D Poisson-disc
                            undersampled (12.4 %), 24x24 fully sampled centre, with its mask.
  sample/brain8_full.h5     a fully sampled 8-coil slice derived from the same scan, for
                            retrospective-undersampling tests and benchmarks: image = BART
                            `pics -l1` reconstruction of the real data (ESPIRiT map), coil
                            images = that image times the real low-resolution coil profiles
                            (24x24 calibration, Hann window, RSS-normalised), plus complex
                            Gaussian noise (sigma = 1 % of the max coil-image magnitude, fixed
                            seed). `reconstruction_rss` holds the RSS of the noisy coil images.

Needs BART 0.8 (Debian `bart`) and numpy/h5py; run once, the outputs are committed.
Usage: /usr/bin/python3 data/make_sample.py /path/to/cartesian_ksp.npy
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HEADER = """<?xml version="1.0" encoding="utf-8"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <acquisitionSystemInformation><receiverChannels>8</receiverChannels></acquisitionSystemInformation>
  <encoding>
    <encodedSpace><matrixSize><x>{h}</x><y>{w}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{h}</x><y>{w}</y><z>1</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>{h}</x><y>{w}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{h}</x><y>{w}</y><z>1</z></fieldOfView_mm></reconSpace>
    <trajectory>cartesian</trajectory>
    <encodingLimits>
      <kspace_encoding_step_1><minimum>0</minimum><maximum>{wm}</maximum><center>{wc}</center></kspace_encoding_step_1>
      <slice><minimum>0</minimum><maximum>0</maximum><center>0</center></slice>
    </encodingLimits>
  </encoding>
</ismrmrdHeader>
"""


def ifft2c(k):
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=(-2, -1)), norm="ortho"),
                           axes=(-2, -1))


def fft2c(x):
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=(-2, -1)), norm="ortho"),
                           axes=(-2, -1))


def cfl_write(path, arr_c_order_reversed):
    """arr given in C order with BART's dims reversed (last = BART dim 0)."""
    dims = list(arr_c_order_reversed.shape)[::-1]
    with open(path + ".hdr", "w") as f:
        f.write("# Dimensions\n" + " ".join(str(d) for d in dims) + "\n")
    arr_c_order_reversed.astype(np.complex64).tofile(path + ".cfl")


def cfl_read(path):
    with open(path + ".hdr") as f:
        f.readline()
        dims = [int(d) for d in f.readline().split()]
    data = np.fromfile(path + ".cfl", dtype=np.complex64)
    return data.reshape(dims[::-1])


def write_fastmri(path, ksp, mask=None, rss=None, attrs=None):
    nc, h, w = ksp.shape
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("kspace", data=ksp[None].astype(np.complex64))
        f.create_dataset("ismrmrd_header",
                         data=np.bytes_(HEADER.format(h=h, w=w, wm=w - 1, wc=w // 2)))
        if mask is not None:
            f.create_dataset("mask", data=mask.astype(np.uint8))
        if rss is not None:
            f.create_dataset("reconstruction_rss", data=rss[None].astype(np.float32))
            f.attrs["max"] = float(rss.max())
            f.attrs["norm"] = float(np.linalg.norm(rss))
        f.attrs["acquisition"] = "AXT1"
        f.attrs["patient_id"] = "sigpy-brain8"
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
    os.replace(tmp, path)


def main():
    src = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    ksp = np.load(src).astype(np.complex64)  # (8, 230, 180), centred
    nc, h, w = ksp.shape
    mask = (np.abs(ksp).sum(0) > 0)
    write_fastmri(os.path.join(here, "sample", "brain8_poisson.h5"), ksp, mask=mask,
                  attrs={"source": "mikgroup/sigpy-mri-tutorial data/cartesian_ksp.npy (BSD-3)"})

    with tempfile.TemporaryDirectory() as d:
        # BART dims (x=H, y=W, z=1, coil): C-order array (coil, 1, W, H)
        cfl_write(os.path.join(d, "ksp"), ksp.transpose(0, 2, 1)[:, None])
        subprocess.run(["bart", "ecalib", "-m1", os.path.join(d, "ksp"), os.path.join(d, "sens")],
                       check=True, capture_output=True)
        subprocess.run(["bart", "pics", "-S", "-l1", "-r", "0.005", "-i", "100",
                        os.path.join(d, "ksp"), os.path.join(d, "sens"),
                        os.path.join(d, "img")], check=True, capture_output=True)
        img = cfl_read(os.path.join(d, "img")).reshape(w, h).T  # (H, W)

    # real low-resolution coil profiles from the 24x24 calibration centre
    win = np.zeros((h, w))
    c = 12
    hy = np.hanning(2 * c + 2)[1:-1]
    win[h // 2 - c:h // 2 + c, w // 2 - c:w // 2 + c] = np.outer(hy, hy)
    low = ifft2c(ksp * win)
    rss_low = np.sqrt((np.abs(low) ** 2).sum(0))
    prof = low / np.maximum(rss_low, 1e-3 * rss_low.max())

    coil = prof * img[None]
    rng = np.random.default_rng(20261128)
    sigma = 0.01 * np.abs(coil).max()
    coil = coil + sigma / np.sqrt(2) * (rng.standard_normal(coil.shape)
                                        + 1j * rng.standard_normal(coil.shape))
    full = fft2c(coil).astype(np.complex64)
    rss = np.sqrt((np.abs(ifft2c(full)) ** 2).sum(0)).astype(np.float32)
    write_fastmri(os.path.join(here, "sample", "brain8_full.h5"), full, rss=rss,
                  attrs={"source": "derived from mikgroup/sigpy-mri-tutorial (BSD-3), see "
                                   "data/README.md", "noise_sigma": float(sigma)})
    print("wrote sample/brain8_poisson.h5 and sample/brain8_full.h5; noise sigma", sigma)


if __name__ == "__main__":
    main()
