"""SimpleRNN, LSTM and GRU over a whole sequence: forward and backpropagation through time, one call each.

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
step); weight gradients get one accumulator per chunk, summed at the end. ``parallel`` runs the chunks on
Numba threads, otherwise one after the other: the arithmetic, and so every result bit, is the same.

Activations are the integer codes of :mod:`.activations` (``code``/``alpha`` for the cell activation,
``rcode``/``ralpha`` for the recurrent one). Dropout masks are ``(batch, F)`` and ``(batch, units)``
arrays already scaled by ``1 / keep``, or arrays with 0 rows for "no mask".
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange

from ._jit import jit
from .activations import LINEAR, SIGMOID, TANH, act_scalar, act_scalar_grad
from .blas import GEMM_BLOCK, SMALL_GEMM, gemm  # noqa: F401  (re-exported for the tests)

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
    for b in range(b0, b1):
        if seq:
            for t in range(steps):
                out[b, t, :] = hs[(t + 1) * batch + b]
        else:
            out[b, 0, :] = hs[steps * batch + b]


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
    """out = acc.sum(axis=0) for per-thread accumulators acc (n, rows, cols) -> out (rows, cols)."""
    out[:, :] = acc[0]
    for k in range(1, acc.shape[0]):
        out += acc[k]


@jit
def _zero_like_grads(gw, gu, gb):
    gw[:, :] = 0.0
    gu[:, :] = 0.0
    gb[:] = 0.0


# -------------------------------------------------------------------------------------------- SimpleRNN
@jit
def _rnn_forward_body(x, w, u, b, code, alpha, fast, reverse, mask_x, mask_h, xt, pre, hs, hrec, out, b0, b1):
    batch, steps = x.shape[0], x.shape[1]
    hs[b0:b1, :] = 0.0
    for t in range(steps):
        r0 = t * batch
        _input_rows(x, mask_x, reverse, w, b, t, b0, b1, xt, pre)
        if t > 0:
            gemm(_rec_input(hs, mask_h, hrec, t, batch, b0, b1), False, u, False, pre[r0 + b0:r0 + b1], 1.0)
        for r in range(r0 + b0, r0 + b1):
            _act_row(pre[r], hs[r + batch], code, alpha, fast)
    _write_out(hs, steps, batch, b0, b1, out)


@jit(parallel=True)
def rnn_forward(x, w, u, b, code, alpha, fast, reverse, mask_x, mask_h, xt, pre, hs, hrec, out, n_chunks, parallel):
    """SimpleRNN over a whole sequence: h_t = act(x_t @ w + h_{t-1} @ u + b), h_0 = 0.

    Args:
        fast: float32 approximations of tanh/sigmoid (see the module docstring).
        reverse: read ``x`` from the last step to the first (``go_backwards``).
        n_chunks: independent sample ranges (see the module docstring); parallel: one thread each.

    Shapes:
        x: (B, T, F); w: (F, U); u: (U, U); b: (U,); mask_x: (B, F) or (0, F); mask_h: (B, U) or (0, U).
        Filled: xt (T*B, F) masked time-major input; pre (T*B, U) pre-activations; hs ((T+1)*B, U) states;
        hrec (T*B, U) masked states fed to ``u`` (only with mask_h; else pass (0, U)); out (B, T, U) all
        states or (B, 1, U) the last one.
    """
    batch = x.shape[0]
    if n_chunks <= 1:
        _rnn_forward_body(x, w, u, b, code, alpha, fast, reverse, mask_x, mask_h, xt, pre, hs, hrec, out, 0, batch)
        return
    if parallel:
        for k in prange(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _rnn_forward_body(x, w, u, b, code, alpha, fast, reverse, mask_x, mask_h, xt, pre, hs, hrec, out, b0, b1)
    else:
        for k in range(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _rnn_forward_body(x, w, u, b, code, alpha, fast, reverse, mask_x, mask_h, xt, pre, hs, hrec, out, b0, b1)


@jit
def _rnn_backward_body(grad_out, w, u, xt, pre, hs, hrec, mask_x, mask_h, code, alpha, reverse, use_bias,
                       need_grad_x, dz, gw, gu, gb, grad_x, b0, b1):
    batch = grad_out.shape[0]
    steps = xt.shape[0] // batch
    units = u.shape[0]
    rec = hrec if mask_h.shape[0] > 0 else hs
    one = np.ones(1, pre.dtype)[0]
    dh = np.zeros((b1 - b0, units), pre.dtype)
    gx = np.empty((b1 - b0, xt.shape[1]), pre.dtype)
    _zero_like_grads(gw, gu, gb)
    for t in range(steps - 1, -1, -1):
        _add_grad_out(grad_out, t, steps, b0, dh)
        r0, r1 = t * batch + b0, t * batch + b1
        for r in range(r0, r1):
            _dact_row(pre[r], hs[r + batch], dh[r - r0], dz[r], code, alpha, one)
        if t > 0:
            gemm(rec[r0:r1], True, dz[r0:r1], False, gu, 1.0)
            _recurrent_grad(dz[r0:r1], u, mask_h, b0, dh)
        _input_grads(t, batch, b0, b1, xt, dz, w, mask_x, reverse, use_bias, need_grad_x, gw, gb, gx, grad_x)


@jit(parallel=True)
def rnn_backward(grad_out, w, u, xt, pre, hs, hrec, mask_x, mask_h, code, alpha, reverse, use_bias,
                 need_grad_x, dz, grad_w, grad_u, grad_b, grad_x, n_chunks, parallel):
    """BPTT for :func:`rnn_forward`; weight gradients are written (not added) into ``grad_*``.

    Shapes:
        grad_out: (B, T, U) or (B, 1, U) like ``out``; xt, pre, hs, hrec, masks: from the forward;
        dz: (T*B, U) scratch; grad_w (F, U); grad_u (U, U); grad_b (U,); grad_x (B, T, F), written only when
        ``need_grad_x``.
    """
    batch = grad_out.shape[0]
    if n_chunks <= 1:
        _rnn_backward_body(grad_out, w, u, xt, pre, hs, hrec, mask_x, mask_h, code, alpha, reverse, use_bias,
                           need_grad_x, dz, grad_w, grad_u, grad_b, grad_x, 0, batch)
        return
    acc_w = np.empty((n_chunks, grad_w.shape[0], grad_w.shape[1]), grad_w.dtype)
    acc_u = np.empty((n_chunks, grad_u.shape[0], grad_u.shape[1]), grad_u.dtype)
    acc_b = np.empty((n_chunks, 1, grad_b.shape[0]), grad_b.dtype)
    if parallel:
        for k in prange(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _rnn_backward_body(grad_out, w, u, xt, pre, hs, hrec, mask_x, mask_h, code, alpha, reverse, use_bias,
                               need_grad_x, dz, acc_w[k], acc_u[k], acc_b[k, 0], grad_x, b0, b1)
    else:
        for k in range(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _rnn_backward_body(grad_out, w, u, xt, pre, hs, hrec, mask_x, mask_h, code, alpha, reverse, use_bias,
                               need_grad_x, dz, acc_w[k], acc_u[k], acc_b[k, 0], grad_x, b0, b1)
    _reduce(acc_w, grad_w)
    _reduce(acc_u, grad_u)
    if use_bias:
        _reduce(acc_b, grad_b.reshape(1, -1))


# ------------------------------------------------------------------------------------------------ LSTM
@jit
def _lstm_forward_row(p, g, c_prev, c, tc, h, units, code, alpha, rcode, ralpha, fast):
    """One sample, one step: gates g = act(p) (i, f, g, o), c = f * c_prev + i * g, h = o * act(c)."""
    u2, u3 = 2 * units, 3 * units
    if fast and code == TANH and rcode == SIGMOID:
        # The default cell: sigmoid over all four blocks in one long loop, then tanh over g (cheaper than
        # three short loops).
        for j in range(4 * units):
            g[j] = _sigmoid_fast(p[j])
        for j in range(units):
            g[u2 + j] = _tanh_fast(p[u2 + j])
        for j in range(units):
            c[j] = g[units + j] * c_prev[j] + g[j] * g[u2 + j]
        for j in range(units):
            tc[j] = _tanh_fast(c[j])
    else:
        _act_row(p[:u2], g[:u2], rcode, ralpha, fast)
        _act_row(p[u2:u3], g[u2:u3], code, alpha, fast)
        _act_row(p[u3:], g[u3:], rcode, ralpha, fast)
        for j in range(units):
            c[j] = g[units + j] * c_prev[j] + g[j] * g[u2 + j]
        _act_row(c, tc, code, alpha, fast)
    for j in range(units):
        h[j] = g[u3 + j] * tc[j]


@jit
def _lstm_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reverse, mask_x, mask_h,
                       xt, pre, gates, hs, cs, tc, hrec, out, b0, b1):
    batch, steps = x.shape[0], x.shape[1]
    units = u.shape[0]
    hs[b0:b1, :] = 0.0
    cs[b0:b1, :] = 0.0
    for t in range(steps):
        r0 = t * batch
        _input_rows(x, mask_x, reverse, w, b, t, b0, b1, xt, pre)
        if t > 0:
            gemm(_rec_input(hs, mask_h, hrec, t, batch, b0, b1), False, u, False, pre[r0 + b0:r0 + b1], 1.0)
        for r in range(r0 + b0, r0 + b1):
            _lstm_forward_row(pre[r], gates[r], cs[r], cs[r + batch], tc[r], hs[r + batch], units,
                              code, alpha, rcode, ralpha, fast)
    _write_out(hs, steps, batch, b0, b1, out)


@jit(parallel=True)
def lstm_forward(x, w, u, b, code, alpha, rcode, ralpha, fast, reverse, mask_x, mask_h,
                 xt, pre, gates, hs, cs, tc, hrec, out, n_chunks, parallel):
    """LSTM over a whole sequence (Keras gate order i, f, c, o).

    ``[i, f, g, o] = x_t @ w + h_{t-1} @ u + b``; i, f, o through the recurrent activation, g through the
    activation; ``c_t = f * c_{t-1} + i * g``; ``h_t = o * act(c_t)``; h_0 = c_0 = 0.

    Shapes:
        x: (B, T, F); w: (F, 4U); u: (U, 4U); b: (4U,); masks as :func:`rnn_forward`.
        Filled: xt (T*B, F); pre (T*B, 4U) pre-activations; gates (T*B, 4U) activations i, f, g, o;
        hs, cs ((T+1)*B, U) hidden and cell states; tc (T*B, U) act(c_t); hrec (T*B, U) or (0, U);
        out (B, T, U) or (B, 1, U).
    """
    batch = x.shape[0]
    if n_chunks <= 1:
        _lstm_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reverse, mask_x, mask_h,
                           xt, pre, gates, hs, cs, tc, hrec, out, 0, batch)
        return
    if parallel:
        for k in prange(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _lstm_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reverse, mask_x, mask_h,
                               xt, pre, gates, hs, cs, tc, hrec, out, b0, b1)
    else:
        for k in range(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _lstm_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reverse, mask_x, mask_h,
                               xt, pre, gates, hs, cs, tc, hrec, out, b0, b1)


@jit
def _lstm_backward_row(dh, dc, g, p, c_prev, c, tc, dz, tmp, units, code, alpha, rcode, ralpha, one):
    """One sample, one step of LSTM BPTT: dz = dL/d(pre-activations) (4U); dc carried to c_{t-1}."""
    u2, u3 = 2 * units, 3 * units
    if code == TANH and rcode == SIGMOID:
        for j in range(units):  # the default cell, fused
            i, f, gg, o = g[j], g[units + j], g[u2 + j], g[u3 + j]
            t, dhj = tc[j], dh[j]
            dcv = dc[j] + dhj * o * (one - t * t)
            dz[j] = dcv * gg * (i - i * i)
            dz[units + j] = dcv * c_prev[j] * (f - f * f)
            dz[u2 + j] = dcv * i * (one - gg * gg)
            dz[u3 + j] = dhj * t * (o - o * o)
            dc[j] = dcv * f
        return
    for j in range(units):
        tmp[j] = dh[j] * g[u3 + j]                     # dL/d act(c)
    _dact_row(c, tc, tmp, tmp, code, alpha, one)       # -> dL/dc through h
    for j in range(units):
        dcv = dc[j] + tmp[j]
        dz[j] = dcv * g[u2 + j]                        # di
        dz[units + j] = dcv * c_prev[j]                # df
        dz[u2 + j] = dcv * g[j]                        # dg
        dz[u3 + j] = dh[j] * tc[j]                     # do
        dc[j] = dcv * g[units + j]
    _dact_row(p[:u2], g[:u2], dz[:u2], dz[:u2], rcode, ralpha, one)
    _dact_row(p[u2:u3], g[u2:u3], dz[u2:u3], dz[u2:u3], code, alpha, one)
    _dact_row(p[u3:], g[u3:], dz[u3:], dz[u3:], rcode, ralpha, one)


@jit
def _lstm_backward_body(grad_out, w, u, xt, pre, gates, hs, cs, tc, hrec, mask_x, mask_h, code, alpha, rcode,
                        ralpha, reverse, use_bias, need_grad_x, dz, gw, gu, gb, grad_x, b0, b1):
    batch = grad_out.shape[0]
    steps = xt.shape[0] // batch
    units = u.shape[0]
    rec = hrec if mask_h.shape[0] > 0 else hs
    one = np.ones(1, pre.dtype)[0]
    dh = np.zeros((b1 - b0, units), pre.dtype)
    dc = np.zeros((b1 - b0, units), pre.dtype)
    tmp = np.empty(units, pre.dtype)
    gx = np.empty((b1 - b0, xt.shape[1]), pre.dtype)
    _zero_like_grads(gw, gu, gb)
    for t in range(steps - 1, -1, -1):
        _add_grad_out(grad_out, t, steps, b0, dh)
        r0, r1 = t * batch + b0, t * batch + b1
        for r in range(r0, r1):
            k = r - r0
            _lstm_backward_row(dh[k], dc[k], gates[r], pre[r], cs[r], cs[r + batch], tc[r], dz[r], tmp, units,
                               code, alpha, rcode, ralpha, one)
        if t > 0:
            gemm(rec[r0:r1], True, dz[r0:r1], False, gu, 1.0)
            _recurrent_grad(dz[r0:r1], u, mask_h, b0, dh)
        _input_grads(t, batch, b0, b1, xt, dz, w, mask_x, reverse, use_bias, need_grad_x, gw, gb, gx, grad_x)


@jit(parallel=True)
def lstm_backward(grad_out, w, u, xt, pre, gates, hs, cs, tc, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                  reverse, use_bias, need_grad_x, dz, grad_w, grad_u, grad_b, grad_x, n_chunks, parallel):
    """BPTT for :func:`lstm_forward`; gradients are written (not added) into ``grad_*``.

    Shapes:
        grad_out: (B, T, U) or (B, 1, U); forward arrays as filled by :func:`lstm_forward`;
        dz: (T*B, 4U) scratch; grad_w (F, 4U); grad_u (U, 4U); grad_b (4U,); grad_x (B, T, F).
    """
    batch = grad_out.shape[0]
    if n_chunks <= 1:
        _lstm_backward_body(grad_out, w, u, xt, pre, gates, hs, cs, tc, hrec, mask_x, mask_h, code, alpha, rcode,
                            ralpha, reverse, use_bias, need_grad_x, dz, grad_w, grad_u, grad_b, grad_x, 0, batch)
        return
    acc_w = np.empty((n_chunks, grad_w.shape[0], grad_w.shape[1]), grad_w.dtype)
    acc_u = np.empty((n_chunks, grad_u.shape[0], grad_u.shape[1]), grad_u.dtype)
    acc_b = np.empty((n_chunks, 1, grad_b.shape[0]), grad_b.dtype)
    if parallel:
        for k in prange(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _lstm_backward_body(grad_out, w, u, xt, pre, gates, hs, cs, tc, hrec, mask_x, mask_h, code, alpha, rcode,
                                ralpha, reverse, use_bias, need_grad_x, dz, acc_w[k], acc_u[k], acc_b[k, 0], grad_x,
                                b0, b1)
    else:
        for k in range(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _lstm_backward_body(grad_out, w, u, xt, pre, gates, hs, cs, tc, hrec, mask_x, mask_h, code, alpha, rcode,
                                ralpha, reverse, use_bias, need_grad_x, dz, acc_w[k], acc_u[k], acc_b[k, 0], grad_x,
                                b0, b1)
    _reduce(acc_w, grad_w)
    _reduce(acc_u, grad_u)
    if use_bias:
        _reduce(acc_b, grad_b.reshape(1, -1))


# ------------------------------------------------------------------------------------------------- GRU
@jit
def _gru_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reset_after, reverse, mask_x, mask_h,
                      xt, pre, hp, gates, hs, hrec, out, b0, b1):
    batch, steps = x.shape[0], x.shape[1]
    units = u.shape[0]
    u2 = 2 * units
    hs[b0:b1, :] = 0.0
    for t in range(steps):
        r0, r1 = t * batch + b0, t * batch + b1
        _input_rows(x, mask_x, reverse, w, b[0], t, b0, b1, xt, pre)
        rec = _rec_input(hs, mask_h, hrec, t, batch, b0, b1)  # zero rows at t == 0
        if reset_after:
            for r in range(r0, r1):
                hp[r, :] = b[1]
            if t > 0:
                gemm(rec, False, u, False, hp[r0:r1], 1.0)
        elif t > 0:
            gemm(rec, False, u[:, :u2], False, hp[r0:r1, :u2], 0.0)
        else:
            hp[r0:r1, :u2] = 0.0
        for r in range(r0, r1):
            p, g, q = pre[r], gates[r], hp[r]
            for j in range(u2):
                p[j] += q[j]
            _act_row(p[:u2], g[:u2], rcode, ralpha, fast)
            if reset_after:
                for j in range(units):
                    p[u2 + j] += g[units + j] * q[u2 + j]
            else:
                hr = rec[r - r0]
                for j in range(units):
                    q[u2 + j] = g[units + j] * hr[j]
        if not reset_after and t > 0:
            gemm(hp[r0:r1, u2:], False, u[:, u2:], False, pre[r0:r1, u2:], 1.0)
        for r in range(r0, r1):
            g, h_prev, h = gates[r], hs[r], hs[r + batch]
            _act_row(pre[r, u2:], g[u2:], code, alpha, fast)
            for j in range(units):
                hh = g[u2 + j]
                h[j] = hh + g[j] * (h_prev[j] - hh)
    _write_out(hs, steps, batch, b0, b1, out)


@jit(parallel=True)
def gru_forward(x, w, u, b, code, alpha, rcode, ralpha, fast, reset_after, reverse, mask_x, mask_h,
                xt, pre, hp, gates, hs, hrec, out, n_chunks, parallel):
    """GRU over a whole sequence (Keras gate order z, r, h).

    With ``reset_after`` (Keras' default): ``hp = h_{t-1} @ u + b[1]``;
    ``z = ract(xw_z + hp_z)``, ``r = ract(xw_r + hp_r)``, ``hh = act(xw_h + r * hp_h)`` with
    ``xw = x_t @ w + b[0]``. Without: ``hh = act(xw_h + (r * h_{t-1}) @ u_h)`` and no recurrent bias.
    Then ``h_t = z * h_{t-1} + (1 - z) * hh``; h_0 = 0.

    Shapes:
        x: (B, T, F); w: (F, 3U); u: (U, 3U); b: (2, 3U) with ``reset_after``, else (1, 3U).
        Filled: xt (T*B, F); pre (T*B, 3U) pre-activations; hp (T*B, 3U) recurrent projections (without
        ``reset_after``, hp[:, 2U:] holds r * h_{t-1}); gates (T*B, 3U) z, r, hh; hs ((T+1)*B, U);
        hrec (T*B, U) or (0, U); out (B, T, U) or (B, 1, U).
    """
    batch = x.shape[0]
    if n_chunks <= 1:
        _gru_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reset_after, reverse, mask_x, mask_h,
                          xt, pre, hp, gates, hs, hrec, out, 0, batch)
        return
    if parallel:
        for k in prange(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _gru_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reset_after, reverse, mask_x, mask_h,
                              xt, pre, hp, gates, hs, hrec, out, b0, b1)
    else:
        for k in range(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _gru_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reset_after, reverse, mask_x, mask_h,
                              xt, pre, hp, gates, hs, hrec, out, b0, b1)


@jit
def _gru_backward_body(grad_out, w, u, xt, pre, hp, gates, hs, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                       reset_after, reverse, use_bias, need_grad_x, dx, dhp, gw, gu, gb, grad_x, b0, b1):
    batch = grad_out.shape[0]
    steps = xt.shape[0] // batch
    units = u.shape[0]
    u2 = 2 * units
    rec = hrec if mask_h.shape[0] > 0 else hs
    dtype = pre.dtype
    one = np.ones(1, dtype)[0]
    nb = b1 - b0
    dh = np.zeros((nb, units), dtype)
    dh_direct = np.empty((nb, units), dtype)
    drh = np.zeros((nb, units), dtype)
    gx = np.empty((nb, xt.shape[1]), dtype)
    gw[:, :] = 0.0
    gu[:, :] = 0.0
    gb[:, :] = 0.0
    for t in range(steps - 1, -1, -1):
        _add_grad_out(grad_out, t, steps, b0, dh)
        r0, r1 = t * batch + b0, t * batch + b1
        for r in range(r0, r1):
            k = r - r0
            d, g, h_prev, dhk = dx[r], gates[r], hs[r], dh[k]
            for j in range(units):
                z, hh = g[j], g[u2 + j]
                d[j] = dhk[j] * (h_prev[j] - hh)          # dL/dz
                d[u2 + j] = dhk[j] * (one - z)            # dL/dhh
                dh_direct[k, j] = dhk[j] * z
            _dact_row(pre[r, u2:], g[u2:], d[u2:], d[u2:], code, alpha, one)
        if reset_after:
            for r in range(r0, r1):
                d, g, q, e = dx[r], gates[r], hp[r], dhp[r]
                for j in range(units):
                    d[units + j] = d[u2 + j] * q[u2 + j]   # dL/dr
                    e[u2 + j] = d[u2 + j] * g[units + j]
                _dact_row(pre[r, :u2], g[:u2], d[:u2], d[:u2], rcode, ralpha, one)
                for j in range(u2):
                    e[j] = d[j]
                if use_bias:
                    gbh = gb[1]
                    for j in range(3 * units):
                        gbh[j] += e[j]
            if t > 0:
                gemm(rec[r0:r1], True, dhp[r0:r1], False, gu, 1.0)
                _recurrent_grad(dhp[r0:r1], u, mask_h, b0, dh)
        else:
            if t > 0:
                gemm(dx[r0:r1, u2:], False, u[:, u2:], True, drh, 0.0)   # dL/d(r * h_{t-1})
            for r in range(r0, r1):
                k = r - r0
                d, g, hr = dx[r], gates[r], rec[r]
                for j in range(units):
                    d[units + j] = drh[k, j] * hr[j] if t > 0 else 0.0
                _dact_row(pre[r, :u2], g[:u2], d[:u2], d[:u2], rcode, ralpha, one)
            if t > 0:
                gemm(rec[r0:r1], True, dx[r0:r1, :u2], False, gu[:, :u2], 1.0)
                gemm(hp[r0:r1, u2:], True, dx[r0:r1, u2:], False, gu[:, u2:], 1.0)
                gemm(dx[r0:r1, :u2], False, u[:, :u2], True, dh, 0.0)
                for k in range(nb):
                    g, dr = gates[r0 + k], drh[k]
                    for j in range(units):
                        dh[k, j] += dr[j] * g[units + j]
                if mask_h.shape[0] > 0:
                    for k in range(nb):
                        for j in range(units):
                            dh[k, j] *= mask_h[b0 + k, j]
        if t > 0:
            for k in range(nb):
                for j in range(units):
                    dh[k, j] += dh_direct[k, j]
        _input_grads(t, batch, b0, b1, xt, dx, w, mask_x, reverse, use_bias, need_grad_x, gw, gb[0], gx, grad_x)


@jit(parallel=True)
def gru_backward(grad_out, w, u, xt, pre, hp, gates, hs, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                 reset_after, reverse, use_bias, need_grad_x, dx, dhp, grad_w, grad_u, grad_b, grad_x, n_chunks,
                 parallel):
    """BPTT for :func:`gru_forward`; gradients are written (not added) into ``grad_*``.

    Shapes:
        grad_out: (B, T, U) or (B, 1, U); forward arrays as filled by :func:`gru_forward`;
        dx: (T*B, 3U) scratch (dL/d pre); dhp: (T*B, 3U) scratch (dL/d hp) with ``reset_after``, else
        (0, 3U); grad_w (F, 3U); grad_u (U, 3U); grad_b like b ((2, 3U) or (1, 3U)); grad_x (B, T, F).
    """
    batch = grad_out.shape[0]
    if n_chunks <= 1:
        _gru_backward_body(grad_out, w, u, xt, pre, hp, gates, hs, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                           reset_after, reverse, use_bias, need_grad_x, dx, dhp, grad_w, grad_u, grad_b, grad_x,
                           0, batch)
        return
    acc_w = np.empty((n_chunks, grad_w.shape[0], grad_w.shape[1]), grad_w.dtype)
    acc_u = np.empty((n_chunks, grad_u.shape[0], grad_u.shape[1]), grad_u.dtype)
    acc_b = np.empty((n_chunks, grad_b.shape[0], grad_b.shape[1]), grad_b.dtype)
    if parallel:
        for k in prange(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _gru_backward_body(grad_out, w, u, xt, pre, hp, gates, hs, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                               reset_after, reverse, use_bias, need_grad_x, dx, dhp, acc_w[k], acc_u[k], acc_b[k],
                               grad_x, b0, b1)
    else:
        for k in range(n_chunks):
            b0, b1 = _split(batch, n_chunks, k)
            _gru_backward_body(grad_out, w, u, xt, pre, hp, gates, hs, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                               reset_after, reverse, use_bias, need_grad_x, dx, dhp, acc_w[k], acc_u[k], acc_b[k],
                               grad_x, b0, b1)
    _reduce(acc_w, grad_w)
    _reduce(acc_u, grad_u)
    if use_bias:
        _reduce(acc_b, grad_b)


# ------------------------------------------------------------------------------------------- Embedding
@jit
def embedding_backward(idx, grad_out, grad_w):
    """grad_w = sum of grad_out rows per index (rows of unused indices are 0).

    Shapes:
        idx: (N,) int64 in [0, V); grad_out: (N, D); grad_w: (V, D).
    """
    grad_w[:, :] = 0.0
    for n in range(idx.shape[0]):
        src, dst = grad_out[n], grad_w[idx[n]]
        for j in range(src.shape[0]):
            dst[j] += src[j]
