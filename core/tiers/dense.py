"""The fused dense layer of :mod:`nnplay.core.kernels.dense` in NumPy: ``a = act(x @ w + b)``."""
from __future__ import annotations

import numpy as np

from ..kernels.activations import LINEAR
from .activations import act_backward, act_forward


def dense_forward(x, w, b, use_bias, code, alpha):
    """(z, a) for x (batch, n_in), w (n_in, units), b (units,); ``a`` is ``z`` for a linear layer."""
    z = x @ w
    if use_bias:
        z += b
    return z, (z if code == LINEAR else act_forward(z, code, alpha))


def dense_backward(x, w, z, a, grad_a, code, alpha, use_bias, grad_is_logits, need_grad_x, grad_w, grad_b):
    """Writes grad_w (and grad_b) in place; returns grad_x (None unless ``need_grad_x``)."""
    grad_z = act_backward(z, a, grad_a, code, alpha, grad_is_logits)
    np.matmul(x.T, grad_z, out=grad_w)
    if use_bias:
        grad_b[...] = grad_z.sum(axis=0)
    return grad_z @ w.T if need_grad_x else None
