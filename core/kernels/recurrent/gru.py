"""GRU over a whole sequence (gates z, r, h; ``reset_after`` either way): forward and backpropagation
through time, one call each (see :mod:`.rows`)."""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import chunked, jit
from ..blas import _zero2d, gemm
from .rows import (_act_row, _add_grad_out, _dact_row, _input_grads, _input_rows, _rec_input, _recurrent_grad, _reduce,
                   _split, _write_out, _zero_rows)


@jit
def _gru_forward_body(x, w, u, b, code, alpha, rcode, ralpha, fast, reset_after, reverse, mask_x, mask_h,
                      xt, pre, hp, gates, hs, hrec, out, b0, b1):
    batch, steps = x.shape[0], x.shape[1]
    units = u.shape[0]
    u2 = 2 * units
    _zero_rows(hs, b0, b1)
    for t in range(steps):
        r0, r1 = t * batch + b0, t * batch + b1
        _input_rows(x, mask_x, reverse, w, b[0], t, b0, b1, xt, pre)
        rec = _rec_input(hs, mask_h, hrec, t, batch, b0, b1)  # zero rows at t == 0
        if reset_after:
            for r in range(r0, r1):
                for j in range(hp.shape[1]):
                    hp[r, j] = b[1, j]
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


@chunked
def gru_forward(x, w, u, b, code, alpha, rcode, ralpha, fast, reset_after, reverse, mask_x, mask_h,
                xt, pre, hp, gates, hs, hrec, out, n_chunks):
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
    n = max(1, n_chunks)
    for k in prange(n):   # one call site of the body: it is compiled (and inlined) once
        b0, b1 = _split(batch, n, k)
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
    _zero2d(gw)
    _zero2d(gu)
    _zero2d(gb)
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


@chunked
def gru_backward(grad_out, w, u, xt, pre, hp, gates, hs, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                 reset_after, reverse, use_bias, need_grad_x, dx, dhp, grad_w, grad_u, grad_b, grad_x, n_chunks):
    """BPTT for :func:`gru_forward`; gradients are written (not added) into ``grad_*``.

    Shapes:
        grad_out: (B, T, U) or (B, 1, U); forward arrays as filled by :func:`gru_forward`;
        dx: (T*B, 3U) scratch (dL/d pre); dhp: (T*B, 3U) scratch (dL/d hp) with ``reset_after``, else
        (0, 3U); grad_w (F, 3U); grad_u (U, 3U); grad_b like b ((2, 3U) or (1, 3U)); grad_x (B, T, F).
    """
    batch = grad_out.shape[0]
    n = max(1, n_chunks)
    if n == 1:   # the body writes the gradients themselves; one call site, so it is compiled once
        acc_w = grad_w.reshape((1, grad_w.shape[0], grad_w.shape[1]))
        acc_u = grad_u.reshape((1, grad_u.shape[0], grad_u.shape[1]))
        acc_b = grad_b.reshape((1, grad_b.shape[0], grad_b.shape[1]))
    else:   # one accumulator per chunk, summed in chunk order
        acc_w = np.empty((n, grad_w.shape[0], grad_w.shape[1]), grad_w.dtype)
        acc_u = np.empty((n, grad_u.shape[0], grad_u.shape[1]), grad_u.dtype)
        acc_b = np.empty((n, grad_b.shape[0], grad_b.shape[1]), grad_b.dtype)
    for k in prange(n):
        b0, b1 = _split(batch, n, k)
        _gru_backward_body(grad_out, w, u, xt, pre, hp, gates, hs, hrec, mask_x, mask_h, code, alpha, rcode, ralpha,
                           reset_after, reverse, use_bias, need_grad_x, dx, dhp, acc_w[k], acc_u[k], acc_b[k],
                           grad_x, b0, b1)
    if n > 1:
        _reduce(acc_w, grad_w)
        _reduce(acc_u, grad_u)
        if use_bias:
            _reduce(acc_b, grad_b)
