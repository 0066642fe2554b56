"""Pooling and upsampling kernels, channels-last.

Geometry is passed as ints: pool size ``ph, pw``, strides ``sh, sw`` and the padding before the first
row/column ``pt, pl``; the output array fixes the rest. Padded cells never win a max and are not counted
in an average (TensorFlow's "same" pooling). Computed offsets are written ``max(0, ...)`` so LLVM can
prove them non-negative (see kernels.conv).
"""
from __future__ import annotations

from ._jit import jit
from .im2col import _zero


@jit
def maxpool2d_forward(x, ph, pw, sh, sw, pt, pl, out, idx):
    """out = max over each window; idx = where it was (the first maximum in row-major window order).

    Shapes:
        x: (batch, H, W, C); out: (batch, OH, OW, C); idx: (batch, OH, OW, C) int32, the flat spatial
        index ``ih*W + iw`` of the winning cell inside its sample.
    """
    N, H, W, C = x.shape
    OH, OW = out.shape[1], out.shape[2]
    if ph == 2 and pw == 2 and sh == 2 and sw == 2 and pt == 0 and pl == 0 and 2 * OH <= H and 2 * OW <= W:
        # every window whole inside the image ("same" on an odd size pads after: the general loops)
        _maxpool_2x2(x, out, idx)
        return
    x3 = x.reshape(N, H * W, C)
    for n in range(N):
        for oh in range(OH):
            top = oh * sh - pt
            i0, i1 = max(0, -top), min(ph, H - top)
            for ow in range(OW):
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(pw, W - left)
                first = max(0, (top + i0) * W + left + j0)
                for c in range(C):
                    best = x3[n, first, c]
                    arg = first
                    for i in range(i0, i1):
                        for j in range(j0, j1):
                            p = max(0, (top + i) * W + left + j)
                            v = x3[n, p, c]
                            if v > best:
                                best = v
                                arg = p
                    out[n, oh, ow, c] = best
                    idx[n, oh, ow, c] = arg


@jit
def _maxpool_2x2(x, out, idx):
    """The common 2x2 / stride 2 / valid case, unrolled (4x faster than the general loops)."""
    W, C = x.shape[2], x.shape[3]
    N, OH, OW = out.shape[0], out.shape[1], out.shape[2]
    for n in range(N):
        for oh in range(OH):
            h0 = 2 * oh
            for ow in range(OW):
                w0 = 2 * ow
                p = h0 * W + w0
                for c in range(C):
                    best = x[n, h0, w0, c]
                    arg = p
                    v = x[n, h0, w0 + 1, c]
                    if v > best:
                        best = v
                        arg = p + 1
                    v = x[n, h0 + 1, w0, c]
                    if v > best:
                        best = v
                        arg = p + W
                    v = x[n, h0 + 1, w0 + 1, c]
                    if v > best:
                        best = v
                        arg = p + W + 1
                    out[n, oh, ow, c] = best
                    idx[n, oh, ow, c] = arg


@jit
def maxpool2d_backward(grad_out, idx, sh, sw, ph, pw, grad_x):
    """grad_x[n, idx] += grad_out (each window's gradient goes to its winning cell).

    Shapes:
        grad_out, idx: (batch, OH, OW, C); grad_x: (batch, H, W, C), overwritten.
    """
    N, H, W, C = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    g3 = grad_x.reshape(N, H * W, C)
    if ph == 2 and pw == 2 and sh == 2 and sw == 2 and H >= 2 * OH and W >= 2 * OW:
        # windows tile the input: write every covered cell once instead of zeroing then scattering
        for n in range(N):
            for h in range(2 * OH, H):
                for v in range(W):
                    for c in range(C):
                        grad_x[n, h, v, c] = 0.0
            for oh in range(OH):
                for v in range(2 * OW, W):
                    for c in range(C):
                        grad_x[n, 2 * oh, v, c] = 0.0
                        grad_x[n, 2 * oh + 1, v, c] = 0.0
                for ow in range(OW):
                    p = 2 * oh * W + 2 * ow
                    for c in range(C):
                        g = grad_out[n, oh, ow, c]
                        k = idx[n, oh, ow, c]
                        g3[n, p, c] = g if k == p else 0.0
                        g3[n, p + 1, c] = g if k == p + 1 else 0.0
                        g3[n, p + W, c] = g if k == p + W else 0.0
                        g3[n, p + W + 1, c] = g if k == p + W + 1 else 0.0
        return
    _zero(g3)
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                for c in range(C):
                    g3[n, max(0, idx[n, oh, ow, c]), c] += grad_out[n, oh, ow, c]


@jit
def avgpool2d_forward(x, ph, pw, sh, sw, pt, pl, out):
    """out = mean over the window cells that lie inside the input.

    Shapes:
        x: (batch, H, W, C); out: (batch, OH, OW, C).
    """
    N, H, W, C = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for n in range(N):
        for oh in range(OH):
            top = oh * sh - pt
            i0, i1 = max(0, -top), min(ph, H - top)
            for ow in range(OW):
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(pw, W - left)
                for c in range(C):
                    out[n, oh, ow, c] = 0.0
                for i in range(i0, i1):
                    ih = max(0, top + i)
                    for j in range(j0, j1):
                        iw = max(0, left + j)
                        for c in range(C):
                            out[n, oh, ow, c] += x[n, ih, iw, c]
                inv = 1.0 / max(1, (i1 - i0) * (j1 - j0))
                for c in range(C):
                    out[n, oh, ow, c] *= inv


@jit
def avgpool2d_backward(grad_out, ph, pw, sh, sw, pt, pl, grad_x):
    """Adjoint of :func:`avgpool2d_forward`: each cell gets grad_out / (cells in its window).

    Shapes:
        grad_out: (batch, OH, OW, C); grad_x: (batch, H, W, C), overwritten.
    """
    N, H, W, C = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    _zero(grad_x)
    for n in range(N):
        for oh in range(OH):
            top = oh * sh - pt
            i0, i1 = max(0, -top), min(ph, H - top)
            for ow in range(OW):
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(pw, W - left)
                inv = 1.0 / max(1, (i1 - i0) * (j1 - j0))
                for i in range(i0, i1):
                    ih = max(0, top + i)
                    for j in range(j0, j1):
                        iw = max(0, left + j)
                        for c in range(C):
                            grad_x[n, ih, iw, c] += grad_out[n, oh, ow, c] * inv


@jit
def upsampling2d_forward(x, sh, sw, out):
    """Nearest-neighbour upsampling: out[n, h, v] = x[n, h // sh, v // sw].

    Shapes:
        x: (batch, H, W, C); out: (batch, H*sh, W*sw, C).
    """
    N, H, W, C = x.shape
    for n in range(N):
        for h in range(H * sh):
            for v in range(W * sw):
                for c in range(C):
                    out[n, h, v, c] = x[n, h // sh, v // sw, c]


@jit
def upsampling2d_backward(grad_out, sh, sw, grad_x):
    """grad_x[n, h, v] = sum of grad_out over the (sh, sw) block it was copied to.

    Shapes:
        grad_out: (batch, H*sh, W*sw, C); grad_x: (batch, H, W, C), overwritten.
    """
    N, H, W, C = grad_x.shape
    _zero(grad_x)
    for n in range(N):
        for h in range(H * sh):
            for v in range(W * sw):
                for c in range(C):
                    grad_x[n, h // sh, v // sw, c] += grad_out[n, h, v, c]
