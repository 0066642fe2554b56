"""Process-level settings for nnplay's own processes (the CLI, the TUI, the benchmark).

Library users who import the engine keep their process as it is; only ``nnplay`` commands call these.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def set_threads(n: int) -> None:
    """Size the BLAS and Numba thread pools. Must run before NumPy loads to affect BLAS."""
    n = max(1, int(n))
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    if "numba" in sys.modules:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def default_training_threads(ui: bool) -> int:
    """Threads for training: all cores headless; with a UI on a small machine, leave one core to the UI.

    On two cores a second BLAS thread competing with the UI thread (or any other process) costs far
    more than it gains, so the playground trains on one thread there.
    """
    n = cpu_count()
    return max(1, n - 1) if ui and n <= 4 else n


def tune_allocator() -> None:
    """Keep freed large buffers in the process instead of returning them to the OS after every step.

    glibc hands allocations above its mmap threshold straight back to the kernel when freed, so a
    training step that allocates a few MB of activations pays page faults every time (measured: 2.2 ms
    per step on a small CNN, 0.1 ms with the thresholds raised). No-op where glibc is absent.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024)
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024)
