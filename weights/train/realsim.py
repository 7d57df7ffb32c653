"""Realistic multi-coil simulation, calibrated on real scans (calibrate.py -> calib.npz).

For every batch (one matrix size per batch, a new draw of everything):

  * matrix: H, W in [min_size, max_size] (multiples of 16, 96..320 by default) with the real
    scans' anisotropy: aspect W/H in [0.7, 1.0] (brain8 is 230 x 180 = 0.78), randomly transposed;
  * object: a training magnitude slice (128 x 128 uint8) zoomed 0.8-1.25x, rotated +-20 deg and
    shifted by up to 8 % onto the H x W grid (bilinear), a random smooth contrast remap
    m -> sum_k a_k m^k (k <= 3, sometimes non-monotone: CSF bright as in T2w), max 1;
  * phase: smooth B0/B1-like terms (a random polynomial of degree <= 3 and a low-pass random
    field, std ~ the calibrated smooth phase, 0.5-1.5 rad) plus fine structure (high-pass
    random field, correlation ~1-3 px, std ~ the calibrated fine phase, 0.05-0.25 rad);
  * coils: a pool of the calibrated ESPIRiT coil banks (mripy 8 coils, brain8_poisson 8 coils),
    each rotated (any angle), scaled 0.8-1.25x and shifted (up to 15 %), plus with probability
    0.3 a ring of 8-12 synthetic Gaussian coils (train.py's model); 4-32 output coils are random
    complex mixtures M @ pool (each output coil one dominant pool coil plus 0.35 of a random
    combination), RSS-normalised;
  * noise: correlated, covariance M Sigma_pool M^H from the calibrated covariances (each bank's
    normalised to unit mean diagonal; identity for synthetic coils), level sigma_rel = std /
    max |coil image| log-uniform in [0.004, 0.03] (the scans: 0.014 and 0.019);
  * masks: 1-D equispaced (fastMRI EquispacedMaskFraction spacing, random offset) and random
    columns at 4x (ACS 4 / 8 / 12 %) and 8x (ACS 3 / 4 / 6 %); 2-D Poisson disc from
    `mrirecon mask --type bart-poisson` at R 4 and 8 with calibration 12 / 16 / 24 / 32 and
    variable density 1-3 (cached per size; 6 seeds each).

batch() returns what train.py's forward() takes: (y, mask, acs, maps, x).
"""
import math
import os
import subprocess
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

import models as M
from train import acs_of, line_mask

MASK_KINDS = ("equi4", "equi8", "rand4", "rand8", "pois4", "pois8", "pois4", "pois8")


