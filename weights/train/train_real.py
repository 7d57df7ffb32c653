#!/usr/bin/python3
"""Fine-tunes a network on the realistic, real-data-calibrated simulation (realsim.py), on the
CPU or a GPU, resumable.

    /usr/bin/python3 weights/train/train_real.py --arch rvn|cirim|e2evn --out DIR \
        [--init weights/shipped/rvn-brain-demo.h5] [--minutes M] [--until HH:MM] \
        [--batch 2] [--min-size 96] [--max-size 320] [--coils 4,32] [--lr 1e-4] \
        [--threads 2] [--device cpu]

Starts from the weight file --init (its config is kept), or, when DIR/<arch>.pt exists, resumes
from it (model, Adam state, step, curve, the simulation's generator state). Saves DIR/<arch>.pt
every 60 s and at the end (temp + rename). Learning rate: constant after a 50-step warm-up
(fine-tuning; a wall-clock budget that is resumed across sessions has no known end).
Validation: fixed simulated batches (seed 1234, held-out subjects: prepare_data.py's `val`) at
1-D 4x, 1-D 8x and 2-D Poisson 4x, 8 coils, 192 x 160, every --val-every steps, into the curve.
The real slices are never used here (evaluate_real.py scores them).
Export: export.py DIR/<arch>.pt -o W.h5. Curve: train_real.py --arch A --out DIR --curve-csv F.
"""
import argparse
import json
import math
import os
import sys
import time

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models as M  # noqa: E402  pylint: disable=wrong-import-position
import train as T  # noqa: E402  pylint: disable=wrong-import-position
from realsim import RealSim  # noqa: E402  pylint: disable=wrong-import-position

FILE_ARCH = {"rvn": "recurrentvarnet", "cirim": "cirim", "e2evn": "e2evn"}


def load_weights(path, arch):
    """(config, state_dict) of a weight file (weights/README.md)."""
    with h5py.File(path, "r") as f:
        got = f.attrs["architecture"]
        got = got.decode() if isinstance(got, bytes) else str(got)
        if got != FILE_ARCH[arch]:
            raise ValueError("%s: architecture %r, expected %r" % (path, got, FILE_ARCH[arch]))
        cfg = json.loads(f.attrs["config"])
        sd = {k: torch.from_numpy(np.asarray(f["weights"][k])) for k in f["weights"].keys()}
    return cfg, sd


def validate(arch, model, vsim, batches):
    res = {}
    model.eval()
    for kind in ("equi4", "equi8", "pois4"):
        vsim.g.manual_seed(1234)
        net, zf = [], []
        for _ in range(batches):
            bt = vsim.batch(2, kind, nc=8, size=(192, 160))
            with torch.no_grad():
                out, _, tgt = T.forward(arch, model, bt[:5])
            z = (M.ifft2c(bt[0], True, "ortho") * bt[3].conj()).sum(1).abs()
            net.append(T.metrics(out, tgt)[0])
            zf.append(T.metrics(z, tgt)[0])
        res[kind] = {"net": float(np.mean(net)), "zf": float(np.mean(zf))}
    model.train()
    return res


