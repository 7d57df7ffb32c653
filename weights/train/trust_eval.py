#!/usr/bin/python3
"""Detection and false-flag rates of the trust report's out-of-distribution flag (README "Can
this image be trusted?"), for every shipped network.

    /usr/bin/python3 weights/train/trust_eval.py MRIRECON [--src ../shared/data/train]
        [--out weights/train/trust] [--nets cirim,e2evn,rvn] [--store]

In-distribution data: the held-out IXI subjects of prepare_data.py (never trained on), 8 axial
slices each, made 8-coil with the coil / phase / noise model of make_val.py. The first two subjects calibrate
(`mrirecon calibrate`, on a copy of the weight file unless --store) with masks of training's
kinds: 1-D equispaced 4x (8 % centre) and 8x (4 %), 2-D Poisson 6x (BART, 16² calibration);
the other two are the held-out in-distribution set (false flags), through the 1-D 4x and the
Poisson mask. Bad inputs, each through the same mask unless said:
  phantom      a Shepp-Logan phantom made 8-coil the same way (wrong anatomy)
  texture      a non-anatomical image (random rectangles and discs) made 8-coil
  row-mask     the held-out slices with the mask's orientation swapped (rows sampled)
  corrupt      the held-out slices with 3 sampled k-space lines outside the centre corrupted
               (amplitude x10, random phase), as a spike or a bad receiver line would
Writes OUT/trust_eval.md (the table), OUT/trust_eval.json, and with --figure PNG the README
figure: CIRIM on a held-out slice, the same slice with corrupted lines, the phantom, each with
its residual per time step below (log scale, a dotted line per decade).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from prepare_data import VAL_SUBJECTS, fit  # noqa: E402  pylint: disable=wrong-import-position
from figure import write_png  # noqa: E402  pylint: disable=wrong-import-position
from make_val import NC, N, fft2c, simulate  # noqa: E402  pylint: disable=wrong-import-position

SLICES = tuple(range(50, 82, 4))
NETS = {"cirim": "cirim-brain-demo.h5", "e2evn": "e2evn-brain-demo.h5",
        "rvn": "rvn-brain-demo.h5"}


def coils(img, rng):
    """8-coil k-space of a real image in [0, 1]: make_val.py's coil, phase and noise model."""
    return fft2c(simulate(img, rng)[0]).astype(np.complex64)


def shepp_logan():
    """The modified Shepp-Logan phantom (Toft), 128 x 128, values in [0, 1]."""
    e = [(1, .69, .92, 0, 0, 0), (-.8, .6624, .874, 0, -.0184, 0),
         (-.2, .11, .31, .22, 0, -18), (-.2, .16, .41, -.22, 0, 18),
         (.1, .21, .25, 0, .35, 0), (.1, .046, .046, 0, .1, 0), (.1, .046, .046, 0, -.1, 0),
         (.1, .046, .023, -.08, -.605, 0), (.1, .023, .023, 0, -.606, 0),
         (.1, .023, .046, .06, -.605, 0)]
    y, x = np.meshgrid(np.linspace(1, -1, N), np.linspace(-1, 1, N), indexing="ij")
    p = np.zeros((N, N))
    for a, ax, ay, x0, y0, t in e:
        t = np.deg2rad(t)
        xr = (x - x0) * np.cos(t) + (y - y0) * np.sin(t)
        yr = -(x - x0) * np.sin(t) + (y - y0) * np.cos(t)
        p[(xr / ax) ** 2 + (yr / ay) ** 2 <= 1] += a
    return np.clip(p, 0, None) / p.max()


def texture(rng):
    """A non-anatomical picture: random rectangles and discs on a dark background."""
    img = np.zeros((N, N))
    y, x = np.mgrid[0:N, 0:N]
    for _ in range(12):
        v = rng.uniform(0.2, 1.0)
        if rng.uniform() < 0.5:
            y0, x0 = rng.randint(0, N - 8, 2)
            h, w = rng.randint(6, 48, 2)
            img[y0:y0 + h, x0:x0 + w] = v
        else:
            cy, cx, r = rng.randint(10, N - 10), rng.randint(10, N - 10), rng.randint(4, 24)
            img[(y - cy) ** 2 + (x - cx) ** 2 <= r * r] = v
    return img


def write(path, ksp):
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=np.asarray(ksp, np.complex64))


