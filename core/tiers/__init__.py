"""Two tiers run a model: the compiled kernels, and NumPy code of the same math.

On a cold start (an empty kernel cache: a fresh install, a new Python or Numba, every CI machine) the
kernels take seconds to compile. Rather than wait, a run trains on the NumPy tier while the kernels
compile in the background (:mod:`nnplay.core.training.tiered`), then switches to them between two
batches. Both tiers compute the same functions in the same order of operations where it matters; they
differ by float rounding only (the tests hold each NumPy function to its kernel).

The tier is chosen per thread: the training thread runs NumPy while the compiling thread runs the kernels
on a copy of the model. Layers and optimizers ask :func:`numpy_tier`; a layer without a NumPy path runs
its kernel (compiling it there if it must), so the NumPy tier is a head start, never a requirement.
"""
from __future__ import annotations

import threading

NUMPY, KERNELS = "numpy", "kernels"


class _State(threading.local):
    numpy = False           #: every thread starts on the kernels


_state = _State()


def numpy_tier() -> bool:
    """Whether this thread runs models on the NumPy tier now (asked on every layer call: kept cheap)."""
    return _state.numpy


def current() -> str:
    """The tier this thread runs: ``"numpy"`` or ``"kernels"``."""
    return NUMPY if _state.numpy else KERNELS


def while_compiling(compiling) -> str:
    """NumPy while ``compiling`` (anything with ``ready()``, or None) has not ended, else the kernels."""
    return NUMPY if compiling is not None and not compiling.ready() else KERNELS


class running:
    """``with running(tier):`` runs the block on ``tier`` (``"numpy"`` or ``"kernels"``) in this thread.

    A class, not a generator: the trainer enters one per batch."""

    __slots__ = ("_numpy", "_old")

    def __init__(self, tier: str):
        self._numpy = tier == NUMPY

    def __enter__(self):
        self._old, _state.numpy = _state.numpy, self._numpy
        return self

    def __exit__(self, *exc) -> None:
        _state.numpy = self._old
