#!/usr/bin/python3
"""The mrirecon Python package (python/mrirecon) over libmrirecon, from wherever PYTHONPATH and
MRIRECON_LIBRARY (or the install layout) make `import mrirecon` find it:

  - the library loaded is the one expected (--expect-library), and its version is the header's;
  - one slice through Method equals the whole-file path (reconstruct_file) and the mrirecon
    program on the same file (bundled sample, read with h5py), for zf, sense, cg and cs;
  - arrays in the right layout go in without a copy, others are converted; wrong shapes and
    kinds are refused; out= is written in place;
  - errors carry the library's message and status; the memory limit is set and restored;
  - masks equal the fastMRI goldens; metrics equal the fastMRI / ATOMMIC goldens;
  - two Methods in two Python threads give what each gives alone;
  - a network (the shipped CIRIM) runs with numpy and its OpenBLAS in the same process, with
    numpy's BLAS used before and after, whichever of numpy and mrirecon comes first.

  test_python.py --source SRC --bin MRIRECON --tmp DIR [--expect-library LIB]
"""
import argparse
import os
import subprocess
import sys
import threading
import unittest

import numpy as np

import mrirecon
from mrirecon import _lib

ARGS = None


def sample():
    return os.path.join(ARGS.source, "data", "sample", "brain8_poisson.h5")


def cirim():
    return os.path.join(ARGS.source, "weights", "shipped", "cirim-brain-demo.h5")


def test_data(rel):
    return os.path.join(ARGS.source, "tests", "data", rel)


def read_sample():
    """k-space (C, H, W) and mask (H, W) of the bundled sample, as the file path prepares them
    (the file's mask, k-space zeroed off it)."""
    import h5py
    with h5py.File(sample(), "r") as f:
        ksp = np.asarray(f["kspace"][0], np.complex64)
        mask = (np.asarray(f["mask"]) != 0).astype(np.float32)
    return np.ascontiguousarray(ksp * mask), mask