def make_data(src, td, rng):
    """Files per set: calib/*.h5, heldout/*.h5, phantom.h5, texture.h5, corrupt/*.h5; the
    column mask and its row-swapped twin."""
    sets = {"calib": [], "heldout": []}
    for i, sid in enumerate(VAL_SUBJECTS):
        v = np.asarray(nib.load(os.path.join(src, "ixi_t1_2mm", sid + "_T1.nii.gz"))
                       .dataobj.get_unscaled(), np.float64)
        ksp = np.stack([coils(fit(v[:, j, :]).astype(np.float64) / 255.0, rng)
                        for j in SLICES])
        name = "calib" if i < 2 else "heldout"
        os.makedirs(os.path.join(td, name), exist_ok=True)
        path = os.path.join(td, name, sid + ".h5")
        write(path, ksp)
        sets[name].append(path)
    write(os.path.join(td, "phantom.h5"), np.stack([coils(shepp_logan(), rng)
                                                    for _ in range(8)]))
    write(os.path.join(td, "texture.h5"), np.stack([coils(texture(rng), rng)
                                                    for _ in range(8)]))
    return sets


def corrupt(files, col_mask, td, rng):
    """The held-out files with 3 sampled columns outside the centre corrupted."""
    sampled = np.flatnonzero(col_mask)
    outer = [c for c in sampled if abs(c - N // 2) > 0.04 * N + 1]
    out = []
    os.makedirs(os.path.join(td, "corrupt"), exist_ok=True)
    for f in files:
        with h5py.File(f, "r") as h:
            k = h["kspace"][()]
        for s in range(k.shape[0]):
            for c in rng.choice(outer, 3, replace=False):
                k[s, :, :, c] *= 10 * np.exp(1j * rng.uniform(0, 2 * np.pi, (NC, 1)))
        p = os.path.join(td, "corrupt", os.path.basename(f))
        write(p, k)
        out.append(p)
    return out


def recon_flags(mr, weights, files, mask, td, tag):
    """Per-slice (score, flagged, residual, unsampled) of `recon --report` over files."""
    rows = []
    for f in files:
        rep = os.path.join(td, "%s_%s.json" % (tag, os.path.basename(f)))
        subprocess.run([mr, "recon", "-q", "--method", "model", "--weights", weights,
                        "--mask", mask, "--maps", "acs", "--report", rep, f,
                        os.path.join(td, "out.h5")], check=True)
        with open(rep) as h:
            d = json.load(h)
        for s in d["slices"]:
            rows.append({"score": s["score"], "flagged": s["flagged"], "residual": s["residual"],
                         "unsampled": s["unsampled"],
                         "steps": [x["residual"] for x in s["steps"]]})
    return rows


def draw_curve(panel, values, lo, hi):
    """A log-scale polyline of values on a (h, w) panel in [0, 1], with a frame."""
    h, w = panel.shape
    panel[0, :] = panel[-1, :] = panel[:, 0] = panel[:, -1] = 0.5
    for decade in range(int(np.floor(lo)), int(np.ceil(hi)) + 1):  # grid lines per decade
        y = int(round((h - 1) * (hi - decade) / (hi - lo)))
        if 0 < y < h - 1:
            panel[y, ::4] = 0.35
    n = len(values)
    pts = [(int(round((w - 1) * i / max(n - 1, 1))),
            int(round((h - 1) * (hi - np.log10(max(v, 10 ** lo))) / (hi - lo))))
           for i, v in enumerate(values)]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        for t in np.linspace(0, 1, 2 * max(abs(x1 - x0), abs(y1 - y0)) + 2):
            x, y = int(round(x0 + t * (x1 - x0))), int(round(y0 + t * (y1 - y0)))
            panel[max(0, min(h - 1, y)) - 1:max(0, min(h - 1, y)) + 2, x] = 1.0


def figure(mr, w, cases, mask, td, path):
    """Each case (file, slice, title): its image (top) and its residual per time step (below,
    log scale, one grid line per decade), side by side."""
    tiles, curves = [], []
    for f, s, _ in cases:
        out, rep = os.path.join(td, "fig.h5"), os.path.join(td, "fig.json")
        subprocess.run([mr, "recon", "-q", "--method", "model", "--weights", w, "--mask", mask,
                        "--maps", "acs", "--slices", "%d:%d" % (s, s + 1), "--report", rep, f,
                        out], check=False)
        with h5py.File(out, "r") as h:
            img = h["reconstruction"][0]
        tiles.append(img / np.percentile(img, 99.5))
        with open(rep) as h:
            curves.append([x["residual"] for x in json.load(h)["slices"][0]["steps"]])
    lo = np.floor(np.log10(min(min(c[1:]) for c in curves)))
    hi = np.ceil(np.log10(max(max(c) for c in curves)))
    rows = []
    for img, c in zip(tiles, curves):
        panel = np.zeros((64, img.shape[1]))
        draw_curve(panel, c, lo, hi)
        rows.append(np.concatenate([img, np.zeros((4, img.shape[1])), panel], axis=0))
    gap = np.zeros((rows[0].shape[0], 6))
    write_png(path, np.concatenate(sum([[r, gap] for r in rows], [])[:-1], axis=1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mrirecon")
    p.add_argument("--src", default=os.path.join(HERE, "../../../shared/data/train"))
    p.add_argument("--out", default=os.path.join(HERE, "trust"))
    p.add_argument("--nets", default=",".join(NETS))
    p.add_argument("--figure", help="write the README figure (CIRIM) to this PNG")
    p.add_argument("--store", action="store_true",
                   help="store the fitted reference in weights/shipped/ (else on a copy)")
    a = p.parse_args()
    mr = os.path.abspath(a.mrirecon)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.RandomState(23)
    results = {}
    with tempfile.TemporaryDirectory() as td:
        sets = make_data(a.src, td, np.random.RandomState(19))
        cmask = os.path.join(td, "cols.npy")
        subprocess.run([mr, "mask", "-q", "--type", "equispaced", "--shape", "%dx%d" % (N, N),
                        "--accel", "4", "--center-fraction", "0.08", "--offset", "0",
                        "-o", cmask], check=True)
        col = np.load(cmask).astype(bool).ravel()
        cmask8 = os.path.join(td, "cols8.npy")
        subprocess.run([mr, "mask", "-q", "--type", "equispaced", "--shape", "%dx%d" % (N, N),
                        "--accel", "8", "--center-fraction", "0.04", "--offset", "0",
                        "-o", cmask8], check=True)
        pmask = os.path.join(td, "poisson.npy")
        subprocess.run([mr, "mask", "-q", "--type", "bart-poisson", "--shape", "%dx%d" % (N, N),
                        "--accel", "6", "--calib", "16", "--seed", "7", "-o", pmask], check=True)
        rmask = os.path.join(td, "rows.npy")
        np.save(rmask, np.repeat(col[:, None], N, axis=1).astype(np.uint8))
        bad_files = corrupt(sets["heldout"], col, td, rng)
        for net in a.nets.split(","):
            shipped = os.path.join(HERE, "..", "shipped", NETS[net])
            w = shipped if a.store else os.path.join(td, NETS[net])
            if not a.store:
                shutil.copy(shipped, w)
            subprocess.run([mr, "calibrate", "-q", "--weights", w, "--mask", cmask, "--mask",
                            cmask8, "--mask", pmask, "--maps", "acs"] + sets["calib"],
                           check=True, stdout=subprocess.DEVNULL)
            r = {"held-out, 1-D 4x":
                 recon_flags(mr, w, sets["heldout"], cmask, td, net + "_held"),
                 "held-out, 2-D Poisson":
                 recon_flags(mr, w, sets["heldout"], pmask, td, net + "_heldp"),
                 "phantom": recon_flags(mr, w, [os.path.join(td, "phantom.h5")], cmask, td,
                                        net + "_ph"),
                 "texture": recon_flags(mr, w, [os.path.join(td, "texture.h5")], cmask, td,
                                        net + "_tx"),
                 "row-mask": recon_flags(mr, w, sets["heldout"], rmask, td, net + "_row"),
                 "corrupt": recon_flags(mr, w, bad_files, cmask, td, net + "_cor")}
            results[net] = r
            if a.figure and net == "cirim":
                figure(mr, w, [(sets["heldout"][0], 2, "held-out"),
                               (bad_files[0], 2, "corrupted lines"),
                               (os.path.join(td, "phantom.h5"), 0, "phantom")],
                       cmask, td, a.figure)
            for k, rows in r.items():
                n = sum(x["flagged"] for x in rows)
                print("%-6s %-28s flagged %2d/%2d  score %s" % (
                    net, k, n, len(rows),
                    " ".join("%.1f" % x["score"] for x in rows[:8])))
    with open(os.path.join(a.out, "trust_eval.json"), "w") as h:
        json.dump(results, h, indent=1)
    with open(os.path.join(a.out, "trust_eval.md"), "w") as h:
        kinds = list(next(iter(results.values())).keys())
        h.write("| network | " + " | ".join(kinds) + " |\n")
        h.write("|---|" + "---|" * len(kinds) + "\n")
        for net, r in results.items():
            h.write("| %s | " % net + " | ".join(
                "%d/%d" % (sum(x["flagged"] for x in r[k]), len(r[k])) for k in kinds) + " |\n")


if __name__ == "__main__":
    main()
