#!/usr/bin/python3
"""Side-by-side benchmark: mrirecon vs BART 0.8 `pics` on the same data, masks, maps and
iteration counts.

Data: data/sample/brain8_full.h5 (fully sampled 8-coil brain, see data/README.md),
retrospectively undersampled with equispaced columns (every 4th) plus 8 centre columns.
For each method the script reports wall time (best of --repeat runs, both tools run back to
back in this one process, so the ratio is what counts), NMSE of the magnitude against the
fully sampled RSS after least-squares intensity scaling, and NMSE between the two tools'
results. BART gets ESPIRiT maps from `bart ecalib -m1 -c 0` (uncropped: cropped default maps
zero the image outside the support and score far worse) and mrirecon is given the SAME maps
(written into the input file as `sensitivity_map`), so the solvers are compared, not the
calibration; a second row times both tools including their ESPIRiT calibration (BART: ecalib
+ pics; mrirecon: its own maps inside the command).

Usage: /usr/bin/python3 bench/bart_compare.py [--bin build/bin/mrirecon] [--repeat 3]
"""
import argparse
import os
import subprocess
import tempfile
import time

import h5py
import numpy as np


def ifft2c(k):
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=(-2, -1)), norm="ortho"),
                           axes=(-2, -1))


def cfl_write(path, a):
    dims = list(a.shape)[::-1]
    with open(path + ".hdr", "w") as f:
        f.write("# Dimensions\n" + " ".join(map(str, dims)) + "\n")
    a.astype(np.complex64).tofile(path + ".cfl")


def cfl_read(path):
    with open(path + ".hdr") as f:
        f.readline()
        dims = [int(x) for x in f.readline().split()]
    return np.fromfile(path + ".cfl", np.complex64).reshape(dims[::-1])


def nmse_scaled(x, ref):
    x = np.abs(x).astype(np.float64)
    ref = ref.astype(np.float64)
    a = (x * ref).sum() / max((x * x).sum(), 1e-30)
    return float(((a * x - ref) ** 2).sum() / (ref ** 2).sum())


def timed(cmd, repeat):
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bin", default=os.path.join(here, "..", "build", "bin", "mrirecon"))
    ap.add_argument("--data", default=os.path.join(here, "..", "data", "sample", "brain8_full.h5"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--iters", type=int, default=30)
    args = ap.parse_args()

    with h5py.File(args.data) as f:
        k = f["kspace"][0]
        hdr = f["ismrmrd_header"][()]
        truth = f["reconstruction_rss"][0]
    nc, h, w = k.shape
    m = np.zeros(w, bool)
    m[::4] = True
    m[w // 2 - 4:w // 2 + 4] = True
    ku = (k * m[None, None, :]).astype(np.complex64)
    print(f"data: {nc} coils x {h} x {w}, acceleration {w / m.sum():.2f} "
          f"(every 4th column + 8 centre columns), {args.iters} iterations")

    rows = []
    with tempfile.TemporaryDirectory() as d:
        p = lambda n: os.path.join(d, n)
        cfl_write(p("ksp"), ku.transpose(0, 2, 1)[:, None])
        t_ecalib = timed(["bart", "ecalib", "-m1", "-c", "0", p("ksp"), p("sens")], args.repeat)
        sens = cfl_read(p("sens")).reshape(nc, w, h).transpose(0, 2, 1)
        np.save(p("mask.npy"), m.astype(np.uint8))
        for name, with_maps in (("in_maps.h5", True), ("in.h5", False)):
            with h5py.File(p(name), "w") as f:
                f["kspace"] = k[None]
                f["ismrmrd_header"] = hdr
                if with_maps:
                    f["sensitivity_map"] = sens[None].astype(np.complex64)

        zf = np.sqrt((np.abs(ifft2c(ku)) ** 2).sum(0))
        rows.append(("zero-filled RSS", None, None, nmse_scaled(zf, truth), None, None))
        for label, bart_reg, method, lam in (("CG-SENSE (l2)", ["-l2", "-r", "0.01"], "cg", "0.01"),
                                             ("L1-wavelet CS", ["-l1", "-r", "0.01"], "cs", "0.01")):
            bart_cmd = ["bart", "pics", "-S", "-i", str(args.iters)] + bart_reg + \
                [p("ksp"), p("sens"), p("bart")]
            tb = timed(bart_cmd, args.repeat)
            xb = cfl_read(p("bart")).reshape(w, h).T
            ours = [args.bin, "recon", "--quiet", "--method", method, "--iters", str(args.iters),
                    "--lambda", lam, "--mask", p("mask.npy"), "--maps", "file",
                    p("in_maps.h5"), p("ours.h5")]
            to = timed(ours, args.repeat)
            with h5py.File(p("ours.h5")) as f:
                xo = f["reconstruction"][0]
            rows.append((label + ", same maps", tb, to, nmse_scaled(xb, truth),
                         nmse_scaled(xo, truth), nmse_scaled(np.abs(xo), np.abs(xb))))
            ours2 = [x if x != p("in_maps.h5") else p("in.h5") for x in ours]
            ours2[ours2.index("file")] = "espirit"
            to2 = timed(ours2, args.repeat)
            with h5py.File(p("ours.h5")) as f:
                xo2 = f["reconstruction"][0]
            rows.append((label + ", own ESPIRiT", tb + t_ecalib, to2, nmse_scaled(xb, truth),
                         nmse_scaled(xo2, truth), nmse_scaled(np.abs(xo2), np.abs(xb))))

    print(f"{'method':32s} {'BART s':>8s} {'ours s':>8s} {'ratio':>6s} {'NMSE BART':>10s} "
          f"{'NMSE ours':>10s} {'NMSE ours-vs-BART':>18s}")
    for label, tb, to, nb, no, nx in rows:
        if tb is None:
            print(f"{label:32s} {'':8s} {'':8s} {'':6s} {nb:10.4f}")
            continue
        print(f"{label:32s} {tb:8.3f} {to:8.3f} {tb / to:6.2f} {nb:10.4f} {no:10.4f} {nx:18.4f}")


if __name__ == "__main__":
    main()