def rel_err(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def have_h5py():
    try:
        import h5py  # noqa: F401
        return True
    except ImportError:
        return False


class Basics(unittest.TestCase):
    def test_library_and_version(self):
        if ARGS.expect_library:
            self.assertEqual(os.path.realpath(_lib.lib._name),
                             os.path.realpath(ARGS.expect_library))
        with open(os.path.join(ARGS.source, "api", "mrirecon.h")) as f:
            header = f.read()
        self.assertIn('#define MRIRECON_VERSION_STRING "%s"' % mrirecon.version(), header)
        self.assertEqual(mrirecon.__version__, mrirecon.version())
        out = subprocess.run([ARGS.bin, "--version"], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), "mrirecon " + mrirecon.version())

    def test_errors(self):
        with self.assertRaises(mrirecon.Error) as e:
            mrirecon.Method("nosuch", 2, 8, 8)
        self.assertEqual(e.exception.status, "MRIRECON_ERR_ARG")
        self.assertEqual(e.exception.code, -6)
        self.assertIn("unknown method 'nosuch'", str(e.exception))
        with self.assertRaises(mrirecon.Error) as e:
            mrirecon.reconstruct_file("/nonexistent/in.h5", os.path.join(ARGS.tmp, "x.h5"))
        self.assertEqual(e.exception.status, "MRIRECON_ERR_IO")
        self.assertIn("/nonexistent/in.h5", str(e.exception))
        with self.assertRaises(mrirecon.Error) as e:
            mrirecon.mask("random:accel=zero", (4, 16))
        self.assertIn("random:accel=zero", str(e.exception))
        ksp = np.zeros((2, 8, 8), np.complex64)
        ksp[0, 4, 4] = np.nan
        with self.assertRaises(mrirecon.Error) as e:
            mrirecon.reconstruct(ksp, np.ones((8, 8)), "zf")
        self.assertEqual(e.exception.status, "MRIRECON_ERR_DATA")
        self.assertIn("k-space", str(e.exception))

    def test_memory_limit(self):
        default = mrirecon.memory_limit()
        self.assertGreaterEqual(default, 1 << 20)
        mrirecon.set_memory_limit(4096)
        try:
            self.assertEqual(mrirecon.memory_limit(), 4096)
            with self.assertRaises(mrirecon.Error) as e:
                mrirecon.reconstruct_file(sample(), os.path.join(ARGS.tmp, "limited.h5"), "zf")
            self.assertEqual(e.exception.status, "MRIRECON_ERR_NOMEM")
            self.assertIn("memory limit", str(e.exception))
        finally:
            mrirecon.set_memory_limit(0)
        self.assertEqual(mrirecon.memory_limit(), default)
        with self.assertRaises(ValueError):
            mrirecon.set_memory_limit(-1)

    def test_arrays(self):
        rng = np.random.default_rng(0)
        ksp = (rng.standard_normal((2, 12, 10)) + 1j * rng.standard_normal((2, 12, 10)))
        ksp = ksp.astype(np.complex64)
        mask = np.ones((12, 10), np.float32)
        # the right layout goes in as it is; others are converted
        self.assertIs(mrirecon._array(ksp, np.complex64, ksp.shape, "ksp"), ksp)
        self.assertIs(mrirecon._array(mask, np.float32, mask.shape, "mask"), mask)
        self.assertIsNot(mrirecon._array(ksp[:, :, ::-1], np.complex64, ksp.shape, "k"), ksp)
        with mrirecon.Method("zf", 2, 12, 10) as m:
            self.assertIsNone(m.report())
            self.assertEqual(m.label, "zf")
            self.assertFalse(m.needs_maps)
            a = m.run(ksp, mask)
            self.assertEqual((a.dtype, a.shape), (np.float32, (12, 10)))
            self.assertTrue(a.flags.c_contiguous)
            out = np.zeros((12, 10), np.float32)
            rep = m.report()  # the trust report of the last run: zf keeps the data
            self.assertEqual((rep["residual"], rep["flagged"], rep["score"]), (0, False, None))
            self.assertIs(m.run(ksp.astype(np.complex128), mask.astype(bool), out=out), out)
            np.testing.assert_array_equal(out, a)
            # Fortran-ordered input: same values, converted
            np.testing.assert_array_equal(m.run(np.asfortranarray(ksp), mask), a)
            with self.assertRaises(ValueError):
                m.run(ksp[:, :11], mask)
            with self.assertRaises(TypeError):
                m.run(ksp, mask.astype(np.complex64))
            with self.assertRaises(ValueError):
                m.run(ksp, mask, out=np.zeros((12, 10), np.float64))
        with self.assertRaises(ValueError):
            m.run(ksp, mask)  # closed
        # the image is the RSS of the centred orthonormal inverse FFT
        coil = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(ksp, axes=(-2, -1)), norm="ortho"),
                               axes=(-2, -1))
        want = np.sqrt((np.abs(coil) ** 2).sum(0))
        self.assertLess(np.abs(a - want).max() / want.max(), 1e-5)


