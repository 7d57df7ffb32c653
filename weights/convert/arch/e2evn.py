"""E2E-VarNet tensor tables, in its two variants: fastMRI's VarNet (with the sensitivity U-Net
`sens_net`) and ATOMMIC's VN (without it). Spec: e2evn.md."""

import collections

from ..configs import get_int
from ..errors import ConvertError
from .shared import count_blocks, infer_unet, unet_keys

# fastmri.models.VarNet.__init__ arguments and defaults
FASTMRI_VARNET_DEFAULTS = collections.OrderedDict([
    ("num_cascades", 12), ("sens_chans", 8), ("sens_pools", 4), ("chans", 18), ("pools", 4),
    ("mask_center", True)])
FASTMRI_SHAPE_KEYS = "num_cascades, chans, pools, sens_chans, sens_pools"

# the ATOMMIC VN cfg keys the engine reads, and the defaults the tensors depend on
ATOMMIC_VN_KEYS = ("model_name", "num_cascades", "channels", "pooling_layers", "padding_size",
                   "normalize", "no_dc", "dimensionality", "coil_combination_method",
                   "fft_centered", "fft_normalization", "spatial_dims", "coil_dim",
                   "estimate_coil_sensitivity_maps_with_nn", "complex_valued_type",
                   "consecutive_slices")
ATOMMIC_VN_DEFAULTS = {"num_cascades": 8, "channels": 18, "pooling_layers": 4}
ATOMMIC_SHAPE_KEYS = "num_cascades, channels, pooling_layers"


def _cascades(cfg, chans_key, pools_key):
    """{name: shape} of the cascades: a dc_weight and a U-Net each."""
    e = collections.OrderedDict()
    for i in range(get_int(cfg, "num_cascades")):
        e["cascades.%d.dc_weight" % i] = (1,)
        e.update(unet_keys("cascades.%d.model.unet." % i, 2, 2, get_int(cfg, chans_key),
                           get_int(cfg, pools_key)))
    return e


def _infer_cascades(sd, chans_key, pools_key):
    """num_cascades and the first cascade's U-Net size under chans_key, pools_key."""
    r = {"num_cascades": count_blocks(sd, r"^cascades\.(\d+)\.")}
    u = infer_unet(sd, "cascades.0.model.unet.")
    if u:
        r[chans_key], r[pools_key] = u
    return r


def fastmri_expected(cfg):
    """{name: shape} of fastMRI's VarNet for cfg."""
    e = unet_keys("sens_net.norm_unet.unet.", 2, 2, get_int(cfg, "sens_chans"),
                  get_int(cfg, "sens_pools"))
    e.update(_cascades(cfg, "chans", "pools"))
    return e


def fastmri_infer(sd):
    """The fastMRI VarNet arguments the tensors of sd decide."""
    r = _infer_cascades(sd, "chans", "pools")
    u = infer_unet(sd, "sens_net.norm_unet.unet.")
    if u:
        r["sens_chans"], r["sens_pools"] = u
    return r


def atommic_expected(cfg):
    """{name: shape} of ATOMMIC's VN for cfg (its sensitivity network is not supported)."""
    if cfg.get("estimate_coil_sensitivity_maps_with_nn"):
        raise ConvertError("config 'estimate_coil_sensitivity_maps_with_nn' is true: the "
                           "coil-sensitivity network is not supported by the engine")
    return _cascades(cfg, "channels", "pooling_layers")


def atommic_infer(sd):
    """The ATOMMIC VN cfg keys the tensors of sd decide."""
    return _infer_cascades(sd, "channels", "pooling_layers")
