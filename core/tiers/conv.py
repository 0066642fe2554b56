"""The convolution, pooling and upsampling kernels in NumPy (channels-last, as the kernels).

Geometry follows :mod:`nnplay.core.kernels.conv` and :mod:`nnplay.core.kernels.pool`: strides ``(sh, sw)``,
the padding before the first row/column ``(pt, pl)`` and the output size fix every window; the padding
after is whatever makes the last window fit. The input is padded once (zeros for convolution and average
pooling, -inf for max pooling) and each window offset ``(i, j)`` is one strided slice of it:
``xp[:, i::sh, j::sw]`` cut to the output size.

Convolutions multiply the window matrix ``cols (batch*OH*OW, kh*kw*C)`` (the kernels' ROWS layout) by
the kernel in one product; above :data:`MAX_COLS` values they loop over the kh*kw offsets with one product
each instead. Gradients are written as the kernels write them: ``grad_w``/``grad_b`` are overwritten in
place, ``grad_x`` is a new array.
"""
from __future__ import annotations

import numpy as np

from ..kernels.activations import LINEAR
from .activations import act_backward, act_forward

#: Above this many window-matrix values (256 MB in float32) convolutions loop over the kernel offsets.
MAX_COLS = 64 * 1024 * 1024


def _padded_shape(x_shape, pads, windows, out_hw, strides):
    """(batch, Hp, Wp, C): the input with its padding before and enough after for the last window."""
    (pt, pl), (kh, kw), (oh, ow), (sh, sw) = pads, windows, out_hw, strides
    n, h, w, c = x_shape
    return n, max(pt + h, (oh - 1) * sh + kh), max(pl + w, (ow - 1) * sw + kw), c


def _pad(x, pads, windows, out_hw, strides, fill=0.0):
    """x inside a ``fill`` border of :func:`_padded_shape` (x itself when it needs none)."""
    shape = _padded_shape(x.shape, pads, windows, out_hw, strides)
    if shape == x.shape:
        return x
    (pt, pl), (h, w) = pads, x.shape[1:3]
    xp = np.full(shape, fill, x.dtype)
    xp[:, pt:pt + h, pl:pl + w] = x
    return xp


def _tap(xp, i, j, out_hw, strides):
    """The (batch, OH, OW, C) view of window offset (i, j) in the padded input."""
    (oh, ow), (sh, sw) = out_hw, strides
    return xp[:, i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw]


def _crop(xp, pads, shape):
    """The input-sized part of a padded array (a new contiguous array)."""
    (pt, pl), (h, w) = pads, shape[1:3]
    return np.ascontiguousarray(xp[:, pt:pt + h, pl:pl + w])


# ---------------------------------------------------------------------------------------- convolution

