#!/usr/bin/python3
"""Trains the demonstration networks (weights/train/README.md) on real MR magnitude slices made
multi-coil on the fly: smooth random object phase, 8-12 smooth Gaussian-profile coils with
phase on an ellipse around the head (RSS-normalised), complex Gaussian noise, and the
project's masks (fastMRI equispaced / random columns at 4x and 8x with 8 % / 4 % ACS, BART
variable-density Poisson-disc 2-D masks at 4-10x from make_masks.py).

    /usr/bin/python3 weights/train/train.py --arch e2evn|cirim|rvn|lpn|all \
        --device cpu|cuda --minutes M [--out DIR] [--data weights/train/data] [--seed 0]

Writes OUT/<arch>.pt ({"arch", "config", "state_dict", "curve", "val", "steps", "seconds"},
saved every 30 s and at the end), OUT/summary_<arch>.json (configs, curves, validation) and prints
progress. Wall-clock budget per architecture: --minutes (training stops at the first step past
it; validation after). The pre-processing is the C engine's (apps/cmd_recon.c): E2EVN (ATOMMIC)
and CIRIM get the k-space divided by max |SENSE zero-filled image| and the true maps; the
RecurrentVarNet runs DIRECT's engine path (ACS maps, 99th-percentile scaling, RSS output).
The LPN learns the prox (denoiser) of 2-channel [Re, Im] 128 x 128 complex brain images with
max magnitude ~1, for PnP with `normalize` (c = max |A^H y|).
"""
import argparse
import json
import math
import os
import sys
import time
import traceback

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models as M  # noqa: E402  pylint: disable=wrong-import-position

CONFIGS = {
    "e2evn": {"variant": "atommic", "model_name": "VN", "num_cascades": 6, "channels": 12,
              "pooling_layers": 3, "padding_size": 11, "normalize": True, "no_dc": False,
              "dimensionality": 2, "coil_combination_method": "SENSE", "fft_centered": True,
              "fft_normalization": "ortho", "spatial_dims": [-2, -1], "coil_dim": 1,
              "estimate_coil_sensitivity_maps_with_nn": False, "complex_valued_type": "stacked",
              "consecutive_slices": 1},
    "cirim": {"recurrent_layer": "IndRNN", "conv_filters": [48, 48, 2], "conv_kernels": [5, 3, 3],
              "conv_dilations": [1, 2, 1], "conv_bias": [True, True, False],
              "recurrent_filters": [48, 48, 0], "recurrent_kernels": [1, 1, 0],
              "recurrent_dilations": [1, 1, 0], "recurrent_bias": [True, True, False],
              "depth": 2, "time_steps": 8, "conv_dim": 2, "num_cascades": 3, "no_dc": True,
              "keep_prediction": True, "accumulate_predictions": True, "dimensionality": 2,
              "coil_combination_method": "SENSE", "fft_centered": True,
              "fft_normalization": "ortho", "spatial_dims": [-2, -1], "coil_dim": 1,
              "consecutive_slices": 1, "estimate_coil_sensitivity_maps_with_nn": False},
    "rvn": {"num_steps": 6, "recurrent_hidden_channels": 32, "recurrent_num_layers": 3,
            "no_parameter_sharing": True, "learned_initializer": True,
            "initializer_initialization": "sense", "initializer_channels": [16, 16, 32, 32],
            "initializer_dilations": [1, 1, 2, 4], "initializer_multiscale": 3,
            "normalized": False, "fft_centered": True},
    "lpn": {"in_dim": 2, "hidden": 64, "beta": 100, "alpha": 1e-6, "pnp_solver": "pgd",
            "pnp_iterations": 20, "patch_stride": 32, "normalize": True},
    # exported with --set '{"cover_border": true}' so that any image size >= 128 is tiled
}
TINY = {  # --tiny: a CPU smoke test of the whole pipeline
    "e2evn": {"num_cascades": 2, "channels": 4},
    "cirim": {"conv_filters": [8, 8, 2], "recurrent_filters": [8, 8, 0], "num_cascades": 1},
    "rvn": {"num_steps": 2, "recurrent_hidden_channels": 8, "initializer_channels": [4, 4, 8, 8]},
    "lpn": {"hidden": 8},
}
ARCH_FILE = {"e2evn": "e2evn", "cirim": "cirim", "rvn": "recurrentvarnet", "lpn": "lpn"}
BATCH = {"e2evn": 16, "cirim": 8, "rvn": 8, "lpn": 32}
LR = {"e2evn": 5e-4, "cirim": 1e-3, "rvn": 5e-4, "lpn": 5e-4}
MASKS = ("equi4", "equi8", "rand4", "rand8", "poisson", "poisson")


