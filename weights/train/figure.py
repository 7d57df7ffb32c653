#!/usr/bin/python3
"""Side-by-side pictures of the README's main job: the real 8-coil brain of
data/sample/brain8_poisson.h5 (2-D Poisson-disc mask, 12.4 %, 230 x 180), reconstructed by
`mrirecon recon` zero-filled, with L1-CS and with the shipped networks.

    /usr/bin/python3 weights/train/figure.py MRIRECON [--out docs]

Writes OUT/brain8_poisson_zf_cs_cirim.png: zero-filled | L1-CS | CIRIM.
It also writes OUT/brain8_poisson_networks.png: zero-filled | L1-CS | E2EVN | CIRIM |
RecurrentVarNet | LPN (PnP-PGD, ACS maps). The panels have one common grey window: 0 to the
99.5th percentile of the L1-CS image. 8-bit greyscale; no text is drawn in the pictures.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import acs_maps  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SAMPLE = os.path.join(ROOT, "data", "sample", "brain8_poisson.h5")
SHIPPED = os.path.join(ROOT, "weights", "shipped")


def write_png(path, a):
    """8-bit greyscale PNG of a in [0, 1]."""
    a = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    h, w = a.shape
    raw = b"".join(b"\x00" + a[i].tobytes() for i in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def recon(mr, args, td, name):
    out = os.path.join(td, name + ".h5")
    subprocess.run([mr, "recon"] + args + ["-q", SAMPLE, out], check=True)
    with h5py.File(out, "r") as f:
        return f["reconstruction"][0]


def lpn(mr, td):
    with h5py.File(SAMPLE, "r") as f:
        ksp = f["kspace"][0]
        mask = (f["mask"][()] != 0).astype(np.float32)
    inp, out = os.path.join(td, "lpn_in.h5"), os.path.join(td, "lpn_out.h5")
    with h5py.File(inp, "w") as f:
        f["kspace"] = (ksp * mask).astype(np.complex64)
        f["mask"] = mask
        f["sensitivity_map"] = acs_maps(ksp)
    subprocess.run([mr, "apply", "--weights", os.path.join(SHIPPED, "lpn-brain-demo.h5"),
                    "--input", inp, "--output", out], check=True)
    with h5py.File(out, "r") as f:
        return np.abs(f["output"][()])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mrirecon")
    p.add_argument("--out", default=os.path.join(ROOT, "docs"))
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as td:
        im = {"zf": recon(a.mrirecon, ["--method", "zf"], td, "zf"),
              "cs": recon(a.mrirecon, ["--method", "cs"], td, "cs")}
        for n in ("e2evn", "cirim", "rvn"):
            im[n] = recon(a.mrirecon, ["--method", "model", "--weights",
                                       os.path.join(SHIPPED, n + "-brain-demo.h5")], td, n)
        im["lpn"] = lpn(a.mrirecon, td)
    win = np.percentile(im["cs"], 99.5)
    gap = np.ones((im["zf"].shape[0], 4))

    def row(keys):
        parts = []
        for k in keys:
            parts += [im[k] / win, gap]
        return np.concatenate(parts[:-1], 1)
    os.makedirs(a.out, exist_ok=True)
    write_png(os.path.join(a.out, "brain8_poisson_zf_cs_cirim.png"), row(["zf", "cs", "cirim"]))
    write_png(os.path.join(a.out, "brain8_poisson_networks.png"),
              row(["zf", "cs", "e2evn", "cirim", "rvn", "lpn"]))
    print("wrote", os.path.join(a.out, "brain8_poisson_zf_cs_cirim.png"), "and",
          os.path.join(a.out, "brain8_poisson_networks.png"))


if __name__ == "__main__":
    main()
