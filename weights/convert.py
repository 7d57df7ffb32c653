#!/usr/bin/python3
"""Convert a training checkpoint (DIRECT, ATOMMIC, fastMRI, LPN) into an mrirecon weight file.

usage: /usr/bin/python3 weights/convert.py --framework direct|atommic|fastmri|lpn
           --architecture recurrentvarnet|cirim|e2evn|lpn [--config CONFIG] CHECKPOINT -o OUT.h5

The weight file (weights/README.md) holds the root attributes `architecture` and `config` (JSON of
the reference constructor's arguments, under the framework's own names, plus the keys the engine
needs that the framework passes outside the constructor, e.g. the FFT convention) and one float32
dataset `/weights/<state_dict key>` per tensor, in the reference shape.

What is read (see weights/README.md, "Converting checkpoints"):
  direct   DIRECT's checkpointer dict ({"model": state_dict, "sensitivity_model": state_dict,
           "optimizer": ...}) or a plain state_dict; config: the project YAML (model:,
           additional_models.sensitivity_model, physics.forward_operator/backward_operator) or a
           plain JSON of constructor arguments (+ "fft_centered").
  atommic  Lightning .ckpt ({"state_dict", "hyper_parameters": {"cfg": ...}}), the .atommic
           tar archive (model_config.yaml + model_weights.ckpt) or a plain state_dict; config:
           the checkpoint's cfg, overridden by an ATOMMIC YAML (its model: section) or JSON.
  fastmri  Lightning .ckpt of VarNetModule (keys "varnet.*", SSIM window "loss.w") or the
           released plain state_dict (*_state_dict.pt); config: hyper_parameters, a JSON of
           VarNet arguments, or the VarNet defaults.
  lpn      the LPN repo's dict ({"model_state_dict", "optimizer_state_dict", ...}) or a plain
           state_dict; config: model_config.json ({"model": "lpn_128", "params": {...}}, found
           next to the checkpoint like lpn.utils.load_model does) or a plain JSON.

Every tensor the configured architecture needs must be present with its exact name and shape;
tensors outside the model (optimizer, loss buffers, other modules) are dropped and reported; a
model tensor the configuration does not account for is an error.

Needs only Debian's python3-torch, python3-numpy, python3-h5py and python3-yaml. Checkpoints that
pickle classes of packages that are not installed (Lightning, ATOMMIC, DIRECT, OmegaConf) load
through stand-ins; OmegaConf containers become plain dicts and lists.

Exit codes: 0 success, 1 conversion failure (message on stderr), 2 usage error.
"""

import _compat_pickle
import argparse
import collections
import copyreg
import importlib
import io
import json
import math
import os
import pickle
import re
import sys
import tarfile
import tempfile
import types

ARCHITECTURES = ("recurrentvarnet", "cirim", "e2evn", "lpn")
FRAMEWORKS = {
    "direct": ("recurrentvarnet",),
    "atommic": ("e2evn", "cirim"),
    "fastmri": ("e2evn",),
    "lpn": ("lpn",),
}


class ConvertError(Exception):
    """A checkpoint or configuration problem; the message is shown to the user."""


_QUIET = [False]


def note(msg):
    """Informational messages on stderr (only warnings with --quiet)."""
    if not _QUIET[0] or msg.startswith("warning"):
        print("convert.py: " + msg, file=sys.stderr)


# ------------------------------------------------------------------------------------------------
# Loading checkpoints: torch.load with stand-ins for classes of packages that are not installed.
# ------------------------------------------------------------------------------------------------

# Globals resolved for real; everything else becomes a stand-in class (no code runs).
_REAL_MODULES = ("torch", "collections", "numpy", "_codecs", "copyreg", "datetime", "decimal",
                 "pathlib", "fractions")
_REAL_BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "int", "float", "complex", "str",
                  "bytes", "bytearray", "bool", "slice", "range", "object"}


class Stub(dict):
    """Stand-in for a pickled object of an unknown class: keeps the constructor arguments
    (`_args`), the pickled state (`_state`), dict items (it is a dict) and list items (`_items`)."""

    _stub_module = "?"
    _stub_name = "?"
    # class-level defaults: copyreg._reconstructor (protocols 0/1) bypasses __new__
    _args = ()
    _kwargs = {}
    _state = None
    _items = ()

    def __new__(cls, *args, **kwargs):
        obj = dict.__new__(cls)
        obj._args = args
        obj._kwargs = kwargs
        return obj

    def __init__(self, *args, **kwargs):  # pylint: disable=super-init-not-called
        pass

    def __setstate__(self, state):
        self._state = state

    def append(self, x):
        self.extend([x])

    def extend(self, xs):
        self._items = list(self._items) + list(xs)

    def __reduce__(self):
        raise TypeError("stand-in objects cannot be pickled")

    def __repr__(self):
        return "<stand-in %s.%s>" % (self._stub_module, self._stub_name)


_stub_classes = {}


def _stub_class(module, name):
    key = (module, name)
    if key not in _stub_classes:
        _stub_classes[key] = type(str(name), (Stub,), {"_stub_module": module, "_stub_name": name})
    return _stub_classes[key]


def _reconstructor(cls, base, state):
    """copyreg._reconstructor (pickle protocols 0/1) that also builds stand-ins."""
    if isinstance(cls, type) and issubclass(cls, Stub):
        obj = cls()
        if isinstance(state, dict):
            obj.update(state)
        elif isinstance(state, (list, tuple)):
            obj.extend(state)
        return obj
    return copyreg._reconstructor(cls, base, state)  # pylint: disable=protected-access


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        # Python 2 names (protocol < 3), as pickle's own find_class maps them
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if (module, name) == ("copyreg", "_reconstructor"):
            return _reconstructor
        top = module.split(".")[0]
        if top in _REAL_MODULES or (module == "builtins" and name in _REAL_BUILTINS):
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                pass
        return _stub_class(module, name)


_pickle_module = types.SimpleNamespace(**{k: getattr(pickle, k) for k in dir(pickle)
                                          if not k.startswith("__")})
_pickle_module.Unpickler = _Unpickler
_pickle_module.__name__ = "convert_pickle"


def torch_load(src):
    """torch.load on the CPU through _Unpickler. Debian's torch 1.13 ignores `pickle_module`
    unless weights_only is set (it resets it to its module-level `pickle`), so that name is
    swapped for the duration of the call as well."""
    import torch  # pylint: disable=import-outside-toplevel
    import torch.serialization as ser  # pylint: disable=import-outside-toplevel
    kwargs = {"map_location": "cpu", "pickle_module": _pickle_module}
    saved = getattr(ser, "pickle", None)
    if saved is pickle:
        ser.pickle = _pickle_module
    try:
        try:
            return torch.load(src, weights_only=False, **kwargs)
        except TypeError as e:
            if "weights_only" not in str(e):
                raise
            return torch.load(src, **kwargs)
    finally:
        if saved is pickle:
            ser.pickle = saved