def log(*a):
    print(*a, flush=True)


# ---- simulation ---------------------------------------------------------------------------------
class Sim:
    """Multi-coil k-space from magnitude slices on `dev`, deterministic given its generator."""

    def __init__(self, slices, pmasks, dev, seed):
        self.img = torch.from_numpy(slices).to(dev)            # (N, 128, 128) uint8
        self.pm = torch.from_numpy(pmasks).to(dev).float()     # (P, 128, 128)
        self.dev = dev
        self.g = torch.Generator(device=dev)
        self.g.manual_seed(seed)
        n = self.img.shape[-1]
        ax = torch.linspace(-1, 1, n, device=dev)
        self.yy, self.xx = torch.meshgrid(ax, ax, indexing="ij")

    def u(self, *shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=self.g, device=self.dev)

    def ri(self, lo, hi, shape=()):
        return torch.randint(lo, hi, shape, generator=self.g, device=self.dev)

    def images(self, b):
        """(B, H, W) complex images, max magnitude 1, with smooth phase; random flips."""
        idx = self.ri(0, self.img.shape[0], (b,))
        m = self.img[idx].float() / 255.0
        if float(self.u(1)) < 0.5:
            m = m.flip(-1)
        if float(self.u(1)) < 0.5:
            m = m.transpose(-2, -1)
        m = m * self.u(b, 1, 1, lo=0.85, hi=1.15)  # contrast jitter, renormalised below
        m = m / m.amax(dim=(-2, -1), keepdim=True).clamp_min(1e-6)
        x, y = self.xx, self.yy
        c = self.u(b, 6, lo=-1, hi=1)
        ph = math.pi * (c[:, 0, None, None] + 0.8 * c[:, 1, None, None] * x
                        + 0.8 * c[:, 2, None, None] * y + 0.5 * c[:, 3, None, None] * x * x
                        + 0.5 * c[:, 4, None, None] * y * y + 0.5 * c[:, 5, None, None] * x * y)
        return m * torch.exp(1j * ph)

    def maps(self, b, nc):
        """(B, C, H, W) smooth Gaussian coil profiles on an ellipse around the head, with a
        per-coil linear phase and offset, RSS-normalised."""
        x, y = self.xx, self.yy
        a0 = self.u(b, 1, lo=0, hi=2 * math.pi)
        ang = a0 + 2 * math.pi * torch.arange(nc, device=self.dev)[None] / nc \
            + self.u(b, nc, lo=-0.2, hi=0.2)
        rx, ry = self.u(b, 1, lo=1.0, hi=1.5), self.u(b, 1, lo=1.0, hi=1.5)
        cx, cy = (rx * torch.cos(ang))[..., None, None], (ry * torch.sin(ang))[..., None, None]
        wid = self.u(b, nc, lo=0.5, hi=1.1)[..., None, None]
        mag = torch.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * wid ** 2))
        p = self.u(b, nc, 3, lo=-1, hi=1)
        ph = math.pi * p[..., 0, None, None] + 0.8 * (p[..., 1, None, None] * x
                                                      + p[..., 2, None, None] * y)
        s = mag * torch.exp(1j * ph)
        return s / torch.sqrt((s.abs() ** 2).sum(1, keepdim=True))

    def mask(self, b, kind, h, w):
        """(B, 1, H, W) float masks and the ACS of DIRECT's engine (B, 1, H, W)."""
        if kind == "poisson":
            mk = self.pm[self.ri(0, self.pm.shape[0], (b,))]
            if float(self.u(1)) < 0.5:
                mk = mk.transpose(-2, -1)
            mk = mk[:, None]
        else:
            acc = 4 if kind.endswith("4") else 8
            mk = line_mask(kind, acc, 0.08 if acc == 4 else 0.04, b, h, w,
                           lambda hi, n: self.ri(0, hi, (n,)), self.u, self.dev)
        return mk, acs_of(mk)

    def batch(self, b, kind=None, nc=None):
        """y (B,C,H,W) masked noisy k-space, mask, acs, maps, x (B,H,W) complex truth."""
        nc = nc or int(self.ri(8, 13))
        kind = kind or MASKS[int(self.ri(0, len(MASKS)))]
        x = self.images(b)
        s = self.maps(b, nc)
        coil = s * x[:, None]
        k = M.fft2c(coil, True, "ortho")
        sig = self.u(b, 1, 1, 1, lo=0.001, hi=0.015) * coil.abs().amax(dim=(1, 2, 3),
                                                                         keepdim=True)
        noise = torch.complex(torch.randn(k.shape, generator=self.g, device=self.dev),
                              torch.randn(k.shape, generator=self.g, device=self.dev))
        k = k + sig * noise / math.sqrt(2)
        mk, acs = self.mask(b, kind, k.shape[-2], k.shape[-1])
        return k * mk, mk, acs, s, x


