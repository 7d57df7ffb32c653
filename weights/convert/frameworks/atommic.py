"""ATOMMIC: a Lightning .ckpt ({"state_dict", "hyper_parameters": {"cfg": ...}}), the .atommic
tar archive (model_config.yaml + model_weights.ckpt) or a plain state_dict; config: the
checkpoint's cfg, overridden key by key by an ATOMMIC YAML (its model: section) or a JSON."""

from ..arch.cirim import CIRIM_KEYS
from ..arch.e2evn import ATOMMIC_VN_KEYS
from ..configs import merge, pick, require
from ..errors import ConvertError
from .lightning import read_lightning

# ATOMMIC leaves these to the dataset; they fix the FFT and cannot be read from the weights.
ATOMMIC_REQUIRED = ("fft_centered", "fft_normalization")


def config(arch, ck_cfg, file_cfg):
    """The cfg keys the e2evn (VN, plus variant "atommic") or cirim network reads."""
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


def read(obj, archive_cfg, file_cfg, arch, path):
    """(groups, cfg, defaulted keys (none), dropped) of an ATOMMIC checkpoint."""
    groups, ck_cfg, dropped = read_lightning(obj, archive_cfg, path, "atommic")
    return groups, config(arch, ck_cfg, file_cfg), set(), dropped
