"""Embedding's backward: scatter-add of the output gradient into the rows of the looked-up indices."""
from __future__ import annotations

from ._jit import jit


@jit
def embedding_backward(idx, grad_out, grad_w):
    """grad_w = sum of grad_out rows per index (rows of unused indices are 0).

    Shapes:
        idx: (N,) int64 in [0, V); grad_out: (N, D); grad_w: (V, D).
    """
    for v in range(grad_w.shape[0]):
        for j in range(grad_w.shape[1]):
            grad_w[v, j] = 0.0
    for n in range(idx.shape[0]):
        src, dst = grad_out[n], grad_w[idx[n]]
        for j in range(src.shape[0]):
            dst[j] += src[j]