def line_mask(kind, acc, cf, b, h, w, randint, rand, dev="cpu"):
    """(B, 1, H, W) fastMRI column masks: "equi*" EquispacedMaskFractionFunc spacing with a
    random offset (randint(hi, b): b offsets in [0, hi)), else random columns (rand(b, w)
    uniform in [0, 1)); round(w * cf) centre columns (at least 2) always sampled."""
    nlow = max(2, int(round(w * cf)))
    pad = (w - nlow + 1) // 2
    cols = torch.zeros(b, w, device=dev)
    if kind.startswith("equi"):
        adj = acc * (nlow - w) / (nlow * acc - w)
        off = randint(max(1, round(adj)), b)
        for i in range(b):
            pos = torch.arange(int(off[i]), w - 1e-3, adj, device=dev).round().long()
            cols[i, pos.clamp_max(w - 1)] = 1
    else:
        prob = (w / acc - nlow) / (w - nlow)
        cols = (rand(b, w) < prob).float()
    cols[:, pad:pad + nlow] = 1
    return cols[:, None, None, :].expand(b, 1, h, w).contiguous()


def acs_of(mk):
    """DIRECT's ACS (networks/direct_engine.h, mr_direct_acs_detect) of (B, 1, H, W) masks:
    for line masks the longest run of sampled columns through W/2, else the largest fully
    sampled disc around (H/2, W/2)."""
    dev = mk.device
    mk = mk.cpu()
    b, _, h, w = mk.shape
    out = torch.zeros_like(mk)
    ii = torch.arange(h)[:, None].float() - h // 2
    jj = torch.arange(w)[None, :].float() - w // 2
    d2 = ii ** 2 + jj ** 2
    for n in range(b):
        m = mk[n, 0]
        if bool((m == m[:1]).all()):
            cols = m[0] != 0
            lo = hi = w // 2
            while lo - 1 >= 0 and bool(cols[lo - 1]):
                lo -= 1
            while hi + 1 < w and bool(cols[hi + 1]):
                hi += 1
            out[n, 0, :, lo:hi + 1] = 1
        else:
            r2 = d2[m == 0].min()
            out[n, 0] = (d2 < r2).float()
    return out.to(dev)


# ---- one step per architecture --------------------------------------------------------------------
def sense_norm(y, s):
    zf = (M.ifft2c(y, True, "ortho") * s.conj()).sum(1)
    return zf.abs().amax(dim=(-2, -1)).clamp_min(1e-8).view(-1, 1, 1, 1), zf


def forward(arch, model, bt):
    """Returns (prediction magnitude (B,H,W), list of (weight, magnitude) for the loss,
    target magnitude) at the scale of the simulated data (max |x| = 1)."""
    y, mk, acs, s, x = bt
    tgt = x.abs()
    if arch == "e2evn":
        sc, _ = sense_norm(y, s)
        out = M.e2evn_atommic(model, y / sc, mk, s).abs() * sc.view(-1, 1, 1)
        return out, [(1.0, out)], tgt
    if arch == "cirim":
        sc, _ = sense_norm(y, s)
        out, outs = model(y / sc, s, mk, None, 1.0, keep_all=True)
        preds = [p for ps in outs for p in ps]
        t = len(preds)
        ws = [10 ** ((i + 1) / t - 1) for i in range(t)]  # ATOMMIC-style logspace weights
        tot = sum(ws)
        terms = [(w / tot, p.abs() * sc.view(-1, 1, 1)) for w, p in zip(ws, preds)]
        return out.abs() * sc.view(-1, 1, 1), terms, tgt
    if arch == "rvn":
        img, _ = M.rvn_engine(model, y, mk, acs)
        return img, [(1.0, img)], tgt
    raise ValueError(arch)


