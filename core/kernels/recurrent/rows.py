"""What SimpleRNN, LSTM and GRU share: the row helpers their sequence kernels are made of.

Each cell's kernels (:mod:`.simple_rnn`, :mod:`.lstm`, :mod:`.gru`) run forward and backpropagation
through time over a whole sequence in one call. The notes below hold for all three.

Layout. Inside the kernels every per-step array is 2-D and time-major: row ``t * batch + b`` holds sample
``b`` at step ``t`` (in processing order, so ``reverse`` only changes how ``x`` is read and ``grad_x``
written). The states of one step are then a contiguous ``(batch, units)`` block, which is what the
recurrent matrix product wants. State arrays have ``(T + 1) * batch`` rows: block 0 is the zero initial
state, block ``t + 1`` the state after step ``t``.

Work split. Per step (and chunk, below): the input projection ``x_t @ kernel + bias`` (plain loops for a
few features), one ``h_{t-1} @ recurrent_kernel`` (two for GRU with ``reset_after=False``), then the gate
math; backward: the gate derivatives, one ``dz @ recurrent_kernel.T`` and the step's share of the weight
gradients added into accumulators. Products go to BLAS (``numba_xxgemm``, the routine behind Numba's
``np.dot``, called directly so that strided blocks and ``C += A @ B`` need no copies); the gate math runs
in loops over contiguous rows, written so that LLVM vectorises them.

float32 uses a rational approximation of tanh (and sigmoid through ``0.5 + 0.5 * tanh(x / 2)``), about
3e-7 from the exact value: libm's scalar tanh costs ~15 ns and the gates of one LSTM step would otherwise
cost more than its matrix products. float64 (the gradient checks) uses the exact functions.

Chunks and threads. The batch is cut into ``n_chunks`` contiguous sample ranges, each run through the whole
time loop on its own (the samples of one step are adjacent rows, so a range is a contiguous block of every
step); weight gradients get one accumulator per chunk, summed at the end. The kernels run the chunks one
after the other; their ``threaded`` twins (:func:`.._jit.chunked`) one per Numba thread: the arithmetic, and
so every result bit, is the same.

Activations are the integer codes of :mod:`.activations` (``code``/``alpha`` for the cell activation,
``rcode``/``ralpha`` for the recurrent one). Dropout masks are ``(batch, F)`` and ``(batch, units)``
arrays already scaled by ``1 / keep``, or arrays with 0 rows for "no mask".
"""
from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from ..activations import LINEAR, SIGMOID, TANH, act_scalar, act_scalar_grad
from ..blas import _zero2d, gemm

# --------------------------------------------------------------------------------- elementwise rows
@jit
def _tanh_fast(x):
    """tanh by a [7/6] rational approximation on [-9, 9] (|error| < 4e-7 in float32), clamped to [-1, 1]."""
    x = min(max(x, np.float32(-9.0)), np.float32(9.0))
    x2 = x * x
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = x2 * p + np.float32(-8.60467152213735e-11)
    p = x2 * p + np.float32(5.12229709037114e-08)
    p = x2 * p + np.float32(1.48572235717979e-05)
    p = x2 * p + np.float32(6.37261928875436e-04)
    p = x2 * p + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = x2 * q + np.float32(2.26843463243900e-03)
    q = x2 * q + np.float32(4.89352518554385e-03)
    return min(max(x * p / q, np.float32(-1.0)), np.float32(1.0))


@jit
def _act_row(z, a, code, alpha, fast):
    """a = act(z) over one row. z, a: (n,)."""
    n = z.shape[0]
    if fast and code == TANH:
        for j in range(n):
            a[j] = _tanh_fast(z[j])
    elif fast and code == SIGMOID:
        for j in range(n):
            a[j] = _sigmoid_fast(z[j])
    elif code == TANH:
        for j in range(n):
            a[j] = math.tanh(z[j])
    elif code == LINEAR:
        for j in range(n):
            a[j] = z[j]
    else:
        for j in range(n):
            a[j] = act_scalar(z[j], code, alpha)


@jit
def _dact_row(z, a, g, out, code, alpha, one):
    """out = g * act'(z) over one row, given the input ``z`` and output ``a``; ``one`` is 1 in the
    arrays' dtype (a float64 literal would widen float32 math). ``out`` may be ``g``."""
    n = z.shape[0]
    if code == TANH:
        for j in range(n):
            out[j] = g[j] * (one - a[j] * a[j])
    elif code == SIGMOID:
        for j in range(n):
            out[j] = g[j] * (a[j] - a[j] * a[j])
    elif code == LINEAR:
        for j in range(n):
            out[j] = g[j]
    else:
        for j in range(n):
            out[j] = g[j] * act_scalar_grad(z[j], a[j], code, alpha)


@jit
def _sigmoid_fast(x):
    return np.float32(0.5) + np.float32(0.5) * _tanh_fast(np.float32(0.5) * x)


# ----------------------------------------------------------------------------- shared sequence plumbing
@jit
def _split(n, parts, k):
    """Bounds of range ``k`` of ``parts`` near-equal ranges of range(n)."""
    return (n * k) // parts, (n * (k + 1)) // parts


@jit
def _affine_row(x, w, bias, out):
    """out = x @ w + bias for one row; vectorises over the output (for a few input features)."""
    n = out.shape[0]
    for j in range(n):
        out[j] = bias[j]
    for p in range(x.shape[0]):
        xv = x[p]
        wp = w[p]
        for j in range(n):
            out[j] += xv * wp[j]


