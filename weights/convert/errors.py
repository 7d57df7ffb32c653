"""The converter's one error type and its messages on stderr."""

import sys


class ConvertError(Exception):
    """A checkpoint or configuration problem; the message is shown to the user."""


_QUIET = [False]


def set_quiet(quiet):
    """With quiet set, note() prints only warnings (the CLI's -q)."""
    _QUIET[0] = bool(quiet)


def note(msg):
    """Informational messages on stderr (only warnings with --quiet)."""
    if not _QUIET[0] or msg.startswith("warning"):
        print("convert.py: " + msg, file=sys.stderr)