@unittest.skipUnless(have_h5py(), "needs h5py (Debian python3-h5py)")
class SliceEqualsFile(unittest.TestCase):
    """Method.run on the sample's k-space = reconstruct_file = the mrirecon program."""

    def check(self, spec, cli):
        import h5py
        ksp, mask = read_sample()
        with mrirecon.Method(spec, *ksp.shape) as m:
            img = m.run(ksp, mask)
            label = m.label
        out = os.path.join(ARGS.tmp, "api_%s.h5" % label)
        self.assertEqual(mrirecon.reconstruct_file(sample(), out, method=spec, crop=False), 1)
        with h5py.File(out, "r") as f:
            vol = np.asarray(f["reconstruction"])
        self.assertEqual(vol.shape, (1,) + img.shape)
        self.assertLess(rel_err(img, vol[0]), 1e-6, spec)
        out_cli = os.path.join(ARGS.tmp, "cli_%s.h5" % label)
        subprocess.run([ARGS.bin, "recon", "-q", "--no-crop"] + cli + [sample(), out_cli],
                       check=True)
        with h5py.File(out_cli, "r") as f:
            self.assertLess(rel_err(img, np.asarray(f["reconstruction"])[0]), 1e-6, spec)
        return img

    def test_zf(self):
        self.check("zf", ["--method", "zf"])

    def test_sense_and_maps(self):
        img = self.check("sense", ["--method", "sense"])
        ksp, mask = read_sample()
        with mrirecon.Method("sense", *ksp.shape) as m:
            self.assertTrue(m.needs_maps)
            maps = m.maps(ksp, mask)
            self.assertEqual((maps.dtype, maps.shape), (np.complex64, ksp.shape))
            self.assertLess(rel_err(m.run(ksp, mask, maps=maps), img), 1e-6)

    def test_cg(self):
        self.check("cg:iters=10", ["--method", "cg", "--iters", "10"])

    def test_cs_acs(self):
        self.check("cs:iters=10,maps=acs", ["--method", "cs", "--iters", "10", "--maps", "acs"])

    def test_file_options(self):
        out = os.path.join(ARGS.tmp, "cropped.h5")
        self.assertEqual(mrirecon.reconstruct_file(sample(), out, "zf", slices=(0, 1)), 1)
        with self.assertRaises(mrirecon.Error) as e:
            mrirecon.reconstruct_file(sample(), out, "zf", slices=(0, 3))
        self.assertIn("outside the 1 slices", str(e.exception))
        m = np.zeros(180, np.uint8)
        m[::3] = 1
        np.save(os.path.join(ARGS.tmp, "cols.npy"), m)
        self.assertEqual(mrirecon.reconstruct_file(sample(), os.path.join(ARGS.tmp, "m.png"),
                                                   "zf", mask=os.path.join(ARGS.tmp, "cols.npy")),
                         1)


class MasksAndMetrics(unittest.TestCase):
    def test_fastmri_masks(self):
        cases = [("random:accel=4,center=0.08,seed=42", None, "fastmri_random_0.npy", 99),
                 ("random:accel=4,center=0.08", "/data/file1000001.h5", "fastmri_random_1.npy",
                  81)]
        for spec, seed_name, golden, sampled in cases:
            m, info = mrirecon.mask(spec, (5, 368), seed_name=seed_name)
            g = np.load(test_data(os.path.join("sampling", golden)))
            self.assertEqual((m.dtype, m.shape), (np.float32, (5, 368)))
            np.testing.assert_array_equal(m != 0, np.broadcast_to(g != 0, m.shape))
            self.assertEqual(info["points"], sampled)
            self.assertEqual(info["low_frequencies"], 29)
            self.assertTrue(info["columns"])
            s = mrirecon.mask_stats(g)
            self.assertTrue(s["columns"])
            self.assertEqual((s["sampled"], s["total"]), (sampled, 368))
            s2 = mrirecon.mask_stats(m)
            self.assertAlmostEqual(s2["accel"], s["accel"], places=12)
            self.assertAlmostEqual(s2["psf_peak_sidelobe"], s["psf_peak_sidelobe"], places=6)
        m, info = mrirecon.mask("bart-poisson:accel_y=2,accel_z=2,calib=8", (48, 64))
        self.assertFalse(info["columns"])
        self.assertGreaterEqual(mrirecon.mask_stats(m)["center_h"], 8)

    def test_metrics_goldens(self):
        import json
        t = np.load(test_data("metrics/target_10x128x128_f32.npy"))
        p = np.load(test_data("metrics/pred_zerofilled_10x128x128_f32.npy"))
        with open(test_data("metrics/metrics_golden.json")) as f:
            golden = json.load(f)
        m = mrirecon.metrics(t, p)
        for k in ("nmse", "psnr", "ssim"):
            self.assertAlmostEqual(m[k], golden["fastmri_evaluate"][k], delta=1e-5)
        per = mrirecon.metrics(t, p, definition="atommic")
        self.assertEqual(len(per), 10)
        for got, want in zip(per, golden["atommic_per_slice"]):
            for k in ("nmse", "psnr", "ssim"):
                self.assertAlmostEqual(got[k], want[k], delta=1e-5)
        one = mrirecon.metrics(t[3], p[3].astype(np.float64), definition="atommic")
        self.assertAlmostEqual(one[0]["ssim"], per[3]["ssim"], delta=1e-5)
        with self.assertRaises(ValueError):
            mrirecon.metrics(t, p[:5])
        with self.assertRaises(mrirecon.Error):
            mrirecon.metrics(np.zeros_like(t), p)


