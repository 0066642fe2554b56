"""Serial or threaded: how layers whose kernels cut the batch into chunks decide how to run them.

A chunked kernel computes the same contiguous sample ranges whether it runs them one after the other or one
per thread, so the mode changes speed, never results. Which is faster depends on the moment: threads win on
an idle multi-core machine, but when another process holds a core a fork/join waits for the descheduled
thread. :class:`Pacer` measures both and keeps the faster.

Threads and BLAS. The kernels call BLAS from inside their threads; that is only fast when BLAS itself is
single-threaded (otherwise two thread pools fight over the cores). nnplay's own processes make it so
(:func:`nnplay.core.system.set_threads`); in any other process :func:`kernel_threads` is 1 unless BLAS was
already single-threaded, and BLAS keeps doing the threading.
"""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor, wait

import numba
import numpy as np

from .kernels._jit import threaded

_threads: int | None = None


def kernel_threads() -> int:
    """Threads the chunked kernels may use: Numba's thread count when BLAS is single-threaded, else 1."""
    global _threads
    if _threads is None:
        from .system import blas_threads
        _threads = numba.get_num_threads() if blas_threads() == 1 else 1
    return _threads


def reset_kernel_threads() -> None:
    """Forget the cached answer of :func:`kernel_threads` (after changing the thread settings)."""
    global _threads
    _threads = None


_range_pool = None


def _forget_range_pool() -> None:
    """A forked child has none of its parent's threads: a pool inherited from it would never run a task."""
    global _range_pool
    _range_pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_range_pool)


def run_ranges(fn, n: int, parallel: bool) -> list:
    """``[fn(0), ..., fn(n - 1)]``: one after the other, or (``parallel``) ``fn(1)``... on worker threads
    while the caller runs ``fn(0)``. For kernels that release the GIL and write only their own range's
    buffers, so both modes compute the same numbers."""
    global _range_pool
    if not parallel or n == 1:
        return [fn(k) for k in range(n)]
    if _range_pool is None or _range_pool._max_workers < n - 1:
        _range_pool = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="nnplay-range")
    futures = [_range_pool.submit(fn, k) for k in range(1, n)]
    try:
        first = fn(0)
    except BaseException:
        wait(futures)        # the workers use buffers the caller may reuse at once
        raise
    return [first, *(f.result() for f in futures)]


