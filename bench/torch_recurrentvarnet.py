#!/usr/bin/python3
"""RecurrentVarNet in plain PyTorch, written from shared/specs/recurrentvarnet.md (DIRECT's
RecurrentVarNet, NKI-AI/direct@50b9704), with DIRECT's module tree and state_dict keys and its
(N, C, H, W, 2) real layout, so that a weight file ("/weights/<key>", root attribute "config")
loads into it unchanged.

  torch_recurrentvarnet.py verify CASE.h5 ...      compare with model-level goldens (/output)
  torch_recurrentvarnet.py make OUT.h5 [--seed S]  paper-default model (T 8, Hc 128, L 4, no
                                                   sharing, RSI "sense" (32,32,64,64)/(1,1,2,4),
                                                   multiscale 3, uncentred ortho FFT), random
                                                   weights, 12 x 218 x 170 inputs
  torch_recurrentvarnet.py bench FILE.h5 --threads N [--reps R] [--out OUT.npy]
                                                   time forward() under no_grad, peak RSS

Used by bench/run_all_bench.sh to compare the C engine with PyTorch.
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
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402  (bench/, also when this file is loaded by path)

# ---- complex helpers and FFTs on (..., 2) tensors (spec 1.1, 1.2) ------------------------------


def fft2(x, centered):
    """ortho 2-D FFT over dims (2, 3) of (N, C, H, W, 2)."""
    c = torch.view_as_complex(x.contiguous())
    if centered:
        c = torch.fft.ifftshift(c, dim=(2, 3))
    c = torch.fft.fftn(c, dim=(2, 3), norm="ortho")
    if centered:
        c = torch.fft.fftshift(c, dim=(2, 3))
    return torch.view_as_real(c)


def ifft2(x, centered):
    c = torch.view_as_complex(x.contiguous())
    if centered:
        c = torch.fft.ifftshift(c, dim=(2, 3))
    c = torch.fft.ifftn(c, dim=(2, 3), norm="ortho")
    if centered:
        c = torch.fft.fftshift(c, dim=(2, 3))
    return torch.view_as_real(c)


def cmul(a, b):
    re = a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1]
    im = a[..., 0] * b[..., 1] + a[..., 1] * b[..., 0]
    return torch.stack([re, im], dim=-1)


def conj(a):
    return torch.stack([a[..., 0], -a[..., 1]], dim=-1)


def reduce_op(x, s):  # sum_c conj(S_c) x_c -> (N, H, W, 2)
    return cmul(conj(s), x).sum(1)


def expand_op(x, s):  # S_c x -> (N, C, H, W, 2)
    return cmul(s, x.unsqueeze(1))


# ---- Conv2dGRU (spec 3.2, 3.3) ---------------------------------------------------------------


class Conv2dGRU(nn.Module):
    def __init__(self, cin, hidden, cout, num_layers):
        super().__init__()
        self.hidden = hidden
        self.num_layers = num_layers
        self.reset_gates = nn.ModuleList()
        self.update_gates = nn.ModuleList()
        self.out_gates = nn.ModuleList()
        self.conv_blocks = nn.ModuleList()
        for idx in range(num_layers + 1):
            i = cin if idx == 0 else hidden
            o = hidden if idx < num_layers else cout
            pad = 2 if idx in (0, 1) else 1
            self.conv_blocks.append(nn.Sequential(
                nn.ReplicationPad2d(pad),
                nn.Conv2d(i, o, 5 if idx == 0 else 3, dilation=2 if idx == 1 else 1)))
        for _ in range(num_layers):
            for gates in (self.reset_gates, self.update_gates, self.out_gates):
                gates.append(nn.Sequential(nn.Conv2d(2 * hidden, hidden, 1)))

    def forward(self, x, h):
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden, *x.shape[2:], self.num_layers)
        new = []
        for l in range(self.num_layers):
            a = F.relu(self.conv_blocks[l](x))
            hp = h[..., l]
            cat = torch.cat([a, hp], dim=1)
            z = torch.sigmoid(self.update_gates[l](cat))
            r = torch.sigmoid(self.reset_gates[l](cat))
            n = torch.tanh(self.out_gates[l](torch.cat([a, hp * r], dim=1)))
            hn = hp * (1 - z) + n * z
            new.append(hn)
            x = F.relu(hn)
        return self.conv_blocks[self.num_layers](x), torch.stack(new, dim=-1)


class NormConv2dGRU(nn.Module):
    def __init__(self, cin, hidden, cout, num_layers):
        super().__init__()
        self.convgru = Conv2dGRU(cin, hidden, cout, num_layers)

    def forward(self, x, h):
        b, c, hh, ww = x.shape
        g = x.reshape(b, 2, -1)
        mean = g.mean(-1, keepdim=True)
        std = g.std(-1, keepdim=True)
        xn = ((g - mean) / std).reshape(b, c, hh, ww)
        out, h = self.convgru(xn, h)
        out = (out.reshape(b, 2, -1) * std + mean).reshape(b, c, hh, ww)
        return out, h


# ---- RSI and the model (spec 3, 3.1, 3.4) ----------------------------------------------------


class RecurrentInit(nn.Module):
    def __init__(self, cin, cout, channels, dilations, depth, multiscale):
        super().__init__()
        self.depth = depth
        self.multiscale = multiscale
        self.conv_blocks = nn.ModuleList()
        self.out_blocks = nn.ModuleList()
        tch = 0
        for c, d in zip(channels, dilations):
            self.conv_blocks.append(nn.Sequential(nn.ReplicationPad2d(d),
                                                  nn.Conv2d(cin, c, 3, dilation=d)))
            tch += c
            cin = c
        tch = sum(channels[len(self.conv_blocks) - multiscale:len(self.conv_blocks)])
        for _ in range(depth):
            self.out_blocks.append(nn.Sequential(nn.Conv2d(tch, cout, 1)))

    def forward(self, x):
        feats = []
        for blk in self.conv_blocks:
            x = F.relu(blk(x))
            feats.append(x)
        if self.multiscale > 1:
            x = torch.cat(feats[-self.multiscale:], dim=1)
        return torch.stack([F.relu(o(x)) for o in self.out_blocks], dim=-1)


class RecurrentVarNetBlock(nn.Module):
    def __init__(self, hidden, num_layers, normalized):
        super().__init__()
        self.learning_rate = nn.Parameter(torch.tensor([1.0]))
        cls = NormConv2dGRU if normalized else Conv2dGRU
        self.regularizer = cls(2, hidden, 2, num_layers)

    def forward(self, k, y, mask, s, h, centered):
        e = torch.where(mask == 0, torch.tensor([0.0], dtype=k.dtype), k - y)
        x = reduce_op(ifft2(k, centered), s).permute(0, 3, 1, 2)
        w, h = self.regularizer(x, h)
        r = fft2(expand_op(w.permute(0, 2, 3, 1), s), centered)
        return k - self.learning_rate * e + r, h


class RecurrentVarNet(nn.Module):
    def __init__(self, num_steps=15, recurrent_hidden_channels=64, recurrent_num_layers=4,
                 no_parameter_sharing=True, learned_initializer=False,
                 initializer_initialization=None, initializer_channels=(32, 32, 64, 64),
                 initializer_dilations=(1, 1, 2, 4), initializer_multiscale=1,
                 normalized=False, fft_centered=True, **kwargs):
        super().__init__()
        self.num_steps = num_steps
        self.no_parameter_sharing = no_parameter_sharing
        self.centered = fft_centered
        self.init_mode = initializer_initialization
        self.initializer = None
        if learned_initializer and initializer_initialization is not None and \
                initializer_channels is not None and initializer_dilations is not None:
            self.initializer = RecurrentInit(2, recurrent_hidden_channels,
                                             list(initializer_channels),
                                             list(initializer_dilations),
                                             recurrent_num_layers, initializer_multiscale)
        self.block_list = nn.ModuleList([
            RecurrentVarNetBlock(recurrent_hidden_channels, recurrent_num_layers, normalized)
            for _ in range(num_steps if no_parameter_sharing else 1)])

    def forward(self, y, mask, s, initial_image=None):
        h = None
        c = self.centered
        if self.initializer is not None:
            if self.init_mode == "sense":
                u = reduce_op(ifft2(y, c), s).unsqueeze(1)
            elif self.init_mode == "zero_filled":
                u = ifft2(y, c)
            else:
                u = initial_image.unsqueeze(1)
            z = fft2(u, c).sum(1)
            h = self.initializer(z.permute(0, 3, 1, 2))
        k = y.clone()
        for t in range(self.num_steps):
            blk = self.block_list[t if self.no_parameter_sharing else 0]
            k, h = blk(k, y, mask, s, h, c)
        return k


# ---- files -------------------------------------------------------------------------------------


def c2r(a):  # (C, H, W) complex -> (1, C, H, W, 2) float32
    a = np.asarray(a)
    return torch.from_numpy(np.stack([a.real, a.imag], -1).astype(np.float32))[None]


def load(path, centered=None):
    f = h5py.File(path, "r")
    cfg = json.loads(f.attrs["config"])
    if centered is None and "fft" in f.attrs:
        centered = json.loads(f.attrs["fft"])["centered"]
    if centered is not None:
        cfg["fft_centered"] = centered
    model = RecurrentVarNet(**cfg)
    sd = {k: torch.from_numpy(np.asarray(f["weights"][k])) for k in f["weights"]}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not missing, missing
    model.eval()
    y = c2r(f["kspace"][()])
    mask = torch.from_numpy(np.asarray(f["mask"], dtype=np.float32))[None, None, :, :, None]
    s = c2r(f["sensitivity_map"][()])
    init = c2r(f["initial_image"][()][None])[:, 0] if "initial_image" in f else None
    return f, model, (y, mask, s, init)


def verify(paths):
    ok = True
    for p in paths:
        f, model, args = load(p)
        with torch.no_grad():
            out = model(*args)[0].numpy()
        out = out[..., 0] + 1j * out[..., 1]
        ref = f["output"][()]
        e = float(np.abs(out - ref).max() / np.abs(ref).max())
        print(f"{p}: max rel err {e:.3g}")
        ok = ok and e < 1e-5
    return 0 if ok else 1


def make(path, seed, nc=12, h=218, w=170):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cfg = {"num_steps": 8, "recurrent_hidden_channels": 128, "recurrent_num_layers": 4,
           "no_parameter_sharing": True, "learned_initializer": True,
           "initializer_initialization": "sense", "initializer_channels": [32, 32, 64, 64],
           "initializer_dilations": [1, 1, 2, 4], "initializer_multiscale": 3,
           "normalized": False, "fft_centered": False}
    model = RecurrentVarNet(**cfg)
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    img = ((xx / 0.7) ** 2 + (yy / 0.85) ** 2 < 1).astype(np.float64)
    img += 0.5 * (((xx - 0.2) / 0.2) ** 2 + (yy / 0.3) ** 2 < 1)
    img = img * np.exp(1j * np.pi * xx * yy)
    sens = []
    for c in range(nc):
        a = 2 * np.pi * c / nc
        sens.append(np.exp(-((xx - 0.8 * np.cos(a)) ** 2 + (yy - 0.8 * np.sin(a)) ** 2))
                    * np.exp(1j * a))
    sens = np.array(sens)
    sens /= np.sqrt((np.abs(sens) ** 2).sum(0))
    ksp = np.fft.fft2(sens * img, norm="ortho")  # uncentred transform, as the paper config
    ksp += 0.01 * (rng.standard_normal(ksp.shape) + 1j * rng.standard_normal(ksp.shape))
    mask = (rng.random((h, w)) < 0.2).astype(np.float32)
    fy = np.minimum(np.arange(h), h - np.arange(h))[:, None]
    fx = np.minimum(np.arange(w), w - np.arange(w))[None, :]
    mask[fy ** 2 + fx ** 2 <= 18 ** 2] = 1.0  # ACS at DC of the uncentred k-space
    ksp = ksp * mask
    mods = np.sort(np.abs(ksp).ravel())[::-1]
    ksp /= mods[int(0.010000000000000009 * mods.size)]
    with h5py.File(path, "w") as f:
        f.attrs["architecture"] = "recurrentvarnet"
        f.attrs["config"] = json.dumps(cfg)
        f.attrs["fft"] = json.dumps({"centered": False, "normalization": "ortho"})
        for k, v in model.state_dict().items():
            f["weights/" + k] = v.numpy().astype(np.float32)
        f["kspace"] = ksp.astype(np.complex64)
        f["mask"] = mask
        f["sensitivity_map"] = sens.astype(np.complex64)
    print(f"wrote {path}: {sum(v.numel() for v in model.state_dict().values())} parameters")
    return 0


def bench(path, threads, reps, out):
    torch.set_num_threads(threads)
    _, model, args = load(path)
    best = 1e30
    times = []
    with torch.no_grad():
        for _ in range(reps):
            t0 = time.perf_counter()
            k = model(*args)
            dt = time.perf_counter() - t0
            times.append(dt)
            best = min(best, dt)
    if out:
        k = k[0].numpy()
        np.save(out, k[..., 0] + 1j * k[..., 1])
    print(json.dumps({"engine": "torch", "torch": torch.__version__, "threads": threads,
                      "times_s": [round(t, 4) for t in times], "best_s": round(best, 4),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("files", nargs="+")
    torch_common.add_make_parser(sub, seed=0, coils=12, h=218, w=170)
    torch_common.add_timing_parser(sub, "bench", reps=1, threads=1)
    a = ap.parse_args()
    if a.cmd == "verify":
        return verify(a.files)
    if a.cmd == "make":
        return make(a.out, a.seed, a.coils, a.h, a.w)
    return bench(a.file, a.threads, a.reps, a.out)


if __name__ == "__main__":
    sys.exit(main())
