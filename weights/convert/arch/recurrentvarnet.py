"""RecurrentVarNet tensor tables (DIRECT's RecurrentVarNet, optionally with the engine's
sensitivity U-Net stored under `sensitivity_model.`). Spec: recurrentvarnet.md."""

import collections
import re

from ..configs import get_bool, get_int, get_int_list
from ..errors import ConvertError
from .shared import count_blocks, infer_unet, unet_keys

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
# engine keys the C side reads besides the constructor's (networks/direct_net.c)
RVN_ENGINE_KEYS = ("fft_centered", "sensitivity_maps_gaussian", "scale_percentile",
                   "padding_from_mask", "sensitivity_model_num_filters",
                   "sensitivity_model_num_pool_layers")
SENS_PREFIX = "sensitivity_model."
SHAPE_KEYS = ("num_steps, no_parameter_sharing, recurrent_hidden_channels, "
              "recurrent_num_layers, learned_initializer, initializer_initialization, "
              "initializer_channels, initializer_dilations, initializer_multiscale, "
              "normalized, sensitivity_model num_filters / num_pool_layers")


def expected(cfg):
    """{name: shape} of RecurrentVarNet for cfg: the recurrent state initializer (when learned),
    one block per step (or one shared block) and the sensitivity U-Net when cfg sets
    sensitivity_model_num_filters."""
    T = get_int(cfg, "num_steps")
    hc = get_int(cfg, "recurrent_hidden_channels")
    L = get_int(cfg, "recurrent_num_layers")
    if L < 1 or hc < 1 or T < 1:
        raise ConvertError("config num_steps, recurrent_hidden_channels and "
                           "recurrent_num_layers must be >= 1")
    e = collections.OrderedDict()
    mode = cfg.get("initializer_initialization")
    if get_bool(cfg, "learned_initializer") and mode is not None:
        if mode not in ("sense", "zero_filled", "input_image"):
            raise ConvertError("config 'initializer_initialization' = %r is not sense, "
                               "zero_filled or input_image" % mode)
        chans = get_int_list(cfg, "initializer_channels")
        dils = get_int_list(cfg, "initializer_dilations")
        k = min(len(chans), len(dils))
        m = get_int(cfg, "initializer_multiscale")
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
    nblocks = T if get_bool(cfg, "no_parameter_sharing") else 1
    for b in range(nblocks):
        e["block_list.%d.learning_rate" % b] = (1,)
        g = "block_list.%d.regularizer.%s" % (b, "convgru." if get_bool(cfg, "normalized")
                                              else "")
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
        e.update(unet_keys(SENS_PREFIX, 2, 2, get_int(cfg, "sensitivity_model_num_filters"),
                           get_int(cfg, "sensitivity_model_num_pool_layers")))
    return e


def infer(sd):
    """The RecurrentVarNet arguments the tensors of sd decide, plus `_blocks` (the number of
    blocks) and `_rsi` (whether there is a recurrent state initializer) for check()."""
    r = {}
    blocks = count_blocks(sd, r"^block_list\.(\d+)\.")
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
        r["recurrent_num_layers"] = count_blocks(sd, "^" + re.escape(g) + r"reset_gates\.(\d+)\.")
    u = infer_unet(sd, SENS_PREFIX)
    if u:
        r["sensitivity_model_num_filters"], r["sensitivity_model_num_pool_layers"] = u
    return r


def check(cfg, inferred):
    """The structure checks that no single key decides: the recurrent state initializer and
    parameter sharing against the blocks found by infer()."""
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
