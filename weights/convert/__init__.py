"""Convert a training checkpoint (DIRECT, ATOMMIC, fastMRI, LPN) into an mrirecon weight file.

Run as /usr/bin/python3 weights/convert.py (or python3 -m convert from weights/); cli.py has
the command line. The weight file (weights/README.md) holds the root attributes `architecture`
and `config` (JSON of the reference constructor's arguments, under the framework's own names,
plus the keys the engine needs that the framework passes outside the constructor, e.g. the FFT
convention) and one float32 dataset `/weights/<state_dict key>` per tensor, in the reference
shape.

What is read (see weights/README.md, "Converting checkpoints"):
  direct   DIRECT's checkpointer dict ({"model": state_dict, "sensitivity_model": state_dict,
           "optimizer": ...}) or a plain state_dict; config: the project YAML (model:,
           additional_models.sensitivity_model, physics.forward_operator/backward_operator) or a
           plain JSON of constructor arguments (+ "fft_centered").
  atommic  Lightning .ckpt ({"state_dict", "hyper_parameters": {"cfg": ...}}), the .atommic
           tar archive (model_config.yaml + model_weights.ckpt) or a plain state_dict; config:
           the checkpoint's cfg, overridden by an ATOMMIC YAML (its model: section) or JSON.
  fastmri  Lightning .ckpt of VarNetModule (keys "varnet.*", SSIM window "loss.w") or the
           released plain state_dict (*_state_dict.pt); config: hyper_parameters, a JSON of
           VarNet arguments, or the VarNet defaults.
  lpn      the LPN repo's dict ({"model_state_dict", "optimizer_state_dict", ...}) or a plain
           state_dict; config: model_config.json ({"model": "lpn_128", "params": {...}}, found
           next to the checkpoint like lpn.utils.load_model does) or a plain JSON.

Every tensor the configured architecture needs must be present with its exact name and shape;
tensors outside the model (optimizer, loss buffers, other modules) are dropped and reported; a
model tensor the configuration does not account for is an error.

Needs only Debian's python3-torch, python3-numpy, python3-h5py and python3-yaml, each imported
only where it is used. Checkpoints that pickle classes of packages that are not installed
(Lightning, ATOMMIC, DIRECT, OmegaConf) load through stand-ins; OmegaConf containers become
plain dicts and lists.

Modules:
  cli          the command line
  driver       one conversion, step by step
  errors       ConvertError and messages on stderr
  standins     the unpickler's stand-ins for classes of packages that are not installed
  checkpoint   torch.load, the .atommic archive, state_dicts inside a checkpoint
  configs      --config files (JSON/YAML), merging, typed values
  frameworks/  per framework: tensors and configuration out of its files
  arch/        per architecture: expected tensor names and shapes, structure from tensors
  tensors      prefix stripping, structure checks, matching tensors to the table
  writer       the HDF5 weight file, written atomically
"""

from .cli import main
from .driver import convert
from .errors import ConvertError

__all__ = ["ConvertError", "convert", "main"]
