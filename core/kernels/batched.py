"""Convolution and pooling over contiguous sample ranges, one after the other or one range per thread.

Each wrapper cuts the batch into ``n_chunks`` ranges (:func:`.blas.span`) and runs the single-range kernel
of :mod:`.conv` / :mod:`.pool` on each: samples of a range are contiguous rows of every array (and of the
im2col window matrix), so a range is a plain slice. Each wrapper is :func:`._jit.chunked`: it runs the ranges
one after the other, its ``threaded`` twin one per Numba thread; the ranges and the arithmetic are the same
either way, so the mode never changes a result bit. With one chunk they are the plain kernels.

The PLANE method (stride 1, few channels) keeps one padded plane and transposed window matrix per range:
``cols`` and ``buf`` are then flat, ``n_chunks`` equal slots (see :func:`plane_slots`).

Weight gradients are sums over samples: each range writes its own partial (``gw_parts``/``gb_parts``, one
slab per chunk) and the partials are added at the end in chunk order.
"""
from __future__ import annotations

from numba import prange

from ._jit import chunked, jit
from .blas import span
from .conv import PLANE, ROWS, conv2d_backward, conv2d_forward
from .pool import maxpool2d_backward, maxpool2d_forward


@jit
def _conv_fwd_range(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, cols, buf, z, a, n_chunks, k):
    N, OH, OW = z.shape[0], z.shape[1], z.shape[2]
    b0, b1 = span(N, n_chunks, k)
    rows = OH * OW
    conv2d_forward(x[b0:b1], w, b, sh, sw, pt, pl, use_bias, code, alpha, ROWS, cols[b0 * rows:b1 * rows], buf,
                   z[b0:b1], a[b0:b1])


@chunked
def conv2d_forward_chunks(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, cols, buf, z, a, n_chunks):
    """:func:`.conv.conv2d_forward` with method ROWS over ``n_chunks`` sample ranges (same arguments)."""
    for k in prange(n_chunks):
        _conv_fwd_range(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, cols, buf, z, a, n_chunks, k)


@jit
def _conv_bwd_range(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits, need_grad_x,
                    cols, buf, grad_z, gw_parts, gb_parts, grad_x, n_chunks, k):
    N, OH, OW = z.shape[0], z.shape[1], z.shape[2]
    b0, b1 = span(N, n_chunks, k)
    rows = OH * OW
    gx = grad_x[b0:b1] if need_grad_x else grad_x
    conv2d_backward(x[b0:b1], w, z[b0:b1], a[b0:b1], grad_a[b0:b1], sh, sw, pt, pl, code, alpha, use_bias,
                    grad_is_logits, need_grad_x, ROWS, cols[b0 * rows:b1 * rows], buf, grad_z[b0:b1], gw_parts[k],
                    gb_parts[k], gx)


@chunked
def conv2d_backward_chunks(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits,
                           need_grad_x, cols, buf, grad_z, gw_parts, gb_parts, grad_w, grad_b, grad_x, n_chunks):
    """:func:`.conv.conv2d_backward` (method ROWS) over ``n_chunks`` sample ranges.

    Shapes: as the plain kernel, plus gw_parts (n_chunks, kh, kw, C, F) and gb_parts (n_chunks, F), scratch
    for each range's share of ``grad_w``/``grad_b`` (both overwritten with the sums).
    """
    for k in prange(n_chunks):
        _conv_bwd_range(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits,
                        need_grad_x, cols, buf, grad_z, gw_parts, gb_parts, grad_x, n_chunks, k)
    _sum_parts(gw_parts, gb_parts, use_bias, grad_w, grad_b)


@jit
def _sum_parts(gw_parts, gb_parts, use_bias, grad_w, grad_b):
    """grad_w, grad_b = the ranges' partial gradients added in range order."""
    n_chunks = gw_parts.shape[0]
    gw = grad_w.reshape(-1)
    parts = gw_parts.reshape(n_chunks, -1)
    for i in range(gw.size):
        s = parts[0, i]
        for k in range(1, n_chunks):
            s += parts[k, i]
        gw[i] = s
    if use_bias:
        for j in range(grad_b.size):
            s = gb_parts[0, j]
            for k in range(1, n_chunks):
                s += gb_parts[k, j]
            grad_b[j] = s


