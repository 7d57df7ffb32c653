"""The weight file (weights/README.md): root attributes `architecture`, `config` (JSON) and
`converted_from` (JSON), one float32 dataset /weights/<state_dict key> per tensor in the
reference shape. Written under a temporary name in the target folder and renamed into place, so
a failed run leaves nothing behind."""

import json
import os
import tempfile

from .errors import ConvertError


def write_weight_file(path, arch, cfg, tensors, source):
    """Writes path atomically; tensors: {name: float32 numpy array} in the order to store."""
    import h5py  # pylint: disable=import-outside-toplevel
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise ConvertError("cannot write '%s': no directory '%s'" % (path, d))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["architecture"] = arch
            f.attrs["config"] = json.dumps(cfg)
            f.attrs["converted_from"] = json.dumps(source)
            g = f.create_group("weights")
            for k, a in tensors.items():
                g.create_dataset(k, data=a)
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError) as e:
        raise ConvertError("cannot write '%s': %s" % (path, e)) from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
