#!/usr/bin/python3
"""Calibrates the realistic training simulation (realsim.py) on real multi-coil scans and
measures the same statistics on any k-space, real or simulated.

Calibration scans (and only these; data/real/mit_brain_slices/gpunufft_brain4ch_t2.h5 stays
unseen):
  * data/real/mit_brain_slices/mripy_brain8ch.h5: 8 coils, 256 x 256, fully sampled;
  * data/sample/brain8_poisson.h5: 8 coils, 230 x 180, 2-D Poisson; only its sampled k-space
    is used (the 24 x 24 calibration region for the maps, the sampled periphery for the noise).

Per scan it estimates, with the project's own ESPIRiT (the C library through the `mrirecon`
Python package, `Method("cg").maps`):
  * coil maps (C, H, W), RSS-normalised, stored resampled to 128 x 128 for the coil bank;
  * noise covariance (C x C) from the k-space periphery (|k| beyond the ellipse at 0.75 of the
    half-widths: there the signal is far below the noise for brain images), and the noise level
    sigma_rel = sqrt(mean diagonal) / max |coil image| (the definition of train.py's Sim);
  * object phase phi = angle(sum_c conj(S_c) x_c) inside the head: its smooth part (least-squares
    2-D polynomial of degree 3 over the head) and the residual fine structure (std, rad);
  * coil-map smoothness: the RMS bandwidth of the maps' spectrum (cycles per FOV) inside the head.

    MRIRECON_LIBRARY=build/lib/libmrirecon.so.0 /usr/bin/python3 weights/train/calibrate.py \
        [--out weights/train/calib.npz]

Writes OUT (npz: maps_<scan>, cov_<scan>, stats JSON) atomically.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

SCANS = {
    "mripy_brain8ch": "data/real/mit_brain_slices/mripy_brain8ch.h5",
    "brain8_poisson": "data/sample/brain8_poisson.h5",
}
BANK_N = 128


def _centred(fn, x):
    return np.fft.fftshift(fn(np.fft.ifftshift(x, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))


def fft2c(x):
    """Centred orthonormal 2-D FFT over the last two axes (the project's convention)."""
    return _centred(np.fft.fft2, x)


def ifft2c(k):
    """Centred orthonormal 2-D inverse FFT over the last two axes."""
    return _centred(np.fft.ifft2, k)


def load(path):
    """k-space (C, H, W) complex128 of the first slice and the (H, W) sampling mask."""
    with h5py.File(path, "r") as f:
        k = np.asarray(f["kspace"][0], dtype=np.complex128)
        m = np.asarray(f["mask"]) != 0 if "mask" in f else np.abs(k).sum(0) > 0
    m = np.broadcast_to(m, k.shape[-2:]).astype(bool)
    return k, m


def espirit_maps(k, m):
    """The project's ESPIRiT maps (C, H, W) for k-space k with mask m."""
    import mrirecon  # pylint: disable=import-outside-toplevel
    c, h, w = k.shape
    with mrirecon.Method("cg", c, h, w) as meth:
        return meth.maps((k * m).astype(np.complex64), m.astype(np.float32)).astype(np.complex128)


def cs_image(k, m):
    """The project's L1-CS magnitude image (H, W) of k-space k with mask m."""
    import mrirecon  # pylint: disable=import-outside-toplevel
    c, h, w = k.shape
    with mrirecon.Method("cs", c, h, w) as meth:
        return meth.run((k * m).astype(np.complex64), m.astype(np.float32)).astype(np.float64)


def periphery(h, w, frac=0.75):
    """k-space beyond the ellipse of radius frac of the half-widths (noise-dominated)."""
    yy = ((np.arange(h) - h // 2)[:, None] / (h / 2)) ** 2
    xx = ((np.arange(w) - w // 2)[None, :] / (w / 2)) ** 2
    return yy + xx > frac ** 2


def noise_cov(k, m):
    """C x C noise covariance from the sampled k-space periphery (complex, E[n n^H])."""
    sel = periphery(*k.shape[-2:]) & m
    n = k[:, sel]
    n = n - n.mean(1, keepdims=True)
    return (n @ n.conj().T) / n.shape[1], int(sel.sum())


def head_mask(rss, frac=0.12):
    return rss > frac * rss.max()


def phase_stats(x, s, head):
    """Smooth (degree-3 polynomial over the head) and fine (residual std) object phase."""
    obj = (np.conj(s) * x).sum(0)
    h, w = obj.shape
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    # unwrap the smooth part by fitting to the complex phasor's low-order behaviour: fit phase
    # relative to a reference phasor at the head's centre of mass, after removing the mean phase
    ph = np.angle(obj * np.exp(-1j * np.angle(obj[head].sum())))
    terms = [np.ones_like(xx)] + [xx ** i * yy ** j for i in range(4) for j in range(4)
                                  if 0 < i + j <= 3]
    a = np.stack([t[head] for t in terms], 1)
    coef, *_ = np.linalg.lstsq(a, ph[head], rcond=None)
    smooth = sum(c * t for c, t in zip(coef, terms))
    res = np.angle(np.exp(1j * (ph - smooth)))
    return {"phase_smooth_std_rad": float(smooth[head].std()),
            "phase_smooth_range_rad": float(np.ptp(smooth[head])),
            "phase_fine_std_rad": float(res[head].std()),
            "phase_fine_mad_rad": float(np.median(np.abs(res[head])))}, obj


def map_bandwidth(s, head):
    """RMS bandwidth of the coil maps inside the head (cycles per FOV, mean over coils)."""
    c, h, w = s.shape
    ky = (np.arange(h) - h // 2)[:, None]
    kx = (np.arange(w) - w // 2)[None, :]
    r2 = ky ** 2 + kx ** 2
    out = []
    for i in range(c):
        sp = np.abs(fft2c(s[i] * head)) ** 2
        out.append(np.sqrt((sp * r2).sum() / sp.sum()))
    return float(np.mean(out))


def corr_stats(cov):
    d = np.sqrt(np.real(np.diag(cov)))
    r = np.abs(cov) / np.outer(d, d)
    off = r[~np.eye(len(d), dtype=bool)]
    return {"noise_corr_mean_abs": float(off.mean()), "noise_corr_max_abs": float(off.max()),
            "noise_diag_spread": float(d.max() / d.min())}


def measure(k, m, s=None, cov=None):
    """The calibrated statistics of one slice: k (C, H, W), mask m; maps s (ESPIRiT if None);
    cov: the true noise covariance (if None, estimated from the periphery)."""
    if s is None:
        s = espirit_maps(k, m)
    est, nsel = noise_cov(k, m)
    cov = est if cov is None else cov
    # coil images: from the calibration region only where the k-space is undersampled
    full = m.mean() > 0.95
    x = ifft2c(k if full else k * acs_window(m))
    rss = np.sqrt((np.abs(x) ** 2).sum(0))
    head = head_mask(rss)
    if full:
        peak = np.abs(x).max()
    else:  # max |coil image| = max |S_c| |x| with x the project's L1-CS image
        peak = (np.abs(s) * cs_image(k, m)[None]).max()
    st = {"coils": int(k.shape[0]), "shape": list(k.shape[-2:]), "periphery_samples": nsel,
          "sigma_rel": float(np.sqrt(np.real(np.diag(cov)).mean()) / peak),
          "map_bandwidth_cyc": map_bandwidth(s, head)}
    if not full:
        st["phase_note"] = "phase from the calibration-region image (low resolution)"
    st.update(corr_stats(cov))
    ph, _ = phase_stats(x, s, head)
    st.update(ph)
    return st, s, cov


def acs_window(m):
    """The largest fully sampled centred square of mask m (ones there, zeros elsewhere)."""
    h, w = m.shape
    n = 1
    while n + 2 <= min(h, w) and m[h // 2 - (n + 2) // 2:h // 2 + (n + 2) // 2 + 1,
                                   w // 2 - (n + 2) // 2:w // 2 + (n + 2) // 2 + 1].all():
        n += 2
    out = np.zeros_like(m, dtype=float)
    out[h // 2 - n // 2:h // 2 + n // 2 + 1, w // 2 - n // 2:w // 2 + n // 2 + 1] = 1
    return out


def resample(a, n):
    """(C, H, W) complex maps to (C, n, n) by bilinear interpolation over the full FOV."""
    c, h, w = a.shape
    yi = np.linspace(0, h - 1, n)
    xi = np.linspace(0, w - 1, n)
    y0 = np.floor(yi).astype(int).clip(0, h - 2)
    x0 = np.floor(xi).astype(int).clip(0, w - 2)
    fy = (yi - y0)[:, None]
    fx = (xi - x0)[None, :]
    out = (a[:, y0][:, :, x0] * (1 - fy) * (1 - fx) + a[:, y0 + 1][:, :, x0] * fy * (1 - fx)
           + a[:, y0][:, :, x0 + 1] * (1 - fy) * fx + a[:, y0 + 1][:, :, x0 + 1] * fy * fx)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "calib.npz"))
    a = p.parse_args()
    res, stats = {}, {}
    for name, rel in SCANS.items():
        k, m = load(os.path.join(ROOT, rel))
        st, s, cov = measure(k, m)
        stats[name] = st
        res["maps_" + name] = resample(s, BANK_N).astype(np.complex64)
        res["cov_" + name] = cov.astype(np.complex64)
        print(name, json.dumps(st), flush=True)
    tmp = a.out + ".tmp.npz"
    np.savez_compressed(tmp, stats=json.dumps(stats), **res)
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
