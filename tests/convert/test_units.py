#!/usr/bin/python3
"""Unit tests of the weights/convert package (run by ctest as convert/units).

  test_units.py [--source DIR]

  * architecture tables: for each architecture and a spread of configurations (cells,
    sharing, initializers, U-Net depths), a state_dict of zero tensors built from expected(cfg)
    infers back the configuration (check_structure passes), matches exactly, and a neighbouring
    configuration (one structural key changed) is rejected naming that key;
  * DIRECT operator strings, key-prefix stripping, OmegaConf stand-ins turned into plain values,
    typed config values;
  * `python3 -m convert` from weights/ is the same command line as weights/convert.py.
Exit 0 pass, 1 fail, 77 skip (no torch).
"""

import argparse
import os
import subprocess
import sys
import unittest

SKIP = 77
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (architecture, framework, cfg, a structural key and a value the tensors contradict)
RVN = {"num_steps": 3, "recurrent_hidden_channels": 8, "recurrent_num_layers": 2,
       "no_parameter_sharing": True, "learned_initializer": True,
       "initializer_initialization": "sense", "initializer_channels": [4, 4, 6],
       "initializer_dilations": [1, 2, 4], "initializer_multiscale": 2, "normalized": False}
CIRIM = {"recurrent_layer": "GRU", "conv_filters": [8, 8, 2], "conv_kernels": [5, 3, 3],
         "conv_bias": [True, True, False], "recurrent_filters": [8, 8, 0],
         "recurrent_kernels": [1, 1, 0], "recurrent_bias": [True, True, False], "depth": 2,
         "num_cascades": 2, "no_dc": False}
CASES = [
    ("e2evn", "fastmri", {"num_cascades": 2, "sens_chans": 4, "sens_pools": 2, "chans": 4,
                          "pools": 3, "mask_center": True}, "pools", 2),
    ("e2evn", "atommic", {"num_cascades": 3, "channels": 4, "pooling_layers": 2},
     "channels", 8),
    ("cirim", "atommic", CIRIM, "recurrent_layer", "MGU"),
    ("cirim", "atommic", dict(CIRIM, recurrent_layer="IndRNN", no_dc=True), "num_cascades", 3),
    ("cirim", "atommic", dict(CIRIM, recurrent_layer="mgu"), "no_dc", True),
    ("recurrentvarnet", "direct", RVN, "recurrent_hidden_channels", 4),
    ("recurrentvarnet", "direct", dict(RVN, normalized=True, no_parameter_sharing=False,
                                       learned_initializer=False), "normalized", False),
    ("recurrentvarnet", "direct", dict(RVN, sensitivity_model_num_filters=4,
                                       sensitivity_model_num_pool_layers=2),
     "sensitivity_model_num_pool_layers", 3),
    ("lpn", "lpn", {"in_dim": 1, "hidden": 4, "beta": 100, "alpha": 1e-6}, "hidden", 8),
]


class ArchitectureTables(unittest.TestCase):
    def convert_tensors(self, arch, framework, cfg):
        import torch
        from convert.arch import architecture
        from convert.tensors import check_structure, match_tensors
        table = architecture(arch, framework)
        full = dict(table.defaults, **cfg)
        sd = {k: torch.zeros(shape) for k, shape in table.expected(full).items()}
        return table, full, sd, check_structure, match_tensors

    def test_round_trip(self):
        from convert.errors import ConvertError
        for arch, framework, cfg, key, other in CASES:
            with self.subTest(arch=arch, framework=framework, key=key):
                table, full, sd, check_structure, match_tensors = self.convert_tensors(
                    arch, framework, cfg)
                inferred = table.infer(sd)
                check_structure(full, inferred, set(cfg))
                if table.check:
                    table.check(full, inferred)
                tensors, dropped = match_tensors(sd, table.expected(full), table.shape_keys)
                self.assertEqual(list(tensors), list(table.expected(full)))
                self.assertEqual(dropped, [])
                self.assertTrue(all(a.dtype.name == "float32" for a in tensors.values()))
                # the tensors of cfg contradict a neighbouring configuration
                wrong = dict(full, **{key: other})
                with self.assertRaises(ConvertError) as cm:
                    check_structure(wrong, inferred, set(cfg))
                self.assertIn("config '%s' = " % key, str(cm.exception))
                self.assertIn("contradicts the checkpoint", str(cm.exception))

    def test_extra_and_droppable_tensors(self):
        import torch
        from convert.errors import ConvertError
        table, full, sd, _, match_tensors = self.convert_tensors(*CASES[-1][:3])
        sd["loss.w"] = torch.ones(1, 1, 7, 7)
        _, dropped = match_tensors(sd, table.expected(full), table.shape_keys)
        self.assertEqual(dropped, ["loss.w"])
        sd["lin.8.weight"] = torch.ones(1)
        with self.assertRaisesRegex(ConvertError, "does not account for: 'lin.8.weight'"):
            match_tensors(sd, table.expected(full), table.shape_keys)
        sd["lin.0.weight"] = torch.zeros(4, 1, 3, 3, dtype=torch.int32)
        with self.assertRaisesRegex(ConvertError, "'lin.0.weight' is torch.int32"):
            match_tensors(sd, table.expected(full), table.shape_keys)