class RealSim:
    def __init__(self, slices, calib_path, mrirecon, seed, min_size=96, max_size=320,
                 coils=(4, 32), sigma=(0.004, 0.03)):
        self.img = torch.from_numpy(slices)
        cal = np.load(calib_path)
        self.banks = []
        for key in cal.files:
            if key.startswith("maps_"):
                s = torch.from_numpy(cal[key]).to(torch.complex64)
                cov = torch.from_numpy(cal["cov_" + key[5:]]).to(torch.complex64)
                cov = cov / cov.diagonal().real.mean()
                self.banks.append((s, cov))
        if not self.banks:
            raise ValueError("%s: no maps_* arrays (run calibrate.py)" % calib_path)
        self.mr = mrirecon
        self.g = torch.Generator()
        self.g.manual_seed(seed)
        self.min_size, self.max_size = min_size, max_size
        self.coils, self.sigma = coils, sigma
        self.mask_cache = {}
        self.tmp = tempfile.mkdtemp(prefix="realsim_")

    # -- random helpers
    def u(self, *shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=self.g)

    def ri(self, lo, hi):
        return int(torch.randint(lo, hi, (), generator=self.g))

    def size(self):
        step = 16
        h = step * self.ri(self.min_size // step, self.max_size // step + 1)
        w = int(round(h * float(self.u(1, lo=0.7, hi=1.0)) / step)) * step
        w = max(self.min_size, w)
        return (h, w) if float(self.u(1)) < 0.5 else (w, h)

    @staticmethod
    def warp(a, h, w, ang, scale, sx, sy):
        """a (B, C, h0, w0) real -> (B, C, h, w): rotation ang, zoom scale, shift (sx, sy) in
        units of the half-FOV; bilinear, zero outside."""
        b = a.shape[0]
        c, s = torch.cos(ang) / scale, torch.sin(ang) / scale
        theta = torch.stack([torch.stack([c, -s * h / w, sx], -1),
                             torch.stack([s * w / h, c, sy], -1)], 1)  # (B, 2, 3)
        grid = F.affine_grid(theta, (b, a.shape[1], h, w), align_corners=False)
        return F.grid_sample(a, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def smooth_field(self, b, h, w, corr):
        """(B, H, W) zero-mean unit-std Gaussian random field, correlation length ~corr px."""
        n = torch.randn(b, 1, h, w, generator=self.g)
        ky = torch.fft.fftfreq(h)[:, None]
        kx = torch.fft.fftfreq(w)[None, :]
        filt = torch.exp(-2 * (math.pi * corr) ** 2 * (ky ** 2 + kx ** 2))
        f = torch.fft.ifft2(torch.fft.fft2(n[:, 0]) * filt).real
        return (f - f.mean((-2, -1), keepdim=True)) / f.std((-2, -1), keepdim=True).clamp_min(1e-8)

    # -- parts
    def images(self, b, h, w):
        idx = torch.randint(0, self.img.shape[0], (b,), generator=self.g)
        m = self.img[idx].float()[:, None] / 255.0
        if float(self.u(1)) < 0.5:
            m = m.flip(-1)
        m = self.warp(m, h, w, self.u(b, lo=-0.35, hi=0.35), self.u(b, lo=0.8, hi=1.25),
                      self.u(b, lo=-0.08, hi=0.08), self.u(b, lo=-0.08, hi=0.08))[:, 0]
        m = m / m.amax((-2, -1), keepdim=True).clamp_min(1e-6)
        # smooth contrast remap: a1 m + a2 m^2 + a3 m^3, sometimes non-monotone (T2-like)
        a = self.u(b, 3, lo=-1, hi=1)
        a[:, 0] = a[:, 0].abs() + 0.5
        r = (a[:, 0, None, None] * m + a[:, 1, None, None] * m ** 2 + a[:, 2, None, None] * m ** 3)
        r = torch.where(m > 0.02, r, m).clamp_min(0)
        m = r / r.amax((-2, -1), keepdim=True).clamp_min(1e-6)
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        terms = [xx, yy, xx * xx, yy * yy, xx * yy, xx ** 3, yy ** 3, xx * xx * yy, xx * yy * yy]
        c = self.u(b, len(terms), lo=-1, hi=1)
        poly = sum(c[:, i, None, None] * t for i, t in enumerate(terms))
        poly = poly / poly.std((-2, -1), keepdim=True).clamp_min(1e-6)
        smooth = self.u(b, 1, 1, lo=0.5, hi=1.5) * (
            0.7 * poly + 0.5 * self.smooth_field(b, h, w, max(h, w) / 6.0))
        fine = self.u(b, 1, 1, lo=0.05, hi=0.25) * self.smooth_field(
            b, h, w, float(self.u(1, lo=1.0, hi=3.0)))
        ph = smooth + fine + self.u(b, 1, 1, lo=-math.pi, hi=math.pi)
        return m * torch.exp(1j * ph)

    def gauss_coils(self, h, w):
        nc = self.ri(8, 13)
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        ang = float(self.u(1, hi=2 * math.pi)) + 2 * math.pi * torch.arange(nc) / nc
        r = float(self.u(1, lo=1.0, hi=1.5))
        wid = self.u(nc, lo=0.5, hi=1.1)[:, None, None]
        mag = torch.exp(-((xx - r * torch.cos(ang)[:, None, None]) ** 2
                          + (yy - r * torch.sin(ang)[:, None, None]) ** 2) / (2 * wid ** 2))
        p = self.u(nc, 3, lo=-1, hi=1)
        ph = math.pi * p[:, 0, None, None] + 0.8 * (p[:, 1, None, None] * xx + p[:, 2, None, None] * yy)
        return mag * torch.exp(1j * ph), torch.eye(nc, dtype=torch.complex64)

    def maps(self, b, h, w, nc):
        """(B, nc, H, W) maps and (B, nc, nc) noise covariances."""
        out_s, out_c = [], []
        for _ in range(b):
            pool, covs = [], []
            order = torch.randperm(len(self.banks), generator=self.g).tolist()
            use = order[:1] + [i for i in order[1:] if float(self.u(1)) < 0.6]
            for i in use:
                s, cov = self.banks[i]
                ri = torch.view_as_real(s).permute(0, 3, 1, 2).reshape(1, -1, *s.shape[-2:])
                ang = self.u(1, lo=-math.pi, hi=math.pi)
                wr = self.warp(ri, h, w, ang, self.u(1, lo=0.8, hi=1.25),
                               self.u(1, lo=-0.15, hi=0.15), self.u(1, lo=-0.15, hi=0.15))
                wr = wr.reshape(s.shape[0], 2, h, w).permute(0, 2, 3, 1).contiguous()
                pool.append(torch.view_as_complex(wr))
                covs.append(cov)
            if float(self.u(1)) < 0.3:
                s, cov = self.gauss_coils(h, w)
                pool.append(s.to(torch.complex64))
                covs.append(cov)
            pool = torch.cat(pool)
            sig = torch.block_diag(*covs)
            p = pool.shape[0]
            mix = 0.35 * torch.complex(torch.randn(nc, p, generator=self.g),
                                       torch.randn(nc, p, generator=self.g)) / math.sqrt(2 * p)
            prim = torch.randperm(p, generator=self.g)
            for j in range(nc):
                mix[j, prim[j % p]] += torch.exp(1j * self.u(1, hi=2 * math.pi))[0]
            s = torch.einsum("cp,phw->chw", mix, pool)
            # outside the banks' support the warped maps are zero: floor the RSS there
            rss = torch.sqrt((s.abs() ** 2).sum(0, keepdim=True))
            s = s / rss.clamp_min(0.05 * rss.max())
            out_s.append(s)
            out_c.append(mix @ sig @ mix.conj().T)
        return torch.stack(out_s), torch.stack(out_c)

    def poisson(self, h, w, acc, calib, vd, seed):
        key = (h, w, acc, calib, vd, seed)
        if key not in self.mask_cache:
            p = os.path.join(self.tmp, "m_%d_%d_%d_%d_%d_%d.npy" % key)
            r = subprocess.run([self.mr, "mask", "--type", "bart-poisson", "--shape",
                                "%dx%d" % (h, w), "--accel", str(acc), "--calib", str(calib),
                                "--vd", str(vd), "--seed", str(seed), "-q", "-o", p],
                               capture_output=True, text=True, check=False)
            if r.returncode != 0:
                raise RuntimeError("mrirecon mask failed: " + r.stderr.strip())
            self.mask_cache[key] = torch.from_numpy((np.load(p) != 0).astype(np.float32))
            os.remove(p)
        return self.mask_cache[key]

    def mask(self, b, kind, h, w):
        acc = 4 if kind.endswith("4") else 8
        if kind.startswith("pois"):
            mk = torch.stack([self.poisson(h, w, acc, [12, 16, 24, 32][self.ri(0, 4)],
                                           self.ri(1, 4), self.ri(1, 7)) for _ in range(b)])
            mk = mk[:, None]
        else:
            cf = [0.04, 0.08, 0.12][self.ri(0, 3)] if acc == 4 else [0.03, 0.04, 0.06][self.ri(0, 3)]
            mk = line_mask(kind, acc, cf, b, h, w,
                           lambda hi, n: torch.randint(0, hi, (n,), generator=self.g), self.u)
        return mk

    def full(self, b, nc, size):
        """Fully sampled noisy k-space (B, nc, H, W), maps, truth x (B, H, W) and the noise
        covariance (B, nc, nc) actually used (scaled)."""
        h, w = size
        x = self.images(b, h, w)
        s, cov = self.maps(b, h, w, nc)
        coil = s * x[:, None]
        k = M.fft2c(coil, True, "ortho")
        lsig = self.u(b, lo=math.log(self.sigma[0]), hi=math.log(self.sigma[1]))
        sig = torch.exp(lsig) * coil.abs().amax((1, 2, 3))
        cov = cov * (sig ** 2)[:, None, None]
        ev, evec = torch.linalg.eigh(cov)
        lchol = evec * ev.clamp_min(0).sqrt()[:, None, :]
        white = torch.complex(torch.randn(k.shape, generator=self.g),
                              torch.randn(k.shape, generator=self.g)) / math.sqrt(2)
        k = k + torch.einsum("bcd,bdhw->bchw", lchol.to(k.dtype), white)
        return k, s, x, cov

    def batch(self, b, kind=None, nc=None, size=None):
        """y (B,C,H,W) masked noisy k-space, mask, acs, maps, x (B,H,W) complex truth, and the
        noise covariance (B,C,C) actually used (scaled)."""
        size = size or self.size()
        lo, hi = self.coils
        nc = nc or int(round(math.exp(float(self.u(1, lo=math.log(lo), hi=math.log(hi + 0.49))))))
        kind = kind or MASK_KINDS[self.ri(0, len(MASK_KINDS))]
        k, s, x, cov = self.full(b, nc, size)
        mk = self.mask(b, kind, *size)
        return k * mk, mk, acs_of(mk), s, x, cov