def conv2d_forward(x, w, b, strides, pads, out_hw, use_bias, code, alpha):
    """(xp, cols, z, a): z = conv2d(x, w) + b, a = act(z) (softmax over F; ``a`` is ``z`` when linear).

    ``xp`` (the padded input) and ``cols`` (the window matrix, None past :data:`MAX_COLS`) are for
    :func:`conv2d_backward`.

    Shapes:
        x: (batch, H, W, C); w: (kh, kw, C, F); b: (F,); z, a: (batch, OH, OW, F).
    """
    n, c = x.shape[0], x.shape[3]
    kh, kw, _, f = w.shape
    oh, ow = out_hw
    m = n * oh * ow
    xp = _pad(x, pads, (kh, kw), out_hw, strides)
    cols = None
    if m * kh * kw * c <= MAX_COLS:
        cols6 = np.empty((n, oh, ow, kh, kw, c), x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols6[:, :, :, i, j] = _tap(xp, i, j, out_hw, strides)
        cols = cols6.reshape(m, kh * kw * c)
        z = cols @ w.reshape(kh * kw * c, f)
    else:
        z = np.zeros((m, f), x.dtype)
        for i in range(kh):
            for j in range(kw):
                z += _tap(xp, i, j, out_hw, strides).reshape(m, c) @ w[i, j]
    if use_bias:
        z += b
    z = z.reshape(n, oh, ow, f)
    return xp, cols, z, (z if code == LINEAR else act_forward(z, code, alpha))


def conv2d_backward(xp, cols, w, z, a, grad_a, strides, pads, x_shape, code, alpha, use_bias, grad_is_logits,
                    need_grad_x, grad_w, grad_b):
    """Gradients of :func:`conv2d_forward`: overwrites ``grad_w`` (and ``grad_b`` when ``use_bias``) in place;
    returns grad_x of ``x_shape`` (None unless ``need_grad_x``).

    Shapes:
        w, grad_w: (kh, kw, C, F); grad_b: (F,); z, a, grad_a: (batch, OH, OW, F).
    """
    n, oh, ow, f = z.shape
    kh, kw, c, _ = w.shape
    m, k = n * oh * ow, kh * kw * c
    grad_z = act_backward(z, a, grad_a, code, alpha, grad_is_logits).reshape(m, f)
    if use_bias:
        grad_b[...] = grad_z.sum(axis=0)
    if cols is not None:
        grad_w[...] = (cols.T @ grad_z).reshape(grad_w.shape)
    else:
        for i in range(kh):
            for j in range(kw):
                grad_w[i, j] = _tap(xp, i, j, (oh, ow), strides).reshape(m, c).T @ grad_z
    if not need_grad_x:
        return None
    gxp = np.zeros(xp.shape, grad_z.dtype)
    dcols = (grad_z @ w.reshape(k, f).T).reshape(n, oh, ow, kh, kw, c) if cols is not None else None
    for i in range(kh):
        for j in range(kw):
            part = dcols[:, :, :, i, j] if dcols is not None else (grad_z @ w[i, j].T).reshape(n, oh, ow, c)
            tap = _tap(gxp, i, j, (oh, ow), strides)
            tap += part
    return _crop(gxp, pads, x_shape)


# ---------------------------------------------------------------------------------------- pooling

def maxpool2d_forward(x, pool, strides, pads, out_hw):
    """(out, arg): the max of each window and the window offset ``i*pw + j`` of its first maximum in
    row-major window order, as the kernel picks them.

    The kernel starts each window at its first cell inside the input and moves on only to a strictly greater
    value: padded cells never win, a NaN is passed over unless it is that first cell (then it is the result).

    Shapes:
        x: (batch, H, W, C); out: (batch, OH, OW, C); arg: (batch, OH, OW, C) int32.
    """
    (ph, pw), (sh, sw), (pt, pl), (oh, ow) = pool, strides, pads, out_hw
    xp = _pad(x, pads, pool, out_hw, strides, fill=-np.inf)
    i0 = np.maximum(pt - np.arange(oh) * sh, 0)
    j0 = np.maximum(pl - np.arange(ow) * sw, 0)
    first = xp[:, (np.arange(oh) * sh + i0)[:, None], (np.arange(ow) * sw + j0)[None, :]]
    k0 = (i0[:, None] * pw + j0[None, :])[None, :, :, None]   # the offset of that first cell
    out = first.copy()
    taps = [_tap(xp, i, j, out_hw, strides) for i in range(ph) for j in range(pw)]
    for tap in taps:
        np.fmax(out, tap, out=out)
    nan_first = np.isnan(first)
    if nan_first.any():
        np.copyto(out, first, where=nan_first)
    arg = np.zeros(out.shape, np.int32)
    found = np.zeros(out.shape, bool)
    for k, tap in enumerate(taps):
        hit = tap == out
        if k < k0.max():
            hit &= k >= k0   # a padded cell before the first one (equal only when all are -inf)
        hit &= ~found
        found |= hit
        arg += np.int32(k) * hit
    if not found.all():     # NaN first cells
        np.copyto(arg, k0, where=~found)
    return out, arg


def maxpool2d_backward(grad_out, arg, pool, strides, pads, x_shape):
    """grad_x: each window's gradient added to its winning cell (a new array of ``x_shape``)."""
    (ph, pw), out_hw = pool, grad_out.shape[1:3]
    gxp = np.zeros(_padded_shape(x_shape, pads, pool, out_hw, strides), grad_out.dtype)
    finite = np.isfinite(grad_out).all()   # else 0 * inf would put NaN on the cells that lost
    for i in range(ph):
        for j in range(pw):
            hit = arg == i * pw + j
            tap = _tap(gxp, i, j, out_hw, strides)
            tap += grad_out * hit if finite else np.where(hit, grad_out, 0)
    return _crop(gxp, pads, x_shape)


def _avg_scale(x_shape, pool, strides, pads, out_hw, dtype):
    """1 / (cells of each window inside the input), (1, OH, OW, 1): padded cells are not counted."""
    counts = []
    for size, p, s, before, o in zip(x_shape[1:3], pool, strides, pads, out_hw):
        top = np.arange(o) * s - before
        counts.append(np.minimum(p, size - top) - np.maximum(0, -top))
    cells = np.maximum(np.outer(counts[0], counts[1]), 1)
    return (1.0 / cells).astype(dtype)[None, :, :, None]


def avgpool2d_forward(x, pool, strides, pads, out_hw):
    """The mean of the window cells inside the input. x: (batch, H, W, C) -> (batch, OH, OW, C)."""
    xp = _pad(x, pads, pool, out_hw, strides)
    out = np.zeros((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    for i in range(pool[0]):
        for j in range(pool[1]):
            out += _tap(xp, i, j, out_hw, strides)
    out *= _avg_scale(x.shape, pool, strides, pads, out_hw, x.dtype)
    return out


def avgpool2d_backward(grad_out, pool, strides, pads, x_shape):
    """Adjoint of :func:`avgpool2d_forward`: grad_x (a new array of ``x_shape``)."""
    out_hw = grad_out.shape[1:3]
    g = grad_out * _avg_scale(x_shape, pool, strides, pads, out_hw, grad_out.dtype)
    gxp = np.zeros(_padded_shape(x_shape, pads, pool, out_hw, strides), grad_out.dtype)
    for i in range(pool[0]):
        for j in range(pool[1]):
            tap = _tap(gxp, i, j, out_hw, strides)
            tap += g
    return _crop(gxp, pads, x_shape)


# ---------------------------------------------------------------------------------------- upsampling, embedding

def upsampling2d_forward(x, size):
    """Nearest neighbour: (batch, H, W, C) -> (batch, H*sh, W*sw, C)."""
    return np.repeat(np.repeat(x, size[0], axis=1), size[1], axis=2)


def upsampling2d_backward(grad_out, size):
    """grad_x: grad_out summed over each (sh, sw) block. (batch, H*sh, W*sw, C) -> (batch, H, W, C)."""
    n, hs, ws, c = grad_out.shape
    return grad_out.reshape(n, hs // size[0], size[0], ws // size[1], size[1], c).sum(axis=(2, 4))
