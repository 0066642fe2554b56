"""2-D convolution (channels-last) with the bias and activation fused into the epilogue.

Layouts follow Keras: ``x (batch, H, W, C)``, kernel ``w (kh, kw, C, F)``, output ``(batch, OH, OW, F)``.
Geometry arrives as plain ints: strides ``sh, sw`` and the zero padding before the first row/column
``pt, pl`` (the padding after is implied by the output size), so "same" with even kernels or strides is
whatever the caller computed (TF puts the extra row/column at the bottom/right).

Three methods (the layer picks one per shape):

* ROWS, im2col + GEMM: the window matrix ``cols (batch*OH*OW, kh*kw*C)`` times the kernel with
  ``np.dot`` (BLAS; threads come from cutting the batch into sample ranges, see :mod:`.batched`).
  Backward reuses ``cols`` for the weight gradient, then overwrites it with the column gradient for
  ``grad_x``. The general method.
* PLANE, stride 1: the transposed window matrix ``(kh*kw*C, ...)`` built from one shifted copy of the
  zero-padded input per kernel tap (see the section below). For few input channels, where ROWS spends
  its time on one tiny copy per pixel and tap.
* DIRECT: plain loops, no window matrix and no scratch; the fallback when the window matrix would be
  huge. Slower than both GEMM methods on every benchmark shape, so serial: a prange region costs ~28 us
  of fork/join with Numba's default OpenMP layer on the 2-core reference machine, and parallel kernels
  add seconds of compile time.

Measured CPU time per call (float32, 1 BLAS thread, ``time.thread_time`` on a busy 2-core machine):

    =================================  ==============  ===============  ==============
    shape                              DIRECT          ROWS             PLANE
    =================================  ==============  ===============  ==============
    W3 conv1 64x28x28x1 -> 16, 3x3     2.15 / 2.40 ms  1.16 / 0.83 ms   0.67 / 1.04 ms
    W3 conv2 64x13x13x16 -> 32, 3x3    4.35 / 7.9 ms   1.15 / 2.45 ms   3.5 / 4.4 ms
    W4 conv 32x8x8x1 -> 8, 3x3 same    78 / 76 us      48 / 17 us       24 / 22 us
    =================================  ==============  ===============  ==============

(forward / backward; backward includes grad_x for W3 conv2 only, as in training.) Hence PLANE for
stride-1 layers with at most 4 input channels, ROWS otherwise.

The transposed convolution is the same arithmetic with the roles swapped: its forward is the data
gradient of a convolution, its data gradient a convolution forward.
"""
from __future__ import annotations

import numpy as np

from ._jit import jit
from .activations import LINEAR, act_grad_bias, bias_act, bias_act_rows
from .im2col import _col2im, _im2col, _plane_col2im, _plane_cols, _plane_crop, _plane_pad, _plane_rows, _zero
from .im2col import plane_geometry  # noqa: F401  (the layers and tests read it here, beside the methods)

#: ``method`` values: direct loops, im2col rows + GEMM, padded-plane im2col + GEMM (stride 1).
DIRECT, ROWS, PLANE = 0, 1, 2


# ---------------------------------------------------------------------------------------- direct loops
# The innermost loop runs along the contiguous channel axis.
# Plain indexing, no sub-array views: a view in a hot loop costs a reference-count round trip.

@jit
def _direct_forward(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, z, a):
    """z = conv(x, w) + b; a = act(z) (softmax over F)."""
    H, W, C = x.shape[1], x.shape[2], x.shape[3]
    kh, kw, F = w.shape[0], w.shape[1], w.shape[3]
    OH, OW = z.shape[1], z.shape[2]
    z2 = z.reshape(-1, F)
    a2 = a.reshape(-1, F)
    for n in range(x.shape[0]):
        for oh in range(OH):
            top = oh * sh - pt
            i0, i1 = max(0, -top), min(kh, H - top)
            for ow in range(OW):
                for f in range(F):
                    z[n, oh, ow, f] = 0.0
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(kw, W - left)
                for i in range(i0, i1):
                    ih = max(0, top + i)
                    for j in range(j0, j1):
                        iw = max(0, left + j)
                        for c in range(C):
                            v = x[n, ih, iw, c]
                            for f in range(F):
                                z[n, oh, ow, f] += v * w[i, j, c, f]
        r0 = max(0, n * OH * OW)
        bias_act_rows(z2, b, use_bias, code, alpha, a2, r0, r0 + OH * OW)


