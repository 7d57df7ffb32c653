"""Configuration values: reading a --config file (JSON or YAML), merging and picking keys, and
typed access to values with errors that name the key.

A configuration is a plain dict of the reference constructor's arguments under the framework's
own names (what the weight file's `config` attribute holds).
"""

import collections
import json

from .errors import ConvertError, note


def read_config_file(path):
    """The mapping in a JSON or YAML file (DIRECT project YAML, ATOMMIC YAML, LPN
    model_config.json, or a plain JSON of constructor arguments)."""
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


def find_key(obj, key, depth=0):
    """First value of `key` anywhere inside a nested mapping/list (depth-first)."""
    if depth > 20:
        return None
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = find_key(v, key, depth + 1)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_key(v, key, depth + 1)
            if r is not None:
                return r
    return None


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
    """Every key of `keys` is in cfg and not None; hint says where the values come from."""
    missing = [k for k in keys if k not in cfg or cfg[k] is None]
    if missing:
        raise ConvertError("missing configuration argument%s %s (%s)"
                           % ("s" if len(missing) > 1 else "",
                              ", ".join("'%s'" % k for k in missing), hint))


def get_int(cfg, key):
    """cfg[key] as an int (an integral float is accepted, a bool is not)."""
    v = cfg.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise ConvertError("config '%s' must be an integer, got %r" % (key, v))
    return v


def get_bool(cfg, key):
    """cfg[key] as a bool (0 and 1 are accepted)."""
    v = cfg.get(key)
    if not isinstance(v, bool):
        if v in (0, 1):
            return bool(v)
        raise ConvertError("config '%s' must be true or false, got %r" % (key, v))
    return v


def get_int_list(cfg, key):
    """cfg[key] as a list of ints."""
    v = cfg.get(key)
    if not isinstance(v, (list, tuple)) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise ConvertError("config '%s' must be a list of integers, got %r" % (key, v))
    return list(v)


def get_bool_list(cfg, key):
    """cfg[key] as a list of bools (0 and 1 are accepted)."""
    v = cfg.get(key)
    if not isinstance(v, (list, tuple)) or not all(x in (True, False, 0, 1) for x in v):
        raise ConvertError("config '%s' must be a list of booleans, got %r" % (key, v))
    return [bool(x) for x in v]
