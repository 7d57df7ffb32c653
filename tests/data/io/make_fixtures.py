#!/usr/bin/python3
"""Writes the small HDF5 fixtures of tests/io with the real h5py (run once; outputs committed).

h5py_types.h5  every element type the C reader must understand, as h5py writes them
fastmri_*.h5   tiny fastMRI-style files (multi-coil, single-coil, test-set style mask)
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

HEADER = """<?xml version="1.0" encoding="utf-8"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <acquisitionSystemInformation><receiverChannels>{nc}</receiverChannels></acquisitionSystemInformation>
  <encoding>
    <encodedSpace><matrixSize><x>{ex}</x><y>{ey}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{fx}</x><y>{fy}</y><z>3</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>{rx}</x><y>{ry}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{rfx}</x><y>{rfy}</y><z>3</z></fieldOfView_mm></reconSpace>
    <trajectory>cartesian</trajectory>
    <encodingLimits>
      <kspace_encoding_step_1><minimum>0</minimum><maximum>{kmax}</maximum><center>{kc}</center></kspace_encoding_step_1>
      <slice><minimum>0</minimum><maximum>{smax}</maximum><center>0</center></slice>
    </encodingLimits>
    <parallelImaging><accelerationFactor><kspace_encoding_step_1>4</kspace_encoding_step_1><kspace_encoding_step_2>1</kspace_encoding_step_2></accelerationFactor></parallelImaging>
  </encoding>
</ismrmrdHeader>
"""


def cplx(rng, shape, dtype=np.complex64):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def types(path):
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as f:
        f["c64"] = np.arange(6, dtype=np.float32).reshape(2, 3) * (1 + 2j)
        f["c128"] = (np.arange(4, dtype=np.float64) - 1.5 + 0.25j).astype(np.complex128)
        f["f64"] = np.linspace(-1, 1, 5)
        f["i16"] = np.array([[-3, 0, 7]], dtype=np.int16)
        f["u64"] = np.array([0, 1, 1 << 20], dtype=np.uint64)
        f["bool"] = np.array([True, False, True])
        f["scalar_f32"] = np.float32(2.5)
        f["num_low_frequencies"] = np.int64(26)
        f["flag"] = np.bool_(True)
        f["text_bytes"] = np.bytes_(b"hello bytes")
        f["text_vlen_bytes"] = b"hello vlen bytes"
        f["text_vlen"] = "hello vlen"
        f["strings"] = np.array([b"a", b"b"])
        # ISMRMRD's /dataset/xml: a (1,) array of one variable-length string
        f.create_dataset("dataset/xml", data=["<ismrmrdHeader/>"], dtype=h5py.string_dtype())
        f["weights/cascades.0.dc_weight"] = np.float32([0.5])
        f["weights/cascades.0.model.conv.weight"] = rng.standard_normal((2, 1, 3, 3)).astype(
            np.float32)
        f["weights/cascades.1.dc_weight"] = np.float32([0.75])
        f.attrs["vlen_str"] = "AXT1"
        f.attrs["fixed_str"] = np.bytes_("CORPD_FBK")
        f.attrs["max"] = np.float64(0.000123)
        f.attrs["acceleration"] = np.int64(4)
        f.attrs["f32"] = np.float32(1.5)
        f.attrs["vec"] = np.array([1.0, 2.0])
        f["c64"].attrs["unit"] = "a.u."


def fastmri(path, slices, nc, h, w, kspace_dtype=np.complex64, mask=None, single=False,
            sens=False, attrs=True, header=True, seed=2):
    rng = np.random.default_rng(seed)
    shape = (slices, h, w) if single else (slices, nc, h, w)
    with h5py.File(path, "w") as f:
        f["kspace"] = cplx(rng, shape).astype(kspace_dtype)
        if mask is not None:
            f["mask"] = mask
        if sens:
            f["sensitivity_map"] = cplx(rng, shape)
        if header:
            f["ismrmrd_header"] = HEADER.format(
                nc=nc, ex=2 * h, ey=w + 2, fx=2 * h * 0.5, fy=(w + 2) * 0.5, rx=h, ry=w,
                rfx=h * 0.5, rfy=w * 0.5, kmax=w - 1, kc=w // 2 - 1 + 1, smax=slices - 1
            ).encode()
        if attrs:
            f.attrs["acquisition"] = "CORPD_FBK"
            f.attrs["max"] = np.float64(3.25)
            f.attrs["norm"] = np.float64(12.5)
            f.attrs["patient_id"] = "fixture-0001"
        if mask is not None:  # test/challenge files
            f.attrs["acceleration"] = np.int64(4)
            f.attrs["num_low_frequency"] = np.int64(3)


def main():
    types(os.path.join(HERE, "h5py_types.h5"))
    w = 10
    mask = np.zeros(w, dtype=np.bool_)
    mask[[0, 4, 5, 6, 9]] = True
    fastmri(os.path.join(HERE, "fastmri_multicoil.h5"), 3, 4, 12, w, mask=mask, sens=True)
    fastmri(os.path.join(HERE, "fastmri_singlecoil.h5"), 2, 1, 8, 6, single=True, attrs=False)


if __name__ == "__main__":
    main()
