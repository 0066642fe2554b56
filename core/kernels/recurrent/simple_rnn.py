"""SimpleRNN over a whole sequence: forward and backpropagation through time, one call each (see :mod:`.rows`)."""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import chunked, jit
from ..blas import gemm
from .rows import (_act_row, _add_grad_out, _dact_row, _input_grads, _input_rows, _rec_input, _recurrent_grad, _reduce,
                   _split, _write_out, _zero_like_grads,
                   _zero_rows)


@jit
def _rnn_forward_body(x, w, u, b, code, alpha, fast, reverse, mask_x, mask_h, xt, pre, hs, hrec, out, b0, b1):
    batch, steps = x.shape[0], x.shape[1]
    _zero_rows(hs, b0, b1)
    for t in range(steps):
        r0 = t * batch
        _input_rows(x, mask_x, reverse, w, b, t, b0, b1, xt, pre)
        if t > 0:
            gemm(_rec_input(hs, mask_h, hrec, t, batch, b0, b1), False, u, False, pre[r0 + b0:r0 + b1], 1.0)
        for r in range(r0 + b0, r0 + b1):
            _act_row(pre[r], hs[r + batch], code, alpha, fast)
    _write_out(hs, steps, batch, b0, b1, out)


@chunked
def rnn_forward(x, w, u, b, code, alpha, fast, reverse, mask_x, mask_h, xt, pre, hs, hrec, out, n_chunks):
    """SimpleRNN over a whole sequence: h_t = act(x_t @ w + h_{t-1} @ u + b), h_0 = 0.

    Args:
        fast: float32 approximations of tanh/sigmoid (see the module docstring).
        reverse: read ``x`` from the last step to the first (``go_backwards``).
        n_chunks: independent sample ranges (see the module docstring), one thread each in the threaded twin.

    Shapes:
        x: (B, T, F); w: (F, U); u: (U, U); b: (U,); mask_x: (B, F) or (0, F); mask_h: (B, U) or (0, U).
        Filled: xt (T*B, F) masked time-major input; pre (T*B, U) pre-activations; hs ((T+1)*B, U) states;
        hrec (T*B, U) masked states fed to ``u`` (only with mask_h; else pass (0, U)); out (B, T, U) all
        states or (B, 1, U) the last one.
    """
    batch = x.shape[0]
    n = max(1, n_chunks)
    for k in prange(n):   # one call site of the body: it is compiled (and inlined) once
        b0, b1 = _split(batch, n, k)
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


@chunked
def rnn_backward(grad_out, w, u, xt, pre, hs, hrec, mask_x, mask_h, code, alpha, reverse, use_bias,
                 need_grad_x, dz, grad_w, grad_u, grad_b, grad_x, n_chunks):
    """BPTT for :func:`rnn_forward`; weight gradients are written (not added) into ``grad_*``.

    Shapes:
        grad_out: (B, T, U) or (B, 1, U) like ``out``; xt, pre, hs, hrec, masks: from the forward;
        dz: (T*B, U) scratch; grad_w (F, U); grad_u (U, U); grad_b (U,); grad_x (B, T, F), written only when
        ``need_grad_x``.
    """
    batch = grad_out.shape[0]
    n = max(1, n_chunks)
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
        _rnn_backward_body(grad_out, w, u, xt, pre, hs, hrec, mask_x, mask_h, code, alpha, reverse, use_bias,
                           need_grad_x, dz, acc_w[k], acc_u[k], acc_b[k, 0], grad_x, b0, b1)
    if n > 1:
        _reduce(acc_w, grad_w)
        _reduce(acc_u, grad_u)
        if use_bias:
            _reduce(acc_b, grad_b.reshape(1, -1))
