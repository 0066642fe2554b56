"""LSTM over a whole sequence (gates i, f, c, o): forward and backpropagation through time, one call each
(see :mod:`.rows`)."""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import chunked, jit
from ..activations import SIGMOID, TANH
from ..blas import gemm
from .rows import (_act_row, _add_grad_out, _dact_row, _input_grads, _input_rows, _rec_input, _recurrent_grad, _reduce,
                   _sigmoid_fast, _split, _tanh_fast, _write_out, _zero_like_grads, _zero_rows)


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
    _zero_rows(hs, b0, b1)
    _zero_rows(cs, b0, b1)
    for t in range(steps):
        r0 = t * batch
        _input_rows(x, mask_x, reverse, w, b, t, b0, b1, xt, pre)
        if t > 0:
            gemm(_rec_input(hs, mask_h, hrec, t, batch, b0, b1), False, u, False, pre[r0 + b0:r0 + b1], 1.0)
        for r in range(r0 + b0, r0 + b1):
            _lstm_forward_row(pre[r], gates[r], cs[r], cs[r + batch], tc[r], hs[r + batch], units,
                              code, alpha, rcode, ralpha, fast)
    _write_out(hs, steps, batch, b0, b1, out)


@chunked
def lstm_forward(x, w, u, b, code, alpha, rcode, ralpha, fast, reverse, mask_x, mask_h,
                 xt, pre, gates, hs, cs, tc, hrec, out, n_chunks):
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
    n = max(1, n_chunks)
    for k in prange(n):   # one call site of the body: it is compiled (and inlined) once
        b0, b1 = _split(batch, n, k)
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


@chunked
def lstm_backward(grad_out, w, u, xt, pre, gates, hs, cs, tc, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                  reverse, use_bias, need_grad_x, dz, grad_w, grad_u, grad_b, grad_x, n_chunks):
    """BPTT for :func:`lstm_forward`; gradients are written (not added) into ``grad_*``.

    Shapes:
        grad_out: (B, T, U) or (B, 1, U); forward arrays as filled by :func:`lstm_forward`;
        dz: (T*B, 4U) scratch; grad_w (F, 4U); grad_u (U, 4U); grad_b (4U,); grad_x (B, T, F).
    """
    batch = grad_out.shape[0]
    n = max(1, n_chunks)
    # (the same lines as in rnn_backward and gru_backward: a shared helper returning the three arrays cost
    # 1.5 s more of compilation on a cold start, measured on lstm-sine)
    if n == 1:   # the body writes the gradients themselves; one call site, so it is compiled once
        acc_w = grad_w.reshape((1, grad_w.shape[0], grad_w.shape[1]))
        acc_u = grad_u.reshape((1, grad_u.shape[0], grad_u.shape[1]))
        acc_b = grad_b.reshape((1, 1, grad_b.shape[0]))
    else:   # one accumulator per chunk, summed in chunk order
        acc_w = np.empty((n, grad_w.shape[0], grad_w.shape[1]), grad_w.dtype)
        acc_u = np.empty((n, grad_u.shape[0], grad_u.shape[1]), grad_u.dtype)
        acc_b = np.empty((n, 1, grad_b.shape[0]), grad_b.dtype)
    for k in prange(n):
        b0, b1 = _split(batch, n, k)
        _lstm_backward_body(grad_out, w, u, xt, pre, gates, hs, cs, tc, hrec, mask_x, mask_h, code, alpha, rcode,
                            ralpha, reverse, use_bias, need_grad_x, dz, acc_w[k], acc_u[k], acc_b[k, 0], grad_x,
                            b0, b1)
    if n > 1:
        _reduce(acc_w, grad_w)
        _reduce(acc_u, grad_u)
        if use_bias:
            _reduce(acc_b, grad_b.reshape(1, -1))