def plain(obj, depth=0):
    """Recursively turn stand-ins (OmegaConf DictConfig/ListConfig/nodes, Lightning
    AttributeDict, ...) into plain dicts, lists and values. Tensors are kept."""
    if depth > 100:
        raise ConvertError("configuration nested too deeply")
    if isinstance(obj, Stub):
        st = obj._state
        if isinstance(st, tuple) and len(st) == 2 and isinstance(st[0], (dict, type(None))):
            st = dict(st[0] or {}, **(st[1] or {}))   # (state, slotstate)
        if isinstance(st, dict) and "_content" in st:   # OmegaConf container
            content = st["_content"]
            if isinstance(content, str) and content.startswith("${"):
                raise ConvertError("configuration holds an unresolved interpolation %s" % content)
            if content is None or content == "???":
                return None
            return plain(content, depth + 1)
        if isinstance(st, dict) and "_val" in st:       # OmegaConf value node
            return plain(st["_val"], depth + 1)
        if len(obj) > 0:                                 # dict subclass (AttributeDict, ...)
            return {plain(k, depth + 1): plain(v, depth + 1) for k, v in obj.items()}
        if obj._items:
            return [plain(v, depth + 1) for v in obj._items]
        if obj._stub_name.endswith("Enum") or (obj._args and len(obj._args) == 1):
            return plain(obj._args[0], depth + 1) if obj._args else None
        if isinstance(st, dict):
            return {k: plain(v, depth + 1) for k, v in st.items()}
        return obj
    if isinstance(obj, dict):
        return {plain(k, depth + 1): plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, depth + 1) for v in obj]
    return obj


def _is_tensor(x):
    import torch  # pylint: disable=import-outside-toplevel
    return isinstance(x, torch.Tensor)


def is_state_dict(x):
    return isinstance(x, dict) and len(x) > 0 and all(
        isinstance(k, str) and _is_tensor(v) for k, v in x.items())


def module_state_dict(obj, prefix=""):
    """The state_dict of a whole pickled nn.Module (a stand-in or a real torch module)."""
    import torch  # pylint: disable=import-outside-toplevel
    if isinstance(obj, torch.nn.Module):
        return collections.OrderedDict((prefix + k, v) for k, v in obj.state_dict().items())
    st = obj._state if isinstance(obj, Stub) else None
    if not isinstance(st, dict) or "_modules" not in st:
        return None
    out = collections.OrderedDict()
    for group in ("_parameters", "_buffers"):
        for k, v in (st.get(group) or {}).items():
            if v is not None and (group != "_buffers"
                                  or k not in st.get("_non_persistent_buffers_set", set())):
                out[prefix + k] = v.detach() if hasattr(v, "detach") else v
    for name, child in (st.get("_modules") or {}).items():
        if child is not None:
            sub = module_state_dict(child, prefix + name + ".")
            if sub:
                out.update(sub)
    return out


def load_checkpoint(path):
    """Returns (obj, extra): the unpickled checkpoint and, for an .atommic archive, its
    model_config.yaml as a dict (else None)."""
    if not os.path.isfile(path):
        raise ConvertError("cannot open checkpoint '%s'" % path)
    if tarfile.is_tarfile(path):
        return _load_atommic_archive(path)
    try:
        return torch_load(path), None
    except ConvertError:
        raise
    except Exception as e:  # pylint: disable=broad-except
        raise ConvertError("cannot read checkpoint '%s' with torch.load: %s" % (path, e)) from e


def _load_atommic_archive(path):
    import yaml  # pylint: disable=import-outside-toplevel
    try:
        with tarfile.open(path) as tar:
            members = {os.path.basename(m.name): m for m in tar.getmembers() if m.isfile()}
            if "model_weights.ckpt" not in members:
                raise ConvertError("'%s' is a tar archive without model_weights.ckpt (not an "
                                   ".atommic file)" % path)
            weights = io.BytesIO(tar.extractfile(members["model_weights.ckpt"]).read())
            cfg = None
            if "model_config.yaml" in members:
                cfg = yaml.safe_load(tar.extractfile(members["model_config.yaml"]).read())
    except (tarfile.TarError, OSError, yaml.YAMLError) as e:
        raise ConvertError("cannot read archive '%s': %s" % (path, e)) from e
    try:
        obj = torch_load(weights)
    except Exception as e:  # pylint: disable=broad-except
        raise ConvertError("cannot read model_weights.ckpt in '%s': %s" % (path, e)) from e
    return obj, cfg


# ------------------------------------------------------------------------------------------------
# Configuration files
# ------------------------------------------------------------------------------------------------

def read_config_file(path):
    import yaml  # pylint: disable=import-outside-toplevel
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConvertError("cannot read config '%s': %s" % (path, e)) from e
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConvertError("config '%s' is neither JSON nor YAML: %s" % (path, e)) from e
    if not isinstance(data, dict):
        raise ConvertError("config '%s' must hold a mapping at the top level" % path)
    return data


def _strip_prefix_model_name(name):
    return str(name).split(".")[-1].lower() if name is not None else ""


_OP_RE = re.compile(r"^\s*(?:[\w.]*\.)?(i?fft2)\s*(?:\((.*)\))?\s*$")


def parse_direct_operator(text, key, want):
    """'fft2(centered=False)' -> False; 'fft2' -> True (DIRECT's default). Returns centered."""
    m = _OP_RE.match(str(text))
    if m is None or m.group(1) != want:
        raise ConvertError("%s = %r is not supported (only %s or %s(centered=True|False))"
                           % (key, text, want, want))
    centered = True
    for arg in filter(None, (a.strip() for a in (m.group(2) or "").split(","))):
        name, _, value = (s.strip() for s in arg.partition("="))
        if value not in ("True", "False", "true", "false"):
            raise ConvertError("%s = %r: cannot read argument '%s'" % (key, text, arg))
        flag = value in ("True", "true")
        if name == "centered":
            centered = flag
        elif name == "normalized":
            if not flag:
                raise ConvertError("%s = %r: only the orthonormal transform (normalized=True) "
                                   "is supported" % (key, text))
        else:
            raise ConvertError("%s = %r: unknown argument '%s'" % (key, text, name))
    return centered


def _find_key(obj, key, depth=0):
    """First value of `key` anywhere inside a nested mapping/list (depth-first)."""
    if depth > 20:
        return None
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = _find_key(v, key, depth + 1)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = _find_key(v, key, depth + 1)
            if r is not None:
                return r
    return None


# ------------------------------------------------------------------------------------------------
# Architectures: configuration keys, expected tensors, structure inferred from the tensors
# ------------------------------------------------------------------------------------------------

def unet_keys(prefix, in_ch, out_ch, c, p):
    """fastMRI Unet / DIRECT UnetModel2d layout (e2evn.md §9.1, recurrentvarnet.md §4)."""
    ch = [c * 2 ** k for k in range(p + 1)]
    e = collections.OrderedDict()
    e[prefix + "down_sample_layers.0.layers.0.weight"] = (c, in_ch, 3, 3)
    e[prefix + "down_sample_layers.0.layers.4.weight"] = (c, c, 3, 3)
    for k in range(1, p):
        e[prefix + "down_sample_layers.%d.layers.0.weight" % k] = (ch[k], ch[k - 1], 3, 3)
        e[prefix + "down_sample_layers.%d.layers.4.weight" % k] = (ch[k], ch[k], 3, 3)
    e[prefix + "conv.layers.0.weight"] = (ch[p], ch[p - 1], 3, 3)
    e[prefix + "conv.layers.4.weight"] = (ch[p], ch[p], 3, 3)
    for j in range(p - 1):
        e[prefix + "up_conv.%d.layers.0.weight" % j] = (ch[p - j - 1], ch[p - j], 3, 3)
        e[prefix + "up_conv.%d.layers.4.weight" % j] = (ch[p - j - 1], ch[p - j - 1], 3, 3)
    e[prefix + "up_conv.%d.0.layers.0.weight" % (p - 1)] = (c, 2 * c, 3, 3)
    e[prefix + "up_conv.%d.0.layers.4.weight" % (p - 1)] = (c, c, 3, 3)
    e[prefix + "up_conv.%d.1.weight" % (p - 1)] = (out_ch, c, 1, 1)
    e[prefix + "up_conv.%d.1.bias" % (p - 1)] = (out_ch,)
    for j in range(p):
        e[prefix + "up_transpose_conv.%d.layers.0.weight" % j] = (ch[p - j], ch[p - j - 1], 2, 2)
    return e


