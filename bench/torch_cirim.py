#!/usr/bin/python3
"""CIRIM / RIM in plain PyTorch, written from shared/specs/cirim.md (ATOMMIC's CIRIM,
wdika/atommic@1abb819), with the same module tree and state_dict keys, so that a weight file
("/weights/<key>", root attribute "config") loads into it unchanged.

  torch_cirim.py verify CASE.h5 ...             compare against goldens (output + predictions)
  torch_cirim.py make OUT.h5 [--seed S]         paper-default CIRIM (IndRNN, 5 cascades, 8 steps,
                                                64-64-2, kernels 5-3-3, dilations 1-2-1, 1x1 cells
                                                of 64), random weights, 12 x 218 x 170 inputs
  torch_cirim.py bench FILE.h5 --threads N [--reps R] [--out OUT.npy]
                                                time forward() under no_grad, peak RSS

Used by bench/run_all_bench.sh to compare the C engine with PyTorch on the same weights.
"""
import argparse
import json
import os
import math
import resource
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402  (bench/, also when this file is loaded by path)

# ---- FFT conventions (spec section 10) -----------------------------------------------------


def _norm(n):
    return "backward" if n in ("none", None) else n


def fft2(x, centered, norm):
    if centered:
        x = torch.fft.ifftshift(x, dim=(-2, -1))
    x = torch.fft.fft2(x, dim=(-2, -1), norm=_norm(norm))
    if centered:
        x = torch.fft.fftshift(x, dim=(-2, -1))
    return x


def ifft2(x, centered, norm):
    if centered:
        x = torch.fft.ifftshift(x, dim=(-2, -1))
    x = torch.fft.ifft2(x, dim=(-2, -1), norm=_norm(norm))
    if centered:
        x = torch.fft.fftshift(x, dim=(-2, -1))
    return x


# ---- blocks (spec section 6) ----------------------------------------------------------------


