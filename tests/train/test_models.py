#!/usr/bin/python3
"""The training modules of weights/train/models.py are the networks of the C engine: each model
golden's /weights loads into its module (strict state_dict), and the module reproduces /output
within 1e-4 of max|output|. The batched training paths (e2evn_atommic) are the ones checked for
the ATOMMIC cases; the exporter round trip is checked for every case (same config and tensors);
`pipeline` checks train.py's forward paths, pre- and post-processing included, against
`mrirecon recon --method model` on a seeded slice with 1-D and 2-D masks.

    /usr/bin/python3 tests/train/test_models.py [--source DIR] [--bin MRIRECON]
        [--case e2evn|cirim|rvn|lpn|export|pipeline]

Exit 0 pass, 1 fail, 77 skip (no torch or h5py).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
    import torch
except ImportError:
    sys.exit(77)

TOL = 1e-4


def rel(out, ref):
    return float(np.abs(out - ref).max() / np.abs(ref).max())


def check_e2evn(m, data):
    worst = 0.0
    for path in sorted(glob.glob(os.path.join(data, "e2evn", "case_*.h5"))):
        model, y, mask, sens, nlf = m.te2e.load(path)
        with torch.no_grad():
            if sens is None:  # fastMRI variant (own maps), unbatched as the reference
                out = model(y, mask, None, nlf)
            else:
                out = m.e2evn_atommic(model, y[None], mask[None, None], sens[None])[0]
        with h5py.File(path, "r") as f:
            e = rel(out.numpy(), f["output"][()])
        print("%s: %.2e" % (os.path.basename(path), e))
        worst = max(worst, e)
    return worst


def check_cirim(m, data):
    worst = 0.0
    for path in sorted(glob.glob(os.path.join(data, "cirim", "case_*.h5"))):
        model, y, S, mask, init, sigma = m.tcirim.load(path)
        with torch.no_grad():
            out = model(y, S, mask, init, sigma)[0].numpy()
        with h5py.File(path, "r") as f:
            e = rel(out, f["output"][()])
        print("%s: %.2e" % (os.path.basename(path), e))
        worst = max(worst, e)
    return worst


def check_rvn(m, data):
    worst = 0.0
    for path in sorted(glob.glob(os.path.join(data, "recurrentvarnet", "case_[0-9]*.h5"))):
        f, model, args = m.trvn.load(path)
        with torch.no_grad():
            out = model(*args)[0].numpy()
        e = rel(out[..., 0] + 1j * out[..., 1], f["output"][()])
        f.close()
        print("%s: %.2e" % (os.path.basename(path), e))
        worst = max(worst, e)
    return worst


def check_lpn(m, data):
    worst = 0.0
    for case, stride in (("case_1", 0), ("case_2", 0), ("case_3", 3)):
        path = os.path.join(data, "lpn", case + ".h5")
        model, x = m.tlpn.load(path)
        if stride:
            out = m.tlpn.tiled_prox(model, x, 128, stride)[0].detach().numpy()
        else:
            out = model(x)[0].detach().numpy()
        with h5py.File(path, "r") as f:
            e = rel(out, f["output"][()])
        print("%s.h5: %.2e" % (case, e))
        worst = max(worst, e)
    return worst


def check_export(m, data):
    """export() of each golden's module gives back its config and tensors unchanged."""
    worst = 0.0
    files = sorted(glob.glob(os.path.join(data, "e2evn", "case_*.h5")) +
                   glob.glob(os.path.join(data, "cirim", "case_*.h5")) +
                   glob.glob(os.path.join(data, "recurrentvarnet", "case_[0-9]*.h5")) +
                   glob.glob(os.path.join(data, "lpn", "case_[123].h5")))
    with tempfile.TemporaryDirectory() as td:
        for path in files:
            with h5py.File(path, "r") as f:
                arch = f.attrs["architecture"].split()[0].lower()
                cfg = json.loads(f.attrs["config"])
                sd = {k: torch.from_numpy(f["weights"][k][()]) for k in f["weights"]}
            model = m.build(arch, dict(cfg, variant="fastmri" if "sens_chans" in cfg else
                                       "atommic") if arch == "e2evn" else cfg)
            model.load_state_dict(sd, strict=arch != "recurrentvarnet")
            out = os.path.join(td, "w.h5")
            m.export(out, arch, cfg, model.state_dict())
            with h5py.File(out, "r") as g:
                assert g.attrs["architecture"] == arch, path
                assert json.loads(g.attrs["config"]) == cfg, path
                for k, v in sd.items():
                    d = float(np.abs(g["weights"][k][()] - v.numpy()).max())
                    worst = max(worst, d)
        print("export: %d files, max tensor difference %.1e" % (len(files), worst))
    return worst


