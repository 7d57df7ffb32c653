"""What fastMRI and ATOMMIC checkpoints share: a PyTorch Lightning .ckpt ({"state_dict",
"hyper_parameters"}), an .atommic archive's model_config.yaml, or a plain state_dict."""

import collections

from ..checkpoint import (as_state_dict, checkpoint_dict, is_state_dict, is_tensor,
                          unused_entries)
from ..configs import merge
from ..errors import ConvertError
from ..standins import plain


def _extract(obj, path, framework):
    """(groups, checkpoint config or None, dropped) of a Lightning checkpoint."""
    ck = checkpoint_dict(obj, path)
    dropped = []
    cfg = None
    if "state_dict" in ck:
        sd = as_state_dict(ck["state_dict"], "the checkpoint's 'state_dict'")
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
        dropped = unused_entries(ck, {"state_dict", "hyper_parameters"})
    elif "model" in ck and not is_tensor(ck["model"]):
        sd = as_state_dict(ck["model"], "the checkpoint's 'model' entry")
        dropped = unused_entries(ck, {"model"})
    elif is_state_dict(ck):
        sd = collections.OrderedDict(ck)
    else:
        raise ConvertError("'%s' is neither a Lightning checkpoint (no 'state_dict') nor a plain "
                           "state_dict; top-level keys: %s" % (path, ", ".join(map(str, ck))))
    if cfg is not None and not isinstance(cfg, dict):
        cfg = None
    return collections.OrderedDict([("", sd)]), cfg, dropped


def read_lightning(obj, archive_cfg, path, framework):
    """(groups, checkpoint config or None, dropped) of a fastMRI or ATOMMIC checkpoint; the
    hyper-parameters override an .atommic archive's model_config.yaml (its model: section)."""
    groups, cfg, dropped = _extract(obj, path, framework)
    if archive_cfg is not None:
        ac = archive_cfg.get("model", archive_cfg) if isinstance(archive_cfg, dict) else None
        cfg = merge(ac, cfg, "checkpoint")
    return groups, cfg, dropped