class Pacer:
    """Chooses serial or threaded execution of a layer's kernels by measured speed.

    The chunks are fixed by the problem size, so both modes give bit-identical results; only speed differs.
    Threads win on an idle multi-core machine, but when other processes keep the cores busy a fork/join
    can wait milliseconds for a descheduled thread (measured: 8 ms instead of 0.1 ms). So the time of a
    training step (forward + backward, per sample) is measured in each mode over a short burst (median,
    after warm-up steps that compile and start the thread pool); the faster mode is used and its cost
    followed (each step moves it by at most 10 %, so one hiccup does not flip the mode but lasting
    contention does within a few steps), and the other is re-timed now and then. A re-timing stops at a
    step that is far slower, and after a losing re-timing the next one comes twice as late (up to
    ``max_wait`` steps); when the followed cost flips which mode is faster, the other is re-timed soon
    again (waits start over). Forward and backward of one
    step always run in the same mode, so the thread pool never idles between them. Inference uses the mode
    training found best (serial before any training). ``force`` pins a mode (tests, benchmarks).
    """

    def __init__(self, wait: int = 100, burst: int = 5, max_wait: int = 12_800):
        self.wait0, self.burst, self.max_wait = wait, burst, max_wait
        self.force: bool | None = None
        self.cost = [math.inf, math.inf]   # seconds per sample: serial, threaded
        self.steps, self.wait = 0, wait
        self.next_probe = wait
        self._best = True
        self._probe(True, warmup=5)

    def _probe(self, parallel: bool, warmup: int) -> None:
        self.probing, self.probe_left, self.warmup, self.samples = parallel, self.burst, warmup, []

    def choose(self, training: bool) -> bool:
        """True: run this call threaded."""
        if self.force is not None:
            return self.force
        if not training:
            return self.cost[1] < self.cost[0]
        if self.probe_left:
            return self.probing
        self.steps += 1
        best = self.cost[1] <= self.cost[0]
        if best != self._best:                      # the followed cost changed the winner: re-time soon
            self._best = best
            self.wait = self.wait0
            self.next_probe = min(self.next_probe, self.steps + self.wait0)
        if self.steps >= self.next_probe:
            self._probe(not best, warmup=2)
            return not best
        return best

    def record(self, parallel: bool, seconds: float, batch: int) -> None:
        """Time of one training step (forward + backward) run in mode ``parallel``."""
        if self.force is not None:
            return
        c, mode = seconds / max(batch, 1), int(parallel)
        if not self.probe_left:                     # the mode in use: follow its cost, at most +10 % a step
            self.cost[mode] = 0.9 * self.cost[mode] + 0.1 * min(c, 2.0 * self.cost[mode])
            return
        if self.warmup:
            self.warmup -= 1
            return
        other = self.cost[1 - mode]
        if c > 4.0 * other:                         # far slower (threads descheduled): stop, wait longer
            self.cost[mode], self.probe_left = c, 0
            self._schedule(better=False)
            return
        self.samples.append(c)
        self.probe_left -= 1
        if not self.probe_left:
            self.cost[mode] = float(np.median(self.samples))
            if math.isinf(other):
                self._probe(not parallel, warmup=1)
            else:
                self._schedule(better=self.cost[mode] < other)

    def _schedule(self, better: bool) -> None:
        self.wait = self.wait0 if better else min(2 * self.wait, self.max_wait)
        self.next_probe = self.steps + self.wait


def _call(kernel, args, n: int, parallel: bool) -> None:
    """A :func:`~nnplay.core.kernels._jit.chunked` kernel as ``kernel(*args, n)`` or its threaded twin;
    any other as ``kernel(*args, n, parallel)`` (it chooses inside)."""
    twin = threaded(kernel)
    if twin is None:
        kernel(*args, n, parallel)
    elif parallel:
        twin(*args, n)
    else:
        kernel(*args, n)


class Chunked:
    """For layers whose kernels take ``(..., n_chunks)`` (serial, with a threaded twin) or
    ``(..., n_chunks, parallel)``: a :class:`Pacer` chooses the mode per
    training step (forward and backward of one step run in the same mode and are timed together)."""

    #: Fixed number of batch chunks (None: the layer's ``_chunks`` decides; tests pin it).
    n_chunks: int | None = None

    def _init_pacing(self) -> None:
        self.n_chunks = None
        self.pacer = Pacer()
        self._pace = None

    def _chunks(self, batch: int) -> int:
        raise NotImplementedError

    def _run_forward(self, kernel, *args, batch: int, training: bool, whole=False) -> None:
        """kernel(*args, n_chunks, parallel), timed for the pacer when it is a training step. ``whole``: the
        kernel takes ``n_chunks=None`` for "not cut" (and then compiles no splitting code: cheaper), which
        is passed when there is one chunk."""
        n = self._chunks(batch)
        if n == 1 and whole:
            self._pace = None
            kernel(*args, None, False)
            return
        parallel = n > 1 and self.pacer.choose(training)
        t0 = time.perf_counter()
        _call(kernel, args, n, parallel)
        self._pace = (parallel, time.perf_counter() - t0) if n > 1 and training else None

    def _run_backward(self, kernel, *args, batch: int, whole=False) -> None:
        n, pace = self._chunks(batch), self._pace
        if n == 1 and whole:
            kernel(*args, None, False)
            return
        parallel = pace[0] if pace else n > 1 and self.pacer.choose(False)
        t0 = time.perf_counter()
        _call(kernel, args, n, parallel)
        if pace:
            self.pacer.record(parallel, pace[1] + time.perf_counter() - t0, batch)
            self._pace = None
