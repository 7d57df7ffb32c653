#!/usr/bin/python3
"""Convert a training checkpoint (DIRECT, ATOMMIC, fastMRI, LPN) into an mrirecon weight file.

usage: /usr/bin/python3 weights/convert.py --framework direct|atommic|fastmri|lpn
           --architecture recurrentvarnet|cirim|e2evn|lpn [--config CONFIG] CHECKPOINT -o OUT.h5

The entry script of the `convert` package next to it (weights/convert/, which documents what is
read and how); `main` is importable from this file as well. Exit codes: 0 success, 1 conversion
failure (message on stderr), 2 usage error.
"""

import os
import sys

# this folder, so that `convert` is the package also when this file is loaded from elsewhere
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from convert.cli import main  # noqa: E402  pylint: disable=wrong-import-position

if __name__ == "__main__":
    sys.exit(main())
