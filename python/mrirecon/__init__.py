"""mrirecon: learned and classical MRI reconstruction from Python.

A thin layer over the C library libmrirecon (<mrirecon/mrirecon.h>) through ctypes. Arrays go
in and out as numpy arrays in the C library's layouts, and are passed without a copy when they
already are C-contiguous complex64 (k-space, coil maps) or float32 (masks, images); anything
else is converted first (copied). Shapes:

    ksp   (C, H, W) complex64, centred (DC at (H/2, W/2)), zero where not sampled
    mask  (H, W) float32, nonzero = sampled
    maps  (C, H, W) complex64 coil sensitivities, or None
    image (H, W) float32 magnitude

    >>> import mrirecon
    >>> with mrirecon.Method("cs:iters=50", *ksp.shape) as m:
    ...     image = m.run(ksp, mask)
    >>> mrirecon.reconstruct_file("in.h5", "out.png", method="W.h5")

Failures raise mrirecon.Error with the library's message (which names the file, the object and
what was expected) and its status name. A Method is used by one thread at a time (a lock
enforces it); the module's functions may be called from any thread. The library releases the
GIL during every call.
"""
import ctypes
import json
import os
import threading

import numpy as np

from ._lib import MaskInfo, MaskStats, Metrics, lib

__all__ = ["Error", "Method", "version", "memory_limit", "set_memory_limit", "reconstruct",
           "reconstruct_file", "mask", "mask_stats", "metrics"]


