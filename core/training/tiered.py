"""A cold start that trains at once: the kernels compile in the background while the run trains on the
NumPy tier (:mod:`nnplay.core.tiers`), and the trainer switches to them between two batches.

:func:`start_warm_up` runs a warm-up in a thread (an experiment's, or :class:`ModelWarmUp` for ``fit``: it
compiles, or loads from the cache, every kernel the model takes) and waits until it has either ended (a
warm cache: the run uses the kernels from its first batch, so warm runs stay bit-for-bit repeatable) or met
its first real compilation (a cold cache: the run starts on NumPy). On a cold cache the compiling moves to a
helper process when it can (:func:`~.compile_ahead.compile_all`): compiling in the thread would share
Python's GIL with the NumPy training and take half as long again; the thread then loads what the helper
wrote to the cache.
``NNPLAY_NUMPY_TIER=0`` turns the NumPy tier off: the run then waits for the kernels.
"""
from __future__ import annotations

import os
import threading
import time

from . import compile_ahead
from . import data

#: How long a warm-up may load kernels from the cache before a run starts on NumPy anyway (it starts at once
#: when the warm-up compiles something).
LOAD_WAIT = 30.0


def numpy_tier_enabled() -> bool:
    return os.environ.get("NNPLAY_NUMPY_TIER", "1") != "0"


class _ColdCache(Exception):
    """Raised in the warm-up thread at its first compilation, to hand the compiling to a helper process."""


class Compiling:
    """An experiment's warm-up running in a daemon thread; :meth:`ready` is True once it has ended."""

    def __init__(self, experiment):
        self.experiment = experiment
        self.seconds: float | None = None
        self.error: BaseException | None = None
        self.helper: bool | None = None          # whether a helper process compiled (None: none ran)
        self.compiled = threading.Event()       # set on the first real compilation (a cache miss)
        self._done = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="nnplay-compile", daemon=True)

    def start(self) -> "Compiling":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            try:
                self._warm_up(hand_over=compile_ahead.helpers_allowed())
            except _ColdCache:                      # described only now: a warm cache never needs it
                spec = self._helper_spec()
                if spec is not None:
                    self.helper = compile_ahead.compile_all(spec)
                if spec is None or self.helper is not None:     # None: interrupted, the run is stopping
                    self._warm_up(hand_over=False)  # loads what the helper compiled; compiles what it missed
        except BaseException as exc:  # noqa: BLE001 - warming is an optimisation; training meets any real error
            self.error = exc
        finally:
            self.seconds = time.perf_counter() - self._t0
            self._done.set()

    def _helper_spec(self) -> str | None:
        try:
            return self.experiment.helper_spec()
        except Exception:  # noqa: BLE001 - a warm-up a helper cannot take: this thread compiles
            return None

    def _warm_up(self, hand_over: bool) -> None:
        from numba.core import event as nb_event

        owner, compiled = self._thread, self.compiled

        class _Watch(nb_event.Listener):
            def on_start(self, event):
                compiled.set()
                # only this thread's own first compile (a top-level kernel: nothing of it is typed yet)
                if hand_over and threading.current_thread() is owner:
                    raise _ColdCache

            def on_end(self, event):
                pass

        with nb_event.install_listener("numba:compile", _Watch()):
            self.experiment.warm_up()

    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def wait_for_start(self) -> bool:
        """Block until the warm-up has ended (True) or has begun compiling (False)."""
        deadline = time.perf_counter() + LOAD_WAIT
        while not self._done.wait(0.01):
            if self.compiled.is_set() or time.perf_counter() > deadline:
                return False
        return True


class ModelWarmUp:
    """The warm-up of a model's own training (``fit``, an experiment): a copy of the model, compiled as it
    is, takes one train step and one evaluation on two samples, so the model itself, its weights, optimizer
    state and random streams stay untouched and a run gives the same numbers with or without it."""

    def __init__(self, model, x, y):
        self.model, self.x, self.y = model, data.rows(x, 0, 2), data.rows(y, 0, 2)

    def warm_up(self) -> None:
        from .. import optimizers
        m = self.model
        clone = type(m).from_config(m.get_config())
        if m.built:
            clone.build()
        clone.compile(optimizer=optimizers.get(m.optimizer.get_config()), loss=m.loss.get_config(),
                      metrics=list(m._metric_specs))
        xb, yb = clone.check_data(self.x, self.y)
        clone.train_step(xb, yb)
        clone.evaluate_prepared(xb, yb, batch_size=2)

    def helper_spec(self) -> str | None:
        """What a helper process needs to compile every kernel :meth:`warm_up` takes (None: it cannot)."""
        return compile_ahead.describe_all(self.model, self.x, self.y)


def start_warm_up(experiment) -> Compiling | None:
    """Warm ``experiment`` up; returns None when its kernels are ready now, else the :class:`Compiling`
    handle a trainer takes as its ``compiling`` (the NumPy tier runs until it is ready)."""
    handle = Compiling(experiment).start()
    return None if handle.wait_for_start() else handle