@jit
def _direct_wgrad(x, grad_z, sh, sw, pt, pl, acc):
    """acc[i, j, c, f] = sum over samples and positions of x[window] * grad_z (overwrites)."""
    _zero(acc)
    H, W, C = x.shape[1], x.shape[2], x.shape[3]
    kh, kw, F = acc.shape[0], acc.shape[1], acc.shape[3]
    OH, OW = grad_z.shape[1], grad_z.shape[2]
    for n in range(x.shape[0]):
        for oh in range(OH):
            top = oh * sh - pt
            i0, i1 = max(0, -top), min(kh, H - top)
            for ow in range(OW):
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(kw, W - left)
                for i in range(i0, i1):
                    ih = max(0, top + i)
                    for j in range(j0, j1):
                        iw = max(0, left + j)
                        for c in range(C):
                            v = x[n, ih, iw, c]
                            for f in range(F):
                                acc[i, j, c, f] += v * grad_z[n, oh, ow, f]


@jit
def _direct_dgrad(grad_z, w, sh, sw, pt, pl, grad_x):
    """grad_x = conv-transpose(grad_z, w), the data gradient (overwrites)."""
    H, W, C = grad_x.shape[1], grad_x.shape[2], grad_x.shape[3]
    kh, kw, F = w.shape[0], w.shape[1], w.shape[3]
    OH, OW = grad_z.shape[1], grad_z.shape[2]
    _zero(grad_x)
    for n in range(grad_x.shape[0]):
        for oh in range(OH):
            top = oh * sh - pt
            i0, i1 = max(0, -top), min(kh, H - top)
            for ow in range(OW):
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(kw, W - left)
                for i in range(i0, i1):
                    ih = max(0, top + i)
                    for j in range(j0, j1):
                        iw = max(0, left + j)
                        for c in range(C):
                            s = 0.0
                            for f in range(F):
                                s += grad_z[n, oh, ow, f] * w[i, j, c, f]
                            grad_x[n, ih, iw, c] += s


@jit
def conv2d_forward(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, method, cols, buf, z, a):
    """z = conv2d(x, w) + b; a = act(z), by im2col + GEMM.

    Args:
        sh, sw: strides; pt, pl: zero rows/columns added before the input (top, left).
        use_bias: add ``b``; code, alpha: fused activation (kernels.activations; softmax runs over F).
        method: ROWS (window rows + GEMM) or PLANE (stride 1: transposed windows over the padded plane
            + GEMM); see the module docstring. (DIRECT has its own kernels: :func:`conv2d_direct_forward`.)
        cols: ROWS: (batch*OH*OW, K); PLANE: (K, Lq) (see :func:`plane_geometry`); kept for backward.
        buf: PLANE scratch, 1-D, at least max(L*C, Lq*F) values (size 0 for ROWS).

    Shapes:
        x: (batch, H, W, C); w: (kh, kw, C, F), K = kh*kw*C; b: (F,) (any 1-D array when unused);
        z, a: (batch, OH, OW, F), preallocated; ``a`` may be ``z`` when the activation is linear.
    """
    N, OH, OW, F = z.shape
    kh, kw, C = w.shape[0], w.shape[1], w.shape[2]
    w2 = w.reshape(kh * kw * C, F)
    z2 = z.reshape(N * OH * OW, F)
    if method == ROWS:
        _im2col(x, kh, kw, sh, sw, pt, pl, OH, OW, cols)
        np.dot(cols, w2, z2)
    else:
        Hp, Wp = OH + kh - 1, OW + kw - 1
        Lq = cols.shape[1]
        xp = buf[:N * Hp * Wp * C].reshape(N * Hp * Wp, C)
        _plane_pad(x, pt, pl, Hp, Wp, xp)
        _plane_cols(xp, kh, kw, Wp, cols)
        zp = buf[:Lq * F].reshape(Lq, F)
        np.dot(cols.T, w2, zp)
        _plane_rows(zp, Hp, Wp, z, False)
    bias_act(z2, b, use_bias, code, alpha, a.reshape(N * OH * OW, F))


@jit
def conv2d_backward(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits, need_grad_x,
                    method, cols, buf, grad_z, grad_w, grad_b, grad_x):
    """Gradients of :func:`conv2d_forward` (same ``method``, ``cols`` and ``buf``).

    Args:
        grad_is_logits: ``grad_a`` is already dL/dz (fused softmax/sigmoid + cross-entropy).
        need_grad_x: compute ``grad_x`` (False for a first layer; ``grad_x`` is then not touched).
        cols: the window matrix left by the forward pass; overwritten when ``need_grad_x``.

    Shapes:
        x, grad_x: (batch, H, W, C); w, grad_w: (kh, kw, C, F); grad_b: (F,);
        z, a, grad_a, grad_z: (batch, OH, OW, F) (``grad_z`` is scratch and may be ``grad_a``).
    """
    N, OH, OW, F = z.shape
    kh, kw, C = w.shape[0], w.shape[1], w.shape[2]
    M = N * OH * OW
    K = kh * kw * C
    grad_z2 = grad_z.reshape(M, F)
    act_grad_bias(z.reshape(M, F), a.reshape(M, F), grad_a.reshape(M, F), code, alpha,
                       grad_is_logits or code == LINEAR, use_bias, grad_z2, grad_b)
    w2 = w.reshape(K, F)
    if method == ROWS:
        np.dot(cols.T, grad_z2, grad_w.reshape(K, F))
        if need_grad_x:
            np.dot(grad_z2, w2.T, cols)
            _col2im(cols, kh, kw, sh, sw, pt, pl, OH, OW, grad_x)
        return
    Hp, Wp = OH + kh - 1, OW + kw - 1
    Lq = cols.shape[1]
    gzp = buf[:Lq * F].reshape(Lq, F)
    _plane_rows(gzp, Hp, Wp, grad_z, True)
    np.dot(cols, gzp, grad_w.reshape(K, F))
    if need_grad_x:
        np.dot(w2, gzp.T, cols)
        xp = buf[:N * Hp * Wp * C].reshape(N * Hp * Wp, C)
        _plane_col2im(cols, kh, kw, Wp, xp)
        _plane_crop(xp, pt, pl, Hp, Wp, grad_x)


