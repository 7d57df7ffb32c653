"""Per-architecture tensor tables: for a configuration, the exact state_dict names and shapes
the engine's network needs, and what the tensors of a checkpoint say about the configuration.

One `Architecture` row per architecture (E2E-VarNet twice: fastMRI's and ATOMMIC's variants):
  defaults    constructor defaults the tables rely on when the configuration leaves a key out
  expected    cfg -> {name: shape} (ordered); raises ConvertError on an unusable cfg
  infer       state_dict -> {cfg key: value the tensors imply}; keys starting with "_" are
              facts only `check` reads
  shape_keys  the config keys that decide names and shapes, named in mismatch errors
  check       (cfg, inferred) -> None, structure checks beyond one key per value, or None
  warn        (tensors) -> None, warnings about the converted float32 arrays, or None
"""

import collections

from . import cirim, e2evn, lpn, recurrentvarnet

ARCHITECTURES = ("recurrentvarnet", "cirim", "e2evn", "lpn")

Architecture = collections.namedtuple(
    "Architecture", ("defaults", "expected", "infer", "shape_keys", "check", "warn"))

_TABLES = {
    "e2evn/fastmri": Architecture({}, e2evn.fastmri_expected, e2evn.fastmri_infer,
                                  e2evn.FASTMRI_SHAPE_KEYS, None, None),
    "e2evn/atommic": Architecture(e2evn.ATOMMIC_VN_DEFAULTS, e2evn.atommic_expected,
                                  e2evn.atommic_infer, e2evn.ATOMMIC_SHAPE_KEYS, None, None),
    "cirim": Architecture(cirim.CIRIM_DEFAULTS, cirim.expected, cirim.infer, cirim.SHAPE_KEYS,
                          None, None),
    "recurrentvarnet": Architecture({}, recurrentvarnet.expected, recurrentvarnet.infer,
                                    recurrentvarnet.SHAPE_KEYS, recurrentvarnet.check, None),
    "lpn": Architecture({}, lpn.expected, lpn.infer, lpn.SHAPE_KEYS, None, lpn.warn),
}


def architecture(arch, framework):
    """The row of `arch` as `framework` builds it (e2evn differs between fastMRI and ATOMMIC)."""
    return _TABLES.get(arch + "/" + framework) or _TABLES[arch]