class Error(RuntimeError):
    """A failure of the library: str(e) is its message, e.status its status name (e.g.
    "MRIRECON_ERR_IO") and e.code the status value (negative)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.status = lib.mrirecon_status_name(code).decode()


def _check(code):
    if code != 0:
        raise Error(code, lib.mrirecon_last_error().decode(errors="replace"))


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return lib.mrirecon_version().decode()


__version__ = version()


def memory_limit():
    """The limit in bytes on each allocation that file contents decide (default: half of the
    physical memory); a file asking for more fails with mrirecon.Error (MRIRECON_ERR_NOMEM)."""
    return lib.mrirecon_memory_limit()


def set_memory_limit(nbytes):
    """Sets that limit (process-wide); 0 restores the default."""
    if nbytes < 0:
        raise ValueError("memory limit %r: expected bytes >= 0 (0: the default)" % (nbytes,))
    lib.mrirecon_set_memory_limit(int(nbytes))


def _path(p):
    return os.fsencode(p)


def _array(a, dtype, shape, name):
    """a as a C-contiguous, aligned array of dtype and shape: a itself where it already is one,
    else a converted copy (values must convert within their kind: complex k-space does not
    become a real mask)."""
    a = np.asarray(a)
    if a.shape != shape:
        raise ValueError("%s has shape %s; expected %s" % (name, a.shape, shape))
    if a.dtype != dtype:
        if not np.can_cast(a.dtype, dtype, casting="same_kind"):
            raise TypeError("%s is %s; expected %s" % (name, a.dtype, np.dtype(dtype)))
        a = a.astype(dtype)
    return np.require(a, dtype, ["C_CONTIGUOUS", "ALIGNED"])


def _output(out, dtype, shape, name):
    """out checked as a writable C-contiguous array of dtype and shape, or a new one."""
    if out is None:
        return np.empty(shape, dtype)
    if (not isinstance(out, np.ndarray) or out.dtype != dtype or out.shape != shape or
            not out.flags.c_contiguous or not out.flags.writeable):
        raise ValueError("%s must be a writable C-contiguous %s array of shape %s"
                         % (name, np.dtype(dtype), shape))
    return out


def _ptr(a):
    return None if a is None else a.ctypes.data


class Method:
    """A reconstruction method made for k-space of `coils` coils and h x w.

    spec is what `mrirecon recon` accepts as a method: "zf", "sense", "cg", "cs",
    "cs:iters=100,lambda=0.005", "cg:maps=acs", a network weight file "W.h5",
    "model:weights=W.h5,maps=acs", "pnp-lpn:W.h5". Everything is allocated here; run() then
    reconstructs slice after slice. close() (or a with block) releases it.
    """

    def __init__(self, spec, coils, h, w):
        handle = ctypes.c_void_p()
        _check(lib.mrirecon_method_create(spec.encode(), coils, h, w, ctypes.byref(handle)))
        self._handle = handle
        self._lock = threading.Lock()
        self.shape = (int(coils), int(h), int(w))
        self.spec = spec

    def _h(self):
        if self._handle is None:
            raise ValueError("the method is closed")
        return self._handle

    @property
    def label(self):
        """What outputs record as the method: "cg", or the network's architecture."""
        return lib.mrirecon_method_label(self._h()).decode()

    @property
    def needs_maps(self):
        """Whether the method uses coil maps."""
        return bool(lib.mrirecon_method_needs_maps(self._h()))

    def run(self, ksp, mask, maps=None, out=None):
        """The (H, W) float32 image of one slice. maps: the caller's coil maps, or None for the
        method's own (ESPIRiT unless the spec says maps=acs). out: an array to write into."""
        c, h, w = self.shape
        ksp = _array(ksp, np.complex64, (c, h, w), "ksp")
        mask = _array(mask, np.float32, (h, w), "mask")
        if maps is not None:
            maps = _array(maps, np.complex64, (c, h, w), "maps")
        out = _output(out, np.float32, (h, w), "out")
        with self._lock:
            _check(lib.mrirecon_method_run(self._h(), _ptr(ksp), _ptr(mask), _ptr(maps),
                                           _ptr(out)))
        return out

    def report(self):
        """The trust report of the last run() as a dict (README "Can this image be trusted?"):
        residual, unsampled, steps (per cascade / time step / iteration), score, flagged,
        reason, ...; None before the first run."""
        with self._lock:
            text = lib.mrirecon_method_report(self._h())
        return None if text is None else json.loads(text.decode())

    def maps(self, ksp, mask, out=None):
        """The (C, H, W) complex64 coil maps the method would make for this slice (ESPIRiT, or
        the ACS estimate with maps=acs)."""
        c, h, w = self.shape
        ksp = _array(ksp, np.complex64, (c, h, w), "ksp")
        mask = _array(mask, np.float32, (h, w), "mask")
        out = _output(out, np.complex64, (c, h, w), "out")
        with self._lock:
            _check(lib.mrirecon_method_maps(self._h(), _ptr(ksp), _ptr(mask), _ptr(out)))
        return out

    def close(self):
        if getattr(self, "_handle", None) is not None:
            lib.mrirecon_method_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        state = "closed" if self._handle is None else "label=%r" % self.label
        return "mrirecon.Method(%r, %d, %d, %d; %s)" % ((self.spec,) + self.shape + (state,))


def reconstruct(ksp, mask, method="cs", maps=None):
    """One slice with a method made for it: Method(method, *ksp.shape).run(ksp, mask, maps)."""
    shape = np.shape(ksp)
    if len(shape) != 3:
        raise ValueError("ksp has shape %s; expected (coils, H, W)" % (shape,))
    with Method(method, *shape) as m:
        return m.run(ksp, mask, maps)


def reconstruct_file(input, output, method="cs", mask=None, slices=None, crop=True,
                     series=None):
    """Reconstructs every slice of a fastMRI-layout file or an ISMRMRD raw dataset and writes
    output (.h5, .png or .nii) atomically, as `mrirecon recon` does. mask: a .npy file to
    undersample a fastMRI file with; slices: (first, end) for slices first .. end-1; crop:
    crop to the header's recon matrix (fastMRI); series: ISMRMRD image_series_index.
    Returns the number of images written."""
    opts = []
    if mask is not None:
        opts += [b"mask", _path(mask)]
    if slices is not None:
        opts += [b"slices", ("%d:%d" % tuple(slices)).encode()]
    if not crop:
        opts += [b"crop", b"0"]
    if series is not None:
        opts += [b"series", str(int(series)).encode()]
    options = (ctypes.c_char_p * (len(opts) + 1))(*opts, None)
    images = ctypes.c_int64()
    _check(lib.mrirecon_volume_reconstruct(method.encode(), _path(input), _path(output),
                                           options, ctypes.byref(images)))
    return images.value


