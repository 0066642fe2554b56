"""The optimizer updates of :mod:`nnplay.core.kernels.optim` in NumPy, with the same signatures.

Each function updates the flat buffer ``p`` (and the ``slots`` rows) in place, segment by segment, in the
buffer's dtype, after the same clipping (per-variable norm, global norm or value) and decoupled weight
decay; the kernel module's docstring describes the arguments.
"""
from __future__ import annotations

import math

import numpy as np

from ..kernels.optim import CLIP_GLOBAL, CLIP_NORM, CLIP_VALUE


def _norm(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return math.sqrt(float(np.dot(x, x)))


def _segments(p, g, seg, clip_mode, clip, wd_lr):
    """Yield ``(offset, end, clipped gradient)`` per segment, after decaying that segment of ``p``."""
    dt = p.dtype.type
    gscale = 1.0
    if clip_mode == CLIP_GLOBAL:
        norm = math.sqrt(sum(_norm(g[o:o + n]) ** 2 for o, n in seg))
        gscale = math.nan if not math.isfinite(norm) else (clip / norm if norm > clip else 1.0)
    for off, n in seg:
        off, end = int(off), int(off + n)
        gs = g[off:end]
        scale = gscale
        if clip_mode == CLIP_NORM:
            norm = _norm(gs)
            scale = clip / norm if (norm > clip or norm != norm) else 1.0
        gi = gs * dt(scale)
        if clip_mode == CLIP_VALUE:
            gi = np.clip(gi, dt(-clip), dt(clip))
        if wd_lr != 0.0:
            ps = p[off:end]
            ps -= ps * dt(wd_lr)
        yield off, end, gi


def sgd_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, momentum, nesterov):
    dt = p.dtype.type
    lr_, mu = dt(lr), dt(momentum)
    for off, end, gi in _segments(p, g, seg, clip_mode, clip, wd_lr):
        if momentum == 0.0:
            p[off:end] -= gi * lr_
            continue
        m = slots[0, off:end]
        m[...] = mu * m - gi * lr_
        p[off:end] += (mu * m - gi * lr_) if nesterov else m


def rmsprop_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, rho, momentum, epsilon, mom_row, avg_row):
    dt = p.dtype.type
    lr_, r, omr, mu, eps = dt(lr), dt(rho), dt(1.0 - rho), dt(momentum), dt(epsilon)
    for off, end, gi in _segments(p, g, seg, clip_mode, clip, wd_lr):
        v = slots[0, off:end]
        v[...] = r * v + omr * (gi * gi)
        den = v
        if avg_row >= 0:
            avg = slots[avg_row, off:end]
            avg[...] = r * avg + omr * gi
            den = v - avg * avg
        inc = lr_ * gi / np.sqrt(den + eps)
        if mom_row >= 0:
            mom = slots[mom_row, off:end]
            mom[...] = mu * mom + inc
            inc = mom
        p[off:end] -= inc


def adam_step(p, g, slots, seg, clip_mode, clip, wd_lr, alpha, beta_1, beta_2, epsilon, amsgrad):
    dt = p.dtype.type
    a, omb1, omb2, eps = dt(alpha), dt(1.0 - beta_1), dt(1.0 - beta_2), dt(epsilon)
    for off, end, gi in _segments(p, g, seg, clip_mode, clip, wd_lr):
        m, v = slots[0, off:end], slots[1, off:end]
        m += (gi - m) * omb1
        v += (gi * gi - v) * omb2
        if amsgrad:
            vh = slots[2, off:end]
            np.maximum(vh, v, out=vh)
            v = vh
        p[off:end] -= (m * a) / (np.sqrt(v) + eps)


def adagrad_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, epsilon):
    dt = p.dtype.type
    lr_, eps = dt(lr), dt(epsilon)
    for off, end, gi in _segments(p, g, seg, clip_mode, clip, wd_lr):
        acc = slots[0, off:end]
        acc += gi * gi
        p[off:end] -= lr_ * gi / np.sqrt(acc + eps)


def adadelta_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, rho, epsilon):
    dt = p.dtype.type
    lr_, r, omr, eps = dt(lr), dt(rho), dt(1.0 - rho), dt(epsilon)
    for off, end, gi in _segments(p, g, seg, clip_mode, clip, wd_lr):
        eg, ed = slots[0, off:end], slots[1, off:end]
        eg[...] = r * eg + omr * (gi * gi)
        d = -(np.sqrt(ed + eps) * gi) / np.sqrt(eg + eps)
        ed[...] = r * ed + omr * (d * d)
        p[off:end] += lr_ * d


def nadam_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, beta_1, beta_2, epsilon, c_m, c_g, bc_2):
    dt = p.dtype.type
    lr_, omb1, omb2, eps, cm, cg, b2c = (dt(lr), dt(1.0 - beta_1), dt(1.0 - beta_2), dt(epsilon), dt(c_m),
                                         dt(c_g), dt(bc_2))
    for off, end, gi in _segments(p, g, seg, clip_mode, clip, wd_lr):
        m, v = slots[0, off:end], slots[1, off:end]
        m += (gi - m) * omb1
        v += (gi * gi - v) * omb2
        p[off:end] -= ((cm * m + cg * gi) * lr_) / (np.sqrt(v / b2c) + eps)
