"""Unpickling checkpoints that name classes of packages that are not installed.

Lightning, ATOMMIC, DIRECT and OmegaConf objects inside a checkpoint unpickle as inert stand-ins
(`Stub` subclasses): no code from the checkpoint runs. `plain` turns them, and OmegaConf
containers in particular, back into plain dicts, lists and values. Only the globals of
`_REAL_MODULES` and the builtins of `_REAL_BUILTINS` are resolved for real.
"""

import _compat_pickle
import copyreg
import pickle
import types

from .errors import ConvertError

# Globals resolved for real; everything else becomes a stand-in class (no code runs).
_REAL_MODULES = ("torch", "collections", "numpy", "_codecs", "copyreg", "datetime", "decimal",
                 "pathlib", "fractions")
_REAL_BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "int", "float", "complex", "str",
                  "bytes", "bytearray", "bool", "slice", "range", "object"}


class Stub(dict):
    """Stand-in for a pickled object of an unknown class: keeps the constructor arguments
    (`_args`), the pickled state (`_state`), dict items (it is a dict) and list items (`_items`)."""

    _stub_module = "?"
    _stub_name = "?"
    # class-level defaults: copyreg._reconstructor (protocols 0/1) bypasses __new__
    _args = ()
    _kwargs = {}
    _state = None
    _items = ()

    def __new__(cls, *args, **kwargs):
        obj = dict.__new__(cls)
        obj._args = args
        obj._kwargs = kwargs
        return obj

    def __init__(self, *args, **kwargs):  # pylint: disable=super-init-not-called
        pass

    def __setstate__(self, state):
        self._state = state

    def append(self, x):
        self.extend([x])

    def extend(self, xs):
        self._items = list(self._items) + list(xs)

    def __reduce__(self):
        raise TypeError("stand-in objects cannot be pickled")

    def __repr__(self):
        return "<stand-in %s.%s>" % (self._stub_module, self._stub_name)


_stub_classes = {}


def stub_class(module, name):
    """The stand-in class for the global module.name (one class per name)."""
    key = (module, name)
    if key not in _stub_classes:
        _stub_classes[key] = type(str(name), (Stub,), {"_stub_module": module, "_stub_name": name})
    return _stub_classes[key]


def _reconstructor(cls, base, state):
    """copyreg._reconstructor (pickle protocols 0/1) that also builds stand-ins."""
    if isinstance(cls, type) and issubclass(cls, Stub):
        obj = cls()
        if isinstance(state, dict):
            obj.update(state)
        elif isinstance(state, (list, tuple)):
            obj.extend(state)
        return obj
    return copyreg._reconstructor(cls, base, state)  # pylint: disable=protected-access


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        # Python 2 names (protocol < 3), as pickle's own find_class maps them
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if (module, name) == ("copyreg", "_reconstructor"):
            return _reconstructor
        top = module.split(".")[0]
        if top in _REAL_MODULES or (module == "builtins" and name in _REAL_BUILTINS):
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                pass
        return stub_class(module, name)


# the `pickle_module` handed to torch.load: the pickle module with _Unpickler
pickle_module = types.SimpleNamespace(**{k: getattr(pickle, k) for k in dir(pickle)
                                         if not k.startswith("__")})
pickle_module.Unpickler = _Unpickler
pickle_module.__name__ = "convert_pickle"


def plain(obj, depth=0):
    """Recursively turn stand-ins (OmegaConf DictConfig/ListConfig/nodes, Lightning
    AttributeDict, ...) into plain dicts, lists and values. Tensors are kept."""
    if depth > 100:
        raise ConvertError("configuration nested too deeply")
    if isinstance(obj, Stub):
        st = obj._state
        if isinstance(st, tuple) and len(st) == 2 and isinstance(st[0], (dict, type(None))):
            st = dict(st[0] or {}, **(st[1] or {}))   # (state, slotstate)
        if isinstance(st, dict) and "_content" in st:   # OmegaConf container
            content = st["_content"]
            if isinstance(content, str) and content.startswith("${"):
                raise ConvertError("configuration holds an unresolved interpolation %s" % content)
            if content is None or content == "???":
                return None
            return plain(content, depth + 1)
        if isinstance(st, dict) and "_val" in st:       # OmegaConf value node
            return plain(st["_val"], depth + 1)
        if len(obj) > 0:                                 # dict subclass (AttributeDict, ...)
            return {plain(k, depth + 1): plain(v, depth + 1) for k, v in obj.items()}
        if obj._items:
            return [plain(v, depth + 1) for v in obj._items]
        if obj._stub_name.endswith("Enum") or (obj._args and len(obj._args) == 1):
            return plain(obj._args[0], depth + 1) if obj._args else None
        if isinstance(st, dict):
            return {k: plain(v, depth + 1) for k, v in st.items()}
        return obj
    if isinstance(obj, dict):
        return {plain(k, depth + 1): plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, depth + 1) for v in obj]
    return obj