def mask(spec, shape, seed_name=None):
    """An (H, W) float32 undersampling mask (1 = sampled) for k-space of shape (H, W), as
    fastMRI, ATOMMIC or BART make it, from a spec such as "equispaced:accel=4,center=0.08" or
    "bart-poisson:accel_y=2,accel_z=2,calib=24" (`mrirecon mask --help`). Without seed= in the
    spec the seed comes from seed_name's base name, as fastMRI seeds per file (else 0).
    Returns (mask, info) with info a dict: accel, center, low_frequencies, points, columns."""
    h, w = shape
    out = np.empty((h, w), np.float32)
    info = MaskInfo()
    _check(lib.mrirecon_mask_generate(spec.encode(), h, w,
                                      None if seed_name is None else _path(seed_name),
                                      _ptr(out), ctypes.byref(info)))
    return out, {"accel": info.accel, "center": info.center,
                 "low_frequencies": info.low_frequencies, "points": info.points,
                 "columns": bool(info.columns)}


def mask_stats(mask):
    """Statistics of an (H, W) mask or a length-W column mask (nonzero = sampled): sampled,
    total, fraction, accel, columns, center_cols, center_h, center_w, psf_peak_sidelobe,
    psf_incoherence (see `mrirecon mask`)."""
    m = np.asarray(mask)
    if m.ndim == 1:
        m = m.reshape(1, -1)
    if m.ndim != 2:
        raise ValueError("mask has shape %s; expected (H, W) or (W,)" % (np.shape(mask),))
    m = _array(m, np.float32, m.shape, "mask")
    s = MaskStats()
    _check(lib.mrirecon_mask_stats(_ptr(m), m.shape[0], m.shape[1], ctypes.byref(s)))
    d = {name: getattr(s, name) for name, _ in MaskStats._fields_}
    d["columns"] = bool(d["columns"])
    return d


def metrics(target, pred, definition="fastmri"):
    """NMSE, PSNR and SSIM of pred against target, (S, H, W) or (H, W) float32 magnitudes.
    definition "fastmri": fastMRI evaluate.py's numbers for the volume (a dict; crop both to
    (W, W) first to reproduce evaluate.py exactly); "atommic": ATOMMIC's per-slice numbers (a
    list of dicts, one per slice)."""
    t = np.asarray(target)
    p = np.asarray(pred)
    if t.ndim not in (2, 3):
        raise ValueError("target has shape %s; expected (S, H, W) or (H, W)" % (t.shape,))
    if p.shape != t.shape:
        raise ValueError("pred has shape %s; target %s" % (p.shape, t.shape))
    shape = t.shape if t.ndim == 3 else (1,) + t.shape
    t = _array(t.reshape(shape), np.float32, shape, "target")
    p = _array(p.reshape(shape), np.float32, shape, "pred")
    names = [name for name, _ in Metrics._fields_]
    if definition == "fastmri":
        m = Metrics()
        _check(lib.mrirecon_metrics_fastmri(_ptr(t), _ptr(p), *shape, ctypes.byref(m)))
        return {name: getattr(m, name) for name in names}
    if definition == "atommic":
        ms = (Metrics * shape[0])()
        _check(lib.mrirecon_metrics_atommic(_ptr(t), _ptr(p), *shape, ms))
        return [{name: getattr(m, name) for name in names} for m in ms]
    raise ValueError("definition %r: expected 'fastmri' or 'atommic'" % (definition,))
