#!/usr/bin/python3
"""Writes a trained checkpoint of train.py (OUT/<arch>.pt) as the project's weight file.

    /usr/bin/python3 weights/train/export.py RUN/<arch>.pt -o weights/shipped/<name>.h5 [--set JSON]

Root attributes: `architecture`, `config` (the JSON train.py built the module from: ATOMMIC
keys + "variant": "atommic" for E2EVN, ATOMMIC's for CIRIM, DIRECT's RecurrentVarNet arguments
+ fft_centered, LPN's in_dim/hidden/beta/alpha + the engine's PnP keys), `licence`,
`attribution`, `training` (JSON: steps, seconds, batch, seed, device) and one float32 dataset
/weights/<state_dict key> per tensor (weights/README.md).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402  pylint: disable=wrong-import-position

LICENCE = "CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/)"
ATTRIBUTION = ("Trained on images derived from the IXI dataset (Data from the IXI project, "
               "https://brain-development.org/ixi-dataset/; CC BY-SA 3.0), the Colin 27 "
               "template (MNI / Debian mricron-data, BSD-3) and Debian dipy/ITK sample slices "
               "(BSD-3, Apache-2.0). See weights/shipped/README.md.")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--set", default="{}",
                   help="JSON object merged into the config: engine-side keys such as the LPN's "
                        "PnP settings (pnp_iterations, patch_stride, cover_border, patch_window, ...)")
    a = p.parse_args()
    ck = torch.load(a.checkpoint, map_location="cpu")
    arch, cfg = ck["arch"], dict(ck["config"])
    model = models.build(arch, cfg)
    model.load_state_dict(ck["state_dict"], strict=True)
    cfg.update(json.loads(a.set))
    info = {k: ck.get(k) for k in ("steps", "seconds", "batch", "seed", "device")}
    models.export(a.output, arch, cfg, model.state_dict(),
                  {"licence": LICENCE, "attribution": ATTRIBUTION,
                   "training": json.dumps(info)})
    n = sum(v.numel() for v in model.state_dict().values())
    print("%s: %s, %d tensors, %d values" % (a.output, arch, len(ck["state_dict"]), n))


if __name__ == "__main__":
    main()
