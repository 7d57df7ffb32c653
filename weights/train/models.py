"""PyTorch modules of the four architectures, identical to the C engine (tests/train/
test_models.py reproduces every model golden with them), batched for training, plus the
exporter to the project's weight file (weights/README.md).

The layers are those of the bench re-implementations (bench/torch_e2evn.py, torch_cirim.py,
torch_recurrentvarnet.py, torch_lpn.py), imported from there so that there is one copy: same
module tree and state_dict keys as fastMRI / ATOMMIC / DIRECT / the LPN repo. This file adds
  * E2EVN (ATOMMIC variant) run on a batch (B, C, H, W) with given maps (`e2evn_atommic`),
  * CIRIM as it is (already batched), with its per-time-step predictions for the loss,
  * RecurrentVarNet with DIRECT's inference path of the C engine (networks/direct_engine.h):
    ACS maps, 99th-percentile scaling, RSS output (`rvn_engine`),
  * LPN with the weight clipping of the reference (`lpn_clip`),
  * `export(path, arch, cfg, state_dict)`: the weight file `mrirecon` loads.
Needs torch and numpy; h5py only for export and the tests.
"""
import importlib.util
import json
import os
import sys
import types

import torch

try:  # the bench modules import h5py at the top; training itself does not need it
    import h5py  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.modules["h5py"] = types.ModuleType("h5py")

_BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_BENCH, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


te2e = _load("torch_e2evn")
tcirim = _load("torch_cirim")
trvn = _load("torch_recurrentvarnet")
tlpn = _load("torch_lpn")

def _rvn_block_forward(self, k, y, mask, s, h, centered):
    """bench's RecurrentVarNetBlock.forward with the zero made on k's device (the bench code
    makes it on the CPU, which CUDA tensors reject); same arithmetic."""
    e = torch.where(mask == 0, torch.zeros((), dtype=k.dtype, device=k.device), k - y)
    x = trvn.reduce_op(trvn.ifft2(k, centered), s).permute(0, 3, 1, 2)
    w, h = self.regularizer(x, h)
    r = trvn.fft2(trvn.expand_op(w.permute(0, 2, 3, 1), s), centered)
    return k - self.learning_rate * e + r, h


trvn.RecurrentVarNetBlock.forward = _rvn_block_forward

VarNet = te2e.VarNet
CIRIM = tcirim.CIRIM
RecurrentVarNet = trvn.RecurrentVarNet
LPN = tlpn.LPN
fft2c = te2e.fft2      # fft2c(x, centered, norm) on the last two dims of a complex tensor
ifft2c = te2e.ifft2


# ---- E2EVN, ATOMMIC variant, batched ------------------------------------------------------------
def e2evn_atommic(model, y, mask, sens):
    """ATOMMIC VarNet on a batch: y, sens (B, C, H, W) complex64, mask (B, 1, H, W) or (H, W).
    Returns the (B, H, W) complex image (SENSE combination) or RSS (as VarNet.forward)."""
    c_, n_ = model.centered, model.norm
    m = mask != 0
    k = y
    for c in model.cascades:
        x = (ifft2c(k, c_, n_) * sens.conj()).sum(dim=1)
        r = c.model(x)
        e = fft2c(sens * r[:, None], c_, n_)
        if model.no_dc:
            k = e
        else:
            k = k - torch.where(m, k - y, torch.zeros_like(k)) * c.dc_weight - e
    x = ifft2c(k, c_, n_)
    if model.combine == "SENSE":
        return (x * sens.conj()).sum(dim=1)
    if model.combine == "RSS":
        return torch.complex(torch.sqrt((x.real ** 2).sum(1)), torch.sqrt((x.imag ** 2).sum(1)))
    return torch.sqrt((x.abs() ** 2).sum(1))


# ---- RecurrentVarNet through DIRECT's engine path (networks/direct_engine.h) ----------------------
def _c2r(x):
    return torch.view_as_real(x.contiguous())