@jit
def conv2d_direct_forward(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, z, a):
    """:func:`conv2d_forward` by direct loops: no window matrix, no scratch (same shapes and arguments)."""
    _direct_forward(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, z, a)


@jit
def conv2d_direct_backward(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits, need_grad_x,
                           grad_z, grad_w, grad_b, grad_x):
    """Gradients of :func:`conv2d_direct_forward` (shapes and arguments as :func:`conv2d_backward`)."""
    F = z.shape[3]
    act_grad_bias(z.reshape(-1, F), a.reshape(-1, F), grad_a.reshape(-1, F), code, alpha,
                       grad_is_logits or code == LINEAR, use_bias, grad_z.reshape(-1, F), grad_b)
    _direct_wgrad(x, grad_z, sh, sw, pt, pl, grad_w)
    if need_grad_x:
        _direct_dgrad(grad_z, w, sh, sw, pt, pl, grad_x)


@jit
def conv2d_transpose_forward(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, method, cols, z, a):
    """Transposed convolution: z = conv2d_transpose(x, w) + b; a = act(z).

    It is the data gradient of the convolution that maps ``z``-shaped maps to ``x``-shaped ones with the
    same kernel, strides and padding (``pt``, ``pl`` are that convolution's padding).

    Args:
        method: DIRECT or ROWS (``cols``: (batch*H*W, kh*kw*Cout) scratch, kept for backward).

    Shapes:
        x: (batch, H, W, Cin); w: (kh, kw, Cout, Cin) (Keras' Conv2DTranspose layout); b: (Cout,);
        z, a: (batch, OH, OW, Cout).
    """
    N, H, W, Cin = x.shape
    kh, kw, Cout = w.shape[0], w.shape[1], w.shape[2]
    OH, OW = z.shape[1], z.shape[2]
    if method == DIRECT:
        _direct_dgrad(x, w, sh, sw, pt, pl, z)
    else:
        np.dot(x.reshape(N * H * W, Cin), w.reshape(kh * kw * Cout, Cin).T, cols)
        _col2im(cols, kh, kw, sh, sw, pt, pl, H, W, z)
    bias_act(z.reshape(N * OH * OW, Cout), b, use_bias, code, alpha, a.reshape(N * OH * OW, Cout))


@jit
def conv2d_transpose_backward(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits,
                              need_grad_x, method, cols, grad_z, grad_w, grad_b, grad_x):
    """Gradients of :func:`conv2d_transpose_forward`.

    Shapes:
        x, grad_x: (batch, H, W, Cin); w, grad_w: (kh, kw, Cout, Cin); grad_b: (Cout,);
        z, a, grad_a, grad_z: (batch, OH, OW, Cout); cols: (batch*H*W, kh*kw*Cout) scratch (ROWS).
    """
    N, H, W, Cin = x.shape
    OH, OW, Cout = z.shape[1], z.shape[2], z.shape[3]
    kh, kw = w.shape[0], w.shape[1]
    M = N * OH * OW
    act_grad_bias(z.reshape(M, Cout), a.reshape(M, Cout), grad_a.reshape(M, Cout), code, alpha,
                       grad_is_logits or code == LINEAR, use_bias, grad_z.reshape(M, Cout), grad_b)
    if method == DIRECT:
        # grad_w[i, j, co, ci] = sum x * grad_z[window]: the weight gradient of the forward-direction conv.
        _direct_wgrad(grad_z, x, sh, sw, pt, pl, grad_w)
        if need_grad_x:
            _direct_forward(grad_z, w, grad_b, sh, sw, pt, pl, False, LINEAR, 0.0, grad_x, grad_x)
        return
    K = kh * kw * Cout
    _im2col(grad_z, kh, kw, sh, sw, pt, pl, H, W, cols)
    np.dot(cols.T, x.reshape(N * H * W, Cin), grad_w.reshape(K, Cin))
    if need_grad_x:
        np.dot(cols, w.reshape(K, Cin), grad_x.reshape(N * H * W, Cin))
