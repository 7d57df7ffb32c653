#!/usr/bin/python3
"""2-D variable-density Poisson-disc masks for training (BART 0.8's `poisson`, as the project's
own `mrirecon mask --type bart-poisson` writes them), 128 x 128, accelerations 4-10, calibration
box 12-20, variable density 1-3, half of them elliptical. Deterministic (seed = mask index).

    /usr/bin/python3 weights/train/make_masks.py MRIRECON [--n 160] [--out weights/train/data]

Writes OUT/poisson_masks.npz: `masks` uint8 (n, 128, 128).
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mrirecon")
    p.add_argument("--n", type=int, default=160)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "data"))
    a = p.parse_args()
    rng = np.random.RandomState(20261128)
    masks = []
    with tempfile.TemporaryDirectory() as td:
        for i in range(a.n):
            accel = [4, 5, 6, 8, 8, 10][i % 6]
            calib = int(rng.randint(12, 21))
            vd = float(rng.uniform(1.0, 3.0))
            cmd = [a.mrirecon, "mask", "--type", "bart-poisson", "--shape", "128x128",
                   "--accel", str(accel), "--calib", str(calib), "--vd", "%.2f" % vd,
                   "--seed", str(1000 + i), "-q", "-o", os.path.join(td, "m.npy")]
            if i % 2:
                cmd.append("--ellipse")
            subprocess.run(cmd, check=True)
            masks.append(np.load(os.path.join(td, "m.npy")).astype(np.uint8))
    masks = np.stack(masks)
    np.savez_compressed(os.path.join(a.out, "poisson_masks.npz"), masks=masks)
    print("masks", masks.shape, "mean sampling %.3f" % masks.mean())


if __name__ == "__main__":
    main()
