#!/usr/bin/python3
"""Round-trip tests of weights/convert.py (run by ctest, one test per case).

  test_convert.py --case NAME --bin PATH/TO/mrirecon [--source DIR] [--tmp DIR]

A round-trip case converts a checkpoint from tests/data/convert/ (the one written next to a golden
in ../shared/golden) and checks
  1. the architecture id and every key of the golden's `config` attribute (exact), plus the
     keys the converter adds for the engine (e.g. `variant`, `fft_centered`) against the
     golden's own description (its `fft` / `sensitivity_model_config` / `transforms_config`);
  2. every tensor: the same names, shapes and float32 values as the golden's /weights (and
     /sensitivity_model_weights under `sensitivity_model.`), bit for bit;
  3. `mrirecon apply --weights OUT.h5 --input GOLDEN.h5 --output RES.h5 [--raw]`: /output
     within 1e-4 of the golden's max magnitude.
The cases "errors" and "standins" check error paths and checkpoints that pickle classes of
packages that are not installed (Lightning, OmegaConf).

Prints PASS/FAIL lines with the numbers; exit 0 pass, 1 fail, 77 skip (no torch).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
TOL = 1e-4

# name: (framework, architecture, checkpoint, config or None, golden model dir, golden file,
#        apply options)
CASES = {
    "fastmri_e2evn": ("fastmri", "e2evn", "fastmri_e2evn_case_2.ckpt", None,
                      "e2evn", "case_2.h5", ["--raw"]),
    "atommic_e2evn": ("atommic", "e2evn", "atommic_e2evn_case_4.ckpt", None,
                      "e2evn", "case_4.h5", ["--raw"]),
    "atommic_cirim_gru": ("atommic", "cirim", "atommic_cirim_case_01.ckpt", None,
                          "cirim", "case_01_rim_gru_1casc.h5", ["--raw"]),
    "atommic_cirim_indrnn": ("atommic", "cirim", "atommic_cirim_case_03.ckpt", None,
                             "cirim", "case_03_cirim_indrnn_rss_backward.h5", ["--raw"]),
    "direct_rvn_yaml": ("direct", "recurrentvarnet", "direct_rvn_case_1.pt",
                        "direct_rvn_case_1.yaml", "recurrentvarnet",
                        "case_1_sense_multiscale.h5", ["--raw"]),
    "direct_rvn_default_fft": ("direct", "recurrentvarnet", "direct_rvn_case_2.pt",
                               "direct_rvn_case_2.yaml", "recurrentvarnet",
                               "case_2_noinit_shared.h5", ["--raw"]),
    "direct_rvn_json": ("direct", "recurrentvarnet", "direct_rvn_case_4.pt",
                        "direct_rvn_case_4.json", "recurrentvarnet",
                        "case_4_inputimage_shared_normalized_L1.h5", ["--raw"]),
    # the engine golden's /output is the final magnitude image: apply without --raw
    "direct_rvn_engine": ("direct", "recurrentvarnet", "direct_rvn_engine_1.pt",
                          "direct_rvn_engine_1.yaml", "recurrentvarnet",
                          "case_engine_1_calgary_style.h5", []),
    # model_config.json is found next to the checkpoint, as lpn.utils.load_model does
    "lpn": ("lpn", "lpn", "lpn_case_1/model.pt", None, "lpn", "case_1.h5", []),
}


class Fail(Exception):
    pass


def arch_id(s):
    m = re.match(r"\s*([A-Za-z0-9_]+)", s)
    return m.group(1).lower() if m else ""


def attr_str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def read_complex_aware(ds):
    import numpy as np
    a = ds[()]
    if getattr(a, "dtype", None) is not None and a.dtype.names:
        names = a.dtype.names
        re_, im = ("r", "i") if "r" in names else (names[0], names[1])
        a = a[re_].astype(np.float64) + 1j * a[im].astype(np.float64)
    return np.asarray(a)


def added_config_keys(golden_attrs, framework, arch):
    """The keys the converter must add to the golden's config, with their values."""
    add = {}
    if arch == "e2evn":
        add["variant"] = "fastmri" if framework == "fastmri" else "atommic"
    if arch == "recurrentvarnet":
        add["fft_centered"] = bool(json.loads(attr_str(golden_attrs["fft"]))["centered"])
        if "sensitivity_model_config" in golden_attrs:
            smc = json.loads(attr_str(golden_attrs["sensitivity_model_config"]))
            add["sensitivity_model_num_filters"] = smc["num_filters"]
            add["sensitivity_model_num_pool_layers"] = smc["num_pool_layers"]
        if "transforms_config" in golden_attrs:
            tc = json.loads(attr_str(golden_attrs["transforms_config"]))
            for k in ("sensitivity_maps_gaussian", "scale_percentile"):
                add[k] = tc[k]
    return add