def _r2c(x):
    return torch.view_as_complex(x.contiguous())


def rvn_maps(y, acs, centered, sigma=0.7):
    """S0 = rss_estimate(y * ACS * g), g(w) = exp(-(l_w / sigma)^2), l = linspace(-1, 1, W)."""
    w = y.shape[-1]
    g = torch.exp(-(torch.linspace(-1, 1, w, device=y.device) / sigma) ** 2)
    img = trvn.ifft2(_c2r(y * acs * g), centered)
    img = _r2c(img)
    rss = torch.sqrt((img.abs() ** 2).sum(1, keepdim=True))
    s = torch.where(rss > 0, img / torch.where(rss > 0, rss, torch.ones_like(rss)),
                    torch.zeros_like(img))
    n = torch.sqrt((s.abs() ** 2).sum(1, keepdim=True))
    return torch.where(n > 0, s / torch.where(n > 0, n, torch.ones_like(n)), torch.zeros_like(s))


def rvn_scale(y, percentile=0.99):
    """k-th largest |y| per sample, k = int((1 - p) n) + 1 (n = C*H*W)."""
    a = y.abs().reshape(y.shape[0], -1)
    k = int((1 - percentile) * a.shape[1]) + 1
    return torch.topk(a, k, dim=1).values[:, -1]


def rvn_engine(model, y, mask, acs):
    """DIRECT engine path without a sensitivity U-Net: y (B, C, H, W) complex (masked),
    mask (B, 1, H, W) float, acs (B, 1, H, W) float. Returns (image (B, H, W) = RSS at the
    scale of y, k-space out (B, C, H, W) complex)."""
    c = model.centered
    s = rvn_scale(y).clamp_min(1e-12).view(-1, 1, 1, 1)
    maps = rvn_maps(y, acs, c)
    yn = y / s
    k = model(_c2r(yn), mask[..., None], _c2r(maps))
    x = _r2c(trvn.ifft2(k, c))
    img = torch.sqrt((x.abs() ** 2).sum(1)) * s.view(-1, 1, 1)
    return img, _r2c(k)


# ---- LPN ----------------------------------------------------------------------------------------
def lpn_init(model):
    """The reference's init_weights(mean=-10, std=0.1) of the constrained weights."""
    with torch.no_grad():
        for m in model.lin[1:]:
            m.weight.normal_(-10.0, 0.1).exp_()


def lpn_clip(model):
    """Keeps psi convex in its input: the weights of lin[1:] are clipped at 0 (wclip)."""
    with torch.no_grad():
        for m in model.lin[1:]:
            m.weight.clamp_(0)


# ---- exporter -----------------------------------------------------------------------------------
ARCH_NAMES = {"e2evn": "e2evn", "cirim": "cirim", "recurrentvarnet": "recurrentvarnet",
              "lpn": "lpn"}


def export(path, arch, cfg, state_dict, attrs=None):
    """Writes the weight file of weights/README.md: root attributes `architecture` and `config`
    (JSON), one float32 dataset /weights/<state_dict key> per tensor; extra root attributes
    (strings) from `attrs`. Written to a temporary name and renamed into place."""
    import h5py  # pylint: disable=import-outside-toplevel
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["architecture"] = ARCH_NAMES[arch]
        f.attrs["config"] = json.dumps(cfg)
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
        for k, v in state_dict.items():
            f.create_dataset("weights/" + k, data=v.detach().float().cpu().numpy())
    os.replace(tmp, path)


def build(arch, cfg):
    """The module of `arch` for a weight-file config."""
    if arch == "e2evn":
        return VarNet(cfg)
    if arch == "cirim":
        return CIRIM(cfg)
    if arch == "recurrentvarnet":
        return RecurrentVarNet(**cfg)
    if arch == "lpn":
        return LPN(cfg["in_dim"], cfg["hidden"], cfg["beta"], cfg["alpha"])
    raise ValueError("unknown architecture " + arch)
