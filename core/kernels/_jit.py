"""The one set of Numba flags every nnplay kernel is compiled with.

* ``cache=True``: compiled once, loaded from the on-disk cache on later starts (Numba falls back to a
  per-user cache directory when site-packages is read-only).
* ``nogil=True``: training runs in a thread of the TUI; a kernel that holds the GIL freezes the screen.
* ``fastmath`` without ``nnan``/``ninf``: reassociation lets reductions vectorise, but NaN and inf must
  stay visible so the divergence guard can see a blow-up.
* ``error_model="numpy"``: division by zero gives inf/nan like NumPy instead of raising (no per-division check).
"""
from __future__ import annotations

import numba

FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
FLAGS = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")


def jit(fn=None, **overrides):
    """``@jit`` or ``@jit(parallel=True)``: ``numba.njit`` with nnplay's flags."""
    flags = {**FLAGS, **overrides}
    if fn is None:
        return numba.njit(**flags)
    return numba.njit(**flags)(fn)
