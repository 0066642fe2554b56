"""Image resampling kernels for the augmentation layers: an affine map per image, bilinear or nearest, with
Keras' four fill modes. Channels-last.

Each image ``n`` has a matrix ``mats[n] = (a0, a1, a2, b0, b1, b2)`` that maps an output pixel (column ``j``,
row ``i``) to the point of the input it reads, as Keras' ``ops.image.affine_transform`` does::

    x_in = a0 * j + a1 * i + a2        y_in = b0 * j + b1 * i + b2

Bilinear reads the four pixels around that point, nearest the one it rounds to (half to even). A pixel
index outside the image is brought back by the fill mode, one index at a time (what Keras' torch and JAX
backends do): ``reflect`` (d c b a | a b c d | d c b a), ``wrap`` (a b c d | a b c d), ``nearest``
(a a | a b c d | d d); ``constant`` reads ``fill_value`` there instead. The output is linear in the input,
so the backward pass is the transposed map: each output pixel's gradient goes back to the pixels it read,
with the same weights (``fill_value`` reads get none).

Two more modes follow SciPy's ``ndimage`` (what Keras' ImageDataGenerator resamples with): ``SCIPY_CONSTANT``
reads ``fill_value`` wherever the point lies outside the image's pixel centres (no blending at the border),
``SCIPY_WRAP`` wraps the point with period ``size - 1`` (the first and last pixels overlap).
"""
from __future__ import annotations

import math

from ._jit import jit

#: Fill-mode and interpolation names in kernel-code order.
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")
REFLECT, WRAP, CONSTANT, NEAREST = 0, 1, 2, 3
SCIPY_CONSTANT, SCIPY_WRAP = 4, 5


@jit
def _fix(i, size, mode):
    """Index ``i`` brought into ``[0, size)`` by the fill mode; -1 for a constant fill outside the image."""
    if 0 <= i < size:
        return i
    if mode == CONSTANT:
        return -1
    if mode == NEAREST:
        return 0 if i < 0 else size - 1
    if mode == WRAP:
        r = i % size
        return r + size if r < 0 else r
    period = 2 * size                       # reflect: mirror about the outer edge of the last pixel
    r = i % period
    if r < 0:
        r += period
    return r if r < size else period - 1 - r


@jit
def _round_half_even(v):
    r = math.floor(v + 0.5)
    if r - v == 0.5 and r % 2 != 0:        # a tie: to the even neighbour, as torch.round / numpy.rint
        r -= 1
    return r


@jit
def _wrap_overlap(v, size):
    """SciPy's ``wrap``: a coordinate outside [0, size - 1] brought back with period size - 1."""
    if size <= 1:
        return 0.0
    if 0.0 <= v <= size - 1:
        return v
    r = v % (size - 1)
    return r + (size - 1) if r < 0 else r


@jit
def _point(sx, sy, H, W, mode):
    """(x, y, index mode, outside): the sample point after SciPy's modes, and whether it reads the fill."""
    if mode == SCIPY_CONSTANT:
        return sx, sy, NEAREST, sx < 0.0 or sx > W - 1 or sy < 0.0 or sy > H - 1
    if mode == SCIPY_WRAP:
        return _wrap_overlap(sx, W), _wrap_overlap(sy, H), NEAREST, False
    return sx, sy, mode, False


@jit
def affine_transform_forward(x, mats, bilinear, mode, fill_value, out):
    """out[n] = x[n] resampled through ``mats[n]``.

    Shapes:
        x: (batch, H, W, C) float32/float64; mats: (batch, 6) float64; out: like x (written whole).
        bilinear: 1 for bilinear, 0 for nearest; mode: an index into FILL_MODES, or SCIPY_CONSTANT / SCIPY_WRAP.
    """
    N, H, W, C = x.shape
    fill = fill_value
    for n in range(N):
        a0, a1, a2 = mats[n, 0], mats[n, 1], mats[n, 2]
        b0, b1, b2 = mats[n, 3], mats[n, 4], mats[n, 5]
        for i in range(H):
            for j in range(W):
                sx, sy, m, outside = _point(a0 * j + a1 * i + a2, b0 * j + b1 * i + b2, H, W, mode)
                if outside:
                    for c in range(C):
                        out[n, i, j, c] = fill
                    continue
                if not bilinear:
                    ix = _fix(_round_half_even(sx), W, m)
                    iy = _fix(_round_half_even(sy), H, m)
                    for c in range(C):
                        out[n, i, j, c] = fill if ix < 0 or iy < 0 else x[n, iy, ix, c]
                    continue
                x0, y0 = math.floor(sx), math.floor(sy)
                wx1, wy1 = sx - x0, sy - y0
                wx0, wy0 = 1.0 - wx1, 1.0 - wy1
                ix0, ix1 = _fix(x0, W, m), _fix(x0 + 1, W, m)
                iy0, iy1 = _fix(y0, H, m), _fix(y0 + 1, H, m)
                for c in range(C):
                    v00 = fill if iy0 < 0 or ix0 < 0 else x[n, iy0, ix0, c]
                    v01 = fill if iy0 < 0 or ix1 < 0 else x[n, iy0, ix1, c]
                    v10 = fill if iy1 < 0 or ix0 < 0 else x[n, iy1, ix0, c]
                    v11 = fill if iy1 < 0 or ix1 < 0 else x[n, iy1, ix1, c]
                    out[n, i, j, c] = wy0 * (wx0 * v00 + wx1 * v01) + wy1 * (wx0 * v10 + wx1 * v11)


@jit
def affine_transform_backward(grad_out, mats, bilinear, mode, grad_x):
    """The transpose of :func:`affine_transform_forward`: each output gradient goes back to the input
    pixels it read, with the same weights (reads of the constant fill get none).

    Shapes:
        grad_out: (batch, H, W, C); mats: (batch, 6) float64; grad_x: like grad_out (overwritten).
    """
    N, H, W, C = grad_out.shape
    grad_x[...] = 0.0
    for n in range(N):
        a0, a1, a2 = mats[n, 0], mats[n, 1], mats[n, 2]
        b0, b1, b2 = mats[n, 3], mats[n, 4], mats[n, 5]
        for i in range(H):
            for j in range(W):
                sx, sy, m, outside = _point(a0 * j + a1 * i + a2, b0 * j + b1 * i + b2, H, W, mode)
                if outside:
                    continue
                if not bilinear:
                    ix = _fix(_round_half_even(sx), W, m)
                    iy = _fix(_round_half_even(sy), H, m)
                    if ix >= 0 and iy >= 0:
                        for c in range(C):
                            grad_x[n, iy, ix, c] += grad_out[n, i, j, c]
                    continue
                x0, y0 = math.floor(sx), math.floor(sy)
                wx1, wy1 = sx - x0, sy - y0
                wx0, wy0 = 1.0 - wx1, 1.0 - wy1
                ix0, ix1 = _fix(x0, W, m), _fix(x0 + 1, W, m)
                iy0, iy1 = _fix(y0, H, m), _fix(y0 + 1, H, m)
                for c in range(C):
                    g = grad_out[n, i, j, c]
                    if iy0 >= 0 and ix0 >= 0:
                        grad_x[n, iy0, ix0, c] += wy0 * wx0 * g
                    if iy0 >= 0 and ix1 >= 0:
                        grad_x[n, iy0, ix1, c] += wy0 * wx1 * g
                    if iy1 >= 0 and ix0 >= 0:
                        grad_x[n, iy1, ix0, c] += wy1 * wx0 * g
                    if iy1 >= 0 and ix1 >= 0:
                        grad_x[n, iy1, ix1, c] += wy1 * wx1 * g
