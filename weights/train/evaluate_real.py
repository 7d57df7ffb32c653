#!/usr/bin/python3
"""Quality on real scans: every shipped network and every classical method (zero-filled,
CG-SENSE, L1-CS, all at their defaults) on real, fully sampled multi-coil slices, undersampled
retrospectively with the project's own masks (`mrirecon mask`):

  * 1-D equispaced 4x (fastMRI EquispacedMaskFraction, 8 % centre),
  * 1-D equispaced 8x (4 % centre),
  * 2-D variable-density Poisson disc (`--type bart-poisson`, R 8, 24 x 24 calibration, vd 2);
  * with --rows: the 1-D 4x mask along H instead of W (the slices' real phase-encode axis is not
    recorded; the result depends on it).

Data (the `seen` column says what the training pipeline has used of each):

  * data/real/mit_brain_slices/mripy_brain8ch.h5: 8 coils, 256 x 256; seen by the simulation's
    calibration (coil maps, noise, phase statistics; calibrate.py), never trained on;
  * data/real/mit_brain_slices/gpunufft_brain4ch_t2.h5: 4 coils, 256 x 256, T2w; unseen;
  * data/sample/brain8_full.h5: 8 coils, 230 x 180; its coil profiles come from the same scan as
    data/sample/brain8_poisson.h5, whose calibration region calibrate.py uses.

Each reconstruction is `mrirecon recon` (the networks: `--method model --weights W`). Scoring:
the magnitude prediction and the target (`reconstruction_rss`) are centre-cropped to W x W
(fastMRI), the prediction is scaled by the least-squares factor a = <p, t> / <p, p> (the
methods differ in their intensity scale), and `mrirecon metrics` (fastMRI definition) gives
NMSE, PSNR and SSIM of the scaled prediction.

    /usr/bin/python3 weights/train/evaluate_real.py build/bin/mrirecon [--out weights/train/eval_real]
        [--net NAME=PATH ...] [--no-shipped] [--only DATA,...] [--methods zf,cg,cs]
        [--seeds 0,1,2] [--merge OLD/results.json ...]

With several --seeds every mask is drawn once per seed and the table gives the means (and the
gain per seed). --merge adds the rows of earlier runs (other seeds, other networks) to the
table. Writes OUT/results.json (every row, with the LS factor and the seconds) and OUT/results.md (one
table per data set and mask: NMSE / PSNR / SSIM, the best in bold, and the gain of the best
network over the better of CG-SENSE and L1-CS). Both are written to a temporary name and
renamed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SHIPPED = os.path.join(ROOT, "weights", "shipped")
NETS = {"E2EVN": "e2evn-brain-demo.h5", "CIRIM": "cirim-brain-demo.h5",
        "RecurrentVarNet": "rvn-brain-demo.h5"}
CLASSICAL = {"zf": "zero-filled", "cg": "CG-SENSE", "cs": "L1-CS"}
DATA = {  # name: (path, seen)
    "mripy_brain8ch": ("data/real/mit_brain_slices/mripy_brain8ch.h5",
                       "calibration only (coil maps, noise, phase)"),
    "gpunufft_brain4ch_t2": ("data/real/mit_brain_slices/gpunufft_brain4ch_t2.h5", "unseen"),
    "brain8_full": ("data/sample/brain8_full.h5",
                    "calibration only (coil maps of the same scan's ACS)"),
}
MASKS = ("1-D 4x", "1-D 8x", "2-D Poisson", "1-D 4x along H")


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd), r.returncode,
                                                        r.stderr.strip()[-500:]))
    return r.stdout


def make_masks(mr, td, h, w, seed=0, rows=False):
    """The three masks for an H x W slice, as .npy files written by `mrirecon mask`: seed
    `seed` for the 1-D masks (their offset), 7 + seed for the Poisson disc. rows: only the
    1-D 4x mask along H instead (an (H, W) file)."""
    out = {}
    for acc, cf in () if rows else ((4, 0.08), (8, 0.04)):
        p = os.path.join(td, "equi%d_%dx%d_%d.npy" % (acc, h, w, seed))
        sh([mr, "mask", "--type", "equispaced-fraction", "--shape", "%dx%d" % (h, w),
            "--accel", str(acc), "--center-fraction", str(cf), "--seed", str(seed), "-q",
            "-o", p])
        out["1-D %dx" % acc] = p
    if rows:  # the same 1-D 4x mask along H (rows): the real phase-encode axis is not recorded
        p = os.path.join(td, "equi4rows_%dx%d_%d.npy" % (h, w, seed))
        sh([mr, "mask", "--type", "equispaced-fraction", "--shape", "%dx%d" % (w, h),
            "--accel", "4", "--center-fraction", "0.08", "--seed", str(seed), "-q", "-o", p])
        np.save(p, np.repeat((np.load(p) != 0)[:, None], w, 1).astype(np.uint8))
        out["1-D 4x along H"] = p
        return out
    p = os.path.join(td, "poisson_%dx%d_%d.npy" % (h, w, seed))
    sh([mr, "mask", "--type", "bart-poisson", "--shape", "%dx%d" % (h, w), "--accel", "8",
        "--calib", "24", "--vd", "2", "--seed", str(7 + seed), "-q", "-o", p])
    out["2-D Poisson"] = p
    return out


def crop_w(a):
    """fastMRI center_crop of (..., H, W) to (W, W); the full height where H < W."""
    h, w = a.shape[-2:]
    y0 = (h - w) // 2 if h > w else 0
    return a[..., y0:y0 + min(h, w), :]


def score(mr, target, pred_h5, td):
    """LS-scaled fastMRI metrics of pred_h5 ('reconstruction') against target's RSS."""
    with h5py.File(target, "r") as f:
        t = np.asarray(f["reconstruction_rss"], dtype=np.float64)
    with h5py.File(pred_h5, "r") as f:
        p = np.abs(np.asarray(f["reconstruction"])).astype(np.float64)
    p = p.reshape(t.shape)
    tc, pc = crop_w(t), crop_w(p)
    a = float((tc * pc).sum() / max((pc * pc).sum(), 1e-30))
    sc_t = os.path.join(td, "t.h5")
    sc_p = os.path.join(td, "p.h5")
    with h5py.File(sc_t, "w") as f:
        f["reconstruction_rss"] = tc.astype(np.float32)
    with h5py.File(sc_p, "w") as f:
        f["reconstruction"] = (a * pc).astype(np.float32)
    r = json.loads(sh([mr, "metrics", "--target", sc_t, "--pred", sc_p]))
    return {k: pick(r, k) for k in ("nmse", "psnr", "ssim")}, a