def infer_unet(sd, prefix):
    """(chans, pools) of a U-Net in sd under prefix, or None."""
    w = sd.get(prefix + "down_sample_layers.0.layers.0.weight")
    if w is None or w.dim() != 4:
        return None
    pools = 0
    while prefix + "down_sample_layers.%d.layers.0.weight" % pools in sd:
        pools += 1
    return int(w.shape[0]), pools


def _count(sd, pattern):
    rx = re.compile(pattern)
    idx = {int(m.group(1)) for m in (rx.match(k) for k in sd) if m}
    return max(idx) + 1 if idx else 0


def _int(cfg, key):
    v = cfg.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise ConvertError("config '%s' must be an integer, got %r" % (key, v))
    return v


def _bool(cfg, key):
    v = cfg.get(key)
    if not isinstance(v, bool):
        if v in (0, 1):
            return bool(v)
        raise ConvertError("config '%s' must be true or false, got %r" % (key, v))
    return v


def _int_list(cfg, key):
    v = cfg.get(key)
    if not isinstance(v, (list, tuple)) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise ConvertError("config '%s' must be a list of integers, got %r" % (key, v))
    return list(v)


def _bool_list(cfg, key):
    v = cfg.get(key)
    if not isinstance(v, (list, tuple)) or not all(x in (True, False, 0, 1) for x in v):
        raise ConvertError("config '%s' must be a list of booleans, got %r" % (key, v))
    return [bool(x) for x in v]


# ---- E2EVN -------------------------------------------------------------------------------------

FASTMRI_VARNET_DEFAULTS = collections.OrderedDict([
    ("num_cascades", 12), ("sens_chans", 8), ("sens_pools", 4), ("chans", 18), ("pools", 4),
    ("mask_center", True)])

ATOMMIC_VN_KEYS = ("model_name", "num_cascades", "channels", "pooling_layers", "padding_size",
                   "normalize", "no_dc", "dimensionality", "coil_combination_method",
                   "fft_centered", "fft_normalization", "spatial_dims", "coil_dim",
                   "estimate_coil_sensitivity_maps_with_nn", "complex_valued_type",
                   "consecutive_slices")
ATOMMIC_VN_DEFAULTS = {"num_cascades": 8, "channels": 18, "pooling_layers": 4}

CIRIM_KEYS = ("recurrent_layer", "conv_filters", "conv_kernels", "conv_dilations", "conv_bias",
              "recurrent_filters", "recurrent_kernels", "recurrent_dilations", "recurrent_bias",
              "depth", "time_steps", "conv_dim", "num_cascades", "no_dc", "keep_prediction",
              "accumulate_predictions", "dimensionality", "coil_combination_method",
              "fft_centered", "fft_normalization", "spatial_dims", "coil_dim",
              "consecutive_slices", "estimate_coil_sensitivity_maps_with_nn")
CIRIM_DEFAULTS = {
    "recurrent_layer": "IndRNN", "conv_filters": [64, 64, 2], "conv_kernels": [5, 3, 3],
    "conv_dilations": [1, 2, 1], "conv_bias": [True, True, False],
    "recurrent_filters": [64, 64, 0], "recurrent_kernels": [1, 1, 0],
    "recurrent_dilations": [1, 1, 0], "recurrent_bias": [True, True, False], "depth": 2,
    "num_cascades": 5, "no_dc": True}

# ATOMMIC leaves these to the dataset; they fix the FFT and cannot be read from the weights.
ATOMMIC_REQUIRED = ("fft_centered", "fft_normalization")


def e2evn_fastmri_expected(cfg):
    e = unet_keys("sens_net.norm_unet.unet.", 2, 2, _int(cfg, "sens_chans"),
                  _int(cfg, "sens_pools"))
    for i in range(_int(cfg, "num_cascades")):
        e["cascades.%d.dc_weight" % i] = (1,)
        e.update(unet_keys("cascades.%d.model.unet." % i, 2, 2, _int(cfg, "chans"),
                           _int(cfg, "pools")))
    return e


def e2evn_fastmri_infer(sd):
    r = {"num_cascades": _count(sd, r"^cascades\.(\d+)\.")}
    u = infer_unet(sd, "cascades.0.model.unet.")
    if u:
        r["chans"], r["pools"] = u
    u = infer_unet(sd, "sens_net.norm_unet.unet.")
    if u:
        r["sens_chans"], r["sens_pools"] = u
    return r


def e2evn_atommic_expected(cfg):
    if cfg.get("estimate_coil_sensitivity_maps_with_nn"):
        raise ConvertError("config 'estimate_coil_sensitivity_maps_with_nn' is true: the "
                           "coil-sensitivity network is not supported by the engine")
    e = collections.OrderedDict()
    for i in range(_int(cfg, "num_cascades")):
        e["cascades.%d.dc_weight" % i] = (1,)
        e.update(unet_keys("cascades.%d.model.unet." % i, 2, 2, _int(cfg, "channels"),
                           _int(cfg, "pooling_layers")))
    return e


def e2evn_atommic_infer(sd):
    r = {"num_cascades": _count(sd, r"^cascades\.(\d+)\.")}
    u = infer_unet(sd, "cascades.0.model.unet.")
    if u:
        r["channels"], r["pooling_layers"] = u
    return r


# ---- CIRIM -------------------------------------------------------------------------------------

def cirim_expected(cfg):
    if cfg.get("estimate_coil_sensitivity_maps_with_nn"):
        raise ConvertError("config 'estimate_coil_sensitivity_maps_with_nn' is true: the "
                           "coil-sensitivity network is not supported by the engine")
    cell = str(cfg["recurrent_layer"]).lower()
    if cell not in ("indrnn", "gru", "mgu"):
        raise ConvertError("config 'recurrent_layer' = %r is not IndRNN, GRU or MGU"
                           % cfg["recurrent_layer"])
    cf = _int_list(cfg, "conv_filters")
    ck = _int_list(cfg, "conv_kernels")
    cb = _bool_list(cfg, "conv_bias")
    rf = _int_list(cfg, "recurrent_filters")
    rk = _int_list(cfg, "recurrent_kernels")
    rb = _bool_list(cfg, "recurrent_bias")
    for key, v in (("conv_filters", cf), ("conv_kernels", ck), ("conv_bias", cb)):
        if len(v) < 3:
            raise ConvertError("config '%s' needs 3 entries, got %r" % (key, v))
    for key, v in (("recurrent_filters", rf), ("recurrent_kernels", rk),
                   ("recurrent_bias", rb)):
        if len(v) < 2:
            raise ConvertError("config '%s' needs at least 2 entries, got %r" % (key, v))
    if _int(cfg, "depth") != 2:
        raise ConvertError("config 'depth' = %r is not supported (only 2)" % cfg["depth"])
    mult = {"indrnn": 1, "gru": 3, "mgu": 2}[cell]
    e = collections.OrderedDict()
    for i in range(_int(cfg, "num_cascades")):
        p = "reconstruction_module.%d." % i
        if not _bool(cfg, "no_dc"):
            e[p + "dc_weight"] = (1,)
        cin = 4
        for l in range(2):
            q = p + "layers.%d." % l
            e[q + "convs.conv_layer.weight"] = (cf[l], cin, ck[l], ck[l])
            if cb[l]:
                e[q + "convs.conv_layer.bias"] = (cf[l],)
            if cell == "indrnn":
                e[q + "rnn.hh"] = (1, rf[l], 1, 1)
            e[q + "rnn.ih.weight"] = (mult * rf[l], cf[l], rk[l], rk[l])
            if rb[l]:
                e[q + "rnn.ih.bias"] = (mult * rf[l],)
            if cell != "indrnn":
                e[q + "rnn.hh.weight"] = (mult * rf[l], rf[l], rk[l], rk[l])
            cin = rf[l]
        e[p + "final_layer.0.conv_layer.weight"] = (cf[2], rf[1], ck[2], ck[2])
        if cb[2]:
            e[p + "final_layer.0.conv_layer.bias"] = (cf[2],)
    return e


