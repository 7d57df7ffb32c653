"""Matching a checkpoint's tensors to an architecture's table: the key prefix to strip, the
config values the tensors contradict, and the exact names, shapes and dtypes the network needs.
"""

import collections
import re

from .errors import ConvertError, note

# keys outside the model that a training checkpoint may carry (loss buffers, metrics)
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


def check_structure(cfg, inferred, given):
    """A config value that contradicts the tensors is an error naming the key (inferred: the
    architecture's infer(); given: the keys the configuration sets, the others hold
    defaults). recurrent_layer compares in lower case."""
    for key, got in inferred.items():
        if got is None or key not in cfg or key.startswith("_"):
            continue
        want = cfg[key]
        if key == "recurrent_layer":
            want = str(want).lower()
        if key == "num_steps" and not cfg.get("no_parameter_sharing", True):
            continue   # one shared block serves every step
        if want != got:
            what = ("config '%s' = %r" % (key, want) if key in given else
                    "config '%s' is not given and its default %r" % (key, want))
            raise ConvertError("%s contradicts the checkpoint, whose tensors are those of "
                               "%s = %r" % (what, key, got))


def match_tensors(sd, expected, hint, droppable_ok=True):
    """Returns (float32 numpy arrays in expected order, dropped keys). Raises on missing, extra,
    wrongly shaped or non-real tensors; hint names the config keys that decide the expected
    names and shapes."""
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
