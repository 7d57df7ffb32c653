"""LPN tensor tables (the learned proximal network lpn_128.LPN of the LPN repo). Spec: lpn.md."""

import collections
import math

from ..configs import get_int
from ..errors import ConvertError, note

LPN_KEYS = ("in_dim", "hidden", "beta", "alpha")
# the engine's PnP keys a plain JSON may carry besides the constructor's
LPN_ENGINE_KEYS = ("pnp_solver", "pnp_iterations", "pnp_step", "pnp_tol", "patch_stride",
                   "cover_border", "patch_window", "admm_rho", "admm_scale", "cg_iterations",
                   "cg_tol", "normalize")
SHAPE_KEYS = "in_dim, hidden"


def expected(cfg):
    """{name: shape} of lpn_128.LPN(in_dim, hidden, beta, alpha) (fixed 128x128 patches)."""
    c = get_int(cfg, "in_dim")
    k = get_int(cfg, "hidden")
    for key in ("beta", "alpha"):
        v = cfg.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConvertError("config '%s' must be a number, got %r" % (key, v))
    e = collections.OrderedDict()
    e["lin.0.weight"] = (k, c, 3, 3)
    e["lin.0.bias"] = (k,)
    for i in range(1, 6):
        e["lin.%d.weight" % i] = (k, k, 3, 3)
    e["lin.6.weight"] = (64, k, 16, 16)
    e["lin.7.weight"] = (1, 64)
    e["lin.7.bias"] = (1,)
    for i in range(5):
        e["res.%d.weight" % i] = (k, c, 3, 3)
        e["res.%d.bias" % i] = (k,)
    e["res.5.weight"] = (64, c, 16, 16)
    e["res.5.bias"] = (64,)
    return e


def infer(sd):
    """in_dim and hidden as the first layer's weight gives them."""
    w = sd.get("lin.0.weight")
    if w is None or w.dim() != 4:
        return {}
    return {"hidden": int(w.shape[0]), "in_dim": int(w.shape[1])}


def warn(tensors):
    """Warns when a weight that must be >= 0 for convexity is negative (float32 arrays)."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    for k in ["lin.%d.weight" % i for i in range(1, 8)]:
        if np.any(tensors[k] < 0):
            note("warning: '%s' has negative entries: the LPN is not convex (a training "
                 "checkpoint clamps them to >= 0)" % k)
