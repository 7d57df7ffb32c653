"""The command line (weights/convert.py, python3 -m convert):

  convert.py --framework direct|atommic|fastmri|lpn --architecture recurrentvarnet|cirim|e2evn|lpn
             [--config CONFIG] [-q] CHECKPOINT -o OUT.h5

Exit codes: 0 success, 1 conversion failure (message on stderr), 2 usage error.
"""

import argparse
import importlib
import sys

from .arch import ARCHITECTURES
from .driver import convert
from .errors import ConvertError, set_quiet
from .frameworks import FRAMEWORKS


def build_parser():
    p = argparse.ArgumentParser(
        prog="convert.py",
        description="Convert a DIRECT, ATOMMIC, fastMRI or LPN checkpoint into an mrirecon "
                    "weight file (HDF5; see weights/README.md).",
        epilog="framework/architecture pairs: direct/recurrentvarnet, atommic/e2evn, "
               "atommic/cirim, fastmri/e2evn, lpn/lpn. Exit codes: 0 success, 1 conversion "
               "failure, 2 usage error.")
    p.add_argument("--framework", required=True, choices=sorted(FRAMEWORKS),
                   help="the framework that wrote the checkpoint")
    p.add_argument("--architecture", required=True, choices=ARCHITECTURES,
                   help="the network in the checkpoint")
    p.add_argument("--config", metavar="CONFIG",
                   help="the configuration as the framework writes it: DIRECT project YAML, "
                        "ATOMMIC YAML, LPN model_config.json, or a JSON of constructor "
                        "arguments; overrides what the checkpoint carries")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help=".pt / .ckpt / .atommic file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.h5",
                   help="weight file to write (atomically)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")
    return p


def main(argv=None):
    """Runs the command line on argv (default sys.argv[1:]); returns the exit code. argparse
    exits (SystemExit 0 or 2) itself for --help and usage errors."""
    parser = build_parser()
    args = parser.parse_args(argv)   # exits 2 on usage errors
    archs = FRAMEWORKS[args.framework][1]
    if args.architecture not in archs:
        parser.print_usage(sys.stderr)
        print("convert.py: error: --framework %s has no --architecture %s (it has: %s)"
              % (args.framework, args.architecture, ", ".join(archs)), file=sys.stderr)
        return 2
    try:
        for name in ("torch", "numpy", "h5py", "yaml"):
            importlib.import_module(name)
    except ImportError as e:
        print("convert.py: error: %s (install python3-torch, python3-h5py, python3-yaml and run "
              "with /usr/bin/python3)" % e, file=sys.stderr)
        return 1
    set_quiet(args.quiet)
    try:
        convert(args.framework, args.architecture, args.checkpoint, args.config, args.output,
                args.quiet)
    except ConvertError as e:
        print("convert.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0
