"""A cold start on two cores: while this process compiles a model's kernels from the input on (forward,
backward, then the optimizer's update), a helper process compiles them from the other end — the update
first, then each layer's forward and backward from the last layer down — into the same on-disk cache, and
each process loads what the other has finished instead of compiling it again.

The helper is started only when a warm-up is still running after :data:`DELAY` seconds (a warm cache loads
every kernel before that), on machines with at least two cores, and is stopped when the warm-up ends;
``NNPLAY_COMPILE_AHEAD=0`` turns it off. It builds the model from its config (nothing of the data crosses)
and runs its layers on zeros, so it compiles exactly the kernel signatures the model will call; anything
it cannot do it skips, and it never changes a result: the cache holds compiled code only.

Run as ``python -m nnplay.core.experiments.compile_ahead`` with the model's description as JSON on stdin.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

DELAY = 0.5


class CompileAhead:
    """The helper of one warm-up: ``start()`` arms a timer, ``stop()`` cancels it or ends the helper."""

    def __init__(self, model):
        self.model = model
        self.proc = None
        self.timer = None
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> "CompileAhead":
        if os.environ.get("NNPLAY_COMPILE_AHEAD", "1") != "0" and (os.cpu_count() or 1) >= 2:
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
                    [sys.executable, "-m", "nnplay.core.experiments.compile_ahead"], stdin=subprocess.PIPE,
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


def _describe(model) -> str | None:
    """What the helper needs to rebuild ``model``, as JSON (None when it cannot: not built, not compiled, a
    kind it does not know)."""
    from ..models import Functional, Sequential
    if type(model) not in (Sequential, Functional) or not model.built or getattr(model, "optimizer", None) is None:
        return None
    try:
        spec = {"class": type(model).__name__, "config": model.get_config(),
                "optimizer": model.optimizer.get_config(), "loss": model.loss.get_config(),
                "input_shape": list(model.input_shape) if type(model) is Sequential else None}
        return json.dumps(spec)
    except (TypeError, ValueError, AttributeError):
        return None


def _run(spec: dict) -> None:
    """The helper's work: the optimizer's update, then every layer's forward and backward, last first."""
    import numpy as np

    from .. import optimizers
    from ..layers.core import Dense
    from ..models import Functional, Sequential
    cls = {"Sequential": Sequential, "Functional": Functional}[spec["class"]]
    model = cls.from_config(spec["config"])
    if spec["input_shape"] is not None:
        model.build(tuple(spec["input_shape"]))
    model.compile(optimizer=optimizers.get(spec["optimizer"]), loss=spec["loss"])
    model._ensure_bound()
    model.optimizer.apply(model.P, np.zeros_like(model.G))
    layers = list(model.layers)
    if all(type(layer) is Dense for layer in layers if layer.params):
        return                              # an all-Dense model trains in one fused kernel, compiled by the parent
    for layer in reversed(layers):
        shape = getattr(layer, "input_shape", None)
        if not shape or not all(isinstance(d, int) for d in shape):
            continue
        try:
            x = np.zeros((2, *shape), model.model_dtype)
            out = layer.forward(x, True)
            layer.backward(np.zeros_like(out))
        except Exception:                   # best effort: the parent compiles whatever this skips
            continue


if __name__ == "__main__":
    try:
        _run(json.loads(sys.stdin.read()))
    except Exception:  # noqa: BLE001 - a helper that fails only means the parent compiles more itself
        sys.exit(1)
