"""Reading a checkpoint file: torch.load through the stand-in unpickler (standins.py), the
.atommic tar archive, and the state_dicts inside what was loaded.

A state_dict here is a mapping of str names to torch tensors; a pickled whole nn.Module (a real
one or a stand-in) yields its state_dict through module_state_dict.
"""

import collections
import io
import os
import pickle
import tarfile

from .errors import ConvertError
from .standins import Stub, pickle_module


def torch_load(src):
    """torch.load on the CPU through the stand-in unpickler. Debian's torch 1.13 ignores
    `pickle_module` unless weights_only is set (it resets it to its module-level `pickle`), so
    that name is swapped for the duration of the call as well."""
    import torch  # pylint: disable=import-outside-toplevel
    import torch.serialization as ser  # pylint: disable=import-outside-toplevel
    kwargs = {"map_location": "cpu", "pickle_module": pickle_module}
    saved = getattr(ser, "pickle", None)
    if saved is pickle:
        ser.pickle = pickle_module
    try:
        try:
            return torch.load(src, weights_only=False, **kwargs)
        except TypeError as e:
            if "weights_only" not in str(e):
                raise
            return torch.load(src, **kwargs)
    finally:
        if saved is pickle:
            ser.pickle = saved


def load_checkpoint(path):
    """Returns (obj, extra): the unpickled checkpoint and, for an .atommic archive, its
    model_config.yaml as a dict (else None)."""
    if not os.path.isfile(path):
        raise ConvertError("cannot open checkpoint '%s'" % path)
    if tarfile.is_tarfile(path):
        return _load_atommic_archive(path)
    try:
        return torch_load(path), None
    except ConvertError:
        raise
    except Exception as e:  # pylint: disable=broad-except
        raise ConvertError("cannot read checkpoint '%s' with torch.load: %s" % (path, e)) from e


def _load_atommic_archive(path):
    import yaml  # pylint: disable=import-outside-toplevel
    try:
        with tarfile.open(path) as tar:
            members = {os.path.basename(m.name): m for m in tar.getmembers() if m.isfile()}
            if "model_weights.ckpt" not in members:
                raise ConvertError("'%s' is a tar archive without model_weights.ckpt (not an "
                                   ".atommic file)" % path)
            weights = io.BytesIO(tar.extractfile(members["model_weights.ckpt"]).read())
            cfg = None
            if "model_config.yaml" in members:
                cfg = yaml.safe_load(tar.extractfile(members["model_config.yaml"]).read())
    except (tarfile.TarError, OSError, yaml.YAMLError) as e:
        raise ConvertError("cannot read archive '%s': %s" % (path, e)) from e
    try:
        obj = torch_load(weights)
    except Exception as e:  # pylint: disable=broad-except
        raise ConvertError("cannot read model_weights.ckpt in '%s': %s" % (path, e)) from e
    return obj, cfg


def is_tensor(x):
    import torch  # pylint: disable=import-outside-toplevel
    return isinstance(x, torch.Tensor)


def is_state_dict(x):
    return isinstance(x, dict) and len(x) > 0 and all(
        isinstance(k, str) and is_tensor(v) for k, v in x.items())


def module_state_dict(obj, prefix=""):
    """The state_dict of a whole pickled nn.Module (a stand-in or a real torch module)."""
    import torch  # pylint: disable=import-outside-toplevel
    if isinstance(obj, torch.nn.Module):
        return collections.OrderedDict((prefix + k, v) for k, v in obj.state_dict().items())
    st = obj._state if isinstance(obj, Stub) else None
    if not isinstance(st, dict) or "_modules" not in st:
        return None
    out = collections.OrderedDict()
    for group in ("_parameters", "_buffers"):
        for k, v in (st.get(group) or {}).items():
            if v is not None and (group != "_buffers"
                                  or k not in st.get("_non_persistent_buffers_set", set())):
                out[prefix + k] = v.detach() if hasattr(v, "detach") else v
    for name, child in (st.get("_modules") or {}).items():
        if child is not None:
            sub = module_state_dict(child, prefix + name + ".")
            if sub:
                out.update(sub)
    return out


def checkpoint_dict(obj, path):
    """The loaded checkpoint as a dict (a pickled whole module becomes {"model": state_dict})."""
    if isinstance(obj, Stub) and module_state_dict(obj) is not None:
        return {"model": module_state_dict(obj)}
    if not isinstance(obj, dict):
        raise ConvertError("checkpoint '%s' holds a %s, not a dict or state_dict"
                           % (path, type(obj).__name__))
    return obj


def as_state_dict(x, what):
    """x (a state_dict or a pickled module) as an ordered state_dict; `what` names x in errors."""
    if is_state_dict(x):
        return collections.OrderedDict(x)
    msd = module_state_dict(x) if x is not None else None
    if msd:
        return msd
    raise ConvertError("%s is not a state_dict (a mapping of names to tensors)" % what)


def unused_entries(ck, used):
    """The checkpoint's top-level entries outside `used`, as the converter reports them."""
    return ["checkpoint entry '%s'" % k for k in sorted(str(k) for k in ck if k not in used)]
