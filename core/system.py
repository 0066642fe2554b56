"""Process-level settings for nnplay's own processes (the CLI, the TUI, the benchmark).

Library users who import the engine keep their process as it is; only ``nnplay`` commands call these.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def set_threads(n: int) -> None:
    """Use ``n`` threads for training: Numba's pool gets ``n``, BLAS gets one.

    nnplay's kernels split their big products into one block per Numba thread and call BLAS from inside
    those threads, which is only fast when BLAS does not start threads of its own (see nnplay.core.pacing).
    Best before NumPy loads (BLAS reads its environment then); if SciPy's BLAS is already loaded it is told
    directly.
    """
    n = max(1, int(n))
    os.environ["NUMBA_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(n)
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    if "numba" in sys.modules:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    for lib in _openblas_libs():
        setter = _symbol(lib, "set_num_threads")
        if setter is not None:
            setter(1)
    if "nnplay.core.pacing" in sys.modules:
        sys.modules["nnplay.core.pacing"].reset_kernel_threads()


_GETTERS = ("scipy_openblas_{}", "openblas_{}", "scipy_openblas_{}64_", "openblas_{}64_")


def _symbol(lib, what: str):
    for pattern in _GETTERS:
        fn = getattr(lib, pattern.format(what), None)
        if fn is not None:
            return fn
    return None


def _openblas_libs() -> list:
    """The OpenBLAS libraries SciPy has loaded into this process (what the kernels' BLAS calls reach)."""
    if "scipy" not in sys.modules or not sys.platform.startswith("linux"):
        return []
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line and "/scipy" in line}
    except OSError:
        return []
    libs = []
    for path in sorted(paths):
        try:
            libs.append(ctypes.CDLL(path))
        except OSError:
            pass
    return libs


def blas_threads() -> int | None:
    """Threads SciPy's BLAS (the one the kernels call) may use, or None when that cannot be told."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads the library the kernels call)
    counts = []
    for lib in _openblas_libs():
        getter = _symbol(lib, "get_num_threads")
        if getter is not None:
            counts.append(int(getter()))
    if counts:
        return max(counts)
    env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS")
    return int(env) if env and env.isdigit() else None


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
