#!/usr/bin/python3
"""Real MR magnitude slices for training the demonstration networks (weights/train/README.md).

    /usr/bin/python3 weights/train/prepare_data.py [--src ../shared/data/train] [--out weights/train/data]

Writes OUT/slices.npz: `train` and `val` uint8 (N, 128, 128) magnitude slices, each normalised
to max 255, zero-padded / centre-cropped to 128 x 128, and `val_ids` (subject of each val slice).
Sources (../shared/data/train, see its READMEs and licences):
  * IXI T1 2 mm (CC BY-SA 3.0): axial a[:, j, :] (120 x 90, every 3rd slice) and sagittal
    a[:, :, k] (120 x 120, every 4th slice) with the head covering > 15 % of the slice.
    The last 4 subjects in sorted order are held out for validation (VAL_SUBJECTS).
  * Colin27 (BSD-3 + MNI notice): axial slices, every 3rd, resampled 1 mm -> 1.6 mm.
  * Debian samples (BSD-3 dipy, Apache-2.0 ITK): the 62 coronal ITK T1 slices (every 2nd),
    the dipy T1 slice (resampled to 128), the 10 b0-EPI slices.
The multi-coil simulation (phase, coil maps, noise, masks) is done on the fly in train.py.
"""
import argparse
import glob
import os

import nibabel as nib
import numpy as np

VAL_SUBJECTS = ("IXI577-HH-2661", "IXI603-HH-2701", "IXI606-HH-2601", "IXI632-HH-2652")
N = 128


def fit(img):
    """Centre-crop / zero-pad to N x N, normalise to max 255, uint8."""
    h, w = img.shape
    out = np.zeros((N, N), np.float64)
    sy, sx = max(0, (h - N) // 2), max(0, (w - N) // 2)
    crop = img[sy:sy + min(h, N), sx:sx + min(w, N)]
    dy, dx = (N - crop.shape[0]) // 2, (N - crop.shape[1]) // 2
    out[dy:dy + crop.shape[0], dx:dx + crop.shape[1]] = crop
    m = out.max()
    return np.round(255 * out / m).astype(np.uint8) if m > 0 else None


def resample(img, shape):
    """Centred k-space truncation / zero-padding to `shape` (magnitude)."""
    k = np.fft.fftshift(np.fft.fft2(img))
    out = np.zeros(shape, complex)
    h, w = min(shape[0], img.shape[0]), min(shape[1], img.shape[1])
    ky, kx = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    oy, ox = (shape[0] - h) // 2, (shape[1] - w) // 2
    out[oy:oy + h, ox:ox + w] = k[ky:ky + h, kx:kx + w]
    return np.abs(np.fft.ifft2(np.fft.ifftshift(out)))


def head(s):
    return s.max() > 0 and (s > 0.1 * s.max()).mean() > 0.15


def main():
    p = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--src", default=os.path.join(here, "../../../shared/data/train"))
    p.add_argument("--out", default=os.path.join(here, "data"))
    a = p.parse_args()
    train, val, val_ids = [], [], []
    for f in sorted(glob.glob(os.path.join(a.src, "ixi_t1_2mm", "IXI*_T1.nii.gz"))):
        sid = os.path.basename(f)[:-len("_T1.nii.gz")]
        v = np.asarray(nib.load(f).dataobj.get_unscaled(), np.float64)
        sl = [v[:, j, :] for j in range(0, v.shape[1], 3)] + \
             [v[:, :, k] for k in range(0, v.shape[2], 4)]
        for s in sl:
            if head(s):
                (val if sid in VAL_SUBJECTS else train).append(fit(s))
                if sid in VAL_SUBJECTS:
                    val_ids.append(sid)
    c = np.asarray(nib.load(os.path.join(a.src, "colin27_ch2", "ch2.nii.gz")).dataobj,
                   np.float64)
    for k in range(0, c.shape[2], 3):  # axial (R, A) planes, 181 x 217 -> 113 x 136
        s = c[:, :, k]
        if head(s):
            train.append(fit(resample(s, (113, 136))))
    d = os.path.join(a.src, "debian_small")
    itk = np.asarray(nib.load(os.path.join(d, "KmeansTest_T1UCharRaw.nii.gz")).dataobj,
                     np.float64)
    for k in range(0, itk.shape[2], 2):
        if head(itk[:, :, k]):
            train.append(fit(itk[:, :, k]))
    b0 = np.asarray(nib.load(os.path.join(d, "S0_10slices.nii.gz")).dataobj, np.float64)
    for k in range(b0.shape[2]):
        s = b0[:, :, k].reshape(b0.shape[0], b0.shape[1])
        if head(s):
            train.append(fit(s))
    train.append(fit(resample(np.load(os.path.join(d, "t1_coronal_slice.npy")), (N, N))))
    train = np.stack([t for t in train if t is not None])
    val = np.stack(val)
    os.makedirs(a.out, exist_ok=True)
    np.savez_compressed(os.path.join(a.out, "slices.npz"), train=train, val=val,
                        val_ids=np.array(val_ids))
    print("train", train.shape, "val", val.shape, "->", os.path.join(a.out, "slices.npz"))


if __name__ == "__main__":
    main()
