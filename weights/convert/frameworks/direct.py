"""DIRECT: the checkpointer's dict ({"model": state_dict, "sensitivity_model": state_dict,
"optimizer": ...}) or a plain state_dict; config: the project YAML (model:,
additional_models.sensitivity_model, physics.forward_operator/backward_operator, the dataset
transforms) or a plain JSON of RecurrentVarNet arguments (+ "fft_centered"). DIRECT checkpoints
carry no configuration, so one is required."""

import collections
import re

from ..arch.recurrentvarnet import RVN_CLASS_DEFAULTS, RVN_ENGINE_KEYS, RVN_KEYS
from ..checkpoint import as_state_dict, checkpoint_dict, is_state_dict, unused_entries
from ..configs import find_key, require
from ..errors import ConvertError, note

# direct.nn.recurrentvarnet.config.RecurrentVarNetConfig defaults (a DIRECT project YAML)
RVN_YAML_DEFAULTS = dict(RVN_CLASS_DEFAULTS, learned_initializer=True,
                         initializer_initialization="sense")
# direct.nn.unet.config.UnetModel2dConfig defaults
UNET2D_YAML_DEFAULTS = {"in_channels": 2, "out_channels": 2, "num_filters": 16,
                        "num_pool_layers": 4, "dropout_probability": 0.0}


def _extract(obj, path):
    """({"": model state_dict, "sensitivity_model": ...}, dropped entries)."""
    ck = checkpoint_dict(obj, path)
    groups = collections.OrderedDict()
    if "model" in ck:
        groups[""] = as_state_dict(ck["model"], "the checkpoint's 'model' entry")
        used = {"model"}
        for k, v in ck.items():
            if k != "model" and k not in ("optimizer", "lr_scheduler", "scaler") and \
                    is_state_dict(v):
                groups[k] = collections.OrderedDict(v)   # DIRECT's additional_models
                used.add(k)
        return groups, unused_entries(ck, used)
    if is_state_dict(ck):
        groups[""] = collections.OrderedDict(ck)
        return groups, []
    raise ConvertError("'%s' is neither a DIRECT checkpoint (no 'model' entry) nor a plain "
                       "state_dict; top-level keys: %s" % (path, ", ".join(map(str, ck))))


def _model_name(name):
    """'direct.nn.unet.unet_2d.UnetModel2d' -> 'unetmodel2d'."""
    return str(name).split(".")[-1].lower() if name is not None else ""


_OP_RE = re.compile(r"^\s*(?:[\w.]*\.)?(i?fft2)\s*(?:\((.*)\))?\s*$")


def parse_operator(text, key, want):
    """'fft2(centered=False)' -> False; 'fft2' -> True (DIRECT's default). Returns centered;
    `want` is fft2 or ifft2, `key` names the setting in errors."""
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


def _transform_keys(project):
    """sensitivity_maps_gaussian / scale_percentile as set in the project's inference (else
    validation, else training) dataset transforms."""
    found = {}
    for section in ("inference", "validation", "training"):
        sec = project.get(section)
        if not isinstance(sec, dict):
            continue
        for key in ("sensitivity_maps_gaussian", "scale_percentile"):
            if key not in found:
                v = find_key(sec, key)
                if v is not None:
                    found[key] = v
        for key, want in (("sensitivity_maps_type", "rss_estimate"),
                          ("scaling_key", "masked_kspace")):
            v = find_key(sec, key)
            if v is not None and str(v).split(".")[-1].lower() != want:
                note("warning: %s.%s = %r; the engine implements only %s"
                     % (section, key, v, want))
    return found


def _check_in_channels(model, key):
    if "in_channels" in model:
        if model.pop("in_channels") != 2:
            raise ConvertError("config '%s' must be 2" % key)


def _sensitivity_unet(sens):
    """(num_filters, num_pool_layers) of additional_models.sensitivity_model (UnetModel2d)."""
    if not isinstance(sens, dict):
        raise ConvertError("additional_models.sensitivity_model must be a mapping")
    if _model_name(sens.get("model_name")) != "unetmodel2d":
        raise ConvertError("additional_models.sensitivity_model.model_name = %r is not "
                           "supported (only unet.unet_2d.UnetModel2d)" % sens.get("model_name"))
    u = dict(UNET2D_YAML_DEFAULTS, **{k: v for k, v in sens.items() if k != "model_name"})
    for key in ("in_channels", "out_channels"):
        if u[key] != 2:
            raise ConvertError("additional_models.sensitivity_model.%s = %r is not "
                               "supported (only 2)" % (key, u[key]))
    for key in ("modulation", "aux_in_features", "fc_hidden_features", "num_weights"):
        if u.get(key) not in (None, "none", "NONE"):
            raise ConvertError("additional_models.sensitivity_model.%s = %r is not "
                               "supported" % (key, u[key]))
    return u["num_filters"], u["num_pool_layers"]


