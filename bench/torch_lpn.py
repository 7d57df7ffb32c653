#!/usr/bin/python3
"""PyTorch side of the LPN benchmark: the image LPN of Fang, Buchanan & Sulam (ICLR 2024;
lpn/networks/lpn_128.py, ../shared/specs/lpn.md §2) written out again with the same module
names and state_dict keys, its prox by autograd exactly as the reference gets it
(torch.autograd.grad of psi.sum() with create_graph=True), and the reference's patch tiling
(lpn_for_inv.lpn_denoise_patch, §5).

  torch_lpn.py make OUT.h5 [--in-dim 2] [--hidden 256] [--beta 100] [--alpha 1e-6]
                   [--h 320] [--w 320] [--seed 0]
      writes a weight file (root attrs architecture/config, /weights/<key>) that also holds
      /input (C,H,W) uniform in [0,1]; weights: torch's default init, then the constrained
      weights set to exp(N(-10, 0.1^2)) as the reference's init_weights does.
  torch_lpn.py run FILE.h5 [--stride 64] [--reps 2] [--threads N] [--out OUT.h5]
      times the tiled prox of /input and prints one JSON line; --out writes /output.
  torch_lpn.py compare A.h5 B.h5
      prints max|A - B| / max|B| of /output.

Checked against the goldens: `run tests/data/lpn/case_3.h5 --stride 3 --out x.h5` then
`compare x.h5 tests/data/lpn/case_3.h5`.
"""
import argparse
import json
import os
import resource
import sys
import time

import h5py
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402  (bench/, also when this file is loaded by path)


class LPN(nn.Module):
    """psi(x) = lin.7(mean(sp(z6))) + alpha ||x||^2 with z_k = lin.k(sp(z_{k-1})) + res.{k-1}(D x)."""

    def __init__(self, in_dim, hidden, beta, alpha):
        super().__init__()
        k = hidden
        conv = nn.Conv2d
        self.lin = nn.ModuleList([
            conv(in_dim, k, 3, stride=1, padding=1, bias=True),
            conv(k, k, 3, stride=2, padding=1, bias=False),
            conv(k, k, 3, stride=1, padding=1, bias=False),
            conv(k, k, 3, stride=2, padding=1, bias=False),
            conv(k, k, 3, stride=1, padding=1, bias=False),
            conv(k, k, 3, stride=2, padding=1, bias=False),
            conv(k, 64, 16, stride=1, padding=0, bias=False),
            nn.Linear(64, 1),
        ])
        self.res = nn.ModuleList([
            conv(in_dim, k, 3, stride=2, padding=1),
            conv(in_dim, k, 3, stride=1, padding=1),
            conv(in_dim, k, 3, stride=2, padding=1),
            conv(in_dim, k, 3, stride=1, padding=1),
            conv(in_dim, k, 3, stride=2, padding=1),
            conv(in_dim, 64, 16, stride=1, padding=0),
        ])
        self.act = nn.Softplus(beta=beta)
        self.alpha = alpha

    def scalar(self, x):
        s = x.shape[-1]
        sizes = [s, s // 2, s // 2, s // 4, s // 4, s // 8]
        y = self.act(self.lin[0](x))
        for k in range(1, 6):
            xs = F.interpolate(x, (sizes[k - 1], sizes[k - 1]), mode="bilinear")
            y = self.act(self.lin[k](y) + self.res[k - 1](xs))
        xs = F.interpolate(x, (sizes[5], sizes[5]), mode="bilinear")
        y = self.act(self.lin[6](y) + self.res[5](xs))
        y = torch.mean(y, dim=(2, 3)).reshape(x.shape[0], 64)
        y = self.lin[7](y)
        return y + self.alpha * x.reshape(x.shape[0], -1).pow(2).sum(1, keepdim=True)

    def forward(self, x):
        with torch.enable_grad():
            if not x.requires_grad:
                x.requires_grad = True
            psi = self.scalar(x)
            return torch.autograd.grad(psi.sum(), x, retain_graph=True, create_graph=True)[0]


def tiled_prox(model, x, patch, stride):
    """x (1, C, H, W) -> averaged prox of 128x128 patches (rows outer), as lpn_denoise_patch."""
    out = torch.zeros_like(x)
    cnt = torch.zeros_like(x)
    for i in range(0, x.shape[2] - patch + 1, stride):
        for j in range(0, x.shape[3] - patch + 1, stride):
            with torch.no_grad():
                out[:, :, i:i + patch, j:j + patch] += model(x[:, :, i:i + patch, j:j + patch])
                cnt[:, :, i:i + patch, j:j + patch] += 1
    return out / cnt


def load(path):
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["config"])
        model = LPN(cfg["in_dim"], cfg["hidden"], cfg["beta"], cfg["alpha"])
        sd = {k: torch.from_numpy(f["weights"][k][()]) for k in f["weights"]}
        model.load_state_dict(sd, strict=True)
        x = torch.from_numpy(f["input"][()]).unsqueeze(0)
    return model, x


def cmd_make(a):
    torch.manual_seed(a.seed)
    model = LPN(a.in_dim, a.hidden, a.beta, a.alpha)
    with torch.no_grad():  # the reference's init_weights(mean=-10, std=0.1)
        for m in model.lin[1:]:
            m.weight.normal_(-10.0, 0.1).exp_()
    cfg = {"in_dim": a.in_dim, "hidden": a.hidden, "beta": a.beta, "alpha": a.alpha}
    rng = np.random.default_rng(a.seed)
    with h5py.File(a.out, "w") as f:
        f.attrs["architecture"] = "lpn"
        f.attrs["config"] = json.dumps(cfg)
        for k, v in model.state_dict().items():
            f["weights/" + k] = v.numpy()
        f["input"] = rng.random((a.in_dim, a.h, a.w), dtype=np.float32)


def cmd_run(a):
    if a.threads:
        torch.set_num_threads(a.threads)
    model, x = load(a.file)
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        y = tiled_prox(model, x, 128, a.stride)
        times.append(time.perf_counter() - t0)
    npatch = len(range(0, x.shape[2] - 127, a.stride)) * len(range(0, x.shape[3] - 127, a.stride))
    print(json.dumps({"engine": "torch " + torch.__version__, "threads": torch.get_num_threads(),
                      "h": x.shape[2], "w": x.shape[3], "stride": a.stride, "patches": npatch,
                      "runs_s": [round(t, 4) for t in times], "best_s": round(min(times), 4),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                            / 1024.0, 1)}))
    if a.out:
        with h5py.File(a.out, "w") as f:
            f["output"] = y[0].detach().numpy()


def cmd_compare(a):
    with h5py.File(a.a, "r") as f:
        x = f["output"][()]
    with h5py.File(a.b, "r") as f:
        y = f["output"][()]
    print(float(np.abs(x - y).max() / np.abs(y).max()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--in-dim", type=int, default=2)
    m.add_argument("--hidden", type=int, default=256)
    m.add_argument("--beta", type=float, default=100.0)
    m.add_argument("--alpha", type=float, default=1e-6)
    m.add_argument("--h", type=int, default=320)
    m.add_argument("--w", type=int, default=320)
    m.add_argument("--seed", type=int, default=0)
    r = torch_common.add_timing_parser(sub, "run", reps=2, threads=0)
    r.add_argument("--stride", type=int, default=64)
    torch_common.add_compare_parser(sub)
    a = p.parse_args()
    {"make": cmd_make, "run": cmd_run, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