class ConvNonlinear(nn.Module):
    """ReplicationPad(d(k-1)//2) + Conv2d(padding 0) + optional ReLU."""

    def __init__(self, cin, cout, k, d, bias, relu):
        super().__init__()
        self.padding = nn.ReplicationPad2d(d * (k - 1) // 2)
        self.conv_layer = nn.Conv2d(cin, cout, k, padding=0, dilation=d, bias=bias)
        self.relu = relu

    def forward(self, x):
        y = self.conv_layer(self.padding(x))
        return F.relu(y) if self.relu else y


class IndRNNCell(nn.Module):
    def __init__(self, cin, f, k, d, bias):
        super().__init__()
        self.ih = nn.Conv2d(cin, f, k, padding=d * (k - 1) // 2, dilation=d, bias=bias)
        self.hh = nn.Parameter(torch.zeros(1, f, 1, 1))

    def forward(self, x, h):
        return F.relu(self.ih(x) + self.hh * h)


class ConvGRUCell(nn.Module):
    def __init__(self, cin, f, k, d, bias):
        super().__init__()
        self.ih = nn.Conv2d(cin, 3 * f, k, padding=d * (k - 1) // 2, dilation=d, bias=bias)
        self.hh = nn.Conv2d(f, 3 * f, k, padding=d * (k - 1) // 2, dilation=d, bias=False)

    def forward(self, x, h):
        i = self.ih(x).chunk(3, 1)
        g = self.hh(h).chunk(3, 1)
        r = torch.sigmoid(i[0] + g[0])
        z = torch.sigmoid(i[1] + g[1])
        n = torch.tanh(i[2] + r * g[2])
        return n * (1 - z) + z * h


class ConvMGUCell(nn.Module):
    def __init__(self, cin, f, k, d, bias):
        super().__init__()
        self.ih = nn.Conv2d(cin, 2 * f, k, padding=d * (k - 1) // 2, dilation=d, bias=bias)
        self.hh = nn.Conv2d(f, 2 * f, k, padding=d * (k - 1) // 2, dilation=d, bias=False)

    def forward(self, x, h):
        i = self.ih(x).chunk(2, 1)
        g = self.hh(h).chunk(2, 1)
        f = torch.sigmoid(i[0] + g[0])
        c = torch.tanh(i[1] + f * g[1])
        return c + f * (h - c)


CELLS = {"INDRNN": IndRNNCell, "GRU": ConvGRUCell, "MGU": ConvMGUCell}


class ConvRNNStack(nn.Module):
    def __init__(self, convs, rnn):
        super().__init__()
        self.convs = convs
        self.rnn = rnn

    def forward(self, x, h):
        return self.rnn(self.convs(x), h)


class RIMBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        cell = CELLS[cfg["recurrent_layer"].upper()]
        cin = 2 * cfg.get("depth", 2)
        self.layers = nn.ModuleList()
        for l in range(2):
            convs = ConvNonlinear(cin, cfg["conv_filters"][l], cfg["conv_kernels"][l],
                                  cfg["conv_dilations"][l], cfg["conv_bias"][l], True)
            rnn = cell(cfg["conv_filters"][l], cfg["recurrent_filters"][l],
                       cfg["recurrent_kernels"][l], cfg["recurrent_dilations"][l],
                       cfg["recurrent_bias"][l])
            self.layers.append(ConvRNNStack(convs, rnn))
            cin = cfg["recurrent_filters"][l]
        self.final_layer = nn.Sequential(
            ConvNonlinear(cin, cfg["conv_filters"][2], cfg["conv_kernels"][2],
                          cfg["conv_dilations"][2], cfg["conv_bias"][2], False))
        self.no_dc = cfg.get("no_dc", True)
        if not self.no_dc:
            self.dc_weight = nn.Parameter(torch.ones(1))


class CIRIM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.T = 8 * math.ceil(cfg["time_steps"] / 8)
        self.reconstruction_module = nn.ModuleList(
            [RIMBlock(cfg) for _ in range(cfg["num_cascades"])])
        self.centered = cfg["fft_centered"]
        self.norm = cfg["fft_normalization"]

    def llg(self, x, y, S, mask, sigma):
        """[Re x, Im x, Re g, Im g] with
        g = sum_c conj(S_c) IFFT(M (FFT(S_c x) - y_c)) / max(sigma, 1)"""
        r = ifft2(mask * (fft2(S * x[:, None], self.centered, self.norm) - y),
                  self.centered, self.norm)
        g = (S.conj() * r).sum(1) / max(float(sigma), 1.0)
        return torch.stack([x.real, x.imag, g.real, g.imag], 1)

    def forward(self, y, S, mask, init=None, sigma=1.0, keep_all=False):
        """y, S: [B, C, H, W] complex64; mask [B, 1, H, W] float; init [B, H, W] complex64."""
        if init is None:
            z = ifft2(y, self.centered, self.norm)
            if self.cfg["coil_combination_method"].upper() == "RSS":
                x = torch.complex(torch.sqrt((z.real ** 2).sum(1)),
                                  torch.sqrt((z.imag ** 2).sum(1)))
            else:
                x = (S.conj() * z).sum(1)
        else:
            x = init
        hidden = [y.new_zeros((y.shape[0], f, *y.shape[2:]), dtype=torch.float32)
                  for f in self.cfg["recurrent_filters"][:2]]
        outputs = []
        for block in self.reconstruction_module:
            preds = []
            for _ in range(self.T):
                a = self.llg(x, y, S, mask, sigma)
                for l, stack in enumerate(block.layers):
                    hidden[l] = stack(a, hidden[l])
                    a = hidden[l]
                u = block.final_layer(a)
                x = x + torch.complex(u[:, 0], u[:, 1])
                preds.append(x)
            if keep_all:
                outputs.append(preds)
        if not self.cfg.get("no_dc", True):
            # literal reference output, soft DC = 0 for the single cascade (spec section 8)
            k = y - fft2(S * x[:, None], self.centered, self.norm)
            if keep_all:
                outputs = [[y - fft2(S * p[:, None], self.centered, self.norm) for p in ps]
                           for ps in outputs]
            return (k, outputs) if keep_all else k
        return (x, outputs) if keep_all else x


# ---- files ---------------------------------------------------------------------------------


def load(path):
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["config"])
        model = CIRIM(cfg)
        sd = {k: torch.from_numpy(np.asarray(f["weights"][k])) for k in f["weights"].keys()}
        model.load_state_dict(sd, strict=True)
        y = torch.from_numpy(np.asarray(f["kspace"]))[None]
        S = torch.from_numpy(np.asarray(f["sensitivity_map"]))[None]
        mask = torch.from_numpy(np.asarray(f["mask"], dtype=np.float32))[None, None]
        init = None
        if "initial_prediction" in f:
            init = torch.from_numpy(np.asarray(f["initial_prediction"]))[None]
        sigma = float(np.asarray(f["sigma"])) if "sigma" in f else 1.0
    return model.eval(), y, S, mask, init, sigma


def max_rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def cmd_verify(args):
    worst = 0.0
    for path in args.files:
        model, y, S, mask, init, sigma = load(path)
        with torch.no_grad():
            out, outputs = model(y, S, mask, init, sigma, keep_all=True)
        with h5py.File(path, "r") as f:
            e_out = max_rel(out[0].numpy(), np.asarray(f["output"]))
            e_pred = 0.0
            for i, ps in enumerate(outputs):
                for t, p in enumerate(ps):
                    ref = np.asarray(f[f"intermediate/cascade_{i}/time_step_{t}/prediction"])
                    e_pred = max(e_pred, max_rel(p[0].numpy(), ref))
        print(f"{path}: output {e_out:.2e}  predictions {e_pred:.2e}")
        worst = max(worst, e_out, e_pred)
    return 0 if worst < 1e-4 else 1


def cmd_make(args):
    rng = np.random.default_rng(args.seed)
    C, H, W = args.coils, args.h, args.w
    cfg = {
        "recurrent_layer": "IndRNN", "conv_filters": [64, 64, 2], "conv_kernels": [5, 3, 3],
        "conv_dilations": [1, 2, 1], "conv_bias": [True, True, False],
        "recurrent_filters": [64, 64, 0], "recurrent_kernels": [1, 1, 0],
        "recurrent_dilations": [1, 1, 0], "recurrent_bias": [True, True, False], "depth": 2,
        "time_steps": 8, "conv_dim": 2, "num_cascades": args.cascades, "no_dc": True,
        "keep_prediction": True, "accumulate_predictions": True, "dimensionality": 2,
        "coil_combination_method": "SENSE", "fft_centered": True, "fft_normalization": "ortho",
        "spatial_dims": [-2, -1], "coil_dim": 1, "consecutive_slices": 1,
        "estimate_coil_sensitivity_maps_with_nn": False,
    }
    model = CIRIM(cfg)
    sd = {}
    for k, v in model.state_dict().items():
        shape = tuple(v.shape)
        if k.endswith("rnn.hh"):
            a = rng.uniform(0.0, 0.5, shape)
        elif k.endswith("bias"):
            a = 0.05 * rng.standard_normal(shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            a = rng.standard_normal(shape) / math.sqrt(fan_in)
            if "final_layer" in k:
                a *= 0.1
        sd[k] = a.astype(np.float32)
    # smooth maps with sum_c |S_c|^2 = 1, column mask (R ~ 4 with 16 centre lines)
    yy, xx = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing="ij")
    S = np.stack([np.exp(-((yy - np.cos(2 * np.pi * c / C)) ** 2
                         + (xx - np.sin(2 * np.pi * c / C)) ** 2))
                  * np.exp(1j * (c + yy * xx)) for c in range(C)])
    S /= np.sqrt((np.abs(S) ** 2).sum(0, keepdims=True))
    cols = rng.uniform(size=W) < 0.25
    cols[W // 2 - 8:W // 2 + 8] = True
    mask = np.broadcast_to(cols[None, :], (H, W)).astype(np.float32)
    img = np.exp(-(yy ** 2 + xx ** 2) * 3) * (1 + 0.2 * rng.standard_normal((H, W)))
    ksp = fft2(torch.from_numpy(S * img), True, "ortho").numpy() * mask
    ksp /= np.abs(ksp).max()
    with h5py.File(args.out, "w") as f:
        f.attrs["architecture"] = "CIRIM"
        f.attrs["config"] = json.dumps(cfg)
        for k, v in sd.items():
            f[f"weights/{k}"] = v
        f["kspace"] = ksp.astype(np.complex64)
        f["sensitivity_map"] = S.astype(np.complex64)
        f["mask"] = mask
        f["sigma"] = np.float32(1.0)
    print(f"wrote {args.out}: {sum(v.size for v in sd.values())} parameters, {C}x{H}x{W}")
    return 0


def cmd_bench(args):
    torch.set_num_threads(args.threads)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model, y, S, mask, init, sigma = load(args.file)
    times = []
    with torch.no_grad():
        for _ in range(args.reps):
            t0 = time.perf_counter()
            out = model(y, S, mask, init, sigma)
            times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.out:
        np.save(args.out, out[0].numpy())
    print(json.dumps({"engine": "torch", "torch": torch.__version__, "threads": args.threads,
                      "times_s": times, "best_s": min(times), "peak_rss_mib": rss / 1024.0,
                      "rss_before_load_mib": rss0 / 1024.0}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("files", nargs="+")
    m = torch_common.add_make_parser(sub, seed=1234, coils=12, h=218, w=170)
    m.add_argument("--cascades", type=int, default=5)
    torch_common.add_timing_parser(sub, "bench", reps=2, threads=1)
    args = p.parse_args()
    return {"verify": cmd_verify, "make": cmd_make, "bench": cmd_bench}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
