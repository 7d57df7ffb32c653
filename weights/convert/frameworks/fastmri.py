"""fastMRI: the Lightning .ckpt of VarNetModule (keys "varnet.*", SSIM window "loss.w") or the
released plain state_dict (*_state_dict.pt); config: hyper_parameters, a JSON of VarNet
arguments, or the VarNet defaults."""

import collections

from ..arch.e2evn import FASTMRI_VARNET_DEFAULTS
from ..configs import merge
from ..errors import note
from .lightning import read_lightning


def config(ck_cfg, file_cfg):
    """(cfg, keys left at their defaults): the six VarNet arguments plus variant "fastmri"."""
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


def read(obj, archive_cfg, file_cfg, _arch, path):
    """(groups, cfg, defaulted keys, dropped) of a fastMRI checkpoint (of an e2evn)."""
    groups, ck_cfg, dropped = read_lightning(obj, archive_cfg, path, "fastmri")
    cfg, defaulted = config(ck_cfg, file_cfg)
    return groups, cfg, defaulted, dropped