def check_pipeline(m, data, mrirecon):
    """The training forward paths of weights/train/train.py, pre- and post-processing included
    (E2EVN / CIRIM: k-space / max|SENSE zero-filled|, given maps; RecurrentVarNet: DIRECT's
    engine path), equal `mrirecon recon --method model --maps file` on a small seeded
    multi-coil slice with an equispaced and a 2-D mask, for seeded random small networks."""
    sys.path.insert(0, os.path.join(os.path.dirname(m.__file__)))
    import train as T  # pylint: disable=import-outside-toplevel
    torch.manual_seed(0)
    rng = np.random.RandomState(3)
    h, w, nc = 48, 40, 4
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    img = (np.exp(-(xx ** 2 + yy ** 2) * 3) * (1 + 0.3 * rng.rand(h, w))
           * np.exp(1j * (xx - 0.5 * yy)))
    ang = 2 * np.pi * np.arange(nc) / nc
    sens = np.stack([np.exp(-((xx - 1.2 * np.cos(a)) ** 2 + (yy - 1.2 * np.sin(a)) ** 2))
                     * np.exp(1j * a) for a in ang])
    sens /= np.sqrt((np.abs(sens) ** 2).sum(0, keepdims=True))
    k = m.fft2c(torch.from_numpy((sens * img).astype(np.complex64)), True, "ortho").numpy()
    cols = np.zeros(w, np.float32)
    cols[::3] = 1
    cols[w // 2 - 3:w // 2 + 3] = 1
    m2 = (rng.rand(h, w) < 0.35).astype(np.float32)
    m2[h // 2 - 5:h // 2 + 5, w // 2 - 5:w // 2 + 5] = 1
    worst = 0.0
    with tempfile.TemporaryDirectory() as td:
        data_path = os.path.join(td, "slice.h5")
        with h5py.File(data_path, "w") as f:
            f["kspace"] = k[None]
            f["sensitivity_map"] = sens[None].astype(np.complex64)
        for arch in ("e2evn", "cirim", "rvn"):
            cfg = dict(T.CONFIGS[arch], **T.TINY[arch])
            model = m.build(T.ARCH_FILE[arch], cfg).eval()
            if arch == "rvn":  # keep the random recurrent updates small
                with torch.no_grad():
                    for prm in model.parameters():
                        prm.mul_(0.3)
            wpath = os.path.join(td, arch + ".h5")
            m.export(wpath, T.ARCH_FILE[arch], cfg, model.state_dict())
            for name, mk in (("1-D", np.broadcast_to(cols, (h, w))), ("2-D", m2)):
                mpath = os.path.join(td, "mask.npy")
                np.save(mpath, np.ascontiguousarray(mk))
                out = os.path.join(td, "out.h5")
                subprocess.run([mrirecon, "recon", "--method", "model", "--weights", wpath,
                                "--maps", "file", "--mask", mpath, "--no-crop", "-q", data_path,
                                out], check=True)
                with h5py.File(out, "r") as f:
                    eng = f["reconstruction"][0]
                mt = torch.from_numpy(np.ascontiguousarray(mk))[None, None]
                y = torch.from_numpy(k)[None] * mt
                bt = (y, mt, T.acs_of(mt), torch.from_numpy(sens.astype(np.complex64))[None],
                      None)
                with torch.no_grad():
                    pred, _, _ = T.forward(arch, model, bt[:4] + (torch.zeros(1, h, w),))
                e = rel(pred[0].numpy(), eng)
                print("%s %s mask: %.2e" % (arch, name, e))
                worst = max(worst, e)
    return worst


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default="", help="mrirecon, for --case pipeline")
    p.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    p.add_argument("--case", default="all")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(a.source, "weights", "train"))
    import models  # pylint: disable=import-outside-toplevel
    torch.set_num_threads(2)
    data = os.path.join(a.source, "tests", "data")
    checks = {"e2evn": check_e2evn, "cirim": check_cirim, "rvn": check_rvn, "lpn": check_lpn,
              "export": check_export}
    if a.bin:
        checks["pipeline"] = lambda mm, dd: check_pipeline(mm, dd, a.bin)
    elif a.case == "pipeline":
        print("--case pipeline needs --bin MRIRECON")
        return 2
    names = list(checks) if a.case == "all" else [a.case]
    ok = True
    for n in names:
        e = checks[n](models, data)
        good = e <= (TOL if n != "export" else 0.0)
        print("%s: worst %.2e %s" % (n, e, "ok" if good else "FAIL"))
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