def plane_slots(batch: int, n_chunks: int, out_h: int, out_w: int, kh: int, kw: int, c: int, f: int):
    """(cols, buf) sizes of one range's slot for the PLANE method (the largest range fits)."""
    nb = -(-batch // n_chunks)
    hp, wp = out_h + kh - 1, out_w + kw - 1
    total = nb * hp * wp
    used = total - (kh - 1) * wp - (kw - 1)
    return kh * kw * c * used, max(total * c, used * f)


@jit
def _plane_slot(cols, buf, N, n_chunks, k, kh, kw, C, OH, OW):
    """Range ``k``'s samples and its (K, Lq) window matrix and scratch, carved from the flat slots."""
    b0, b1 = span(N, n_chunks, k)
    Hp, Wp = OH + kh - 1, OW + kw - 1
    lq = (b1 - b0) * Hp * Wp - (kh - 1) * Wp - (kw - 1)
    cs, bs = cols.size // n_chunks, buf.size // n_chunks
    K = kh * kw * C
    return b0, b1, cols[k * cs:k * cs + K * lq].reshape(K, lq), buf[k * bs:(k + 1) * bs]


@jit
def _plane_fwd_range(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, cols, buf, z, a, n_chunks, k):
    b0, b1, ck, bk = _plane_slot(cols, buf, z.shape[0], n_chunks, k, w.shape[0], w.shape[1], w.shape[2],
                                 z.shape[1], z.shape[2])
    conv2d_forward(x[b0:b1], w, b, sh, sw, pt, pl, use_bias, code, alpha, PLANE, ck, bk, z[b0:b1], a[b0:b1])


@chunked
def conv2d_plane_forward_chunks(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, cols, buf, z, a, n_chunks):
    """:func:`.conv.conv2d_forward` with method PLANE over ``n_chunks`` sample ranges; ``cols``/``buf`` are
    flat, ``n_chunks`` slots of :func:`plane_slots` sizes."""
    for k in prange(n_chunks):
        _plane_fwd_range(x, w, b, sh, sw, pt, pl, use_bias, code, alpha, cols, buf, z, a, n_chunks, k)


@jit
def _plane_bwd_range(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits, need_grad_x,
                     cols, buf, grad_z, gw_parts, gb_parts, grad_x, n_chunks, k):
    b0, b1, ck, bk = _plane_slot(cols, buf, z.shape[0], n_chunks, k, w.shape[0], w.shape[1], w.shape[2],
                                 z.shape[1], z.shape[2])
    gx = grad_x[b0:b1] if need_grad_x else grad_x
    conv2d_backward(x[b0:b1], w, z[b0:b1], a[b0:b1], grad_a[b0:b1], sh, sw, pt, pl, code, alpha, use_bias,
                    grad_is_logits, need_grad_x, PLANE, ck, bk, grad_z[b0:b1], gw_parts[k], gb_parts[k], gx)


@chunked
def conv2d_plane_backward_chunks(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits,
                                 need_grad_x, cols, buf, grad_z, gw_parts, gb_parts, grad_w, grad_b, grad_x,
                                 n_chunks):
    """:func:`.conv.conv2d_backward` with method PLANE over ``n_chunks`` sample ranges (as
    :func:`conv2d_backward_chunks`, with the flat slots of :func:`conv2d_plane_forward_chunks`)."""
    for k in prange(n_chunks):
        _plane_bwd_range(x, w, z, a, grad_a, sh, sw, pt, pl, code, alpha, use_bias, grad_is_logits,
                         need_grad_x, cols, buf, grad_z, gw_parts, gb_parts, grad_x, n_chunks, k)
    _sum_parts(gw_parts, gb_parts, use_bias, grad_w, grad_b)


@jit
def _maxpool_fwd_range(x, ph, pw, sh, sw, pt, pl, out, idx, n_chunks, k):
    b0, b1 = span(x.shape[0], n_chunks, k)
    maxpool2d_forward(x[b0:b1], ph, pw, sh, sw, pt, pl, out[b0:b1], idx[b0:b1])


@chunked
def maxpool2d_forward_chunks(x, ph, pw, sh, sw, pt, pl, out, idx, n_chunks):
    """:func:`.pool.maxpool2d_forward` over ``n_chunks`` sample ranges (same arguments)."""
    for k in prange(n_chunks):
        _maxpool_fwd_range(x, ph, pw, sh, sw, pt, pl, out, idx, n_chunks, k)


@jit
def _maxpool_bwd_range(grad_out, idx, sh, sw, ph, pw, grad_x, n_chunks, k):
    b0, b1 = span(grad_x.shape[0], n_chunks, k)
    maxpool2d_backward(grad_out[b0:b1], idx[b0:b1], sh, sw, ph, pw, grad_x[b0:b1])


@chunked
def maxpool2d_backward_chunks(grad_out, idx, sh, sw, ph, pw, grad_x, n_chunks):
    """:func:`.pool.maxpool2d_backward` over ``n_chunks`` sample ranges (same arguments)."""
    for k in prange(n_chunks):
        _maxpool_bwd_range(grad_out, idx, sh, sw, ph, pw, grad_x, n_chunks, k)