def compare_file(out_path, golden_path, framework, arch):
    import h5py
    import numpy as np
    with h5py.File(golden_path, "r") as g, h5py.File(out_path, "r") as o:
        ga, oa = arch_id(attr_str(g.attrs["architecture"])), attr_str(o.attrs["architecture"])
        if oa != ga:
            raise Fail("architecture %r, golden %r" % (oa, ga))
        gc = json.loads(attr_str(g.attrs["config"]))
        oc = json.loads(attr_str(o.attrs["config"]))
        for k, v in gc.items():
            if k not in oc:
                raise Fail("config lacks the golden's key %r" % k)
            if oc[k] != v or type(oc[k]) is not type(v):
                raise Fail("config %r = %r, golden %r" % (k, oc[k], v))
        add = added_config_keys(g.attrs, framework, arch)
        for k, v in oc.items():
            if k in gc:
                continue
            if k not in add:
                raise Fail("config has key %r that the golden does not have" % k)
            if v != add[k]:
                raise Fail("config %r = %r, expected %r from the golden" % (k, v, add[k]))
        missing_add = [k for k in add if k not in oc]
        if missing_add:
            raise Fail("config lacks %s" % ", ".join(missing_add))

        want = {k: g["weights"][k] for k in g["weights"]}
        if "sensitivity_model_weights" in g:
            for k in g["sensitivity_model_weights"]:
                want["sensitivity_model." + k] = g["sensitivity_model_weights"][k]
        got = {k: o["weights"][k] for k in o["weights"]}
        if set(got) != set(want):
            raise Fail("tensor names differ: missing %s, extra %s"
                       % (sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5]))
        worst = 0.0
        for k, ds in want.items():
            a, b = got[k][()], ds[()]
            if a.dtype != np.float32 or a.shape != b.shape:
                raise Fail("'%s' is %s %s, golden %s %s" % (k, a.dtype, a.shape, b.dtype,
                                                             b.shape))
            d = float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
            worst = max(worst, d)
        if worst != 0.0:
            raise Fail("tensor values differ (max abs diff %g)" % worst)
        return len(want), len(oc)


