"""Per-framework readers: the tensors and the configuration out of what a training framework
saved. Each module's read(obj, archive_cfg, file_cfg, arch, path) takes the loaded checkpoint,
an .atommic archive's model_config.yaml (or None), the --config mapping (or None), the
architecture and the checkpoint's path, and returns (groups, cfg, defaulted, dropped):
  groups     {"": the model's state_dict, <additional model>: its state_dict}, with the
             checkpoint's key prefixes (stripped later against the architecture's names)
  cfg        the configuration the weight file will carry (ordered dict)
  defaulted  the cfg keys that hold defaults rather than given values (for error messages)
  dropped    checkpoint entries outside the model, as reported to the user
"""

from . import atommic, direct, fastmri, lpn

# framework -> (reader, architectures it trains)
FRAMEWORKS = {
    "direct": (direct.read, ("recurrentvarnet",)),
    "atommic": (atommic.read, ("e2evn", "cirim")),
    "fastmri": (fastmri.read, ("e2evn",)),
    "lpn": (lpn.read, ("lpn",)),
}
