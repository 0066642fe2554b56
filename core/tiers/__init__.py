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
from contextlib import contextmanager

_local = threading.local()

NUMPY, KERNELS = "numpy", "kernels"


def numpy_tier() -> bool:
    """Whether this thread runs models on the NumPy tier now."""
    return getattr(_local, "numpy", False)


def current() -> str:
    """The tier this thread runs: ``"numpy"`` or ``"kernels"``."""
    return NUMPY if numpy_tier() else KERNELS


@contextmanager
def running(tier: str):
    """Run the block on ``tier`` (``"numpy"`` or ``"kernels"``) in this thread."""
    old = numpy_tier()
    _local.numpy = tier == NUMPY
    try:
        yield
    finally:
        _local.numpy = old