class Threads(unittest.TestCase):
    def test_two_methods_two_threads(self):
        rng = np.random.default_rng(1)
        data = []
        for _ in range(2):
            ksp = (rng.standard_normal((4, 40, 36)) +
                   1j * rng.standard_normal((4, 40, 36))).astype(np.complex64)
            data.append(ksp)
        mask = np.ones((40, 36), np.float32)
        mask[:, 1::2] = 0
        mask[:, 14:22] = 1
        alone = [mrirecon.reconstruct(k * mask, mask, "cg:iters=15,maps=acs") for k in data]
        got = [None, None]

        def work(i):
            with mrirecon.Method("cg:iters=15,maps=acs", 4, 40, 36) as m:
                for _ in range(3):
                    got[i] = m.run(data[i] * mask, mask)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for i in range(2):
            self.assertLess(rel_err(got[i], alone[i]), 1e-6)


# run in a fresh interpreter: which of numpy and mrirecon loads OpenBLAS first, numpy's BLAS
# busy before and after a network reconstruction
NUMPY_FIRST = """
import numpy as np
a = np.random.default_rng(0).standard_normal((400, 400))
b = a @ a.T
import mrirecon, h5py
"""
MRIRECON_FIRST = """
import mrirecon
import numpy as np, h5py
"""
COMMON = """
import sys
with h5py.File(sys.argv[1], "r") as f:
    ksp = np.asarray(f["kspace"][0], np.complex64)
    mask = (np.asarray(f["mask"]) != 0).astype(np.float32)
with mrirecon.Method(sys.argv[2], *ksp.shape) as m:
    img = m.run(ksp * mask, mask)
a = np.random.default_rng(1).standard_normal((300, 300))
c = a @ np.linalg.inv(a)
assert np.abs(c - np.eye(300)).max() < 1e-6
np.save(sys.argv[3], img)
print("ok")
"""


@unittest.skipUnless(have_h5py(), "needs h5py (Debian python3-h5py)")
class NetworkWithNumpy(unittest.TestCase):
    def test_orders(self):
        imgs = []
        for name, head in (("numpy_first", NUMPY_FIRST), ("mrirecon_first", MRIRECON_FIRST)):
            out = os.path.join(ARGS.tmp, name + ".npy")
            r = subprocess.run([sys.executable, "-c", head + COMMON, sample(), cirim(), out],
                               capture_output=True, text=True, timeout=240)
            self.assertEqual(r.returncode, 0, name + ": " + r.stderr)
            self.assertNotIn("OpenBLAS", r.stderr, name)
            self.assertEqual(r.stdout.strip(), "ok")
            imgs.append(np.load(out))
        self.assertTrue(np.isfinite(imgs[0]).all() and imgs[0].max() > 0)
        self.assertLess(rel_err(imgs[1], imgs[0]), 1e-6)
        ksp, mask = read_sample()
        with mrirecon.Method(cirim(), *ksp.shape) as m:
            self.assertEqual(m.label, "cirim")
            self.assertLess(rel_err(m.run(ksp, mask), imgs[0]), 1e-6)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--expect-library")
    ARGS, rest = ap.parse_known_args()
    os.makedirs(ARGS.tmp, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
