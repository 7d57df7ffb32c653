#!/usr/bin/python3
"""The estimators of weights/train/calibrate.py and the noise / coil model of
weights/train/realsim.py, on synthetic data with known answers.

  calib: noise_cov recovers a known correlated covariance from the k-space periphery of a slice
         with a compact object (correlation error < 0.03); map_bandwidth ranks a smooth map
         below a sharp one; phase_stats finds no fine phase in a cubic phase (< 1e-3 rad) and
         the std of an added white phase (0.2 rad within 10 %); acs_window finds a 24 x 24
         fully sampled centre.
  sim:   RealSim (64 x 48, a synthetic 6-coil calibration bank) gives k-space whose noise
         covariance is the covariance it reports (noise = k - FFT(S x) with the returned maps
         and object; elementwise error < 12 % of the mean diagonal),
         RSS-normalised maps, masks at the requested acceleration, and the ACS of train.py.

    /usr/bin/python3 tests/train/test_realsim.py --case calib|sim [--source DIR] [--bin MRIRECON]

Exit 0 pass, 1 fail, 77 skip (no numpy/h5py; `sim` also without torch).
"""
import argparse
import os
import sys
import tempfile

try:
    import h5py  # noqa: F401  pylint: disable=unused-import
    import numpy as np
except ImportError:
    sys.exit(77)


def fail(msg):
    print("FAIL:", msg)
    return 1


def case_calib(C):
    rng = np.random.default_rng(3)
    c, h, w = 4, 128, 128
    a = rng.standard_normal((c, c)) + 1j * rng.standard_normal((c, c))
    cov = a @ a.conj().T / c + np.eye(c)
    lc = np.linalg.cholesky(cov)
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    obj = 50.0 * np.exp(-(xx ** 2 + yy ** 2) / 0.1)  # smooth: its k-space is compact
    k = C.fft2c(obj[None] * np.ones((c, 1, 1)))
    white = (rng.standard_normal((c, h, w)) + 1j * rng.standard_normal((c, h, w))) / np.sqrt(2)
    k = k + np.einsum("cd,dhw->chw", lc, white)
    est, n = C.noise_cov(k, np.ones((h, w), bool))
    d = np.sqrt(np.real(np.diag(cov)))
    err = np.abs(est - cov).max() / d.mean() ** 2
    print("noise_cov: %d samples, max error %.4f of the mean variance" % (n, err))
    if err > 0.03:
        return fail("noise covariance error %.4f > 0.03" % err)
    head = np.ones((h, w), bool)
    smooth = np.exp(1j * xx)[None] * np.exp(-(xx ** 2 + yy ** 2))[None]
    sharp = smooth * (1 + 0.5 * np.sign(np.sin(20 * xx)))[None]
    bs, bh = C.map_bandwidth(smooth, head), C.map_bandwidth(sharp, head)
    print("map_bandwidth: smooth %.2f, sharp %.2f cycles/FOV" % (bs, bh))
    if not bs < bh:
        return fail("map_bandwidth does not rank the smooth map below the sharp one")
    ph = 0.7 * xx + 0.4 * yy ** 2 - 0.3 * xx * yy ** 2
    s = np.ones((1, h, w)) / 1.0
    x = (np.ones((h, w)) * np.exp(1j * ph))[None]
    head = (xx ** 2 + yy ** 2) < 0.8
    st, _ = C.phase_stats(x, s, head)
    print("phase_stats (cubic): fine %.2e rad" % st["phase_fine_std_rad"])
    if st["phase_fine_std_rad"] > 1e-3:
        return fail("a cubic phase has fine structure %.2e" % st["phase_fine_std_rad"])
    x2 = x * np.exp(1j * 0.2 * rng.standard_normal((h, w)))[None]
    st2, _ = C.phase_stats(x2, s, head)
    print("phase_stats (+0.2 rad white): fine %.4f rad" % st2["phase_fine_std_rad"])
    if abs(st2["phase_fine_std_rad"] - 0.2) > 0.02:
        return fail("fine phase std %.4f, expected 0.2" % st2["phase_fine_std_rad"])
    m = rng.random((h, w)) < 0.2
    m[h // 2 - 12:h // 2 + 12, w // 2 - 12:w // 2 + 12] = True
    win = C.acs_window(m)
    side = int(np.sqrt(win.sum()))
    print("acs_window: %d x %d" % (side, side))
    if side not in (23, 24, 25) or not m[win > 0].all():
        return fail("acs_window %d x %d (expected 24 +- 1, fully sampled)" % (side, side))
    return 0


def case_sim(src, mr):
    try:
        import torch
    except ImportError:
        return 77
    sys.path.insert(0, os.path.join(src, "weights", "train"))
    from realsim import RealSim  # pylint: disable=import-outside-toplevel
    from models import fft2c  # pylint: disable=import-outside-toplevel
    torch.manual_seed(0)
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as td:
        yy, xx = np.meshgrid(np.linspace(-1, 1, 32), np.linspace(-1, 1, 32), indexing="ij")
        maps = np.stack([np.exp(-((xx - np.cos(t)) ** 2 + (yy - np.sin(t)) ** 2))
                         * np.exp(1j * t * xx) for t in np.linspace(0, 2 * np.pi, 6, False)])
        a = rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6))
        cov = a @ a.conj().T / 6 + np.eye(6)
        calib = os.path.join(td, "calib.npz")
        np.savez(calib, maps_x=maps.astype(np.complex64), cov_x=cov.astype(np.complex64))
        slices = (255 * rng.random((3, 32, 32))).astype(np.uint8)
        sim = RealSim(slices, calib, mr, 1, min_size=48, max_size=64)
        k, s, x, c = sim.full(1, 5, (64, 48))
        n = (k - fft2c(s * x[:, None], True, "ortho"))[0].reshape(5, -1).numpy()
        emp = n @ n.conj().T / n.shape[1]
        ref = c[0].numpy()
        err = np.abs(emp - ref).max() / np.real(np.diag(ref)).mean()
        print("sim noise covariance: max error %.3f of the mean variance" % err)
        if err > 0.12:
            return fail("simulated noise covariance differs from the reported one: %.3f" % err)
        rss = np.sqrt((np.abs(s[0].numpy()) ** 2).sum(0))
        print("maps RSS: median %.4f" % np.median(rss))
        if abs(np.median(rss) - 1) > 1e-3:
            return fail("maps are not RSS-normalised (median RSS %.4f)" % np.median(rss))
        for kind, acc in (("equi4", 4), ("equi8", 8), ("pois4", 4)):
            y, mk, acs, _, _, _ = sim.batch(2, kind, nc=4, size=(64, 48))
            r = 1.0 / float(mk.mean())
            print("%s: shape %s, R %.2f, ACS %d samples" % (kind, list(y.shape), r,
                                                          int(acs[0].sum())))
            if y.shape != (2, 4, 64, 48) or not 0.6 * acc < r < 1.3 * acc:
                return fail("%s: shape %s, acceleration %.2f" % (kind, list(y.shape), r))
            if not bool((mk * acs == acs).all()) or float(acs.sum()) == 0:
                return fail("%s: the ACS is not inside the sampled set" % kind)
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True, choices=("calib", "sim"))
    p.add_argument("--source", default=os.path.join(here, "..", ".."))
    p.add_argument("--bin", default="")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(a.source, "weights", "train"))
    import calibrate as C  # pylint: disable=import-outside-toplevel
    if a.case == "calib":
        return case_calib(C)
    return case_sim(a.source, a.bin or os.path.join(a.source, "build", "bin", "mrirecon"))


if __name__ == "__main__":
    sys.exit(main())
