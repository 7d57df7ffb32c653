#!/usr/bin/env python3
"""Regenerates the ESPIRiT test fixtures (see README.md). Needs numpy and BART 0.8 (`bart`)."""
import os
import subprocess
import sys
import tempfile

import numpy as np

SRC = sys.argv[1] if len(sys.argv) > 1 else \
    "/work/shared/data/real/sigpy_brain8_poisson/cartesian_ksp.npy"
H, W = 80, 64


def write_cfl(name, a):
    # numpy (C, H, W) in C order has the bytes of BART's (W, H, 1, C) in Fortran order
    a = np.ascontiguousarray(a, dtype=np.complex64)
    with open(name + ".hdr", "w") as f:
        f.write("# Dimensions\n%d %d 1 %d\n" % (a.shape[2], a.shape[1], a.shape[0]))
    a.tofile(name + ".cfl")


def read_cfl(name, shape):
    return np.fromfile(name + ".cfl", dtype=np.complex64).reshape(shape)


def main():
    k = np.load(SRC)
    c, h, w = k.shape
    ksp = k[:, h // 2 - H // 2:h // 2 + H // 2, w // 2 - W // 2:w // 2 + W // 2]
    here = os.path.dirname(os.path.abspath(__file__))
    np.save(os.path.join(here, "brain8_ksp.npy"), ksp.astype(np.complex64))
    with tempfile.TemporaryDirectory() as tmp:
        write_cfl(os.path.join(tmp, "ksp"), ksp)
        for flags, out in (([], "brain8_bart_maps.npy"), (["-S", "-P"], "brain8_bart_maps_SP.npy")):
            subprocess.run(["bart", "ecalib", "-m1"] + flags + [os.path.join(tmp, "ksp"),
                           os.path.join(tmp, "sens")], check=True, stdout=subprocess.DEVNULL)
            np.save(os.path.join(here, out), read_cfl(os.path.join(tmp, "sens"), ksp.shape))


if __name__ == "__main__":
    main()