def _constructor_args(given, defaults, extra_ok, where):
    """(the RecurrentVarNet arguments in RVN_KEYS order, given or from defaults; the keys left
    at their defaults). A key of given outside RVN_KEYS and extra_ok is an error."""
    unknown = [k for k in given if k not in RVN_KEYS and k not in extra_ok]
    if unknown:
        raise ConvertError("unknown RecurrentVarNet argument%s%s: %s"
                           % ("s" if len(unknown) > 1 else "", where, ", ".join(unknown)))
    out = collections.OrderedDict((k, given.get(k, defaults[k])) for k in RVN_KEYS)
    return out, {k for k in RVN_KEYS if k not in given}


def _config_yaml(project, has_sens):
    """A DIRECT project YAML: model: merged into RecurrentVarNetConfig, so its defaults apply."""
    model = dict(project["model"])
    name = _model_name(model.pop("model_name", None))
    if name and name != "recurrentvarnet":
        raise ConvertError("config model.model_name = %r is not RecurrentVarNet"
                           % project["model"].get("model_name"))
    model.pop("engine_name", None)
    _check_in_channels(model, "model.in_channels")
    out, defaulted = _constructor_args(model, RVN_YAML_DEFAULTS, (), " in model")
    physics = project.get("physics", project.get("modality")) or {}
    if not isinstance(physics, dict):
        raise ConvertError("config 'physics' must be a mapping")
    fwd = parse_operator(physics.get("forward_operator", "fft2"), "physics.forward_operator",
                         "fft2")
    bwd = parse_operator(physics.get("backward_operator", "ifft2"), "physics.backward_operator",
                         "ifft2")
    if fwd != bwd:
        raise ConvertError("physics.forward_operator (centered=%s) and "
                           "physics.backward_operator (centered=%s) disagree" % (fwd, bwd))
    if "forward_operator" not in physics:
        note("note: no physics.forward_operator in the config: DIRECT's default fft2 "
             "(centered=True)")
    out["fft_centered"] = fwd
    out.update(_transform_keys(project))
    extra = project.get("additional_models") or {}
    sens = extra.get("sensitivity_model") if isinstance(extra, dict) else None
    for name in (extra if isinstance(extra, dict) else {}):
        if name != "sensitivity_model":
            raise ConvertError("additional_models.%s is not supported (only "
                               "sensitivity_model)" % name)
    if sens is not None:
        out["sensitivity_model_num_filters"], out["sensitivity_model_num_pool_layers"] = \
            _sensitivity_unet(sens)
        if not has_sens:
            raise ConvertError("the config has additional_models.sensitivity_model but the "
                               "checkpoint has no 'sensitivity_model' entry")
    elif has_sens:
        raise ConvertError("the checkpoint has a 'sensitivity_model' but the config has no "
                           "additional_models.sensitivity_model (missing argument)")
    return out, defaulted


def _config_json(file_cfg, has_sens):
    """A plain JSON of constructor arguments (class defaults apply) plus the engine keys."""
    cfg = dict(file_cfg)
    cfg.pop("model_name", None)
    _check_in_channels(cfg, "in_channels")
    sens = cfg.pop("sensitivity_model", None)
    if isinstance(sens, dict):
        cfg.setdefault("sensitivity_model_num_filters", sens.get("num_filters"))
        cfg.setdefault("sensitivity_model_num_pool_layers", sens.get("num_pool_layers"))
    if "fft_centered" not in cfg and "forward_operator" in cfg:
        cfg["fft_centered"] = parse_operator(cfg.pop("forward_operator"), "forward_operator",
                                             "fft2")
        if "backward_operator" in cfg and parse_operator(
                cfg.pop("backward_operator"), "backward_operator", "ifft2") != \
                cfg["fft_centered"]:
            raise ConvertError("forward_operator and backward_operator disagree on centered")
    require(cfg, ("fft_centered",), "DIRECT passes the FFT as an operator, so the centring "
            "cannot be read from the checkpoint; DIRECT's default fft2 is centred")
    out, defaulted = _constructor_args(cfg, RVN_CLASS_DEFAULTS, RVN_ENGINE_KEYS, "")
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


def read(obj, _archive_cfg, file_cfg, _arch, path):
    """(groups, cfg, keys left at their defaults, dropped) of a DIRECT checkpoint of a
    RecurrentVarNet; groups[""] is the model, groups["sensitivity_model"] its sensitivity U-Net."""
    groups, dropped = _extract(obj, path)
    if file_cfg is None:
        raise ConvertError("DIRECT checkpoints carry no configuration: pass the project YAML "
                           "(or a JSON of RecurrentVarNet arguments with 'fft_centered') with "
                           "--config")
    has_sens = "sensitivity_model" in groups
    if isinstance(file_cfg.get("model"), dict):
        cfg, defaulted = _config_yaml(file_cfg, has_sens)
    else:
        cfg, defaulted = _config_json(file_cfg, has_sens)
    return groups, cfg, defaulted, dropped