def cirim_infer(sd):
    r = {"num_cascades": _count(sd, r"^reconstruction_module\.(\d+)\.")}
    p = "reconstruction_module.0."
    if r["num_cascades"]:
        r["no_dc"] = p + "dc_weight" not in sd
        if p + "layers.0.rnn.hh" in sd:
            r["recurrent_layer"] = "indrnn"
        elif p + "layers.0.rnn.hh.weight" in sd and p + "layers.0.rnn.ih.weight" in sd:
            ratio = sd[p + "layers.0.rnn.ih.weight"].shape[0] // max(
                1, sd[p + "layers.0.rnn.hh.weight"].shape[1])
            r["recurrent_layer"] = {3: "gru", 2: "mgu"}.get(ratio)
    return r


# ---- RecurrentVarNet ---------------------------------------------------------------------------

RVN_KEYS = ("num_steps", "recurrent_hidden_channels", "recurrent_num_layers",
            "no_parameter_sharing", "learned_initializer", "initializer_initialization",
            "initializer_channels", "initializer_dilations", "initializer_multiscale",
            "normalized")
# RecurrentVarNet.__init__ defaults (a plain JSON of constructor arguments)
RVN_CLASS_DEFAULTS = {
    "num_steps": 15, "recurrent_hidden_channels": 64, "recurrent_num_layers": 4,
    "no_parameter_sharing": True, "learned_initializer": False,
    "initializer_initialization": None, "initializer_channels": [32, 32, 64, 64],
    "initializer_dilations": [1, 1, 2, 4], "initializer_multiscale": 1, "normalized": False}
# direct.nn.recurrentvarnet.config.RecurrentVarNetConfig defaults (a DIRECT project YAML)
RVN_YAML_DEFAULTS = dict(RVN_CLASS_DEFAULTS, learned_initializer=True,
                         initializer_initialization="sense")
# direct.nn.unet.config.UnetModel2dConfig defaults
UNET2D_YAML_DEFAULTS = {"in_channels": 2, "out_channels": 2, "num_filters": 16,
                        "num_pool_layers": 4, "dropout_probability": 0.0}
SENS_PREFIX = "sensitivity_model."
# engine keys the C side reads besides the constructor's (networks/direct_net.c)
RVN_ENGINE_KEYS = ("fft_centered", "sensitivity_maps_gaussian", "scale_percentile",
                   "padding_from_mask", "sensitivity_model_num_filters",
                   "sensitivity_model_num_pool_layers")


def rvn_expected(cfg):
    T = _int(cfg, "num_steps")
    hc = _int(cfg, "recurrent_hidden_channels")
    L = _int(cfg, "recurrent_num_layers")
    if L < 1 or hc < 1 or T < 1:
        raise ConvertError("config num_steps, recurrent_hidden_channels and "
                           "recurrent_num_layers must be >= 1")
    e = collections.OrderedDict()
    mode = cfg.get("initializer_initialization")
    if _bool(cfg, "learned_initializer") and mode is not None:
        if mode not in ("sense", "zero_filled", "input_image"):
            raise ConvertError("config 'initializer_initialization' = %r is not sense, "
                               "zero_filled or input_image" % mode)
        chans = _int_list(cfg, "initializer_channels")
        dils = _int_list(cfg, "initializer_dilations")
        k = min(len(chans), len(dils))
        m = _int(cfg, "initializer_multiscale")
        if k < 1 or not 1 <= m <= k:
            raise ConvertError("config 'initializer_multiscale' = %d does not fit %d "
                               "initializer layers" % (m, k))
        cin = 2
        for i in range(k):
            e["initializer.conv_blocks.%d.1.weight" % i] = (chans[i], cin, 3, 3)
            e["initializer.conv_blocks.%d.1.bias" % i] = (chans[i],)
            cin = chans[i]
        width = sum(chans[k - m:k])
        for j in range(L):
            e["initializer.out_blocks.%d.0.weight" % j] = (hc, width, 1, 1)
            e["initializer.out_blocks.%d.0.bias" % j] = (hc,)
    nblocks = T if _bool(cfg, "no_parameter_sharing") else 1
    for b in range(nblocks):
        e["block_list.%d.learning_rate" % b] = (1,)
        g = "block_list.%d.regularizer.%s" % (b, "convgru." if _bool(cfg, "normalized") else "")
        for gate in ("reset_gates", "update_gates", "out_gates"):
            for l in range(L):
                e[g + "%s.%d.0.weight" % (gate, l)] = (hc, 2 * hc, 1, 1)
                e[g + "%s.%d.0.bias" % (gate, l)] = (hc,)
        for l in range(L + 1):
            cin = 2 if l == 0 else hc
            cout = 2 if l == L else hc
            ks = 5 if l == 0 else 3
            e[g + "conv_blocks.%d.1.weight" % l] = (cout, cin, ks, ks)
            e[g + "conv_blocks.%d.1.bias" % l] = (cout,)
    if "sensitivity_model_num_filters" in cfg:
        e.update(unet_keys(SENS_PREFIX, 2, 2, _int(cfg, "sensitivity_model_num_filters"),
                           _int(cfg, "sensitivity_model_num_pool_layers")))
    return e


def rvn_infer(sd):
    r = {}
    blocks = _count(sd, r"^block_list\.(\d+)\.")
    if blocks > 1:
        r["num_steps"] = blocks
        r["no_parameter_sharing"] = True
    r["_blocks"] = blocks
    r["_rsi"] = any(k.startswith("initializer.") for k in sd)
    r["normalized"] = any(".regularizer.convgru." in k for k in sd)
    g = "block_list.0.regularizer.%s" % ("convgru." if r["normalized"] else "")
    w = sd.get(g + "conv_blocks.0.1.weight")
    if w is not None and w.dim() == 4:
        r["recurrent_hidden_channels"] = int(w.shape[0])
        r["recurrent_num_layers"] = _count(sd, "^" + re.escape(g) + r"reset_gates\.(\d+)\.")
    u = infer_unet(sd, SENS_PREFIX)
    if u:
        r["sensitivity_model_num_filters"], r["sensitivity_model_num_pool_layers"] = u
    return r


# ---- LPN ---------------------------------------------------------------------------------------

