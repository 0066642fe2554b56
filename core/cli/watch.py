"""``nnplay watch script.py [args]``: run a learner's own Keras-style script under nnplay (``from nnplay import
keras``) and show every ``fit()`` it makes from the inside.

On a terminal the playground opens (``nnplay.tui.watch``, launched from :mod:`.main`); each fit becomes a
live run with the playground's views, and the script carries on when the run ends or the view is closed.
With ``--json`` nothing opens: every fit streams one JSON object per epoch, as ``nnplay run --json`` does,
and the script's own prints go to stderr so stdout stays JSON.
"""
from __future__ import annotations

import contextlib
import json
import os
import runpy
import sys
import traceback

from ..errors import NnplayError
from ..training import Diverged, EpochEnded, Finished
from ..training.watch import watching
from .exits import EXIT_BAD_INPUT, EXIT_OK
from .reporters import _finite, _write


def check_script(path: str) -> str:
    """The script's path, or one line saying why it cannot run."""
    if not os.path.exists(path):
        raise NnplayError(f"{path}: no such script; give the path of a Python file, e.g. nnplay watch train.py")
    if not os.path.isfile(path):
        raise NnplayError(f"{path}: not a regular file; give the path of a Python script")
    return os.path.abspath(path)


def run_script(path: str, args: list[str]) -> int:
    """Run ``path`` as ``__main__`` with ``sys.argv = [path, *args]``; its exit status.

    An exception in the script is the learner's own error: its traceback is printed (an nnplay mistake in
    one line, at the script's line that caused it) and the status is 1.
    """
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(path))
    try:
        runpy.run_path(path, run_name="__main__")
        return EXIT_OK
    except SystemExit as exc:
        code = exc.code
        return 0 if code is None else code if isinstance(code, int) else 1
    except NnplayError as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == path]
        where = f"{os.path.basename(path)}:{frames[-1].lineno}: " if frames else ""
        print(f"nnplay: error: {where}{exc}", file=sys.stderr)
        return 1
    except Exception:  # the script's own bug: show it the way Python would
        traceback.print_exc()
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


class JsonWatcher:
    """Streams each fit as JSON lines: ``fit`` (what starts), ``epoch`` (one per epoch), ``fit_end``."""

    def __init__(self, out):
        self.out = out
        self.fits = 0
        self.failed = False

    def emit(self, obj: dict) -> None:
        _write(self.out, json.dumps(obj, allow_nan=False) + "\n")

    def __call__(self, model, trainer, verbose):
        k, self.fits = self.fits, self.fits + 1
        self.emit({"event": "fit", "fit": k, "model": model.name, "params": model.count_params(),
                   "epochs": trainer.epochs, "initial_epoch": trainer.initial_epoch, "steps": trainer.steps})
        for ev in trainer.run():
            if isinstance(ev, EpochEnded):
                self.emit({"event": "epoch", "fit": k, "model": model.name, "epoch": ev.epoch + 1,
                           "epochs": ev.epochs, **_finite({key: float(v) for key, v in ev.logs.items()}),
                           "seconds": round(ev.seconds, 4), "learning_rate": ev.learning_rate})
            elif isinstance(ev, Diverged):
                print(ev.message, file=sys.stderr, flush=True)
                self.failed = True
            elif isinstance(ev, Finished):
                self.emit({"event": "fit_end", "fit": k, "model": model.name, "reason": ev.reason,
                           "epochs_run": ev.epochs_run, "logs": _finite({key: float(v) for key, v in ev.logs.items()})})
        return trainer.history


def cmd_watch_json(args) -> int:
    """``nnplay watch --json``: run the script, stream its fits as JSON lines on stdout, then a summary."""
    try:
        path = check_script(args.script)
    except NnplayError as exc:
        print(f"nnplay: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = sys.stdout
    watcher = JsonWatcher(out)
    with watching(watcher), contextlib.redirect_stdout(sys.stderr):
        code = run_script(path, list(args.args))
    status = "failed" if code else ("diverged" if watcher.failed else "success")
    watcher.emit({"event": "summary", "script": args.script, "fits": watcher.fits, "status": status,
                  "exit_code": code})
    return code