@jit
def _input_rows(x, mask_x, reverse, w, bias, t, b0, b1, xt, pre):
    """Step t, samples b0..b1: xt rows = masked input x[:, t'], pre rows = xt @ w + bias."""
    batch, steps, n_in = x.shape
    ts = steps - 1 - t if reverse else t
    r0 = t * batch
    masked = mask_x.shape[0] > 0
    for bi in range(b0, b1):
        row, src = xt[r0 + bi], x[bi, ts]
        if masked:
            m = mask_x[bi]
            for f in range(n_in):
                row[f] = src[f] * m[f]
        else:
            for f in range(n_in):
                row[f] = src[f]
    if n_in <= 8:
        for bi in range(b0, b1):
            _affine_row(xt[r0 + bi], w, bias, pre[r0 + bi])
        return
    for bi in range(b0, b1):
        o = pre[r0 + bi]
        for j in range(o.shape[0]):
            o[j] = bias[j]
    gemm(xt[r0 + b0:r0 + b1], False, w, False, pre[r0 + b0:r0 + b1], 1.0)


@jit
def _rec_input(hs, mask_h, hrec, t, batch, b0, b1):
    """Rows of h_{t-1} (samples b0..b1) that enter the recurrent product: hs itself, or its masked copy
    in hrec under recurrent dropout."""
    r0 = t * batch
    if mask_h.shape[0] == 0:
        return hs[r0 + b0:r0 + b1]
    for bi in range(b0, b1):
        s, m, d = hs[r0 + bi], mask_h[bi], hrec[r0 + bi]
        for j in range(s.shape[0]):
            d[j] = s[j] * m[j]
    return hrec[r0 + b0:r0 + b1]


@jit
def _write_out(hs, steps, batch, b0, b1, out):
    """out[b, t] = h after step t for samples b0..b1 (all steps, or only the last when out has 1 step)."""
    seq = out.shape[1] == steps
    units = out.shape[2]
    for b in range(b0, b1):
        if seq:
            for t in range(steps):
                src = hs[(t + 1) * batch + b]
                for j in range(units):
                    out[b, t, j] = src[j]
        else:
            src = hs[steps * batch + b]
            for j in range(units):
                out[b, 0, j] = src[j]


@jit
def _add_grad_out(grad_out, t, steps, b0, dh):
    """dh += dL/dh_t from the layer's own output (every step, or only the last); dh holds samples b0.."""
    seq = grad_out.shape[1] == steps
    if not seq and t != steps - 1:
        return
    ts = t if seq else 0
    for k in range(dh.shape[0]):
        g, d = grad_out[b0 + k, ts], dh[k]
        for j in range(d.shape[0]):
            d[j] += g[j]


@jit
def _input_grads(t, batch, b0, b1, xt, dz, w, mask_x, reverse, use_bias, need_grad_x, gw, gb, gx, grad_x):
    """Step t, samples b0..b1: gw += xt.T @ dz, gb += column sums of dz, grad_x rows = (dz @ w.T) * mask."""
    r0, r1 = t * batch + b0, t * batch + b1
    n_in = xt.shape[1]
    if n_in <= 8:  # a few input features: accumulate row by row (vectorised over the gates)
        for r in range(r0, r1):
            x, d = xt[r], dz[r]
            for f in range(n_in):
                xv, g = x[f], gw[f]
                for j in range(g.shape[0]):
                    g[j] += xv * d[j]
    else:
        gemm(xt[r0:r1], True, dz[r0:r1], False, gw, 1.0)
    if use_bias:
        for r in range(r0, r1):
            d = dz[r]
            for j in range(gb.shape[0]):
                gb[j] += d[j]
    if not need_grad_x:
        return
    steps = grad_x.shape[1]
    ts = steps - 1 - t if reverse else t
    gemm(dz[r0:r1], False, w, True, gx, 0.0)
    masked = mask_x.shape[0] > 0
    for k in range(b1 - b0):
        src, dst = gx[k], grad_x[b0 + k, ts]
        if masked:
            m = mask_x[b0 + k]
            for f in range(n_in):
                dst[f] = src[f] * m[f]
        else:
            for f in range(n_in):
                dst[f] = src[f]


@jit
def _recurrent_grad(dz_t, u, mask_h, b0, dh):
    """dh = (dz_t @ u.T) * mask_h: the gradient reaching h_{t-1} through the recurrent product."""
    gemm(dz_t, False, u, True, dh, 0.0)
    if mask_h.shape[0] > 0:
        for k in range(dh.shape[0]):
            d, m = dh[k], mask_h[b0 + k]
            for j in range(d.shape[0]):
                d[j] *= m[j]


@jit
def _reduce(acc, out):
    """out = acc.sum(axis=0) for per-thread accumulators acc (n, rows, cols) -> out (rows, cols), added in
    chunk order. (Loops, not array expressions: those cost more to compile than they ever save.)"""
    rows, cols = out.shape
    for i in range(rows):
        for j in range(cols):
            s = acc[0, i, j]
            for k in range(1, acc.shape[0]):
                s += acc[k, i, j]
            out[i, j] = s


@jit
def _zero_rows(a, r0, r1):
    """a[r0:r1] = 0 (a 2-D)."""
    for r in range(r0, r1):
        for j in range(a.shape[1]):
            a[r, j] = 0.0


@jit
def _zero_like_grads(gw, gu, gb):
    _zero2d(gw)
    _zero2d(gu)
    for j in range(gb.shape[0]):
        gb[j] = 0.0