LPN_KEYS = ("in_dim", "hidden", "beta", "alpha")
LPN_ENGINE_KEYS = ("pnp_solver", "pnp_iterations", "pnp_step", "pnp_tol", "patch_stride",
                   "cover_border", "patch_window", "admm_rho", "admm_scale", "cg_iterations",
                   "cg_tol", "normalize")


def lpn_expected(cfg):
    c = _int(cfg, "in_dim")
    k = _int(cfg, "hidden")
    for key in ("beta", "alpha"):
        v = cfg.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConvertError("config '%s' must be a number, got %r" % (key, v))
    e = collections.OrderedDict()
    e["lin.0.weight"] = (k, c, 3, 3)
    e["lin.0.bias"] = (k,)
    for i in range(1, 6):
        e["lin.%d.weight" % i] = (k, k, 3, 3)
    e["lin.6.weight"] = (64, k, 16, 16)
    e["lin.7.weight"] = (1, 64)
    e["lin.7.bias"] = (1,)
    for i in range(5):
        e["res.%d.weight" % i] = (k, c, 3, 3)
        e["res.%d.bias" % i] = (k,)
    e["res.5.weight"] = (64, c, 16, 16)
    e["res.5.bias"] = (64,)
    return e


def lpn_infer(sd):
    w = sd.get("lin.0.weight")
    if w is None or w.dim() != 4:
        return {}
    return {"hidden": int(w.shape[0]), "in_dim": int(w.shape[1])}


# ------------------------------------------------------------------------------------------------
# Per framework: tensors and configuration out of the checkpoint
# ------------------------------------------------------------------------------------------------

def _ckpt_dict(obj, path):
    if isinstance(obj, Stub) and module_state_dict(obj) is not None:
        return {"model": module_state_dict(obj)}
    if not isinstance(obj, dict):
        raise ConvertError("checkpoint '%s' holds a %s, not a dict or state_dict"
                           % (path, type(obj).__name__))
    return obj


def _as_state_dict(x, what):
    if is_state_dict(x):
        return collections.OrderedDict(x)
    msd = module_state_dict(x) if x is not None else None
    if msd:
        return msd
    raise ConvertError("%s is not a state_dict (a mapping of names to tensors)" % what)


def _top_level_report(ck, used):
    return sorted(str(k) for k in ck if k not in used)


def extract_direct(obj, path):
    """{"": model state_dict, "sensitivity_model": ...}, None (no config), dropped entries."""
    ck = _ckpt_dict(obj, path)
    groups = collections.OrderedDict()
    if "model" in ck:
        groups[""] = _as_state_dict(ck["model"], "the checkpoint's 'model' entry")
        used = {"model"}
        for k, v in ck.items():
            if k != "model" and k not in ("optimizer", "lr_scheduler", "scaler") and \
                    is_state_dict(v):
                groups[k] = collections.OrderedDict(v)   # DIRECT's additional_models
                used.add(k)
        dropped = ["checkpoint entry '%s'" % k for k in _top_level_report(ck, used)]
    elif is_state_dict(ck):
        groups[""] = collections.OrderedDict(ck)
        dropped = []
    else:
        raise ConvertError("'%s' is neither a DIRECT checkpoint (no 'model' entry) nor a plain "
                           "state_dict; top-level keys: %s" % (path, ", ".join(map(str, ck))))
    return groups, None, dropped


def extract_lightning(obj, path, framework):
    """fastMRI / ATOMMIC: (groups, checkpoint config or None, dropped)."""
    ck = _ckpt_dict(obj, path)
    dropped = []
    cfg = None
    if "state_dict" in ck:
        sd = _as_state_dict(ck["state_dict"], "the checkpoint's 'state_dict'")
        hp = plain(ck.get("hyper_parameters"))
        if framework == "fastmri" and isinstance(hp, dict) and isinstance(hp.get("cfg"), dict):
            raise ConvertError("'%s' carries an ATOMMIC model cfg (hyper_parameters.cfg): use "
                               "--framework atommic" % path)
        if isinstance(hp, dict):
            if framework == "atommic":
                cfg = hp.get("cfg", hp)
                if isinstance(cfg, dict) and isinstance(cfg.get("model"), dict):
                    cfg = cfg["model"]
            else:
                cfg = hp
        dropped = ["checkpoint entry '%s'" % k
                   for k in _top_level_report(ck, {"state_dict", "hyper_parameters"})]
    elif "model" in ck and not _is_tensor(ck["model"]):
        sd = _as_state_dict(ck["model"], "the checkpoint's 'model' entry")
        dropped = ["checkpoint entry '%s'" % k for k in _top_level_report(ck, {"model"})]
    elif is_state_dict(ck):
        sd = collections.OrderedDict(ck)
    else:
        raise ConvertError("'%s' is neither a Lightning checkpoint (no 'state_dict') nor a plain "
                           "state_dict; top-level keys: %s" % (path, ", ".join(map(str, ck))))
    if cfg is not None and not isinstance(cfg, dict):
        cfg = None
    return collections.OrderedDict([("", sd)]), cfg, dropped


def extract_lpn(obj, path):
    ck = _ckpt_dict(obj, path)
    for key in ("model_state_dict", "state_dict", "model"):
        if key in ck and not _is_tensor(ck[key]):
            sd = _as_state_dict(ck[key], "the checkpoint's '%s' entry" % key)
            dropped = ["checkpoint entry '%s'" % k for k in _top_level_report(ck, {key})]
            return collections.OrderedDict([("", sd)]), None, dropped
    if is_state_dict(ck):
        return collections.OrderedDict([("", collections.OrderedDict(ck))]), None, []
    raise ConvertError("'%s' is neither an LPN checkpoint (no 'model_state_dict') nor a plain "
                       "state_dict; top-level keys: %s" % (path, ", ".join(map(str, ck))))


# ------------------------------------------------------------------------------------------------
# Building the configuration
# ------------------------------------------------------------------------------------------------

def merge(base, override, source):
    """base updated with override; overridden values are reported."""
    out = dict(base or {})
    for k, v in (override or {}).items():
        if k in out and out[k] != v:
            note("note: %s overrides '%s' (checkpoint: %r, now: %r)" % (source, k, out[k], v))
        out[k] = v
    return out


def pick(cfg, keys, extra_ok=(), what="configuration"):
    """The keys of cfg in `keys` order; other keys are reported as dropped."""
    out = collections.OrderedDict((k, cfg[k]) for k in keys if k in cfg)
    for k in extra_ok:
        if k in cfg:
            out[k] = cfg[k]
    ignored = [k for k in cfg if k not in out]
    if ignored:
        note("dropped %s keys the network does not use: %s" % (what, ", ".join(map(str,
                                                                                    ignored))))
    return out


def require(cfg, keys, hint):
    missing = [k for k in keys if k not in cfg or cfg[k] is None]
    if missing:
        raise ConvertError("missing configuration argument%s %s (%s)"
                           % ("s" if len(missing) > 1 else "",
                              ", ".join("'%s'" % k for k in missing), hint))


def config_e2evn_fastmri(ck_cfg, file_cfg):
    cfg = merge(ck_cfg, file_cfg, "--config")
    if isinstance(cfg.get("model"), dict):
        cfg = merge(ck_cfg, cfg["model"], "--config")
    unknown = [k for k in cfg if k not in FASTMRI_VARNET_DEFAULTS]
    if unknown:
        note("dropped hyper-parameters that are not VarNet arguments: %s" % ", ".join(unknown))
    out = collections.OrderedDict()
    for k, d in FASTMRI_VARNET_DEFAULTS.items():
        out[k] = cfg.get(k, d)
    if not cfg:
        note("note: no configuration in the checkpoint or --config: fastMRI VarNet defaults")
    out["variant"] = "fastmri"
    return out, {k for k in FASTMRI_VARNET_DEFAULTS if k not in cfg}