def run_apply(binary, weights, golden_path, res_path, opts):
    import h5py
    import numpy as np
    cmd = [binary, "apply", "--weights", weights, "--input", golden_path, "--output", res_path]
    cmd += opts
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Fail("mrirecon apply exit %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()))
    with h5py.File(res_path, "r") as r, h5py.File(golden_path, "r") as g:
        out = read_complex_aware(r["output"])
        ref = read_complex_aware(g["output"])
    if out.shape != ref.shape:
        raise Fail("apply /output shape %s, golden %s" % (out.shape, ref.shape))
    if np.iscomplexobj(ref) != np.iscomplexobj(out):
        raise Fail("apply /output is %s, golden %s" % (out.dtype, ref.dtype))
    scale = float(np.max(np.abs(ref)))
    err = float(np.max(np.abs(out.astype(np.complex128) - ref)))
    rel = err / scale if scale > 0 else err
    return err, scale, rel


def convert_cmd(source, framework, arch, ckpt, config, out):
    cmd = [sys.executable, os.path.join(source, "weights", "convert.py"), "--framework",
           framework, "--architecture", arch]
    if config:
        cmd += ["--config", config]
    return cmd + [ckpt, "-o", out]


def round_trip(name, source, binary, tmp):
    framework, arch, ckpt, config, model, golden, opts = CASES[name]
    data = os.path.join(source, "tests", "data")
    ckpt = os.path.join(data, "convert", ckpt)
    config = os.path.join(data, "convert", config) if config else None
    golden_path = os.path.join(data, model, golden)
    out = os.path.join(tmp, "weights.h5")
    p = subprocess.run(convert_cmd(source, framework, arch, ckpt, config, out),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Fail("convert.py exit %d: %s" % (p.returncode, p.stderr.strip()))
    ntens, nkeys = compare_file(out, golden_path, framework, arch)
    print("PASS %s conversion: %d tensors identical to %s/%s, %d config keys match"
          % (name, ntens, model, golden, nkeys))
    err, scale, rel = run_apply(binary, out, golden_path, os.path.join(tmp, "result.h5"), opts)
    verdict = "PASS" if rel <= TOL else "FAIL"
    print("%s %s apply: max |out - golden| = %.3g, max |golden| = %.3g, relative %.3g "
          "(tolerance %g)" % (verdict, name, err, scale, rel, TOL))
    if rel > TOL:
        raise Fail("apply output differs from the golden by %.3g of its max magnitude" % rel)


# ---- error paths --------------------------------------------------------------------------------

_convert_module = []


def run_in_process(cmd):
    """Runs `python convert.py ARGS` as convert.main(ARGS) in this process (torch is imported
    once instead of once per call). Returns (exit code, stdout + stderr)."""
    import contextlib
    import importlib.util
    import io
    if not _convert_module:
        spec = importlib.util.spec_from_file_location("convert", cmd[1])
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _convert_module.append(mod)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = _convert_module[0].main(cmd[2:])
        except SystemExit as e:   # argparse: --help, usage errors
            rc = e.code if isinstance(e.code, int) else 1
    return rc, err.getvalue() + out.getvalue()


def expect(cmd, rc, *needles, in_process=False):
    if in_process:
        returncode, msg = run_in_process(cmd)
    else:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        returncode, msg = p.returncode, p.stderr + p.stdout
    if returncode != rc:
        raise Fail("%s: exit %d, expected %d: %s" % (" ".join(cmd[1:]), returncode, rc,
                                                     msg.strip()))
    for n in needles:
        if n not in msg:
            raise Fail("%s: message lacks %r: %s" % (" ".join(cmd[1:]), n, msg.strip()))
    return msg


def errors_case(source, tmp):
    d = os.path.join(source, "tests", "data", "convert")
    conv = os.path.join(source, "weights", "convert.py")
    out = os.path.join(tmp, "w.h5")

    def c(*args):
        return [sys.executable, conv] + list(args)

    def write(name, obj):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(json.dumps(obj))
        return p

    rvn = os.path.join(d, "direct_rvn_case_1.pt")
    checks = [
        (c("--help"), 0, ["--framework"]),
        (c("--framework", "direct", "--architecture", "recurrentvarnet", rvn), 2, ["-o"]),
        (c("--framework", "fastmri", "--architecture", "cirim", rvn, "-o", out), 2,
         ["no --architecture cirim"]),
        (c("--framework", "direct", "--architecture", "recurrentvarnet", rvn, "-o", out), 1,
         ["--config"]),
        (c("--framework", "direct", "--architecture", "recurrentvarnet", "--config",
           write("noffl.json", {"num_steps": 3}), rvn, "-o", out), 1, ["'fft_centered'"]),
        (c("--framework", "direct", "--architecture", "recurrentvarnet", "--config",
           write("steps.json", {"num_steps": 4, "recurrent_hidden_channels": 8,
                                "recurrent_num_layers": 3, "learned_initializer": True,
                                "initializer_initialization": "sense",
                                "initializer_channels": [4, 4, 6, 6],
                                "initializer_multiscale": 3, "fft_centered": False}),
           rvn, "-o", out), 1, ["num_steps"]),
        (c("--framework", "direct", "--architecture", "recurrentvarnet", "--config",
           write("hidden.json", {"num_steps": 3, "recurrent_hidden_channels": 16,
                                 "recurrent_num_layers": 3, "learned_initializer": True,
                                 "initializer_initialization": "sense",
                                 "initializer_channels": [4, 4, 6, 6],
                                 "initializer_multiscale": 3, "fft_centered": False}),
           rvn, "-o", out), 1, ["recurrent_hidden_channels"]),
        (c("--framework", "direct", "--architecture", "recurrentvarnet", "--config",
           write("ops.json", {"model": {"num_steps": 3}, "physics": {
               "forward_operator": "fft2(centered=False)",
               "backward_operator": "ifft2(centered=True)"}}), rvn, "-o", out), 1,
         ["backward_operator"]),
        (c("--framework", "direct", "--architecture", "recurrentvarnet", "--config",
           os.path.join(d, "direct_rvn_case_1.yaml"),
           os.path.join(d, "direct_rvn_engine_1.pt"), "-o", out), 1,
         ["sensitivity_model"]),
        (c("--framework", "atommic", "--architecture", "cirim", "--config",
           write("casc.json", {"num_cascades": 2}),
           os.path.join(d, "atommic_cirim_case_01.ckpt"), "-o", out), 1, ["num_cascades"]),
        (c("--framework", "atommic", "--architecture", "cirim", "--config",
           write("gru.json", {"recurrent_layer": "IndRNN"}),
           os.path.join(d, "atommic_cirim_case_01.ckpt"), "-o", out), 1, ["recurrent_layer"]),
        (c("--framework", "atommic", "--architecture", "e2evn",
           os.path.join(d, "atommic_cirim_case_01.ckpt"), "-o", out), 1, ["model_name"]),
        (c("--framework", "fastmri", "--architecture", "e2evn", "--config",
           write("fm.json", {"chans": 8}), os.path.join(d, "fastmri_e2evn_case_2.ckpt"),
           "-o", out), 1, ["chans"]),
        (c("--framework", "lpn", "--architecture", "lpn", "--config",
           write("lpn.json", {"model": "lpn_128", "params": {"in_dim": 1, "hidden": 4,
                                                             "alpha": 1e-6}}),
           os.path.join(d, "lpn_case_1", "model.pt"), "-o", out), 1, ["'beta'"]),
        (c("--framework", "lpn", "--architecture", "lpn",
           os.path.join(tmp, "nonexistent.pt"), "-o", out), 1, ["cannot open"]),
    ]
    expect(checks[0][0], checks[0][1], *checks[0][2])   # one run of the real command line
    for cmd, rc, needles in checks:
        expect(cmd, rc, *needles, in_process=True)
    if os.path.exists(out):
        raise Fail("a failed conversion left %s behind" % out)
    # --config overrides what the checkpoint carries (and is checked against the tensors)
    expect(c("--framework", "atommic", "--architecture", "cirim", "--config",
             write("over.json", {"fft_normalization": "backward"}),
             os.path.join(d, "atommic_cirim_case_01.ckpt"), "-o", out), 0, "overrides",
           in_process=True)
    import h5py
    with h5py.File(out, "r") as f:
        if json.loads(attr_str(f.attrs["config"]))["fft_normalization"] != "backward":
            raise Fail("--config did not override fft_normalization")
    print("PASS errors: %d error paths give the expected exit code and name the argument; "
          "--config overrides the checkpoint" % len(checks))


# ---- checkpoints that pickle unknown classes -----------------------------------------------------

_STANDIN_WRITER = r'''
import sys, types, collections, torch
def mod(name):
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        n = ".".join(parts[:i])
        if n not in sys.modules:
            sys.modules[n] = types.ModuleType(n)
    return sys.modules[name]
# OmegaConf-like containers and nodes, pickled the way omegaconf does (object state)
m = mod("omegaconf.nodes")
class AnyNode:
    def __init__(self, v): self._val = v; self._parent = None; self._metadata = None
AnyNode.__module__ = "omegaconf.nodes"; m.AnyNode = AnyNode
m2 = mod("omegaconf.dictconfig")
class DictConfig:
    def __init__(self, d):
        self._parent = None; self._metadata = {"ref_type": "Any"}
        self._content = {k: wrap(v) for k, v in d.items()}
DictConfig.__module__ = "omegaconf.dictconfig"; m2.DictConfig = DictConfig
m3 = mod("omegaconf.listconfig")
class ListConfig:
    def __init__(self, l):
        self._parent = None; self._metadata = {"ref_type": "Any"}
        self._content = [wrap(v) for v in l]
ListConfig.__module__ = "omegaconf.listconfig"; m3.ListConfig = ListConfig
def wrap(v):
    if isinstance(v, dict): return DictConfig(v)
    if isinstance(v, list): return ListConfig(v)
    return AnyNode(v)
m4 = mod("pytorch_lightning.utilities.parsing")
class AttributeDict(dict):
    pass
AttributeDict.__module__ = "pytorch_lightning.utilities.parsing"; m4.AttributeDict = AttributeDict
m5 = mod("atommic.collections.common.losses")
class SSIMLoss(torch.nn.Module):
    pass
SSIMLoss.__module__ = "atommic.collections.common.losses"; m5.SSIMLoss = SSIMLoss
ck = torch.load(sys.argv[1], map_location="cpu")
cfg = dict(ck["hyper_parameters"]["cfg"])
cfg["train_ds"] = {"data_path": "/data", "batch_size": 1}
ck["hyper_parameters"] = AttributeDict(cfg=DictConfig(cfg))
sd = collections.OrderedDict(ck["state_dict"])
sd["train_loss_fn.w"] = torch.ones(1, 1, 7, 7) / 49
ck["state_dict"] = sd
ck["callbacks"] = {"loss": SSIMLoss()}
torch.save(ck, sys.argv[2])
'''


def standins_case(source, binary, tmp):
    src = os.path.join(source, "tests", "data", "convert", "atommic_cirim_case_01.ckpt")
    ckpt = os.path.join(tmp, "omegaconf.ckpt")
    p = subprocess.run([sys.executable, "-c", _STANDIN_WRITER, src, ckpt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Fail("could not write the test checkpoint: %s" % p.stderr.strip())
    out = os.path.join(tmp, "weights.h5")
    msg = expect(convert_cmd(source, "atommic", "cirim", ckpt, None, out), 0,
                 "train_loss_fn.w", "train_ds")
    golden = os.path.join(source, "tests", "data", "cirim", "case_01_rim_gru_1casc.h5")
    ntens, nkeys = compare_file(out, golden, "atommic", "cirim")
    del msg
    print("PASS standins: a checkpoint pickling OmegaConf, Lightning and ATOMMIC classes "
          "converts (%d tensors, %d config keys match the golden; loss buffer and train_ds "
          "dropped)" % (ntens, nkeys))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", required=True, choices=sorted(CASES) + ["errors", "standins"])
    ap.add_argument("--bin", help="the mrirecon executable (round-trip cases)")
    ap.add_argument("--source", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), help="source tree (default: this script's)")
    ap.add_argument("--tmp", help="scratch folder (default: a new temporary one)")
    args = ap.parse_args()
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        print("SKIP %s: %s has no torch (install python3-torch)" % (args.case, sys.executable))
        return SKIP
    if args.tmp:
        os.makedirs(args.tmp, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        try:
            if args.case == "errors":
                errors_case(args.source, tmp)
            elif args.case == "standins":
                standins_case(args.source, args.bin, tmp)
            else:
                if not args.bin:
                    raise Fail("--bin is required for a round-trip case")
                round_trip(args.case, args.source, args.bin, tmp)
        except Fail as e:
            print("FAIL %s: %s" % (args.case, e))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
