"""CIRIM / RIM tensor tables (ATOMMIC's CIRIM with IndRNN, GRU or MGU cells). Spec: cirim.md."""

import collections

from ..configs import get_bool, get_bool_list, get_int, get_int_list
from ..errors import ConvertError
from .shared import count_blocks

# the ATOMMIC CIRIM cfg keys the engine reads, and the defaults the tensors depend on
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
SHAPE_KEYS = ("recurrent_layer, num_cascades, no_dc, conv_filters, conv_kernels, conv_bias, "
              "recurrent_filters, recurrent_kernels, recurrent_bias")


def expected(cfg):
    """{name: shape} of CIRIM for cfg (depth 2: two conv + recurrent layers, a final conv)."""
    if cfg.get("estimate_coil_sensitivity_maps_with_nn"):
        raise ConvertError("config 'estimate_coil_sensitivity_maps_with_nn' is true: the "
                           "coil-sensitivity network is not supported by the engine")
    cell = str(cfg["recurrent_layer"]).lower()
    if cell not in ("indrnn", "gru", "mgu"):
        raise ConvertError("config 'recurrent_layer' = %r is not IndRNN, GRU or MGU"
                           % cfg["recurrent_layer"])
    cf = get_int_list(cfg, "conv_filters")
    ck = get_int_list(cfg, "conv_kernels")
    cb = get_bool_list(cfg, "conv_bias")
    rf = get_int_list(cfg, "recurrent_filters")
    rk = get_int_list(cfg, "recurrent_kernels")
    rb = get_bool_list(cfg, "recurrent_bias")
    for key, v in (("conv_filters", cf), ("conv_kernels", ck), ("conv_bias", cb)):
        if len(v) < 3:
            raise ConvertError("config '%s' needs 3 entries, got %r" % (key, v))
    for key, v in (("recurrent_filters", rf), ("recurrent_kernels", rk),
                   ("recurrent_bias", rb)):
        if len(v) < 2:
            raise ConvertError("config '%s' needs at least 2 entries, got %r" % (key, v))
    if get_int(cfg, "depth") != 2:
        raise ConvertError("config 'depth' = %r is not supported (only 2)" % cfg["depth"])
    mult = {"indrnn": 1, "gru": 3, "mgu": 2}[cell]   # gates stacked in rnn.ih / rnn.hh
    e = collections.OrderedDict()
    for i in range(get_int(cfg, "num_cascades")):
        p = "reconstruction_module.%d." % i
        if not get_bool(cfg, "no_dc"):
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


def infer(sd):
    """The CIRIM cfg keys the tensors of sd decide (recurrent_layer in lower case)."""
    r = {"num_cascades": count_blocks(sd, r"^reconstruction_module\.(\d+)\.")}
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
