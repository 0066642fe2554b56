"""Which elements one update touches, and how it is cut for threads.

A training step that cut its big products into blocks on threads leaves each block's gradients in the cache
of the core that computed them; the update then cuts each big variable the same way and runs part ``k`` on
thread ``k`` (:mod:`nnplay.core.kernels.optim_threads`). A step that already updated some variables itself
(the MLP step's fused Adam, :mod:`nnplay.core.kernels.mlp_update`) leaves the optimizer the others.
"""
from __future__ import annotations

import numpy as np

#: Variables of at least this many elements are cut in parts when the update runs on threads; smaller ones
#: cost less than moving them between cores, and stay whole in part 0 (the caller's thread, which computed
#: them).
THREAD_SPLIT = 16384


def runs(variables: np.ndarray) -> np.ndarray:
    """``(offset, length)`` variables (sorted, non-empty) merged into touching runs (better vectorised
    loops)."""
    out: list[list[int]] = []
    for off, n in variables.tolist():
        if out and out[-1][0] + out[-1][1] == off:
            out[-1][1] += n
        else:
            out.append([off, n])
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def without(variables: np.ndarray, done: np.ndarray) -> np.ndarray:
    """The ``variables`` not among the ``done`` ones (whole variables, as ``(offset, length)`` rows)."""
    gone = {tuple(row) for row in done.tolist()}
    return np.ascontiguousarray(np.array([v for v in variables.tolist() if tuple(v) not in gone],
                                         dtype=np.int64).reshape(-1, 2))


def cut(variables: np.ndarray, parts: int) -> np.ndarray:
    """(parts, s, 2) segment tables, one per part: each variable of at least ``THREAD_SPLIT`` elements cut in
    ``parts`` contiguous near-equal pieces (as a product's rows are), the smaller ones whole in part 0; runs
    merged, tables padded with empty rows."""
    tables: list[list[list[int]]] = [[] for _ in range(parts)]
    for off, length in variables.tolist():
        cuts = [(length * k) // parts for k in range(parts + 1)] if length >= THREAD_SPLIT else [0, length]
        for k in range(len(cuts) - 1):
            lo, hi = off + cuts[k], off + cuts[k + 1]
            t = tables[k]
            if t and t[-1][0] + t[-1][1] == lo:
                t[-1][1] += hi - lo
            elif hi > lo:
                t.append([lo, hi - lo])
    width = max(1, max(len(t) for t in tables))
    out = np.zeros((parts, width, 2), np.int64)
    for k, t in enumerate(tables):
        if t:
            out[k, :len(t)] = t
    return out
