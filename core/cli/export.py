"""``nnplay export SOURCE --to keras|pytorch [--out DIR]``: write a preset or a trained run as a standalone
Keras or PyTorch script with its weights, a check and the data (see :mod:`nnplay.core.export`).

Exit codes: 0 written; 2 bad input or something the framework cannot express, named in one line on stderr
(nothing is written then)."""
from __future__ import annotations

import sys

from ..export import export_source
from .exits import EXIT_OK


def cmd_export(args) -> int:
    result = export_source(args.source, args.to, args.out)
    names = ", ".join(p.name for p in result.files)
    print(f"wrote {result.out_dir}: {names}")
    if not result.data_written:
        print("data.npz was not written (the data is too big); the script says how to make it", file=sys.stderr)
    print(f"check it: python {result.script} --check")
    return EXIT_OK