def write_curve(ck_path, out):
    """CSV: step, seconds, loss, ema, shape (the training curve), then the validation rows
    (step, mask kind, network NMSE, zero-filled NMSE)."""
    ck = torch.load(ck_path, map_location="cpu")
    lines = ["kind,step,seconds,loss,ema,shape_or_mask,zf_nmse"]
    for st, sec, lv, ema, shape in ck["curve"]:
        lines.append("train,%d,%.1f,%.6f,%.6f,%s," % (st, sec, lv, ema, "x".join(map(str, shape))))
    for v in ck["val"]:
        for kind in ("equi4", "equi8", "pois4"):
            lines.append("val,%d,,%.6f,,%s,%.6f" % (v["step"], v[kind]["net"], kind, v[kind]["zf"]))
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, out)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(FILE_ARCH))
    p.add_argument("--out", required=True)
    p.add_argument("--init", default="", help="weight file to start from")
    p.add_argument("--data", default=os.path.join(HERE, "data"))
    p.add_argument("--calib", default=os.path.join(HERE, "calib.npz"))
    p.add_argument("--mrirecon", default=os.path.join(HERE, "..", "..", "build", "bin", "mrirecon"))
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--until", default="", help="UTC HH:MM: stop there (overrides --minutes)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--min-size", type=int, default=96)
    p.add_argument("--max-size", type=int, default=320)
    p.add_argument("--coils", default="4,32", help="LO,HI: coils per simulated slice")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-every", type=int, default=100)
    p.add_argument("--val-batches", type=int, default=3)
    p.add_argument("--curve-csv", default="",
                   help="only write DIR/<arch>.pt's curve and validations to this CSV")
    a = p.parse_args()
    if a.curve_csv:
        return write_curve(os.path.join(a.out, a.arch + ".pt"), a.curve_csv)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    ck_path = os.path.join(a.out, a.arch + ".pt")
    d = np.load(os.path.join(a.data, "slices.npz"))
    coils = tuple(int(c) for c in a.coils.split(","))
    sim = RealSim(d["train"], a.calib, a.mrirecon, a.seed + 1, a.min_size, a.max_size, coils)
    vsim = RealSim(d["val"], a.calib, a.mrirecon, 1234)
    if os.path.exists(ck_path):
        ck = torch.load(ck_path, map_location="cpu")
        cfg, sd = ck["config"], ck["state_dict"]
    elif a.init:
        ck = None
        cfg, sd = load_weights(a.init, a.arch)
    else:
        ck, sd = None, None
        cfg = dict(T.CONFIGS[a.arch])
    model = M.build(FILE_ARCH[a.arch], cfg)
    if sd is not None:
        model.load_state_dict(sd)
    dev = torch.device(a.device)
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    step, curve, vals, seconds = 0, [], [], 0.0
    if ck is not None:
        opt.load_state_dict(ck["opt"])
        step, curve, vals, seconds = ck["steps"], ck["curve"], ck["val"], ck["seconds"]
        sim.g.set_state(ck["gen"])
        print("resumed %s at step %d (%.0f s)" % (ck_path, step, seconds), flush=True)
    else:
        vals.append({"step": 0, **validate(a.arch, model, vsim, a.val_batches)})
        print("val", json.dumps(vals[-1]), flush=True)

    def save():
        tmp = ck_path + ".tmp"
        torch.save({"arch": FILE_ARCH[a.arch], "config": cfg,
                    "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "opt": opt.state_dict(), "steps": step, "curve": curve, "val": vals,
                    "seconds": seconds, "gen": sim.g.get_state(), "init": a.init,
                    "batch": a.batch, "lr": a.lr, "sizes": [a.min_size, a.max_size],
                    "seed": a.seed, "device": str(dev), "torch": torch.__version__}, tmp)
        os.replace(tmp, ck_path)

    if a.until:
        hh, mm = (int(x) for x in a.until.split(":"))
        now = time.gmtime()
        budget = (hh * 60 + mm - now.tm_hour * 60 - now.tm_min) * 60 - now.tm_sec
    else:
        budget = 60 * a.minutes
    t0 = last = time.time()
    ema = None
    while time.time() - t0 < budget:
        for gr in opt.param_groups:
            gr["lr"] = a.lr * min(1.0, (step + 1) / 50.0)
        bt = [t.to(dev) for t in sim.batch(a.batch)[:5]]
        _, terms, tgt = T.forward(a.arch, model, bt)
        scale = tgt.amax((-2, -1), keepdim=True).clamp_min(1e-6)
        loss = sum(w * ((pr - tgt).abs() / scale).mean() for w, pr in terms)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        lv = float(loss)
        if not math.isfinite(lv):
            raise RuntimeError("loss is %r at step %d" % (lv, step))
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        curve.append([step, round(time.time() - t0, 1), lv, ema, list(bt[0].shape)])
        if step % 10 == 0:
            print("step %d t %.0fs loss %.5f ema %.5f shape %s" % (
                step, time.time() - t0, lv, ema, list(bt[0].shape)), flush=True)
        if step % a.val_every == 0:
            vals.append({"step": step, **validate(a.arch, model, vsim, a.val_batches)})
            print("val", json.dumps(vals[-1]), flush=True)
        if time.time() - last > 60:
            seconds += time.time() - last
            last = time.time()
            save()
    seconds += time.time() - last
    save()
    print("done: %d steps, %.0f s in total" % (step, seconds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
