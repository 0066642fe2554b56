"""``nnplay share SOURCE``: print a preset as one ``nnplay1:`` line to send (see :mod:`nnplay.core.presets.share`).

SOURCE is anything ``nnplay run`` accepts: a shipped preset name, a ``.toml`` file or a share string (which is
printed again, cleaned of what a chat program did to it). The line is the only output on stdout; a note for
the receiver, if any, goes to stderr. Errors propagate as :class:`~nnplay.core.errors.NnplayError` and
``nnplay`` prints them as one line (exit 2, :mod:`.exits`).
"""
from __future__ import annotations

import os
import sys

from ..presets import load_preset, share_string
from ..presets.validate import FILE_SUFFIXES
from .exits import EXIT_OK


def cmd_share(args) -> int:
    preset = load_preset(args.source)
    line = share_string(preset)
    print(line)
    if os.path.splitext(preset.data.name.strip())[1].lower() in FILE_SUFFIXES:
        print(f"note: the data comes from the file {preset.data.name!r}; whoever opens this string needs that "
              f"file too", file=sys.stderr)
    return EXIT_OK
