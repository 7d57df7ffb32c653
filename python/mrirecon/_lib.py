"""libmrirecon for ctypes: finding the shared library and declaring the functions of
<mrirecon/mrirecon.h> (the C header is the reference for every argument).

The library is looked for, in this order:
  1. $MRIRECON_LIBRARY, a path to libmrirecon.so.N (e.g. a build tree's build/lib/...);
  2. where `cmake --install` put it, recorded next to this file in _install.py;
  3. libmrirecon.so.N next to this file (a package folder carrying its library);
  4. the dynamic loader's own search (a system install such as the Debian package,
     LD_LIBRARY_PATH).
"""
import ctypes
import os

SOVERSION = 0
SONAME = "libmrirecon.so.%d" % SOVERSION


def _candidates():
    env = os.environ.get("MRIRECON_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    try:
        from . import _install  # written at installation
        found.append(os.path.normpath(os.path.join(here, _install.LIBRARY)))
    except ImportError:
        pass
    found.append(os.path.join(here, SONAME))
    found.append(SONAME)
    return found


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (no such file)")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("mrirecon: cannot load %s; tried: %s. Set MRIRECON_LIBRARY to its path."
                      % (SONAME, "; ".join(tried)))


lib = _load()

c_int64_p = ctypes.POINTER(ctypes.c_int64)


class MaskInfo(ctypes.Structure):
    _fields_ = [("accel", ctypes.c_double), ("center", ctypes.c_double),
                ("low_frequencies", ctypes.c_int64), ("points", ctypes.c_int64),
                ("columns", ctypes.c_int)]


class MaskStats(ctypes.Structure):
    _fields_ = [("sampled", ctypes.c_int64), ("total", ctypes.c_int64),
                ("fraction", ctypes.c_double), ("accel", ctypes.c_double),
                ("columns", ctypes.c_int), ("center_cols", ctypes.c_int64),
                ("center_h", ctypes.c_int64), ("center_w", ctypes.c_int64),
                ("psf_peak_sidelobe", ctypes.c_double), ("psf_incoherence", ctypes.c_double)]


class Metrics(ctypes.Structure):
    _fields_ = [("nmse", ctypes.c_double), ("psnr", ctypes.c_double),
                ("ssim", ctypes.c_double)]


def _declare(name, restype, argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = argtypes


_p = ctypes.c_void_p
_s = ctypes.c_char_p
_i64 = ctypes.c_int64
_st = ctypes.c_int
_declare("mrirecon_version", _s, [])
_declare("mrirecon_version_number", ctypes.c_int, [])
_declare("mrirecon_last_error", _s, [])
_declare("mrirecon_status_name", _s, [_st])
_declare("mrirecon_memory_limit", ctypes.c_uint64, [])
_declare("mrirecon_set_memory_limit", None, [ctypes.c_uint64])
_declare("mrirecon_method_create", _st, [_s, _i64, _i64, _i64, ctypes.POINTER(_p)])
_declare("mrirecon_method_free", None, [_p])
_declare("mrirecon_method_label", _s, [_p])
_declare("mrirecon_method_needs_maps", ctypes.c_int, [_p])
_declare("mrirecon_method_size", None, [_p, c_int64_p, c_int64_p, c_int64_p])
_declare("mrirecon_method_run", _st, [_p, _p, _p, _p, _p])
_declare("mrirecon_method_report", ctypes.c_char_p, [_p])
_declare("mrirecon_method_maps", _st, [_p, _p, _p, _p])
_declare("mrirecon_volume_reconstruct", _st,
         [_s, _s, _s, ctypes.POINTER(_s), c_int64_p])
_declare("mrirecon_mask_generate", _st, [_s, _i64, _i64, _s, _p, ctypes.POINTER(MaskInfo)])
_declare("mrirecon_mask_stats", _st, [_p, _i64, _i64, ctypes.POINTER(MaskStats)])
_declare("mrirecon_metrics_fastmri", _st, [_p, _p, _i64, _i64, _i64, ctypes.POINTER(Metrics)])
_declare("mrirecon_metrics_atommic", _st, [_p, _p, _i64, _i64, _i64, ctypes.POINTER(Metrics)])
