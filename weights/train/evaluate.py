#!/usr/bin/python3
"""Scores the shipped networks against zero-filled, CG-SENSE and L1-CS with the project's own
commands (`mrirecon recon`, `mrirecon metrics`; the LPN through `mrirecon apply` PnP), on
  * the held-out IXI subjects (make_val.py: 4 volumes x 4 axial slices, 8 coils, 128 x 128),
  * data/sample/brain8_full.h5 (real 8-coil brain, 230 x 180, never seen in training),
with 1-D equispaced masks at 4x (8 % ACS) and 8x (4 % ACS) and a 2-D Poisson-disc mask (the
held-out data: BART Poisson 128 x 128, R = 8, 16 x 16 calibration; brain8_full: the real
acquisition's own mask from data/sample/brain8_poisson.h5, 12.4 %).

    /usr/bin/python3 weights/train/evaluate.py MRIRECON [--out weights/train/eval] [--no-lpn]
    /usr/bin/python3 weights/train/evaluate.py MRIRECON --only-lpn [--lpn-files 1]

Writes OUT/results.json (every row) and OUT/results.md (tables of mean NMSE / PSNR / SSIM,
fastMRI definition: per volume, data range = volume max, centre crop to W x W).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SHIPPED = os.path.join(ROOT, "weights", "shipped")
NETS = {"E2EVN": "e2evn-brain-demo.h5", "CIRIM": "cirim-brain-demo.h5",
        "RecurrentVarNet": "rvn-brain-demo.h5"}
LPN = "lpn-brain-demo.h5"


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()[-500:]))
    return r.stdout


def masks(mr, td, h, w, poisson):
    out = {}
    for acc, cf in ((4, 0.08), (8, 0.04)):
        p = os.path.join(td, "equi%d_%dx%d.npy" % (acc, h, w))
        sh([mr, "mask", "--type", "equispaced-fraction", "--shape", "%dx%d" % (h, w),
            "--accel", str(acc), "--center-fraction", str(cf), "--seed", "0", "-q", "-o", p])
        out["1-D equispaced %dx" % acc] = p
    out["2-D Poisson"] = poisson
    return out


def acs_maps(ksp, n=24):
    """Low-resolution coil maps from the central n x n k-space (Hann window), RSS-normalised."""
    c, h, w = ksp.shape
    win = np.zeros((h, w))
    hy, hx = np.hanning(n + 2)[1:-1], np.hanning(n + 2)[1:-1]
    y0, x0 = h // 2 - n // 2, w // 2 - n // 2
    win[y0:y0 + n, x0:x0 + n] = np.outer(hy, hx)
    img = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(ksp * win, axes=(-2, -1)), norm="ortho"),
                          axes=(-2, -1))
    rss = np.sqrt((np.abs(img) ** 2).sum(0, keepdims=True))
    return (img / np.maximum(rss, 1e-12 * rss.max())).astype(np.complex64)


def lpn_recon(mr, data, mask_path, out, td):
    """PnP-PGD with the LPN (weights' config: 20 iterations, stride 32, normalised) on the
    file's sensitivity_map if it has one, else low-resolution ACS maps."""
    with h5py.File(data, "r") as f:
        ksp = f["kspace"][()]
        sens = f["sensitivity_map"][()] if "sensitivity_map" in f else None
    s, c, h, w = ksp.shape
    m = np.load(mask_path).astype(np.float32)
    m = np.broadcast_to(m, (h, w)) if m.ndim == 1 else m
    m = (m != 0).astype(np.float32)
    if sens is None:
        sens = np.stack([acs_maps(k) for k in ksp])
    inp = os.path.join(td, "lpn_in.h5")
    with h5py.File(inp, "w") as f:
        f["kspace"] = (ksp * m).astype(np.complex64)
        f["mask"] = np.broadcast_to(m, (s, h, w)).astype(np.float32)
        f["sensitivity_map"] = sens.astype(np.complex64)
    res = os.path.join(td, "lpn_out.h5")
    sh([mr, "apply", "--weights", os.path.join(SHIPPED, LPN), "--input", inp, "--output", res])
    with h5py.File(res, "r") as f:
        img = np.abs(f["output"][()]).astype(np.float32)
    with h5py.File(out, "w") as f:
        f["reconstruction"] = img


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mrirecon")
    p.add_argument("--out", default=os.path.join(HERE, "eval"))
    p.add_argument("--no-lpn", action="store_true")
    p.add_argument("--only", default="", help="comma-separated dataset names")
    p.add_argument("--only-lpn", action="store_true",
                   help="the LPN alone (slow: PnP), on the first --lpn-files held-out volumes; "
                        "writes results_lpn.json/.md")
    p.add_argument("--lpn-files", type=int, default=1)
    a = p.parse_args()
    mr = a.mrirecon
    os.makedirs(a.out, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as td:
        pois128 = os.path.join(td, "poisson128.npy")
        sh([mr, "mask", "--type", "bart-poisson", "--shape", "128x128", "--accel", "8",
            "--calib", "16", "--vd", "2", "--seed", "77", "-q", "-o", pois128])
        pois_real = os.path.join(td, "poisson_real.npy")
        with h5py.File(os.path.join(ROOT, "data", "sample", "brain8_poisson.h5"), "r") as f:
            np.save(pois_real, (f["mask"][()] != 0).astype(np.uint8))
        sets = {"held-out IXI": (sorted(glob.glob(os.path.join(HERE, "val", "*.h5"))), 128, 128,
                                 pois128),
                "brain8_full": ([os.path.join(ROOT, "data", "sample", "brain8_full.h5")], 230,
                                180, pois_real)}
        methods = [("zero-filled", ["--method", "zf"]), ("CG-SENSE", ["--method", "cg"]),
                   ("L1-CS", ["--method", "cs"])]
        methods += [(n, ["--method", "model", "--weights", os.path.join(SHIPPED, w)])
                    for n, w in NETS.items()]
        if a.only_lpn:
            methods = []
            sets["held-out IXI"] = (sets["held-out IXI"][0][:a.lpn_files],) + \
                sets["held-out IXI"][1:]
        if a.only_lpn or not a.no_lpn:
            methods.append(("LPN (PnP)", None))
        for sname, (files, h, w, pois) in sets.items():
            if a.only and sname not in a.only.split(","):
                continue
            for mname, mpath in masks(mr, td, h, w, pois).items():
                for meth, args in methods:
                    vals = []
                    for fpath in files:
                        out = os.path.join(td, "pred.h5")
                        try:
                            if args is None:
                                lpn_recon(mr, fpath, mpath, out, td)
                            else:
                                sh([mr, "recon"] + args + ["--mask", mpath, "-q", fpath, out])
                            r = json.loads(sh([mr, "metrics", "--target", fpath, "--pred", out]))
                        except RuntimeError as e:
                            print("  %s / %s / %s: %s" % (sname, mname, meth, e), flush=True)
                            r = None
                        vals.append(r)
                    ok = [v for v in vals if v]
                    row = {"data": sname, "mask": mname, "method": meth, "volumes": len(ok)}
                    for k in ("nmse", "psnr", "ssim"):
                        row[k] = float(np.mean([pick(v, k) for v in ok])) if ok else None
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    name = "results_lpn" if a.only_lpn else "results"
    with open(os.path.join(a.out, name + ".json"), "w") as f:
        json.dump(rows, f, indent=1)
    write_md(rows, os.path.join(a.out, name + ".md"))


def pick(v, k):
    """The metric k from `mrirecon metrics` JSON (flat or under a 'mean'/'metrics' key)."""
    for key in (k, k.upper()):
        if key in v:
            x = v[key]
            return x["mean"] if isinstance(x, dict) else x
    for sub in ("mean", "metrics"):
        if sub in v and isinstance(v[sub], dict):
            return pick(v[sub], k)
    raise KeyError(k)


def write_md(rows, path):
    lines = []
    for data in dict.fromkeys(r["data"] for r in rows):
        lines += ["", "### %s" % data, "",
                  "| mask | method | NMSE | PSNR (dB) | SSIM |", "|---|---|---|---|---|"]
        for r in rows:
            if r["data"] != data:
                continue
            if r["nmse"] is None:
                lines.append("| %s | %s | failed | | |" % (r["mask"], r["method"]))
            else:
                lines.append("| %s | %s | %.4f | %.2f | %.4f |" % (r["mask"], r["method"],
                                                                    r["nmse"], r["psnr"],
                                                                    r["ssim"]))
    with open(path, "w") as f:
        f.write("\n".join(lines[1:]) + "\n")


if __name__ == "__main__":
    sys.exit(main())
