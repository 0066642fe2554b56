"""A cold start on two cores: while this process compiles a model's kernels from the input on (forward,
backward, then the optimizer's update), a helper process compiles them from the other end — the update
first, then each layer's forward and backward from the last layer down — into the same on-disk cache, and
each process loads what the other has finished instead of compiling it again.

The helper is started only when a warm-up is still running after :data:`DELAY` seconds (a warm cache loads
every kernel before that), on machines with at least two cores, and is stopped when the warm-up ends;
``NNPLAY_COMPILE_AHEAD=0`` turns it off. It builds the model from its config (nothing of the data crosses)
and runs its layers on zeros, so it compiles exactly the kernel signatures the model will call; anything
it cannot do it skips, and it never changes a result: the cache holds compiled code only.

The helper is :mod:`nnplay.core.models.compile_helper`, run as ``python -m`` with the model's description as
JSON on stdin.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading

import numpy as np

DELAY = 0.5
#: The helper process's module.
HELPER = "nnplay.core.models.compile_helper"


class CompileAhead:
    """The helper of one warm-up: ``start()`` arms a timer, ``stop()`` cancels it or ends the helper."""

    def __init__(self, model):
        self.model = model
        self.proc = None
        self.timer = None
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> "CompileAhead":
        if helpers_allowed():
            self.timer = threading.Timer(DELAY, self._spawn)
            self.timer.daemon = True
            self.timer.start()
        return self

    def _spawn(self) -> None:
        with self._lock:
            if self._stopped:
                return
            spec = _describe(self.model)      # only now: a warm cache never needs it
            if spec is None:
                return
            try:
                self.proc = subprocess.Popen(
                    _helper_argv(), stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                self.proc.stdin.write(spec.encode())
                self.proc.stdin.close()
            except (OSError, ValueError):     # no helper; one that started but took no input is ended
                if self.proc is not None:
                    self.proc.kill()
                    self.proc.wait()
                self.proc = None

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self.timer is not None:
                self.timer.cancel()
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
            if self.proc is not None:
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def describe_all(model, x, y) -> str | None:
    """The description a helper needs to compile *everything* one warm-up step of ``model`` on the samples
    ``x``, ``y`` takes (train step and evaluation), or None when it cannot (several inputs, odd data)."""
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        return None
    return _describe(model, full={"x": x.tolist(), "x_dtype": x.dtype.str, "y": y.tolist(), "y_dtype": y.dtype.str})


#: The longest a helper may compile before the caller gives up on it and compiles itself.
HELPER_TIMEOUT = 600.0
#: The line a helper prints when everything a warm-up step takes is in the cache.
READY = "ready"
_helpers: list = []


def _helper_argv() -> list[str]:
    return [sys.executable, "-m", HELPER]


def compile_all(spec: str) -> bool | None:
    """Run a helper on ``spec`` (from :func:`describe_all`) until it says everything a warm-up step takes
    is in the cache: True then (it goes on with the threaded twins a run may want later), False when it
    failed or took longer than :data:`HELPER_TIMEOUT`, None when a signal ended it (an interrupt: the run
    is stopping, nothing more should be compiled for it).

    The helper stays in this process group, so an interrupt stops it too; when this process ends normally
    first, the helper finishes filling the cache for the next start."""
    try:
        proc = subprocess.Popen(_helper_argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    except (OSError, ValueError):
        return False
    _helpers.append(proc)                 # it may outlive this call: kept, so it is never reported as lost
    timer = threading.Timer(HELPER_TIMEOUT, proc.kill)
    timer.daemon = True
    timer.start()
    try:
        with contextlib.suppress(OSError):
            proc.stdin.write(spec.encode())
            proc.stdin.close()
        ready = proc.stdout.readline().decode(errors="replace").strip() == READY
        proc.stdout.close()
        if ready:
            return True
        code = proc.wait()
    finally:
        timer.cancel()
    return None if code < 0 and code != -signal.SIGKILL else False


def helpers_allowed() -> bool:
    return os.environ.get("NNPLAY_COMPILE_AHEAD", "1") != "0" and (os.cpu_count() or 1) >= 2


def _describe(model, **extra) -> str | None:
    """What the helper needs to rebuild ``model`` (and ``extra`` entries), as JSON; None when it cannot: not
    built, not compiled, a kind it does not know."""
    # the classes the helper can rebuild, by name (this room sits below the models)
    if type(model).__name__ not in ("Sequential", "Functional") or not model.built \
            or getattr(model, "optimizer", None) is None:
        return None
    try:
        spec = {"class": type(model).__name__, "config": model.get_config(),
                "optimizer": model.optimizer.get_config(), "loss": model.loss.get_config(),
                "input_shape": list(model.input_shape) if type(model).__name__ == "Sequential" else None, **extra}
        return json.dumps(spec)
    except (TypeError, ValueError, AttributeError):
        return None
