"""Optimizer update kernels: one call updates a whole flat parameter buffer in place.

Every kernel takes the same leading arguments:

* ``p``: (n,) parameters, updated in place; ``g``: (n,) gradients, read only (clipping happens on the fly,
  ``g`` is never modified).
* ``slots``: (k, n) optimizer state, one row per slot (rows listed in each kernel's docstring), same
  dtype as ``p``.
* ``seg``: (s, 2) int64 rows of ``(offset, length)``. Only elements inside a segment are touched. With
  ``CLIP_NORM`` each segment is one variable (clipped by its own norm); otherwise adjacent variables may be
  merged into one run.
* ``clip_mode`` / ``clip``: one of ``CLIP_NONE``, ``CLIP_NORM`` (per-segment L2 norm), ``CLIP_GLOBAL``
  (L2 norm over all segments), ``CLIP_VALUE`` (elementwise to ``[-clip, clip]``).
* ``wd_lr``: decoupled weight decay ``weight_decay * learning_rate``, applied as ``p -= p * wd_lr`` before
  the update (0 disables it).

Scalars arrive as Python floats and are cast to the buffer dtype, so float32 buffers are updated in
float32 arithmetic (like Keras) and float64 buffers in float64. Norms are accumulated in float64.
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import jit

CLIP_NONE = 0
CLIP_NORM = 1
CLIP_GLOBAL = 2
CLIP_VALUE = 3


@jit
def _sum_squares(g):
    """sum(g ** 2) accumulated in float64. g: (n,)."""
    acc = 0.0
    for i in range(g.shape[0]):
        x = float(g[i])
        acc += x * x
    return acc


@jit
def global_scale(g, seg, clip_mode, clip):
    """The factor every gradient is multiplied by under ``CLIP_GLOBAL`` (1.0 for the other modes).

    Keras' rule: ``clip / norm`` when the global norm exceeds ``clip``, else 1; NaN when the norm is not
    finite, so a blown-up gradient stays visible instead of being scaled to zero. g: (n,); seg: (s, 2).
    """
    if clip_mode != CLIP_GLOBAL:
        return 1.0
    acc = 0.0
    for s in range(seg.shape[0]):
        acc += _sum_squares(g[seg[s, 0]:seg[s, 0] + seg[s, 1]])
    norm = math.sqrt(acc)
    if not math.isfinite(norm):
        return math.nan
    if norm > clip:
        return clip / norm
    return 1.0


@jit
def segment_scale(gs, clip_mode, clip, gscale):
    """Gradient factor for one segment ``gs``: its own norm clip under ``CLIP_NORM``, else ``gscale``.

    ``clip / norm`` when the norm exceeds ``clip`` (a NaN norm gives NaN), else 1. gs: (len,).
    """
    if clip_mode != CLIP_NORM:
        return gscale
    norm = math.sqrt(_sum_squares(gs))
    if norm > clip or norm != norm:
        return clip / norm
    return 1.0


@jit
def value_bounds(clip_mode, clip):
    """(lo, hi) for elementwise clipping: ``(-clip, clip)`` under ``CLIP_VALUE``, else ``(-inf, inf)``."""
    if clip_mode == CLIP_VALUE:
        return -clip, clip
    return -math.inf, math.inf


@jit
def _clip(x, lo, hi):
    """x limited to [lo, hi]; NaN passes through (so the divergence guard still sees it)."""
    x = hi if x > hi else x
    return lo if x < lo else x


@jit
def _decay(ps, wd_lr):
    """ps -= ps * wd_lr (decoupled weight decay). ps: (len,)."""
    for i in range(ps.shape[0]):
        ps[i] -= ps[i] * wd_lr


@jit
def clipped_grad(g, out, seg, clip_mode, clip):
    """out[seg] = g[seg] after clipping (what the update kernels see); elements outside ``seg`` untouched.

    For inspection and tests; the update kernels clip on the fly. g, out: (n,); seg: (s, 2).
    """
    dt = out.dtype.type
    gsc = global_scale(g, seg, clip_mode, clip)
    lo_, hi_ = value_bounds(clip_mode, clip)
    lo = dt(lo_)
    hi = dt(hi_)
    for s in range(seg.shape[0]):
        off = seg[s, 0]
        end = off + seg[s, 1]
        gs = g[off:end]
        os = out[off:end]
        sc = dt(segment_scale(gs, clip_mode, clip, gsc))
        for i in range(gs.shape[0]):
            os[i] = _clip(gs[i] * sc, lo, hi)


@jit
def sgd_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, momentum, nesterov):
    """SGD with optional (Nesterov) momentum.

    ``momentum == 0``: ``p -= lr * g``. Otherwise, with ``m = slots[0]``:
    ``m = momentum * m - lr * g``; ``p += momentum * m - lr * g`` (Nesterov) or ``p += m``.

    Shapes: p, g: (n,); slots: (1, n) with momentum, else (0, n); seg: (s, 2) int64.
    """
    dt = p.dtype.type
    gsc = global_scale(g, seg, clip_mode, clip)
    lo_, hi_ = value_bounds(clip_mode, clip)
    lo = dt(lo_)
    hi = dt(hi_)
    wdl = dt(wd_lr)
    lr_ = dt(lr)
    mu = dt(momentum)
    for s in range(seg.shape[0]):
        off = seg[s, 0]
        end = off + seg[s, 1]
        ps = p[off:end]
        gs = g[off:end]
        sc = dt(segment_scale(gs, clip_mode, clip, gsc))
        if wd_lr != 0.0:
            _decay(ps, wdl)
        if momentum == 0.0:
            for i in range(ps.shape[0]):
                ps[i] -= _clip(gs[i] * sc, lo, hi) * lr_
        else:
            m = slots[0, off:end]
            if nesterov:
                for i in range(ps.shape[0]):
                    gi = _clip(gs[i] * sc, lo, hi)
                    mi = mu * m[i] - gi * lr_
                    m[i] = mi
                    ps[i] += mu * mi - gi * lr_
            else:
                for i in range(ps.shape[0]):
                    mi = mu * m[i] - _clip(gs[i] * sc, lo, hi) * lr_
                    m[i] = mi
                    ps[i] += mi


@jit
def rmsprop_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, rho, momentum, epsilon, mom_row, avg_row):
    """RMSprop (Keras form: epsilon inside the square root).

    ``v = rho * v + (1 - rho) * g**2``; centered: ``a = rho * a + (1 - rho) * g`` and
    ``den = v - a**2 + eps``, else ``den = v + eps``; ``inc = lr * g / sqrt(den)``;
    with momentum ``mom = momentum * mom + inc; p -= mom``, else ``p -= inc``.

    Shapes: p, g: (n,); slots: (k, n): row 0 velocity ``v``, row ``mom_row`` momentum (-1: none),
    row ``avg_row`` average gradient ``a`` (-1: not centered); seg: (s, 2) int64.
    """
    dt = p.dtype.type
    gsc = global_scale(g, seg, clip_mode, clip)
    lo_, hi_ = value_bounds(clip_mode, clip)
    lo = dt(lo_)
    hi = dt(hi_)
    wdl = dt(wd_lr)
    lr_ = dt(lr)
    r = dt(rho)
    omr = dt(1.0 - rho)
    mu = dt(momentum)
    eps = dt(epsilon)
    centered = avg_row >= 0
    use_mom = mom_row >= 0
    for s in range(seg.shape[0]):
        off = seg[s, 0]
        end = off + seg[s, 1]
        ps = p[off:end]
        gs = g[off:end]
        v = slots[0, off:end]
        mom = slots[mom_row if use_mom else 0, off:end]
        avg = slots[avg_row if centered else 0, off:end]
        sc = dt(segment_scale(gs, clip_mode, clip, gsc))
        if wd_lr != 0.0:
            _decay(ps, wdl)
        if centered and use_mom:
            for i in range(ps.shape[0]):
                gi = _clip(gs[i] * sc, lo, hi)
                vi = r * v[i] + omr * (gi * gi)
                v[i] = vi
                ai = r * avg[i] + omr * gi
                avg[i] = ai
                mi = mu * mom[i] + lr_ * gi / np.sqrt(vi - ai * ai + eps)
                mom[i] = mi
                ps[i] -= mi
        elif centered:
            for i in range(ps.shape[0]):
                gi = _clip(gs[i] * sc, lo, hi)
                vi = r * v[i] + omr * (gi * gi)
                v[i] = vi
                ai = r * avg[i] + omr * gi
                avg[i] = ai
                ps[i] -= lr_ * gi / np.sqrt(vi - ai * ai + eps)
        elif use_mom:
            for i in range(ps.shape[0]):
                gi = _clip(gs[i] * sc, lo, hi)
                vi = r * v[i] + omr * (gi * gi)
                v[i] = vi
                mi = mu * mom[i] + lr_ * gi / np.sqrt(vi + eps)
                mom[i] = mi
                ps[i] -= mi
        else:
            for i in range(ps.shape[0]):
                gi = _clip(gs[i] * sc, lo, hi)
                vi = r * v[i] + omr * (gi * gi)
                v[i] = vi
                ps[i] -= lr_ * gi / np.sqrt(vi + eps)


@jit
def adam_step(p, g, slots, seg, clip_mode, clip, wd_lr, alpha, beta_1, beta_2, epsilon, amsgrad):
    """Adam / AdamW (Keras form), bias correction folded into ``alpha = lr*sqrt(1-b2^t)/(1-b1^t)``.

    ``m += (g - m) * (1 - b1)``; ``v += (g**2 - v) * (1 - b2)``; amsgrad: ``vh = max(vh, v)`` and ``vh``
    replaces ``v``; ``p -= alpha * m / (sqrt(v) + eps)``.

    Shapes: p, g: (n,); slots: (2, n) rows m, v, or (3, n) with amsgrad (row 2 ``vh``); seg: (s, 2).
    """
    dt = p.dtype.type
    gsc = global_scale(g, seg, clip_mode, clip)
    lo_, hi_ = value_bounds(clip_mode, clip)
    lo = dt(lo_)
    hi = dt(hi_)
    wdl = dt(wd_lr)
    a = dt(alpha)
    omb1 = dt(1.0 - beta_1)
    omb2 = dt(1.0 - beta_2)
    eps = dt(epsilon)
    for s in range(seg.shape[0]):
        off = seg[s, 0]
        end = off + seg[s, 1]
        sc = dt(segment_scale(g[off:end], clip_mode, clip, gsc))
        adam_range(p, g, slots, off, end, sc, lo, hi, wdl, a, omb1, omb2, eps, amsgrad)


@jit
def adam_range(p, g, slots, off, end, sc, lo, hi, wdl, a, omb1, omb2, eps, amsgrad):
    """:func:`adam_step` on the elements ``off:end``, the gradients scaled by ``sc`` and clipped to
    ``[lo, hi]``; every scalar but ``amsgrad`` in the buffers' dtype (``1 - beta`` given as ``omb``).
    Also called by the MLP step on each block of weight gradients it has just computed."""
    ps = p[off:end]
    gs = g[off:end]
    m = slots[0, off:end]
    v = slots[1, off:end]
    if wdl != 0.0:
        _decay(ps, wdl)
    if amsgrad:
        vh = slots[2, off:end]
        for i in range(ps.shape[0]):
            gi = _clip(gs[i] * sc, lo, hi)
            mi = m[i] + (gi - m[i]) * omb1
            m[i] = mi
            vi = v[i] + (gi * gi - v[i]) * omb2
            v[i] = vi
            vhi = vh[i]
            vhi = vi if vi > vhi else vhi
            vh[i] = vhi
            ps[i] -= (mi * a) / (np.sqrt(vhi) + eps)
    else:
        for i in range(ps.shape[0]):
            gi = _clip(gs[i] * sc, lo, hi)
            mi = m[i] + (gi - m[i]) * omb1
            m[i] = mi
            vi = v[i] + (gi * gi - v[i]) * omb2
            v[i] = vi
            ps[i] -= (mi * a) / (np.sqrt(vi) + eps)


@jit
def adagrad_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, epsilon):
    """Adagrad (Keras form): ``acc += g**2``; ``p -= lr * g / sqrt(acc + eps)``.

    Shapes: p, g: (n,); slots: (1, n) accumulator (starts at ``initial_accumulator_value``); seg: (s, 2).
    """
    dt = p.dtype.type
    gsc = global_scale(g, seg, clip_mode, clip)
    lo_, hi_ = value_bounds(clip_mode, clip)
    lo = dt(lo_)
    hi = dt(hi_)
    wdl = dt(wd_lr)
    lr_ = dt(lr)
    eps = dt(epsilon)
    for s in range(seg.shape[0]):
        off = seg[s, 0]
        end = off + seg[s, 1]
        ps = p[off:end]
        gs = g[off:end]
        acc = slots[0, off:end]
        sc = dt(segment_scale(gs, clip_mode, clip, gsc))
        if wd_lr != 0.0:
            _decay(ps, wdl)
        for i in range(ps.shape[0]):
            gi = _clip(gs[i] * sc, lo, hi)
            ai = acc[i] + gi * gi
            acc[i] = ai
            ps[i] -= lr_ * gi / np.sqrt(ai + eps)


@jit
def adadelta_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, rho, epsilon):
    """Adadelta (Keras form, with a learning rate).

    ``Eg = rho * Eg + (1 - rho) * g**2``; ``d = -sqrt(Ed + eps) * g / sqrt(Eg + eps)``;
    ``Ed = rho * Ed + (1 - rho) * d**2``; ``p += lr * d``.

    Shapes: p, g: (n,); slots: (2, n) rows accumulated_grad ``Eg``, accumulated_delta_var ``Ed``; seg: (s, 2).
    """
    dt = p.dtype.type
    gsc = global_scale(g, seg, clip_mode, clip)
    lo_, hi_ = value_bounds(clip_mode, clip)
    lo = dt(lo_)
    hi = dt(hi_)
    wdl = dt(wd_lr)
    lr_ = dt(lr)
    r = dt(rho)
    omr = dt(1.0 - rho)
    eps = dt(epsilon)
    for s in range(seg.shape[0]):
        off = seg[s, 0]
        end = off + seg[s, 1]
        ps = p[off:end]
        gs = g[off:end]
        eg = slots[0, off:end]
        ed = slots[1, off:end]
        sc = dt(segment_scale(gs, clip_mode, clip, gsc))
        if wd_lr != 0.0:
            _decay(ps, wdl)
        for i in range(ps.shape[0]):
            gi = _clip(gs[i] * sc, lo, hi)
            egi = r * eg[i] + omr * (gi * gi)
            eg[i] = egi
            d = -(np.sqrt(ed[i] + eps) * gi) / np.sqrt(egi + eps)
            ed[i] = r * ed[i] + omr * (d * d)
            ps[i] += lr_ * d


@jit
def nadam_step(p, g, slots, seg, clip_mode, clip, wd_lr, lr, beta_1, beta_2, epsilon, c_m, c_g, bc_2):
    """Nadam (Keras form, Dozat's momentum schedule); the schedule terms come in precomputed.

    ``m += (g - m) * (1 - b1)``; ``v += (g**2 - v) * (1 - b2)``;
    ``m_hat = c_m * m + c_g * g`` with ``c_m = u_{t+1} / (1 - prod_{i<=t+1} u_i)``,
    ``c_g = (1 - u_t) / (1 - prod_{i<=t} u_i)``; ``v_hat = v / bc_2`` with ``bc_2 = 1 - b2^t``;
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)``.

    Shapes: p, g: (n,); slots: (2, n) rows m, v; seg: (s, 2) int64.
    """
    dt = p.dtype.type
    gsc = global_scale(g, seg, clip_mode, clip)
    lo_, hi_ = value_bounds(clip_mode, clip)
    lo = dt(lo_)
    hi = dt(hi_)
    wdl = dt(wd_lr)
    lr_ = dt(lr)
    omb1 = dt(1.0 - beta_1)
    omb2 = dt(1.0 - beta_2)
    eps = dt(epsilon)
    cm = dt(c_m)
    cg = dt(c_g)
    b2c = dt(bc_2)
    for s in range(seg.shape[0]):
        off = seg[s, 0]
        end = off + seg[s, 1]
        ps = p[off:end]
        gs = g[off:end]
        m = slots[0, off:end]
        v = slots[1, off:end]
        sc = dt(segment_scale(gs, clip_mode, clip, gsc))
        if wd_lr != 0.0:
            _decay(ps, wdl)
        for i in range(ps.shape[0]):
            gi = _clip(gs[i] * sc, lo, hi)
            mi = m[i] + (gi - m[i]) * omb1
            m[i] = mi
            vi = v[i] + (gi * gi - v[i]) * omb2
            v[i] = vi
            m_hat = cm * mi + cg * gi
            ps[i] -= (m_hat * lr_) / (np.sqrt(vi / b2c) + eps)
