"""One conversion: checkpoint + configuration -> weight file.

  load (checkpoint.py) -> framework reader (frameworks/) -> architecture table (arch/) ->
  prefixes stripped, structure checked, tensors matched (tensors.py) -> written (writer.py)
"""

import collections
import json
import os

from .arch import architecture
from .arch.recurrentvarnet import SENS_PREFIX
from .checkpoint import load_checkpoint
from .configs import read_config_file
from .errors import ConvertError, note
from .frameworks import FRAMEWORKS
from .tensors import check_structure, match_tensors, strip_prefix
from .writer import write_weight_file


def _gather(groups, expected, quiet):
    """One state_dict under the architecture's names: the sensitivity model's tensors under
    `sensitivity_model.`, then the model's with its key prefix stripped. Returns (sd, dropped)."""
    sd = collections.OrderedDict()
    dropped = []
    for name, g in groups.items():
        if name == "":
            continue
        if name != "sensitivity_model":
            dropped.append("checkpoint entry '%s' (additional model)" % name)
            continue
        # strip any DataParallel prefix inside the additional model
        inner, _, _ = strip_prefix(g, set(k[len(SENS_PREFIX):] for k in expected
                                          if k.startswith(SENS_PREFIX)))
        for k, v in inner.items():
            sd[SENS_PREFIX + k] = v
    model_expected = {k for k in expected if not k.startswith(SENS_PREFIX)}
    inner, prefix, outside = strip_prefix(groups[""], model_expected)
    if prefix and not quiet:
        note("stripped key prefix '%s'" % prefix)
    dropped += outside
    for k, v in inner.items():
        if k in sd:
            raise ConvertError("key '%s' appears twice" % k)
        sd[k] = v
    return sd, dropped


def _report(out_path, arch, cfg, tensors, dropped):
    nparam = sum(int(a.size) for a in tensors.values())
    print("wrote %s: architecture %s, %d tensors, %d parameters"
          % (out_path, arch, len(tensors), nparam))
    print("config: %s" % json.dumps(cfg))
    entries = [d for d in dropped if d.startswith("checkpoint entry ")]
    other = [d for d in dropped if not d.startswith("checkpoint entry ")]
    if entries:
        print("dropped checkpoint entries: %s" % ", ".join(
            d[len("checkpoint entry "):] for d in entries))
    if other:
        print("dropped tensors (not part of the network): %s" % ", ".join(other))


def convert(framework, arch, checkpoint, config_path, out_path, quiet=False):
    """Converts `checkpoint` (written by `framework`, holding an `arch`) with the optional
    --config file into the weight file out_path; prints a summary unless quiet. Returns (cfg,
    {name: float32 array}, dropped). Raises ConvertError naming the file, key or value."""
    obj, archive_cfg = load_checkpoint(checkpoint)
    file_cfg = read_config_file(config_path) if config_path else None
    read = FRAMEWORKS[framework][0]
    groups, cfg, defaulted, dropped = read(obj, archive_cfg, file_cfg, arch, checkpoint)

    table = architecture(arch, framework)
    full = dict(table.defaults, **cfg)   # defaults the network relies on, for the structure
    expected = table.expected(full)
    sd, more = _gather(groups, expected, quiet)
    dropped += more

    inferred = table.infer(sd)
    check_structure(full, inferred, set(cfg) - defaulted)
    if table.check:
        table.check(full, inferred)
    tensors, more = match_tensors(sd, expected, table.shape_keys)
    dropped += more
    if table.warn:
        table.warn(tensors)

    for k, v in cfg.items():
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ConvertError("config '%s' = %r cannot be written as JSON" % (k, v)) from e
    source = {"framework": framework, "checkpoint": os.path.basename(checkpoint)}
    if config_path:
        source["config"] = os.path.basename(config_path)
    write_weight_file(out_path, arch, cfg, tensors, source)
    if not quiet:
        _report(out_path, arch, cfg, tensors, dropped)
    return cfg, tensors, dropped

