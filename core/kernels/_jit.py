"""The one set of Numba flags every nnplay kernel is compiled with.

* ``cache=True``: compiled once, loaded from the on-disk cache on later starts (Numba falls back to a
  per-user cache directory when site-packages is read-only).
* ``nogil=True``: training runs in a thread of the TUI; a kernel that holds the GIL freezes the screen.
* ``fastmath`` without ``nnan``/``ninf``: reassociation lets reductions vectorise, but NaN and inf must
  stay visible so the divergence guard can see a blow-up.
* ``error_model="numpy"``: division by zero gives inf/nan like NumPy instead of raising (no per-division check).
"""
from __future__ import annotations

import warnings

import numba

# Kernels that call a parallel kernel are compiled with parallel=True themselves (see .blas) and have no
# parallel loop of their own; Numba says so on every first compile. Only that one message is silenced.
warnings.filterwarnings("ignore", message="(?s).*'parallel=True' was specified but no transformation",
                        category=numba.NumbaPerformanceWarning)

FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
FLAGS = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")


def _start_thread_pool() -> None:
    """Start Numba's threading layer before any kernel loads: a cached kernel that calls a parallel one
    links against the layer's scheduler, which is otherwise only started by the first parallel dispatcher
    compiled or loaded (when a plain kernel comes first, loading it aborts: "Symbol not found:
    allocate_sched"). Uses a Numba internal; without it, kernels still work when a parallel one runs first.
    """
    try:
        from numba.np.ufunc.parallel import _launch_threads
    except ImportError:  # pragma: no cover - a Numba without it
        return
    _launch_threads()


_start_thread_pool()


def jit(fn=None, **overrides):
    """``@jit`` or ``@jit(parallel=True)``: ``numba.njit`` with nnplay's flags."""
    flags = {**FLAGS, **overrides}
    if fn is None:
        return numba.njit(**flags)
    return numba.njit(**flags)(fn)