def config_atommic(arch, ck_cfg, file_cfg):
    fc = file_cfg or {}
    if isinstance(fc.get("model"), dict):
        fc = fc["model"]
    cfg = merge(ck_cfg, fc, "--config")
    if not cfg:
        raise ConvertError("the checkpoint carries no configuration (no hyper_parameters.cfg): "
                           "pass the model's ATOMMIC config with --config")
    require(cfg, ATOMMIC_REQUIRED, "ATOMMIC's FFT settings; give them with --config")
    name = str(cfg.get("model_name") or "")
    if arch == "e2evn":
        if name and name.lower() not in ("vn", "varnet", "e2evn"):
            raise ConvertError("config 'model_name' = %r is not ATOMMIC's VarNet ('VN')" % name)
        out = pick(cfg, ATOMMIC_VN_KEYS, what="ATOMMIC cfg")
        out["variant"] = "atommic"
        return out
    if name and name.lower() not in ("cirim", "rim"):
        raise ConvertError("config 'model_name' = %r is not CIRIM or RIM" % name)
    return pick(cfg, CIRIM_KEYS, what="ATOMMIC cfg")


def _direct_transform_keys(project):
    """sensitivity_maps_gaussian / scale_percentile as set in the project's inference (else
    validation, else training) dataset transforms."""
    found = {}
    for section in ("inference", "validation", "training"):
        sec = project.get(section)
        if not isinstance(sec, dict):
            continue
        for key in ("sensitivity_maps_gaussian", "scale_percentile"):
            if key not in found:
                v = _find_key(sec, key)
                if v is not None:
                    found[key] = v
        for key, want in (("sensitivity_maps_type", "rss_estimate"),
                          ("scaling_key", "masked_kspace")):
            v = _find_key(sec, key)
            if v is not None and str(v).split(".")[-1].lower() != want:
                note("warning: %s.%s = %r; the engine implements only %s"
                     % (section, key, v, want))
    return found


def config_direct(file_cfg, has_sens):
    if file_cfg is None:
        raise ConvertError("DIRECT checkpoints carry no configuration: pass the project YAML "
                           "(or a JSON of RecurrentVarNet arguments with 'fft_centered') with "
                           "--config")
    out = collections.OrderedDict()
    if isinstance(file_cfg.get("model"), dict):
        # DIRECT project YAML: merged into RecurrentVarNetConfig, so its defaults apply
        model = dict(file_cfg["model"])
        name = _strip_prefix_model_name(model.pop("model_name", None))
        if name and name != "recurrentvarnet":
            raise ConvertError("config model.model_name = %r is not RecurrentVarNet"
                               % file_cfg["model"].get("model_name"))
        model.pop("engine_name", None)
        _check_in_channels(model, "model.in_channels")
        unknown = [k for k in model if k not in RVN_KEYS]
        if unknown:
            raise ConvertError("unknown RecurrentVarNet argument%s in model: %s"
                               % ("s" if len(unknown) > 1 else "", ", ".join(unknown)))
        for k in RVN_KEYS:
            out[k] = model.get(k, RVN_YAML_DEFAULTS[k])
        defaulted = {k for k in RVN_KEYS if k not in model}
        physics = file_cfg.get("physics", file_cfg.get("modality")) or {}
        if not isinstance(physics, dict):
            raise ConvertError("config 'physics' must be a mapping")
        fwd = parse_direct_operator(physics.get("forward_operator", "fft2"),
                                    "physics.forward_operator", "fft2")
        bwd = parse_direct_operator(physics.get("backward_operator", "ifft2"),
                                    "physics.backward_operator", "ifft2")
        if fwd != bwd:
            raise ConvertError("physics.forward_operator (centered=%s) and "
                               "physics.backward_operator (centered=%s) disagree" % (fwd, bwd))
        if "forward_operator" not in physics:
            note("note: no physics.forward_operator in the config: DIRECT's default fft2 "
                 "(centered=True)")
        out["fft_centered"] = fwd
        out.update(_direct_transform_keys(file_cfg))
        extra = file_cfg.get("additional_models") or {}
        sens = extra.get("sensitivity_model") if isinstance(extra, dict) else None
        for name in (extra if isinstance(extra, dict) else {}):
            if name != "sensitivity_model":
                raise ConvertError("additional_models.%s is not supported (only "
                                   "sensitivity_model)" % name)
        if sens is not None:
            if not isinstance(sens, dict):
                raise ConvertError("additional_models.sensitivity_model must be a mapping")
            sname = _strip_prefix_model_name(sens.get("model_name"))
            if sname != "unetmodel2d":
                raise ConvertError("additional_models.sensitivity_model.model_name = %r is not "
                                   "supported (only unet.unet_2d.UnetModel2d)"
                                   % sens.get("model_name"))
            u = dict(UNET2D_YAML_DEFAULTS, **{k: v for k, v in sens.items() if k != "model_name"})
            for key in ("in_channels", "out_channels"):
                if u[key] != 2:
                    raise ConvertError("additional_models.sensitivity_model.%s = %r is not "
                                       "supported (only 2)" % (key, u[key]))
            for key in ("modulation", "aux_in_features", "fc_hidden_features", "num_weights"):
                if u.get(key) not in (None, "none", "NONE"):
                    raise ConvertError("additional_models.sensitivity_model.%s = %r is not "
                                       "supported" % (key, u[key]))
            out["sensitivity_model_num_filters"] = u["num_filters"]
            out["sensitivity_model_num_pool_layers"] = u["num_pool_layers"]
            if not has_sens:
                raise ConvertError("the config has additional_models.sensitivity_model but the "
                                   "checkpoint has no 'sensitivity_model' entry")
        elif has_sens:
            raise ConvertError("the checkpoint has a 'sensitivity_model' but the config has no "
                               "additional_models.sensitivity_model (missing argument)")
        return out, defaulted
    # plain JSON of constructor arguments (class defaults) + the engine keys
    cfg = dict(file_cfg)
    cfg.pop("model_name", None)
    _check_in_channels(cfg, "in_channels")
    sens = cfg.pop("sensitivity_model", None)
    if isinstance(sens, dict):
        cfg.setdefault("sensitivity_model_num_filters", sens.get("num_filters"))
        cfg.setdefault("sensitivity_model_num_pool_layers", sens.get("num_pool_layers"))
    if "fft_centered" not in cfg and "forward_operator" in cfg:
        cfg["fft_centered"] = parse_direct_operator(cfg.pop("forward_operator"),
                                                    "forward_operator", "fft2")
        if "backward_operator" in cfg and parse_direct_operator(
                cfg.pop("backward_operator"), "backward_operator", "ifft2") != \
                cfg["fft_centered"]:
            raise ConvertError("forward_operator and backward_operator disagree on centered")
    require(cfg, ("fft_centered",), "DIRECT passes the FFT as an operator, so the centring "
            "cannot be read from the checkpoint; DIRECT's default fft2 is centred")
    unknown = [k for k in cfg if k not in RVN_KEYS and k not in RVN_ENGINE_KEYS]
    if unknown:
        raise ConvertError("unknown RecurrentVarNet argument%s: %s"
                           % ("s" if len(unknown) > 1 else "", ", ".join(unknown)))
    for k in RVN_KEYS:
        out[k] = cfg.get(k, RVN_CLASS_DEFAULTS[k])
    defaulted = {k for k in RVN_KEYS if k not in cfg}
    for k in RVN_ENGINE_KEYS:
        if k in cfg and cfg[k] is not None:
            out[k] = cfg[k]
    if has_sens:
        require(out, ("sensitivity_model_num_filters", "sensitivity_model_num_pool_layers"),
                "the checkpoint has a sensitivity_model")
    elif "sensitivity_model_num_filters" in out:
        raise ConvertError("the config sets sensitivity_model_num_filters but the checkpoint has "
                           "no 'sensitivity_model' entry")
    return out, defaulted