def metrics(pred, tgt):
    """NMSE, PSNR (data range = target max) per image, averaged."""
    err = ((pred - tgt) ** 2).sum(dim=(-2, -1))
    nmse = err / (tgt ** 2).sum(dim=(-2, -1))
    mse = err / (tgt.shape[-1] * tgt.shape[-2])
    psnr = 10 * torch.log10(tgt.amax(dim=(-2, -1)) ** 2 / mse)
    return float(nmse.mean()), float(psnr.mean())


def validate(arch, model, vsim, nb, b):
    """Fixed held-out batches per mask kind: network vs zero-filled SENSE (NMSE, PSNR)."""
    res = {}
    model.eval()
    for kind in ("equi4", "equi8", "poisson"):
        vsim.g.manual_seed(1234)
        acc = {"net": [], "zf": []}
        for _ in range(nb):
            bt = vsim.batch(b, kind, nc=8)
            with torch.no_grad() if arch != "lpn" else torch.enable_grad():
                out, _, tgt = forward(arch, model, bt)
            _, zf = sense_norm(bt[0], bt[3])
            acc["net"].append(metrics(out.detach(), tgt))
            acc["zf"].append(metrics(zf.abs(), tgt))
        res[kind] = {k: {"nmse": float(np.mean([a[0] for a in v])),
                         "psnr": float(np.mean([a[1] for a in v]))} for k, v in acc.items()}
    model.train()
    return res


def lpn_step(model, sim, b):
    x = sim.images(b) * sim.u(b, 1, 1, lo=0.5, hi=1.0)
    xr = torch.stack([x.real, x.imag], 1).float()
    sig = sim.u(b, 1, 1, 1, lo=0.01, hi=0.1)
    noisy = xr + sig * torch.randn(xr.shape, generator=sim.g, device=sim.dev)
    out = model(noisy)
    return (out - xr).abs().mean(), out, xr, noisy


def lpn_validate(model, vsim, nb, b):
    vsim.g.manual_seed(1234)
    r = {"net": [], "noisy": []}
    for _ in range(nb):
        x = vsim.images(b)
        xr = torch.stack([x.real, x.imag], 1).float()
        noisy = xr + 0.05 * torch.randn(xr.shape, generator=vsim.g, device=vsim.dev)
        out = model(noisy).detach()
        r["net"].append(metrics(out.norm(dim=1), x.abs()))
        r["noisy"].append(metrics(noisy.norm(dim=1), x.abs()))
    return {"sigma0.05": {k: {"nmse": float(np.mean([a[0] for a in v])),
                              "psnr": float(np.mean([a[1] for a in v]))} for k, v in r.items()}}


