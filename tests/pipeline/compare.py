#!/usr/bin/python3
"""Checks a run of tests/pipeline/run_cases.sh against tests/data/pipeline/reference/.

Every image dataset of every reference .h5 must be present with the same shape and agree to
a relative L2 error ||new - ref|| / ||ref|| <= 1e-6 (bit-identity is not required: on another
CPU, FFTW's and OpenBLAS's SIMD kernels sum in another order; measured here: switching the
convolution algorithm moves the networks' images by <= 7e-7); every case's exit status must
match; every maskeval row (file, slice, mask, method) must exist with the same status and
agree on accel, NMSE, PSNR and SSIM to 1e-6 relative (the time column is not compared, nor the
wording of error messages).

    compare.py REFERENCE_DIR RUN_DIR     exit 0 when everything agrees
"""
import csv
import glob
import os
import sys

import h5py
import numpy as np

TOL = 1e-6


def datasets(path):
    out = {}
    with h5py.File(path, "r") as h:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fc":
                out[name] = np.asarray(obj[()], np.complex128 if obj.dtype.kind == "c" else np.float64)
        h.visititems(visit)
    return out


def rows(path):
    key = lambda r: (os.path.basename(r["file"]), r["slice"], r["mask"], os.path.basename(r["method"]))
    with open(path, newline="") as f:
        return {key(r): r for r in csv.DictReader(f)}


def main(ref, run):
    bad = []
    for rc in sorted(glob.glob(os.path.join(ref, "*.rc"))):
        name = os.path.basename(rc)
        got = os.path.join(run, name)
        want = open(rc).read().strip()
        have = open(got).read().strip() if os.path.exists(got) else "missing"
        if want != have:
            bad.append(f"{name[:-3]}: exit status {have}, reference {want}")
    for f in sorted(glob.glob(os.path.join(ref, "*.h5"))):
        name = os.path.basename(f)
        g = os.path.join(run, name)
        if not os.path.exists(g):
            bad.append(f"{name}: not written")
            continue
        a, b = datasets(f), datasets(g)
        for k, x in a.items():
            if k not in b:
                bad.append(f"{name}: no dataset {k}")
                continue
            y = b[k]
            if x.shape != y.shape:
                bad.append(f"{name} {k}: shape {y.shape}, reference {x.shape}")
                continue
            err = np.linalg.norm(y - x) / max(np.linalg.norm(x), 1e-30)
            print(f"{name:16s} {k:24s} relative L2 {err:.2e}")
            if not err <= TOL:
                bad.append(f"{name} {k}: relative L2 error {err:.2e} > {TOL}")
    ra = rows(os.path.join(ref, "maskeval", "results.csv"))
    rb = rows(os.path.join(run, "maskeval", "results.csv")) if os.path.exists(
        os.path.join(run, "maskeval", "results.csv")) else {}
    worst = 0.0
    for k, r in ra.items():
        s = rb.get(k)
        if s is None:
            bad.append(f"maskeval row {k}: missing")
            continue
        if r["status"] != s["status"]:
            bad.append(f"maskeval row {k}: status {s['status']}, reference {r['status']}")
            continue
        for c in ("accel", "nmse", "psnr", "ssim"):
            if r[c] == "" and s[c] == "":
                continue
            x, y = float(r[c]), float(s[c])
            rel = abs(x - y) / max(abs(x), 1e-30)
            worst = max(worst, rel)
            if not rel <= TOL:
                bad.append(f"maskeval row {k} {c}: {y} vs reference {x}")
    if len(rb) != len(ra):
        bad.append(f"maskeval: {len(rb)} rows, reference {len(ra)}")
    print(f"maskeval: {len(ra)} rows, worst relative difference {worst:.2e}")
    for b in bad:
        print("MISMATCH", b)
    print("pipeline equality:", "ok" if not bad else f"{len(bad)} mismatch(es)")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