def pick(v, k):
    """The metric k from `mrirecon metrics` JSON (flat or under a 'mean'/'metrics' key)."""
    for key in (k, k.upper()):
        if key in v:
            x = v[key]
            return float(x["mean"] if isinstance(x, dict) else x)
    for sub in ("mean", "metrics"):
        if sub in v and isinstance(v[sub], dict):
            return pick(v[sub], k)
    raise KeyError(k)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def mean_rows(rows):
    """One row per (data, mask, method): metrics averaged over the mask seeds, with the seeds
    and the per-seed NMSE."""
    out = {}
    for r in rows:
        key = (r["data"], r["mask"], r["method"])
        out.setdefault(key, []).append(r)
    res = []
    for (data, mask, meth), rs in out.items():
        ok = [r for r in rs if r["nmse"] is not None]
        row = {"data": data, "seen": rs[0]["seen"], "mask": mask, "method": meth,
               "seeds": [r.get("seed", 0) for r in ok], "nmse_per_seed": [r["nmse"] for r in ok]}
        for k in ("nmse", "psnr", "ssim"):
            row[k] = float(np.mean([r[k] for r in ok])) if ok else None
        res.append(row)
    return res


def table(rows):
    """Markdown: per data set, one row per mask, NMSE / PSNR / SSIM per method (means over the
    mask seeds)."""
    rows = mean_rows(rows)
    meths = list(dict.fromkeys(r["method"] for r in rows))
    nets = [m for m in meths if m not in CLASSICAL.values()]
    out = []
    for data in dict.fromkeys(r["data"] for r in rows):
        seen = next(r["seen"] for r in rows if r["data"] == data)
        out += ["", "### %s (%s)" % (data, seen), "",
                "NMSE (LS-scaled) / PSNR dB / SSIM. *gain*: best network vs the better of "
                "CG-SENSE and L1-CS (negative = lower NMSE; the target is <= -30 %).", "",
                "| mask | " + " | ".join(meths) + " | gain |",
                "|---|" + "---|" * (len(meths) + 1)]
        for mask in MASKS:
            rs = {r["method"]: r for r in rows if r["data"] == data and r["mask"] == mask}
            if not rs:
                continue
            ok = [r for r in rs.values() if r["nmse"] is not None]
            best = min(ok, key=lambda r: r["nmse"])["method"] if ok else None
            cells = []
            for m in meths:
                r = rs.get(m)
                if r is None or r["nmse"] is None:
                    cells.append("failed" if r else "")
                    continue
                c = "%.4f / %.2f / %.3f" % (r["nmse"], r["psnr"], r["ssim"])
                cells.append("**%s**" % c if m == best else c)
            cls = [rs[m]["nmse"] for m in ("CG-SENSE", "L1-CS") if m in rs and rs[m]["nmse"]]
            nn = [rs[m]["nmse"] for m in nets if m in rs and rs[m]["nmse"] is not None]
            gain = "%+.0f %%" % (100 * (min(nn) / min(cls) - 1)) if cls and nn else ""
            seeds = sorted(set(rs[best]["seeds"])) if best else []
            if cls and nn and len(seeds) > 1:
                per = []
                for sd in seeds:
                    def at(m, sd=sd):
                        r = rs.get(m)
                        d = dict(zip(r["seeds"], r["nmse_per_seed"])) if r else {}
                        return d.get(sd, float("inf"))
                    c_i = min(at(m) for m in ("CG-SENSE", "L1-CS"))
                    n_i = min(at(m) for m in nets)
                    per.append("%+.0f" % (100 * (n_i / c_i - 1)))
                gain += " (per mask seed: %s)" % ", ".join(per)
            out.append("| %s | %s | %s |" % (mask, " | ".join(cells), gain))
    return "\n".join(out[1:]) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mrirecon")
    p.add_argument("--out", default=os.path.join(HERE, "eval_real"))
    p.add_argument("--net", action="append", default=[], help="NAME=PATH: another weight file")
    p.add_argument("--no-shipped", action="store_true", help="skip the shipped networks")
    p.add_argument("--only", default="", help="comma-separated data names")
    p.add_argument("--methods", default="zf,cg,cs", help="classical methods (empty: none)")
    p.add_argument("--seeds", default="0", help="comma-separated mask seeds (table: means)")
    p.add_argument("--rows", action="store_true",
                   help="only the 1-D 4x mask along H (rows) instead of the three masks")
    p.add_argument("--merge", action="append", default=[],
                   help="results.json of an earlier run whose rows join this run's table")
    a = p.parse_args()
    mr = a.mrirecon
    methods = [(CLASSICAL[m], ["--method", m]) for m in a.methods.split(",") if m]
    nets = {} if a.no_shipped else {n: os.path.join(SHIPPED, w) for n, w in NETS.items()}
    for spec in a.net:
        name, _, path = spec.partition("=")
        if not path or not os.path.isfile(path):
            sys.exit("evaluate_real.py: --net %r: expected NAME=PATH of an existing weight file"
                     % spec)
        nets[name] = path
    methods += [(n, ["--method", "model", "--weights", w]) for n, w in nets.items()]
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for path in a.merge:
        with open(path) as f:
            rows += [dict(r, seed=r.get("seed", 0)) for r in json.load(f)]
    with tempfile.TemporaryDirectory() as td:
        for dname, (rel, seen) in DATA.items():
            if a.only and dname not in a.only.split(","):
                continue
            path = os.path.join(ROOT, rel)
            with h5py.File(path, "r") as f:
                h, w = f["kspace"].shape[-2:]
            for seed in [int(x) for x in a.seeds.split(",")]:
                for mname, mpath in make_masks(mr, td, h, w, seed, a.rows).items():
                    for meth, args in methods:
                        out = os.path.join(td, "pred.h5")
                        t0 = time.time()
                        row = {"data": dname, "seen": seen, "mask": mname, "method": meth,
                               "seed": seed, "nmse": None, "psnr": None, "ssim": None}
                        try:
                            sh([mr, "recon"] + args + ["--mask", mpath, "-q", path, out])
                            m, scale = score(mr, path, out, td)
                            row.update(m, ls_scale=scale)
                        except RuntimeError as e:
                            print("  %s / %s / %s: %s" % (dname, mname, meth, e), flush=True)
                            row["error"] = str(e)
                        row["seconds"] = round(time.time() - t0, 1)
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                        write_atomic(os.path.join(a.out, "results.json"), json.dumps(rows, indent=1))
    write_atomic(os.path.join(a.out, "results.md"), table(rows))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