def _check_in_channels(model, key):
    if "in_channels" in model:
        if model.pop("in_channels") != 2:
            raise ConvertError("config '%s' must be 2" % key)


def config_lpn(file_cfg):
    if file_cfg is None:
        raise ConvertError("no LPN configuration: pass model_config.json with --config (none "
                           "found next to the checkpoint)")
    cfg = dict(file_cfg)
    if "params" in cfg:
        model = cfg.get("model")
        if model is not None and model != "lpn_128":
            raise ConvertError("model_config.json 'model' = %r is not supported (only lpn_128)"
                               % model)
        params = cfg["params"]
        if not isinstance(params, dict):
            raise ConvertError("model_config.json 'params' must be a mapping")
        cfg = dict(params, **{k: v for k, v in cfg.items() if k in LPN_ENGINE_KEYS})
    require(cfg, LPN_KEYS, "lpn_128.LPN(in_dim, hidden, beta, alpha) has no defaults")
    out = pick(cfg, LPN_KEYS, extra_ok=LPN_ENGINE_KEYS, what="LPN config")
    return out


# ------------------------------------------------------------------------------------------------
# Matching tensors to the architecture
# ------------------------------------------------------------------------------------------------

_DROPPABLE = re.compile(r"(^|[._])(loss|losses|metric|metrics|ssim|psnr|criterion)s?([._]|$)",
                        re.IGNORECASE)


def strip_prefix(sd, expected):
    """Picks the key prefix (e.g. 'varnet.', 'module.', 'model.') under which the expected
    names are found; returns (stripped dict, prefix, keys outside the prefix)."""
    candidates = {""}
    for k in sd:
        parts = k.split(".")
        for n in range(1, min(3, len(parts))):
            candidates.add(".".join(parts[:n]) + ".")
    best = max(sorted(candidates), key=lambda p: (sum(
        1 for k in sd if k.startswith(p) and k[len(p):] in expected), -len(p)))
    inside = collections.OrderedDict()
    outside = []
    for k, v in sd.items():
        if k.startswith(best):
            inside[k[len(best):]] = v
        else:
            outside.append(k)
    return inside, best, outside


def check_structure(cfg, inferred, arch, given):
    """A config value that contradicts the tensors is an error naming the key (given: the
    keys the configuration sets; the others hold defaults)."""
    for key, got in inferred.items():
        if got is None or key not in cfg or key.startswith("_"):
            continue
        want = cfg[key]
        if key == "recurrent_layer":
            want = str(want).lower()
        if key == "num_steps" and not cfg.get("no_parameter_sharing", True):
            continue
        if want != got:
            what = ("config '%s' = %r" % (key, cfg[key]) if key in given else
                    "config '%s' is not given and its default %r" % (key, cfg[key]))
            raise ConvertError("%s contradicts the checkpoint, whose tensors are those of "
                               "%s = %r" % (what, key, got))
    if arch != "recurrentvarnet":
        return
    rsi = bool(cfg.get("learned_initializer")) and cfg.get("initializer_initialization") is not None
    if inferred["_rsi"] != rsi:
        raise ConvertError("config learned_initializer = %r, initializer_initialization = %r "
                           "contradicts the checkpoint, which has %s recurrent state initializer "
                           "(initializer.*)" % (cfg.get("learned_initializer"),
                                                 cfg.get("initializer_initialization"),
                                                 "a" if inferred["_rsi"] else "no"))
    if inferred["_blocks"] == 1 and cfg.get("no_parameter_sharing") and cfg["num_steps"] > 1:
        raise ConvertError("config no_parameter_sharing = true with num_steps = %d contradicts "
                           "the checkpoint, which has one shared block (no_parameter_sharing = "
                           "false)" % cfg["num_steps"])


# config keys that decide the tensor names and shapes, named when they do not match
SHAPE_KEYS = {
    "e2evn/fastmri": "num_cascades, chans, pools, sens_chans, sens_pools",
    "e2evn/atommic": "num_cascades, channels, pooling_layers",
    "cirim": "recurrent_layer, num_cascades, no_dc, conv_filters, conv_kernels, conv_bias, "
             "recurrent_filters, recurrent_kernels, recurrent_bias",
    "recurrentvarnet": "num_steps, no_parameter_sharing, recurrent_hidden_channels, "
                       "recurrent_num_layers, learned_initializer, initializer_initialization, "
                       "initializer_channels, initializer_dilations, initializer_multiscale, "
                       "normalized, sensitivity_model num_filters / num_pool_layers",
    "lpn": "in_dim, hidden",
}


def match_tensors(sd, expected, hint, droppable_ok=True):
    """Returns (tensors in expected order, dropped keys). Raises on missing/extra/shape; hint
    names the config keys that decide the expected names and shapes."""
    try:
        return _match_tensors(sd, expected, droppable_ok)
    except ConvertError as e:
        raise ConvertError("%s (these follow from the config keys %s)" % (e, hint)) from e


def _match_tensors(sd, expected, droppable_ok):
    import torch  # pylint: disable=import-outside-toplevel
    missing = [k for k in expected if k not in sd]
    if missing:
        more = " (and %d more)" % (len(missing) - 5) if len(missing) > 5 else ""
        raise ConvertError("missing key%s needed by the configuration: %s%s"
                           % ("s" if len(missing) > 1 else "",
                              ", ".join("'%s'" % k for k in missing[:5]), more))
    out = collections.OrderedDict()
    for k, shape in expected.items():
        t = sd[k]
        if tuple(t.shape) != tuple(shape):
            raise ConvertError("'%s' has shape %s in the checkpoint, the configuration needs %s"
                               % (k, tuple(t.shape), tuple(shape)))
        if t.is_complex() or not t.is_floating_point():
            raise ConvertError("'%s' is %s, expected a real floating-point tensor" % (k, t.dtype))
        if t.dtype != torch.float32:
            note("note: '%s' is %s, stored as float32" % (k, t.dtype))
        out[k] = t.detach().to(torch.float32).contiguous().numpy()
    dropped = []
    unexpected = []
    for k in sd:
        if k in expected:
            continue
        if droppable_ok and _DROPPABLE.search(k):
            dropped.append(k)
        else:
            unexpected.append(k)
    if unexpected:
        more = " (and %d more)" % (len(unexpected) - 5) if len(unexpected) > 5 else ""
        raise ConvertError("the checkpoint has model tensor%s the configuration does not "
                           "account for: %s%s" % ("s" if len(unexpected) > 1 else "",
                                                  ", ".join("'%s'" % k for k in unexpected[:5]),
                                                  more))
    return out, dropped


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------

