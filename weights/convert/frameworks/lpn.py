"""LPN: the LPN repo's dict ({"model_state_dict", "optimizer_state_dict", ...}) or a plain
state_dict; config: model_config.json ({"model": "lpn_128", "params": {...}}, found next to the
checkpoint like lpn.utils.load_model does) or a plain JSON."""

import collections
import os

from ..arch.lpn import LPN_ENGINE_KEYS, LPN_KEYS
from ..checkpoint import as_state_dict, checkpoint_dict, is_state_dict, is_tensor, unused_entries
from ..configs import pick, read_config_file, require
from ..errors import ConvertError, note


def _extract(obj, path):
    """(groups, dropped) of an LPN checkpoint."""
    ck = checkpoint_dict(obj, path)
    for key in ("model_state_dict", "state_dict", "model"):
        if key in ck and not is_tensor(ck[key]):
            sd = as_state_dict(ck[key], "the checkpoint's '%s' entry" % key)
            return collections.OrderedDict([("", sd)]), unused_entries(ck, {key})
    if is_state_dict(ck):
        return collections.OrderedDict([("", collections.OrderedDict(ck))]), []
    raise ConvertError("'%s' is neither an LPN checkpoint (no 'model_state_dict') nor a plain "
                       "state_dict; top-level keys: %s" % (path, ", ".join(map(str, ck))))


def default_config_path(ckpt):
    """model_config.json or <stem>.model_config.json next to the checkpoint, or None."""
    d = os.path.dirname(os.path.abspath(ckpt))
    stem = os.path.splitext(os.path.basename(ckpt))[0]
    for name in ("model_config.json", stem + ".model_config.json"):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            note("using %s (next to the checkpoint)" % p)
            return p
    return None


def config(file_cfg):
    """in_dim, hidden, beta, alpha, plus the engine's PnP keys a plain JSON carries."""
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
    return pick(cfg, LPN_KEYS, extra_ok=LPN_ENGINE_KEYS, what="LPN config")


def read(obj, _archive_cfg, file_cfg, _arch, path):
    """(groups, cfg, defaulted keys (none), dropped) of an LPN checkpoint; without --config the
    model_config.json next to it is read."""
    groups, dropped = _extract(obj, path)
    if file_cfg is None:
        p = default_config_path(path)
        file_cfg = read_config_file(p) if p else None
    return groups, config(file_cfg), set(), dropped
