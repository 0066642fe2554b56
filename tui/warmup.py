"""Warming the compiled kernels, and counting what was compiled versus loaded from Numba's cache.

The first start ever compiles every kernel (seconds); later starts load them from the on-disk cache
(milliseconds each). Warming runs a train step of a copy of the model on two samples in a worker thread,
while the screen says "compiling kernels…", so the first real batch does not stall.
"""
from __future__ import annotations

import sys
import time

from .messages import KernelStats


def _dispatchers():
    for name, mod in list(sys.modules.items()):
        if not name.startswith("nnplay.core.kernels") or mod is None:
            continue
        for obj in list(vars(mod).values()):
            stats = getattr(obj, "stats", None)
            if stats is not None and hasattr(stats, "cache_hits") and hasattr(obj, "signatures"):
                yield obj


def counts() -> tuple[int, int]:
    """(compiled, loaded from the cache) signatures over all nnplay kernels so far in this process."""
    hits = misses = 0
    for d in _dispatchers():
        hits += sum(d.stats.cache_hits.values())
        misses += sum(d.stats.cache_misses.values())
    return misses, hits


def warm(experiment) -> KernelStats:
    """Compile (or load) the kernels this experiment's model uses; never touches the real model."""
    t0 = time.perf_counter()
    try:
        experiment.warm_up()
    except Exception as exc:   # warming is an optimisation: report, never fail the session
        return KernelStats(t0, time.perf_counter(), *counts(), str(exc))
    return KernelStats(t0, time.perf_counter(), *counts())