def write_weight_file(path, arch, cfg, tensors, source):
    import h5py  # pylint: disable=import-outside-toplevel
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise ConvertError("cannot write '%s': no directory '%s'" % (path, d))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["architecture"] = arch
            f.attrs["config"] = json.dumps(cfg)
            f.attrs["converted_from"] = json.dumps(source)
            g = f.create_group("weights")
            for k, a in tensors.items():
                g.create_dataset(k, data=a)
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError) as e:
        raise ConvertError("cannot write '%s': %s" % (path, e)) from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ------------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------------

def _lpn_default_config(ckpt):
    d = os.path.dirname(os.path.abspath(ckpt))
    stem = os.path.splitext(os.path.basename(ckpt))[0]
    for name in ("model_config.json", stem + ".model_config.json"):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            note("using %s (next to the checkpoint)" % p)
            return p
    return None


def convert(framework, arch, checkpoint, config_path, out_path, quiet=False):
    obj, archive_cfg = load_checkpoint(checkpoint)
    file_cfg = read_config_file(config_path) if config_path else None

    if framework == "direct":
        groups, ck_cfg, dropped = extract_direct(obj, checkpoint)
    elif framework == "lpn":
        groups, ck_cfg, dropped = extract_lpn(obj, checkpoint)
    else:
        groups, ck_cfg, dropped = extract_lightning(obj, checkpoint, framework)
        if archive_cfg is not None:
            ac = archive_cfg.get("model", archive_cfg) if isinstance(archive_cfg, dict) else None
            ck_cfg = merge(ac, ck_cfg, "checkpoint")

    # configuration
    defaulted = set()
    if framework == "direct":
        cfg, defaulted = config_direct(file_cfg, "sensitivity_model" in groups)
    elif framework == "atommic":
        cfg = config_atommic(arch, ck_cfg, file_cfg)
    elif framework == "fastmri":
        cfg, defaulted = config_e2evn_fastmri(ck_cfg, file_cfg)
    else:
        if file_cfg is None:
            p = _lpn_default_config(checkpoint)
            file_cfg = read_config_file(p) if p else None
        cfg = config_lpn(file_cfg)

    # the tensors, with the prefixes of the model and its additional models
    sd = collections.OrderedDict()
    for name, g in groups.items():
        if name == "":
            continue
        if name != "sensitivity_model":
            dropped.append("checkpoint entry '%s' (additional model)" % name)
            continue
        # strip any DataParallel prefix inside the additional model
        inner, _, _ = strip_prefix(g, set(k[len(SENS_PREFIX):] for k in rvn_expected(cfg)
                                          if k.startswith(SENS_PREFIX)))
        for k, v in inner.items():
            sd[SENS_PREFIX + k] = v

    # defaults the network relies on, for inference of the structure
    if arch == "e2evn" and framework == "atommic":
        full = dict(ATOMMIC_VN_DEFAULTS, **cfg)
        expected = e2evn_atommic_expected(full)
        infer = e2evn_atommic_infer
    elif arch == "e2evn":
        full = dict(cfg)
        expected = e2evn_fastmri_expected(full)
        infer = e2evn_fastmri_infer
    elif arch == "cirim":
        full = dict(CIRIM_DEFAULTS, **cfg)
        expected = cirim_expected(full)
        infer = cirim_infer
    elif arch == "recurrentvarnet":
        full = dict(cfg)
        expected = rvn_expected(full)
        infer = rvn_infer
    else:
        full = dict(cfg)
        expected = lpn_expected(full)
        infer = lpn_infer

    model_expected = {k for k in expected if not k.startswith(SENS_PREFIX)}
    inner, prefix, outside = strip_prefix(groups[""], model_expected)
    if prefix and not quiet:
        note("stripped key prefix '%s'" % prefix)
    dropped += outside
    for k, v in inner.items():
        if k in sd:
            raise ConvertError("key '%s' appears twice" % k)
        sd[k] = v

    inferred = infer(sd)
    if arch == "cirim":
        full = dict(full, recurrent_layer=str(full["recurrent_layer"]).lower())
    check_structure(full, inferred, arch, set(cfg) - defaulted)
    hint = SHAPE_KEYS["e2evn/" + ("atommic" if framework == "atommic" else "fastmri")] \
        if arch == "e2evn" else SHAPE_KEYS[arch]
    tensors, more = match_tensors(sd, expected, hint)
    dropped += more

    if arch == "lpn":
        import numpy as np  # pylint: disable=import-outside-toplevel
        for k in ["lin.%d.weight" % i for i in range(1, 8)]:
            if np.any(tensors[k] < 0):
                note("warning: '%s' has negative entries: the LPN is not convex (a training "
                     "checkpoint clamps them to >= 0)" % k)

    for k, v in cfg.items():
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ConvertError("config '%s' = %r cannot be written as JSON" % (k, v)) from e
    source = {"framework": framework, "checkpoint": os.path.basename(checkpoint)}
    if config_path:
        source["config"] = os.path.basename(config_path)
    write_weight_file(out_path, arch, cfg, tensors, source)
    if not quiet:
        nparam = sum(int(a.size) for a in tensors.values())
        print("wrote %s: architecture %s, %d tensors, %d parameters"
              % (out_path, arch, len(tensors), nparam))
        print("config: %s" % json.dumps(cfg))
        entries = [d for d in dropped if d.startswith("checkpoint entry ")]
        other = [d for d in dropped if not d.startswith("checkpoint entry ")]
        if entries:
            print("dropped checkpoint entries: %s" % ", ".join(
                d[len("checkpoint entry "):] for d in entries))
        if other:
            print("dropped tensors (not part of the network): %s" % ", ".join(other))
    return cfg, tensors, dropped


def build_parser():
    p = argparse.ArgumentParser(
        prog="convert.py",
        description="Convert a DIRECT, ATOMMIC, fastMRI or LPN checkpoint into an mrirecon "
                    "weight file (HDF5; see weights/README.md).",
        epilog="framework/architecture pairs: direct/recurrentvarnet, atommic/e2evn, "
               "atommic/cirim, fastmri/e2evn, lpn/lpn. Exit codes: 0 success, 1 conversion "
               "failure, 2 usage error.")
    p.add_argument("--framework", required=True, choices=sorted(FRAMEWORKS),
                   help="the framework that wrote the checkpoint")
    p.add_argument("--architecture", required=True, choices=ARCHITECTURES,
                   help="the network in the checkpoint")
    p.add_argument("--config", metavar="CONFIG",
                   help="the configuration as the framework writes it: DIRECT project YAML, "
                        "ATOMMIC YAML, LPN model_config.json, or a JSON of constructor "
                        "arguments; overrides what the checkpoint carries")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help=".pt / .ckpt / .atommic file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.h5",
                   help="weight file to write (atomically)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)   # exits 2 on usage errors
    if args.architecture not in FRAMEWORKS[args.framework]:
        parser.print_usage(sys.stderr)
        print("convert.py: error: --framework %s has no --architecture %s (it has: %s)"
              % (args.framework, args.architecture, ", ".join(FRAMEWORKS[args.framework])),
              file=sys.stderr)
        return 2
    try:
        for name in ("torch", "numpy", "h5py", "yaml"):
            importlib.import_module(name)
    except ImportError as e:
        print("convert.py: error: %s (install python3-torch, python3-h5py, python3-yaml and run "
              "with /usr/bin/python3)" % e, file=sys.stderr)
        return 1
    _QUIET[0] = args.quiet
    try:
        convert(args.framework, args.architecture, args.checkpoint, args.config, args.output,
                args.quiet)
    except ConvertError as e:
        print("convert.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
