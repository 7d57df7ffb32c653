"""python3 -m convert (from weights/): the same command line as weights/convert.py."""

import sys

from .cli import main

sys.exit(main())
