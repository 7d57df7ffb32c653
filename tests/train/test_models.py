#!/usr/bin/python3
"""The training modules of weights/train/models.py are the networks of the C engine: each model
golden's /weights loads into its module (strict state_dict), and the module reproduces /output
within 1e-4 of max|output|. The batched training paths (e2evn_atommic) are the ones checked for
the ATOMMIC cases; the exporter round trip is checked for every case (same config and tensors).

    /usr/bin/python3 tests/train/test_models.py [--source DIR] [--case e2evn|cirim|rvn|lpn|export]

Exit 0 pass, 1 fail, 77 skip (no torch or h5py).
"""
import argparse
import glob
import json
import os
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    p.add_argument("--case", default="all")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(a.source, "weights", "train"))
    import models  # pylint: disable=import-outside-toplevel
    torch.set_num_threads(2)
    data = os.path.join(a.source, "tests", "data")
    checks = {"e2evn": check_e2evn, "cirim": check_cirim, "rvn": check_rvn, "lpn": check_lpn,
              "export": check_export}
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