def train_one(arch, a, data, pmasks, dev, minutes):
    t_start = time.time()
    torch.manual_seed(a.seed)
    cfg = dict(CONFIGS[arch])
    if a.tiny:
        cfg.update(TINY[arch])
    model = M.build(ARCH_FILE[arch], cfg).to(dev)
    previous = []
    if a.init_dir:  # continue from an earlier run's checkpoint (same config)
        ck = torch.load(os.path.join(a.init_dir, arch + ".pt"), map_location=dev,
                        weights_only=False)
        if ck["config"] != cfg:
            raise ValueError("%s: --init-dir checkpoint has another config" % arch)
        model.load_state_dict(ck["state_dict"])
        previous = ck.get("previous", []) + [{k: ck.get(k) for k in
                                              ("steps", "seconds", "curve", "val", "lr_scale")}]
    elif arch == "lpn":
        M.lpn_init(model)
    sim = Sim(data["train"], pmasks, dev, a.seed + 1)
    vsim = Sim(data["val"], pmasks, dev, 1234)
    b = a.batch or BATCH[arch]
    opt = torch.optim.Adam(model.parameters(), lr=LR[arch])
    budget = 60.0 * minutes
    curve = []
    step, last_save, ema = 0, time.time(), None
    out_path = os.path.join(a.out, arch + ".pt")

    def save(val=None):
        torch.save({"arch": ARCH_FILE[arch], "config": cfg,
                    "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "curve": curve, "val": val, "steps": step,
                    "seconds": time.time() - t_start, "batch": b, "seed": a.seed,
                    "device": str(dev), "lr_scale": a.lr_scale, "previous": previous},
                   out_path)

    t0 = time.time()
    while time.time() - t0 < budget and (a.steps <= 0 or step < a.steps):
        # cosine decay over the wall-clock budget
        frac = min(1.0, (time.time() - t0) / budget)
        warm = min(1.0, (step + 1) / 100.0)
        for gr in opt.param_groups:
            gr["lr"] = LR[arch] * a.lr_scale * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        if arch == "lpn":
            loss, *_ = lpn_step(model, sim, b)
        else:
            bt = sim.batch(b)
            _, terms, tgt = forward(arch, model, bt)
            loss = sum(w * (p - tgt).abs().mean() for w, p in terms)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if arch == "lpn":
            M.lpn_clip(model)
        step += 1
        lv = float(loss)
        if not math.isfinite(lv):
            raise RuntimeError("loss is %r at step %d" % (lv, step))
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        if step % 25 == 0 or step == 1:
            curve.append([step, round(time.time() - t0, 2), lv, ema])
        if step % 100 == 0:
            log("%s step %d t %.0fs loss %.5f ema %.5f" % (arch, step, time.time() - t0, lv, ema))
        if time.time() - last_save > 30:
            save()
            last_save = time.time()
    train_s = time.time() - t0
    if arch == "lpn":
        val = lpn_validate(model, vsim, a.val_batches, 8)
    else:
        val = validate(arch, model, vsim, a.val_batches, 8)
    save(val)
    log("%s done: %d steps in %.0f s; val %s" % (arch, step, train_s, json.dumps(val)))
    return {"config": cfg, "steps": step, "train_seconds": train_s, "batch": b,
            "curve": curve, "val": val,
            "params": sum(p.numel() for p in model.parameters())}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", default="all")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--minutes", default="2", help="training budget per architecture (minutes; "
                   "one number, or one per architecture of --arch, comma-separated)")
    p.add_argument("--total-minutes", type=float, default=0,
                   help="hard limit for the whole run: budgets shrink to fit (0: none)")
    p.add_argument("--out", default=os.path.join(here, "runs"))
    p.add_argument("--data", default=os.path.join(here, "data"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=0)
    p.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: time)")
    p.add_argument("--init-dir", default="", help="start from DIR/<arch>.pt of an earlier run")
    p.add_argument("--lr-scale", type=float, default=1.0, help="multiplies the learning rates")
    p.add_argument("--val-batches", type=int, default=4)
    p.add_argument("--tiny", action="store_true", help="tiny models and sizes (smoke test)")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    d = np.load(os.path.join(a.data, "slices.npz"))
    data = {"train": d["train"], "val": d["val"]}
    pm = np.load(os.path.join(a.data, "poisson_masks.npz"))["masks"]
    log("torch %s on %s; train %s val %s poisson %s" % (torch.__version__, dev,
                                                        data["train"].shape, data["val"].shape,
                                                        pm.shape))
    archs = ["e2evn", "cirim", "rvn", "lpn"] if a.arch == "all" else a.arch.split(",")
    summary = {"torch": torch.__version__, "device": str(dev), "args": vars(a), "archs": {}}
    if dev.type == "cuda":
        summary["gpu"] = torch.cuda.get_device_name(0)
    mins = [float(m) for m in a.minutes.split(",")]
    mins = mins * len(archs) if len(mins) == 1 else mins
    t_all = time.time()
    for i, arch in enumerate(archs):
        minutes = mins[i]
        if a.total_minutes > 0:  # leave 20 s per remaining architecture for validation/saving
            left = a.total_minutes - (time.time() - t_all) / 60.0 - (len(archs) - i) / 3.0
            rest = sum(mins[i + 1:])
            minutes = max(0.1, min(minutes, left * minutes / (minutes + rest)))
        log("=== %s: %.2f min" % (arch, minutes))
        try:
            summary["archs"][arch] = train_one(arch, a, data, pm, dev, minutes)
        except Exception as e:  # pylint: disable=broad-except
            traceback.print_exc()
            sys.stdout.flush()
            summary["archs"][arch] = {"error": repr(e)}
        with open(os.path.join(a.out, "summary_%s.json" % a.arch.replace(",", "_")), "w") as f:
            json.dump(summary, f, indent=1)
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
