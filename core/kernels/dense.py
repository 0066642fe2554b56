"""Dense (fully connected) forward and backward with the bias and activation fused in.

Small products run as plain loops (a BLAS call costs more than the work); larger ones call BLAS through
``np.dot`` (Numba routes it to SciPy's BLAS), then the epilogue adds the bias and applies the activation
in the same pass over the output.
"""
from __future__ import annotations

import numpy as np

from ._jit import jit
from .activations import act_grad_bias, bias_act

# Below this many multiply-adds a hand loop beats the BLAS call overhead (measured on W1/W2 shapes).
SMALL_GEMM = 4096


@jit
def matmul_into(a, b, out):
    """out = a @ b. a: (n, k), b: (k, m), out: (n, m); any of them may be a transposed view."""
    n, k = a.shape
    m = b.shape[1]
    if n * k * m <= SMALL_GEMM:
        for i in range(n):
            for j in range(m):
                out[i, j] = 0.0
            for p in range(k):
                av = a[i, p]
                for j in range(m):
                    out[i, j] += av * b[p, j]
    else:
        # BLAS takes C- or F-ordered operands as they are (a transposed view is F-ordered): no copies.
        np.dot(a, b, out)


@jit
def dense_forward(x, w, b, use_bias, code, alpha, z, a):
    """z = x @ w + b; a = act(z).

    Shapes:
        x: (batch, n_in); w: (n_in, units); b: (units,); z, a: (batch, units), preallocated.
        With ``code == LINEAR`` ``a`` may be ``z``.
    """
    matmul_into(x, w, z)
    bias_act(z, b, use_bias, code, alpha, a)


@jit
def dense_backward(x, w, z, a, grad_a, code, alpha, use_bias, grad_is_logits, need_grad_x,
                   grad_z, grad_w, grad_b, grad_x):
    """Gradients of a fused dense layer.

    Args:
        grad_is_logits: ``grad_a`` is already dL/dz (the fused softmax/sigmoid + cross-entropy path).
        need_grad_x: compute ``grad_x`` (False for the first layer: the data needs no gradient).

    Shapes:
        x, grad_x: (batch, n_in); w, grad_w: (n_in, units); z, a, grad_a, grad_z: (batch, units);
        grad_b: (units,). ``grad_z`` is scratch and may be ``grad_a``.
    """
    act_grad_bias(z, a, grad_a, code, alpha, grad_is_logits, use_bias, grad_z, grad_b)
    matmul_into(x.T, grad_z, grad_w)
    if need_grad_x:
        matmul_into(grad_z, w.T, grad_x)
