"""Slow, obviously-correct reference code for the convolution and pooling kernels (plain loops, no Numba).

Everything is channels-last: x (batch, H, W, C). Padding is given explicitly as
``(top, bottom, left, right)`` so the reference does not share the kernels' geometry code.
"""
from __future__ import annotations

import math

import numpy as np


def same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's "same": output ceil(size/s); the odd extra pad goes after (bottom/right)."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def conv_pads(H, W, kh, kw, sh, sw, padding):
    if padding == "valid":
        return 0, 0, 0, 0
    return (*same_pads(H, kh, sh), *same_pads(W, kw, sw))


def conv2d(x, w, b, strides, pads):
    """z[n, oh, ow, f] = sum_{i, j, c} xpad[n, oh*sh + i, ow*sw + j, c] * w[i, j, c, f] + b[f]."""
    sh, sw = strides
    pt, pb, pl, pr = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    N, Hp, Wp, C = xp.shape
    kh, kw, _, F = w.shape
    OH, OW = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    z = np.zeros((N, OH, OW, F))
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                patch = xp[n, oh * sh:oh * sh + kh, ow * sw:ow * sw + kw, :]
                for f in range(F):
                    z[n, oh, ow, f] = np.sum(patch * w[:, :, :, f]) + (b[f] if b is not None else 0.0)
    return z


def conv2d_grads(x, w, grad_z, strides, pads):
    """(grad_x, grad_w, grad_b) of :func:`conv2d` given dL/dz."""
    sh, sw = strides
    pt, pb, pl, pr = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    kh, kw = w.shape[:2]
    N, OH, OW, F = grad_z.shape
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                for f in range(F):
                    g = grad_z[n, oh, ow, f]
                    gw[:, :, :, f] += g * xp[n, oh * sh:oh * sh + kh, ow * sw:ow * sw + kw, :]
                    gxp[n, oh * sh:oh * sh + kh, ow * sw:ow * sw + kw, :] += g * w[:, :, :, f]
    H, W = x.shape[1:3]
    return gxp[:, pt:pt + H, pl:pl + W, :], gw, grad_z.sum(axis=(0, 1, 2))


def conv2d_transpose(x, w, b, strides, out_hw, pads_before):
    """Scatter form: each input pixel adds x * kernel into the (padded) output, then crop.

    w: (kh, kw, Cout, Cin) (Keras' Conv2DTranspose layout); out_hw: the output (OH, OW);
    pads_before: (top, left) rows/columns cropped from the full scatter.
    """
    sh, sw = strides
    N, H, W, Cin = x.shape
    kh, kw, Cout, _ = w.shape
    OH, OW = out_hw
    pt, pl = pads_before
    full = np.zeros((N, (H - 1) * sh + kh + sh + pt, (W - 1) * sw + kw + sw + pl, Cout))
    for n in range(N):
        for h in range(H):
            for v in range(W):
                for ci in range(Cin):
                    full[n, h * sh:h * sh + kh, v * sw:v * sw + kw, :] += x[n, h, v, ci] * w[:, :, :, ci]
    z = full[:, pt:pt + OH, pl:pl + OW, :]
    return z + (b if b is not None else 0.0)


def maxpool2d(x, pool, strides, pads):
    """(out, argmax (n, oh, ow, c) -> (ih, iw)) with -inf padding; ties go to the first cell in the window."""
    ph, pw = pool
    sh, sw = strides
    pt, pb, pl, pr = pads
    N, H, W, C = x.shape
    OH, OW = (H + pt + pb - ph) // sh + 1, (W + pl + pr - pw) // sw + 1
    out = np.zeros((N, OH, OW, C))
    where = {}
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                for c in range(C):
                    best, arg = -np.inf, None
                    for i in range(ph):
                        for j in range(pw):
                            ih, iw = oh * sh - pt + i, ow * sw - pl + j
                            if 0 <= ih < H and 0 <= iw < W and x[n, ih, iw, c] > best:
                                best, arg = x[n, ih, iw, c], (ih, iw)
                    out[n, oh, ow, c] = best
                    where[n, oh, ow, c] = arg
    return out, where


def maxpool2d_grad(x_shape, where, grad_out):
    gx = np.zeros(x_shape)
    for (n, oh, ow, c), (ih, iw) in where.items():
        gx[n, ih, iw, c] += grad_out[n, oh, ow, c]
    return gx


def avgpool2d(x, pool, strides, pads):
    """Mean over the window cells inside the input (padding is not counted, as TF)."""
    ph, pw = pool
    sh, sw = strides
    pt, pb, pl, pr = pads
    N, H, W, C = x.shape
    OH, OW = (H + pt + pb - ph) // sh + 1, (W + pl + pr - pw) // sw + 1
    out = np.zeros((N, OH, OW, C))
    for oh in range(OH):
        for ow in range(OW):
            r0, r1 = max(oh * sh - pt, 0), min(oh * sh - pt + ph, H)
            c0, c1 = max(ow * sw - pl, 0), min(ow * sw - pl + pw, W)
            out[:, oh, ow, :] = x[:, r0:r1, c0:c1, :].mean(axis=(1, 2))
    return out


def avgpool2d_grad(x_shape, pool, strides, pads, grad_out):
    ph, pw = pool
    sh, sw = strides
    pt, pb, pl, pr = pads
    N, H, W, C = x_shape
    gx = np.zeros(x_shape)
    OH, OW = grad_out.shape[1:3]
    for oh in range(OH):
        for ow in range(OW):
            r0, r1 = max(oh * sh - pt, 0), min(oh * sh - pt + ph, H)
            c0, c1 = max(ow * sw - pl, 0), min(ow * sw - pl + pw, W)
            count = (r1 - r0) * (c1 - c0)
            gx[:, r0:r1, c0:c1, :] += grad_out[:, oh:oh + 1, ow:ow + 1, :] / count
    return gx


def upsample2d(x, size):
    sh, sw = size
    N, H, W, C = x.shape
    out = np.zeros((N, H * sh, W * sw, C))
    for h in range(H * sh):
        for v in range(W * sw):
            out[:, h, v, :] = x[:, h // sh, v // sw, :]
    return out


def batchnorm_train(x, gamma, beta, eps):
    """Training-mode batch normalization over every axis but the last; returns (y, mean, biased var)."""
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = ((x - mean) ** 2).mean(axis=axes)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var
