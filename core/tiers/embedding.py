"""The embedding kernel of :mod:`nnplay.core.kernels.embedding` in NumPy."""
from __future__ import annotations

import numpy as np


def embedding_backward(idx, grad_out, grad_w):
    """grad_w = sum of grad_out rows per index, overwritten in place (rows of unused indices are 0).

    Shapes:
        idx: (N,) int in [0, V); grad_out: (N, D); grad_w: (V, D).
    """
    grad_w[...] = 0
    np.add.at(grad_w, idx, grad_out)
