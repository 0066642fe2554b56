"""Warming the compiled kernels, and counting what was compiled versus loaded from Numba's cache.

The first start ever compiles every kernel (seconds); later starts load them from the on-disk cache
(milliseconds each). Warming runs a train step of a copy of the model on two samples in a worker thread,
while the screen says "compiling kernels…", so the first real batch does not stall.
"""
from __future__ import annotations

import sys
import threading
import time

from .messages import KernelStats, KernelsWarm


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


def start(experiment, post) -> object | None:
    """Start warming ``experiment``'s kernels; a cold cache returns the handle of the compilation (the run
    trains on the NumPy tier until it is ready) and posts ``KernelsWarm`` when it ends, a warm one returns
    None once they are loaded (and posts it then)."""
    from nnplay.core.training.tiered import start_warm_up

    t0 = time.perf_counter()
    handle = start_warm_up(experiment)
    if handle is None:
        post(KernelsWarm(KernelStats(t0, time.perf_counter(), *counts())))
        return None

    def report():
        handle.wait()
        compiled, cached = counts()
        if handle.helper:              # a helper process compiled what this one then loaded
            compiled, cached = compiled + cached, 0
        post(KernelsWarm(KernelStats(t0, time.perf_counter(), compiled, cached, str(handle.error or ""))))

    threading.Thread(target=report, name="nnplay-compile-report", daemon=True).start()
    return handle


def warm(experiment) -> KernelStats:
    """Compile (or load) the kernels this experiment's model uses; never touches the real model."""
    t0 = time.perf_counter()
    try:
        experiment.warm_up()
    except Exception as exc:   # warming is an optimisation: report, never fail the session
        return KernelStats(t0, time.perf_counter(), *counts(), str(exc))
    return KernelStats(t0, time.perf_counter(), *counts())
