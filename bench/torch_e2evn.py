#!/usr/bin/python3
"""PyTorch side of the E2EVN benchmark: a compact re-implementation of the fastMRI and ATOMMIC
VarNet forward passes (../shared/specs/e2evn.md; the same module names and state_dict keys),
used to make paper-size benchmark cases and to time the reference framework's arithmetic on
the same weights and inputs as the C engine.

  torch_e2evn.py make OUT.h5 [--variant fastmri|atommic] [--coils 15] [--h 640] [--w 368]
                     [--cascades 12] [--chans 18] [--pools 4] [--sens-chans 8]
                     [--sens-pools 4] [--seed 0]
      writes a golden-style file: root attrs architecture/config, /weights/<key>, /kspace,
      /mask (and /sensitivity_map for atommic); weights are torch's default init.
  torch_e2evn.py run FILE.h5 [--reps 3] [--threads N] [--out OUT.h5]
      times model(...) under torch.no_grad() and prints one JSON line; --out writes /output.
  torch_e2evn.py compare A.h5 B.h5
      prints max|A - B| / max|B| of /output.

Checked against the goldens: `run tests/data/e2evn/case_N.h5 --out x.h5` then `compare x.h5
tests/data/e2evn/case_N.h5` gives ~1e-6 for every case.
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


# ---- FFT (e2evn.md §2) -----------------------------------------------------------------------
def fft2(x, centered, norm):
    if centered:
        x = torch.fft.ifftshift(x, dim=(-2, -1))
    x = torch.fft.fft2(x, dim=(-2, -1), norm=norm)
    return torch.fft.fftshift(x, dim=(-2, -1)) if centered else x


def ifft2(x, centered, norm):
    if centered:
        x = torch.fft.ifftshift(x, dim=(-2, -1))
    x = torch.fft.ifft2(x, dim=(-2, -1), norm=norm)
    return torch.fft.fftshift(x, dim=(-2, -1)) if centered else x


# ---- U-Net (fastmri/models/unet.py) ------------------------------------------------------------
class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.InstanceNorm2d(cout),
            nn.LeakyReLU(0.2, True), nn.Dropout2d(0.0),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.InstanceNorm2d(cout),
            nn.LeakyReLU(0.2, True), nn.Dropout2d(0.0))

    def forward(self, x):
        return self.layers(x)


class TransposeConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.layers = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, 2, stride=2, bias=False), nn.InstanceNorm2d(cout),
            nn.LeakyReLU(0.2, True))

    def forward(self, x):
        return self.layers(x)


class Unet(nn.Module):
    def __init__(self, cin, cout, chans, pools):
        super().__init__()
        self.down_sample_layers = nn.ModuleList([ConvBlock(cin, chans)])
        ch = chans
        for _ in range(pools - 1):
            self.down_sample_layers.append(ConvBlock(ch, ch * 2))
            ch *= 2
        self.conv = ConvBlock(ch, ch * 2)
        self.up_conv = nn.ModuleList()
        self.up_transpose_conv = nn.ModuleList()
        for _ in range(pools - 1):
            self.up_transpose_conv.append(TransposeConvBlock(ch * 2, ch))
            self.up_conv.append(ConvBlock(ch * 2, ch))
            ch //= 2
        self.up_transpose_conv.append(TransposeConvBlock(ch * 2, ch))
        self.up_conv.append(nn.Sequential(ConvBlock(ch * 2, ch), nn.Conv2d(ch, cout, 1)))

    def forward(self, x):
        stack = []
        for layer in self.down_sample_layers:
            x = layer(x)
            stack.append(x)
            x = F.avg_pool2d(x, 2, 2, 0)
        x = self.conv(x)
        for tconv, conv in zip(self.up_transpose_conv, self.up_conv):
            skip = stack.pop()
            x = tconv(x)
            pad = [0, 0, 0, 0]
            if x.shape[-1] != skip.shape[-1]:
                pad[1] = 1
            if x.shape[-2] != skip.shape[-2]:
                pad[3] = 1
            if sum(pad) != 0:
                x = F.pad(x, pad, "reflect")
            x = conv(torch.cat([x, skip], dim=1))
        return x


class NormUnet(nn.Module):
    def __init__(self, chans, pools, padding_size=15, normalize=True):
        super().__init__()
        self.unet = Unet(2, 2, chans, pools)
        self.padding_size = padding_size
        self.normalize = normalize

    def forward(self, z):  # (B, H, W) complex
        x = torch.stack([z.real, z.imag], dim=1)
        b, _, h, w = x.shape
        if self.normalize:
            flat = x.reshape(b, 2, -1)
            mean = flat.mean(dim=2).view(b, 2, 1, 1)
            std = flat.std(dim=2).view(b, 2, 1, 1)
            x = (x - mean) / std
        hp = ((h - 1) | self.padding_size) + 1 if self.padding_size > 0 else h
        wp = ((w - 1) | self.padding_size) + 1 if self.padding_size > 0 else w
        top, left = (hp - h) // 2, (wp - w) // 2
        x = F.pad(x, [left, wp - w - left, top, hp - h - top])
        x = self.unet(x)[..., top:top + h, left:left + w]
        if self.normalize:
            x = x * std + mean
        return torch.complex(x[:, 0], x[:, 1])


class NormUnetHolder(nn.Module):  # keeps fastMRI's "sens_net.norm_unet.unet" key path
    def __init__(self, chans, pools):
        super().__init__()
        self.norm_unet = NormUnet(chans, pools)


class Cascade(nn.Module):
    def __init__(self, chans, pools, padding_size, normalize):
        super().__init__()
        self.model = NormUnet(chans, pools, padding_size, normalize)
        self.dc_weight = nn.Parameter(torch.ones(1))


class VarNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fastmri = cfg.get("variant", "fastmri") == "fastmri"
        if self.fastmri:
            self.sens_net = NormUnetHolder(cfg["sens_chans"], cfg["sens_pools"])
            self.cascades = nn.ModuleList(
                Cascade(cfg["chans"], cfg["pools"], 15, True) for _ in range(cfg["num_cascades"]))
            self.centered, self.norm = True, "ortho"
            self.no_dc, self.combine = False, "RSS_REAL"
        else:
            self.cascades = nn.ModuleList(
                Cascade(cfg["channels"], cfg["pooling_layers"], cfg["padding_size"],
                        cfg["normalize"]) for _ in range(cfg["num_cascades"]))
            self.centered = cfg["fft_centered"]
            self.norm = "backward" if cfg["fft_normalization"] == "none" else \
                cfg["fft_normalization"]
            self.no_dc, self.combine = cfg["no_dc"], cfg["coil_combination_method"]

    def sens_maps(self, y, mask, nlf):
        w = y.shape[-1]
        if not nlf:
            cols = mask[0].to(torch.int8)
            cent = w // 2
            left = int(torch.argmin(cols[:cent].flip(0)))
            right = int(torch.argmin(cols[cent:]))
            nlf = max(2 * min(left, right), 1)
        pad = (w - nlf + 1) // 2
        acs = torch.zeros_like(y)
        acs[..., pad:pad + nlf] = y[..., pad:pad + nlf]
        r = self.sens_net.norm_unet(ifft2(acs, True, "ortho"))
        return r / torch.sqrt((r.abs() ** 2).sum(dim=0, keepdim=True))

    def forward(self, y, mask, sens=None, nlf=0):  # y (C,H,W) complex, mask (H,W)
        if self.fastmri:
            sens = self.sens_maps(y, mask, nlf)
        m = mask != 0
        k = y
        for c in self.cascades:
            x = (ifft2(k, self.centered, self.norm) * sens.conj()).sum(dim=0)
            r = c.model(x[None])[0]
            e = fft2(sens * r, self.centered, self.norm)
            if self.no_dc:
                k = e
            else:
                k = k - torch.where(m, k - y, torch.zeros_like(k)) * c.dc_weight - e
        x = ifft2(k, self.centered, self.norm)
        if self.combine == "SENSE":
            return (x * sens.conj()).sum(dim=0)
        if self.combine == "RSS":
            return torch.complex(torch.sqrt((x.real ** 2).sum(0)), torch.sqrt((x.imag ** 2).sum(0)))
        return torch.sqrt((x.abs() ** 2).sum(0))


# ---- commands ----------------------------------------------------------------------------------
def make(a):
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    if a.variant == "fastmri":
        cfg = {"variant": "fastmri", "num_cascades": a.cascades, "sens_chans": a.sens_chans,
               "sens_pools": a.sens_pools, "chans": a.chans, "pools": a.pools,
               "mask_center": True}
    else:
        cfg = {"variant": "atommic", "num_cascades": a.cascades, "channels": a.chans,
               "pooling_layers": a.pools, "padding_size": 11, "normalize": True,
               "no_dc": False, "fft_centered": True, "fft_normalization": "ortho",
               "coil_combination_method": "SENSE"}
    model = VarNet(cfg)
    with torch.no_grad():
        for c in model.cascades:
            c.dc_weight.uniform_(0.4, 1.6)
    # smooth complex object and coil maps, equispaced columns with a centre block (8% at 4x)
    yy, xx = np.meshgrid(np.linspace(-1, 1, a.h), np.linspace(-1, 1, a.w), indexing="ij")
    # a smooth phase keeps the imaginary part away from rounding noise (NormUnet divides by
    # its std, so a real object would make both engines amplify FFT rounding differently)
    img = np.exp(-(xx ** 2 + yy ** 2) * 2 + 1j * np.pi * (xx + 0.5 * yy)) \
        * (1 + 0.1 * rng.standard_normal((a.h, a.w)))
    phi = 2 * np.pi * np.arange(a.coils) / a.coils
    sens = np.stack([np.exp(0.5j * p) * np.exp(-((xx - np.cos(p)) ** 2 + (yy - np.sin(p)) ** 2))
                     for p in phi])
    sens /= np.sqrt((np.abs(sens) ** 2).sum(0, keepdims=True))
    cols = np.zeros(a.w, np.float32)
    cols[::4] = 1
    ncent = max(2, int(round(0.08 * a.w)))
    cols[(a.w - ncent + 1) // 2:(a.w - ncent + 1) // 2 + ncent] = 1
    mask = np.broadcast_to(cols, (a.h, a.w)).astype(np.float32)
    k = fft2(torch.from_numpy((sens * img).astype(np.complex64)), True, "ortho").numpy() * mask
    with h5py.File(a.out, "w") as f:
        f.attrs["architecture"] = "e2evn"
        f.attrs["config"] = json.dumps(cfg)
        for key, v in model.state_dict().items():
            f.create_dataset("weights/" + key, data=v.float().numpy())
        f.create_dataset("kspace", data=k.astype(np.complex64))
        f.create_dataset("mask", data=mask)
        if a.variant != "fastmri":
            f.create_dataset("sensitivity_map", data=sens.astype(np.complex64))
    nparam = sum(p.numel() for p in model.parameters())
    print(json.dumps({"file": a.out, "params": nparam, "config": cfg}))


def load(path):
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["config"])
        if "variant" not in cfg:
            cfg["variant"] = "fastmri" if "sens_chans" in cfg else "atommic"
        sd = {k: torch.from_numpy(f["weights"][k][()]) for k in f["weights"]}
        y = torch.from_numpy(f["kspace"][()])
        mask = torch.from_numpy(f["mask"][()])
        sens = torch.from_numpy(f["sensitivity_map"][()]) if "sensitivity_map" in f else None
        nlf = int(f["num_low_frequencies"][()]) if "num_low_frequencies" in f else 0
    model = VarNet(cfg)
    model.load_state_dict(sd, strict=True)
    return model.eval(), y, mask, sens, nlf


def run(a):
    if a.threads:
        torch.set_num_threads(a.threads)
    model, y, mask, sens, nlf = load(a.file)
    times = []
    with torch.no_grad():
        for _ in range(a.reps):
            t0 = time.perf_counter()
            out = model(y, mask, sens, nlf)
            times.append(time.perf_counter() - t0)
    if a.out:
        with h5py.File(a.out, "w") as f:
            f.create_dataset("output", data=out.numpy())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"file": a.file, "framework": "torch " + torch.__version__,
                      "threads": torch.get_num_threads(), "runs_s": [round(t, 4) for t in times],
                      "best_s": round(min(times), 4), "peak_rss_mib": round(rss, 1)}))


def compare(a):
    with h5py.File(a.a, "r") as fa, h5py.File(a.b, "r") as fb:
        x, r = fa["output"][()], fb["output"][()]
    err = float(np.abs(x - r).max() / np.abs(r).max())
    print(json.dumps({"max_rel_err": err}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--variant", default="fastmri", choices=["fastmri", "atommic"])
    for name, dflt in [("coils", 15), ("h", 640), ("w", 368), ("cascades", 12), ("chans", 18),
                       ("pools", 4), ("sens-chans", 8), ("sens-pools", 4), ("seed", 0)]:
        m.add_argument("--" + name, type=int, default=dflt)
    torch_common.add_timing_parser(sub, "run", reps=3, threads=0)
    torch_common.add_compare_parser(sub)
    a = p.parse_args()
    {"make": make, "run": run, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
