"""Tensor-table pieces several architectures share: the U-Net layout and counting indexed
blocks (e.g. `cascades.<i>.`) in a state_dict."""

import collections
import re


def unet_keys(prefix, in_ch, out_ch, c, p):
    """fastMRI Unet / DIRECT UnetModel2d layout (e2evn.md §9.1, recurrentvarnet.md §4):
    {name: shape} for `c` first-level channels and `p` pooling layers."""
    ch = [c * 2 ** k for k in range(p + 1)]
    e = collections.OrderedDict()
    e[prefix + "down_sample_layers.0.layers.0.weight"] = (c, in_ch, 3, 3)
    e[prefix + "down_sample_layers.0.layers.4.weight"] = (c, c, 3, 3)
    for k in range(1, p):
        e[prefix + "down_sample_layers.%d.layers.0.weight" % k] = (ch[k], ch[k - 1], 3, 3)
        e[prefix + "down_sample_layers.%d.layers.4.weight" % k] = (ch[k], ch[k], 3, 3)
    e[prefix + "conv.layers.0.weight"] = (ch[p], ch[p - 1], 3, 3)
    e[prefix + "conv.layers.4.weight"] = (ch[p], ch[p], 3, 3)
    for j in range(p - 1):
        e[prefix + "up_conv.%d.layers.0.weight" % j] = (ch[p - j - 1], ch[p - j], 3, 3)
        e[prefix + "up_conv.%d.layers.4.weight" % j] = (ch[p - j - 1], ch[p - j - 1], 3, 3)
    e[prefix + "up_conv.%d.0.layers.0.weight" % (p - 1)] = (c, 2 * c, 3, 3)
    e[prefix + "up_conv.%d.0.layers.4.weight" % (p - 1)] = (c, c, 3, 3)
    e[prefix + "up_conv.%d.1.weight" % (p - 1)] = (out_ch, c, 1, 1)
    e[prefix + "up_conv.%d.1.bias" % (p - 1)] = (out_ch,)
    for j in range(p):
        e[prefix + "up_transpose_conv.%d.layers.0.weight" % j] = (ch[p - j], ch[p - j - 1], 2, 2)
    return e


def infer_unet(sd, prefix):
    """(chans, pools) of a U-Net in sd under prefix, or None."""
    w = sd.get(prefix + "down_sample_layers.0.layers.0.weight")
    if w is None or w.dim() != 4:
        return None
    pools = 0
    while prefix + "down_sample_layers.%d.layers.0.weight" % pools in sd:
        pools += 1
    return int(w.shape[0]), pools


def count_blocks(sd, pattern):
    """1 + the largest index captured by `pattern` (a regex with one integer group) over the
    keys of sd; 0 when no key matches."""
    rx = re.compile(pattern)
    idx = {int(m.group(1)) for m in (rx.match(k) for k in sd) if m}
    return max(idx) + 1 if idx else 0
