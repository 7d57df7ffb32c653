#!/usr/bin/python3
"""The simulation's realism, side by side: the calibrated statistics (calibrate.measure: noise
level and covariance structure, coil-map smoothness, object phase) of each real slice next to
the same statistics measured, with the same estimators (the project's ESPIRiT, the k-space
periphery), on simulated slices of realsim.py.

    MRIRECON_LIBRARY=build/lib/libmrirecon.so.0 /usr/bin/python3 weights/train/realism.py \
        [--n 12] [--out weights/train/realism]

Simulated slices: 256 x 256 (the real slices' matrix) and 230 x 180 (brain8's), 8 coils, 2 per
mask-free draw (fully sampled, so every statistic is measured as on a fully sampled real slice).
data/real/mit_brain_slices/gpunufft_brain4ch_t2.h5 is measured for the table only (marked
"unseen": nothing of it goes into calib.npz or the simulation).

Writes OUT/realism.json, OUT/realism.md (the table) and OUT/realism.png (greyscale, no text;
rows: mripy real, simulated 256 x 256, brain8 real (calibration-region image, 24 x 24),
simulated 230 x 180, gpuNUFFT T2 real (unseen); columns: RSS image | |S| of coil 1 | object
phase (-pi..pi) | fine phase (smooth part removed, -0.5..0.5 rad) | |noise correlation| (0..1,
each entry a block)).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import calibrate as C  # noqa: E402  pylint: disable=wrong-import-position
from figure import write_png  # noqa: E402  pylint: disable=wrong-import-position
from realsim import RealSim  # noqa: E402  pylint: disable=wrong-import-position

KEYS = ("sigma_rel", "noise_corr_mean_abs", "noise_corr_max_abs", "noise_diag_spread",
        "map_bandwidth_cyc", "phase_smooth_std_rad", "phase_fine_std_rad")
LABELS = {"sigma_rel": "noise std / max coil image", "noise_corr_mean_abs": "mean abs. noise correlation",
          "noise_corr_max_abs": "max abs. noise correlation", "noise_diag_spread": "coil noise std max/min",
          "map_bandwidth_cyc": "coil-map RMS bandwidth (cycles/FOV)",
          "phase_smooth_std_rad": "smooth phase std (rad)",
          "phase_fine_std_rad": "fine phase std (rad)"}


def panels(k, m, s, cov):
    """The five 64-px-high greyscale panels (floats 0..1) of one slice."""
    full = m.mean() > 0.95
    x = C.ifft2c(k if full else k * C.acs_window(m))
    rss = np.sqrt((np.abs(x) ** 2).sum(0))
    head = C.head_mask(rss)
    _, obj = C.phase_stats(x, s, head)
    ph = np.angle(obj * np.exp(-1j * np.angle(obj[head].sum())))
    h, w = ph.shape
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    terms = [np.ones_like(xx)] + [xx ** i * yy ** j for i in range(4) for j in range(4)
                                  if 0 < i + j <= 3]
    a = np.stack([t[head] for t in terms], 1)
    coef, *_ = np.linalg.lstsq(a, ph[head], rcond=None)
    fine = np.angle(np.exp(1j * (ph - sum(c * t for c, t in zip(coef, terms))))) * head
    d = np.sqrt(np.real(np.diag(cov)))
    corr = np.abs(cov) / np.outer(d, d)
    out = [rss / np.percentile(rss, 99.5), np.abs(s[0]) / max(np.abs(s[0]).max(), 1e-12),
           (ph * head + np.pi) / (2 * np.pi), (fine + 0.5), corr]
    return [fit(p, 128) for p in out]


def fit(p, n):
    """Nearest-neighbour resize to n x n, clipped to 0..1."""
    h, w = p.shape
    yi = (np.arange(n) * h / n).astype(int)
    xi = (np.arange(n) * w / n).astype(int)
    return np.clip(p[yi][:, xi], 0, 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=12, help="simulated slices per size")
    p.add_argument("--out", default=os.path.join(HERE, "realism"))
    p.add_argument("--data", default=os.path.join(HERE, "data"))
    p.add_argument("--calib", default=os.path.join(HERE, "calib.npz"))
    p.add_argument("--mrirecon", default=os.path.join(C.ROOT, "build", "bin", "mrirecon"))
    a = p.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    d = np.load(os.path.join(a.data, "slices.npz"))
    sim = RealSim(d["val"], a.calib, a.mrirecon, 99)
    res, rows = {}, []
    real = dict(C.SCANS)
    real["gpunufft_brain4ch_t2 (unseen)"] = "data/real/mit_brain_slices/gpunufft_brain4ch_t2.h5"
    sim_for = {"mripy_brain8ch": (256, 256), "brain8_poisson": (230, 180)}
    for name, rel in real.items():
        k, m = C.load(os.path.join(C.ROOT, rel))
        st, s, cov = C.measure(k, m)
        res[name] = {"real": st}
        rows.append(panels(k, m, s, cov))
        if name not in sim_for:
            continue
        sts, first = [], None
        for i in range(a.n):
            ks = sim.full(1, 8, sim_for[name])[0][0].numpy().astype(np.complex128)
            ms = np.ones(ks.shape[-2:], bool)
            sst, ss, scov = C.measure(ks, ms)
            sts.append(sst)
            if first is None:
                first = panels(ks, ms, ss, scov)
        res[name]["simulated"] = {k2: [float(np.mean([t[k2] for t in sts])),
                                       float(np.std([t[k2] for t in sts]))] for k2 in KEYS}
        res[name]["simulated_n"] = a.n
        res[name]["simulated_shape"] = list(sim_for[name])
        rows.append(first)
        print(name, json.dumps(res[name]), flush=True)
    img = np.concatenate([np.concatenate(r, 1) for r in rows], 0)
    write_png(os.path.join(a.out, "realism.png"), img)
    with open(os.path.join(a.out, "realism.json.tmp"), "w") as f:
        json.dump(res, f, indent=1)
    os.replace(os.path.join(a.out, "realism.json.tmp"), os.path.join(a.out, "realism.json"))
    md = ["| statistic | " + " | ".join(
        "%s real | simulated (mean ± sd)" % n if "simulated" in v else "%s real" % n
        for n, v in res.items()) + " |",
          "|---|" + "".join("---|---|" if "simulated" in v else "---|" for v in res.values())]
    for k2 in KEYS:
        cells = []
        for v in res.values():
            cells.append("%.3g" % v["real"][k2])
            if "simulated" in v:
                cells.append("%.3g ± %.2g" % tuple(v["simulated"][k2]))
        md.append("| %s | %s |" % (LABELS[k2], " | ".join(cells)))
    with open(os.path.join(a.out, "realism.md.tmp"), "w") as f:
        f.write("\n".join(md) + "\n")
    os.replace(os.path.join(a.out, "realism.md.tmp"), os.path.join(a.out, "realism.md"))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