class Pieces(unittest.TestCase):
    def test_direct_operator(self):
        from convert.errors import ConvertError
        from convert.frameworks.direct import parse_operator
        self.assertTrue(parse_operator("fft2", "k", "fft2"))
        self.assertFalse(parse_operator("fft2(centered=False)", "k", "fft2"))
        self.assertFalse(parse_operator("direct.data.transforms.ifft2(centered=false, "
                                        "normalized=True)", "k", "ifft2"))
        for bad in ("ifft2", "fft2(normalized=False)", "fft2(centered=maybe)", "fft2(dim=1)",
                    "fftn"):
            with self.assertRaisesRegex(ConvertError, "^k = "):
                parse_operator(bad, "k", "fft2")

    def test_strip_prefix(self):
        from convert.tensors import strip_prefix
        sd = {"varnet.a.w": 1, "varnet.b.w": 2, "loss.w": 3}
        inside, prefix, outside = strip_prefix(sd, {"a.w", "b.w"})
        self.assertEqual((dict(inside), prefix, outside), ({"a.w": 1, "b.w": 2}, "varnet.",
                                                           ["loss.w"]))
        inside, prefix, outside = strip_prefix({"a.w": 1}, {"a.w"})
        self.assertEqual((dict(inside), prefix, outside), ({"a.w": 1}, "", []))

    def test_plain_standins(self):
        from convert.errors import ConvertError
        from convert.standins import stub_class, plain

        def node(module, name, state):
            obj = stub_class(module, name)()
            obj.__setstate__(state)
            return obj
        value = node("omegaconf.nodes", "AnyNode", {"_val": 3})
        lst = node("omegaconf.listconfig", "ListConfig", {"_content": [value, 4]})
        cfg = node("omegaconf.dictconfig", "DictConfig",
                   ({"_content": {"a": lst, "b": None}}, {"_parent": None}))
        self.assertEqual(plain({"cfg": cfg}), {"cfg": {"a": [3, 4], "b": None}})
        self.assertIsNone(plain(node("omegaconf.nodes", "AnyNode", {"_content": "???"})))
        with self.assertRaisesRegex(ConvertError, "unresolved interpolation"):
            plain(node("omegaconf.nodes", "AnyNode", {"_content": "${model.x}"}))

    def test_typed_values(self):
        from convert.configs import get_bool, get_bool_list, get_int, get_int_list
        from convert.errors import ConvertError
        self.assertEqual(get_int({"k": 4.0}, "k"), 4)
        self.assertIs(get_bool({"k": 1}, "k"), True)
        self.assertEqual(get_bool_list({"k": [0, True]}, "k"), [False, True])
        self.assertEqual(get_int_list({"k": (1, 2)}, "k"), [1, 2])
        for f, v in ((get_int, True), (get_int, 2.5), (get_bool, "yes"), (get_int_list, [1.0]),
                     (get_bool_list, [2])):
            with self.assertRaisesRegex(ConvertError, "config 'k' must be"):
                f({"k": v}, "k")


class CommandLine(unittest.TestCase):
    def test_module_and_script_agree(self):
        weights = os.path.join(SOURCE, "weights")
        runs = [subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
                for cmd, cwd in (([sys.executable, "-m", "convert", "--help"], weights),
                                 ([sys.executable, os.path.join(weights, "convert.py"),
                                   "--help"], SOURCE))]
        self.assertEqual([p.returncode for p in runs], [0, 0])
        self.assertEqual(runs[0].stdout, runs[1].stdout)
        self.assertIn("--framework", runs[0].stdout)


def main():
    global SOURCE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=SOURCE, help="source tree (default: this script's)")
    args = ap.parse_args()
    SOURCE = args.source
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        print("SKIP units: %s has no torch (install python3-torch)" % sys.executable)
        return SKIP
    sys.path.insert(0, os.path.join(SOURCE, "weights"))
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
