"""Dense (fully connected) forward and backward with the bias and activation fused in.

Products go through :mod:`.blas` (plain loops for tiny ones, one BLAS call otherwise), then the epilogue adds
the bias and applies the activation in the same pass over the output.

Big products can be cut into ``parts`` blocks run on threads (:func:`.blas.split_gemm`); ``parts=None`` keeps
them whole, and that specialisation of a kernel compiles nothing of the splitting: a small layer never pays
for the threaded code (every compiled kernel costs time on a cold start).
"""
from __future__ import annotations


from ._jit import jit
from .activations import act_grad_bias, bias_act
from .blas import gemm_one, split_gemm

#: Products of at least this many multiply-adds are cut into ``parts`` blocks (one per thread).
SPLIT_WORK = 1 << 20


@jit
def matmul(a, ta, b, tb, out, parts, parallel):
    """out = op(a) @ op(b) (op = transpose when ``ta``/``tb``): one product when ``parts`` is None (a
    compile-time choice: the split version is then not even compiled), else :func:`matmul_split`."""
    if parts is None:
        gemm_one(a, ta, b, tb, out, 0.0)
    else:
        matmul_split(a, ta, b, tb, out, parts, parallel)


@jit
def matmul_split(a, ta, b, tb, out, parts, parallel):
    """out = op(a) @ op(b); products of at least SPLIT_WORK multiply-adds as ``parts`` blocks
    (:func:`.blas.split_gemm`), on threads when ``parallel``."""
    n, m = out.shape
    k = a.shape[0] if ta else a.shape[1]
    if parts > 1 and n * k * m >= SPLIT_WORK:
        split_gemm(a, ta, b, tb, out, 0.0, parts, parallel)
    else:
        gemm_one(a, ta, b, tb, out, 0.0)


@jit
def dense_forward(x, w, b, use_bias, code, alpha, z, a, parts, parallel):
    """z = x @ w + b; a = act(z).

    Args:
        parts, parallel: ``parts=None`` runs each product in one piece (and compiles nothing for splitting);
            an int cuts big products into that many blocks, on threads when ``parallel`` (see
            :func:`matmul_split`: the blocks are the same in both modes, so are the bits).

    Shapes:
        x: (batch, n_in); w: (n_in, units); b: (units,); z, a: (batch, units), preallocated.
        With ``code == LINEAR`` ``a`` may be ``z``.
    """
    matmul(x, False, w, False, z, parts, parallel)
    bias_act(z, b, use_bias, code, alpha, a)


@jit
def dense_backward(x, w, z, a, grad_a, code, alpha, use_bias, grad_is_logits, need_grad_x,
                   grad_z, grad_w, grad_b, grad_x, parts, parallel):
    """Gradients of a fused dense layer.

    Args:
        grad_is_logits: ``grad_a`` is already dL/dz (the fused softmax/sigmoid + cross-entropy path).
        need_grad_x: compute ``grad_x`` (False for the first layer: the data needs no gradient).
        parts, parallel: as :func:`dense_forward`.

    Shapes:
        x, grad_x: (batch, n_in); w, grad_w: (n_in, units); z, a, grad_a, grad_z: (batch, units);
        grad_b: (units,). ``grad_z`` is scratch and may be ``grad_a``.
    """
    act_grad_bias(z, a, grad_a, code, alpha, grad_is_logits, use_bias, grad_z, grad_b)
    matmul(x, True, grad_z, False, grad_w, parts, parallel)
    if need_grad_x:
        matmul(grad_z, False, w, True, grad_x, parts, parallel)
