"""SimpleRNN, LSTM and GRU of :mod:`nnplay.core.kernels.recurrent` in NumPy: forward and backpropagation
through time over a whole sequence, a Python loop over the steps with matrix products over the batch.

The kernels' math: Keras gate order and weight layout, zero initial states, ``reverse`` (``go_backwards``)
reading x from the last step to the first (outputs in processing order), the dropout masks ``(batch, F)``
and ``(batch, U)`` (0 rows for none) fixed over the sequence, both GRU variants, and weight gradients
written, not added. Products over all steps at once (input projections, weight gradients, ``grad_x``)
sum in another order, and tanh/sigmoid are exact where the float32 kernels approximate them (~3e-7):
the tiers differ by float rounding only. Every option of the layers is covered, so none falls back to the
kernels (masking, ``stateful`` and ``return_state`` do not exist in nnplay's recurrent layers).

Activations are ``(code, alpha)`` pairs of :mod:`nnplay.core.kernels.activations`. The tape of a forward
keeps the states under the kernel path's names and layout (time-major 2-D: ``hs``/``cs``
``((T+1)*B, U)`` with the zero initial state first, ``gates`` ``(T*B, kU)``), so a layer's views of its
states read either tier.
"""
from __future__ import annotations

import numpy as np

from .activations import act_backward, act_forward


def forward(cell, x, w, u, b, mask_x, mask_h, act, ract=None, reverse=False, sequences=False,
            reset_after=True):
    """One cell (``"rnn"``, ``"lstm"``, ``"gru"``) over x (B, T, F): the output (B, T, U) with
    ``sequences``, else (B, U), a fresh array; and the tape :func:`backward` reads.

    Shapes:
        w (F, kU); u (U, kU); b (kU,), or for GRU (2, 3U) with ``reset_after`` (input row, recurrent row)
        and (3U,) without; mask_x (B, F) or (0, F); mask_h (B, U) or (0, U).
    """
    xt, pre = _inputs(x, w, b.reshape(-1, w.shape[1])[0], mask_x, reverse)
    steps, batch, units = pre.shape[0], pre.shape[1], u.shape[0]
    tape = {"tier": "numpy", "cell": cell, "x_shape": x.shape, "mask_x": mask_x, "mask_h": mask_h, "xt": xt,
            "pre": pre, "act": act, "ract": ract, "reverse": reverse, "reset_after": reset_after}
    hs = np.zeros((steps + 1, batch, units), pre.dtype)
    if cell == "rnn":
        for t in range(steps):
            if t:
                pre[t] += _masked(hs[t], mask_h) @ u
            hs[t + 1] = act_forward(pre[t], *act)
    elif cell == "lstm":
        tape.update(_lstm_forward(u, act, ract, mask_h, pre, hs))
    else:
        tape.update(_gru_forward(u, b.reshape(-1, w.shape[1]), act, ract, reset_after, mask_h, pre, hs))
    tape["hs"] = hs.reshape(-1, units)
    out = hs[1:].transpose(1, 0, 2).copy() if sequences else hs[steps].copy()
    return out, tape


def backward(tape, grad_out, w, u, grad_w, grad_u, grad_b, grad_x=None):
    """BPTT for :func:`forward`: writes grad_w, grad_u and grad_b (shaped like b) in place, and grad_x
    (B, T, F) unless it is None; returns grad_x.

    Shapes:
        grad_out: (B, T, U) with ``sequences``, else (B, 1, U) or (B, U).
    """
    xt, pre = tape["xt"], tape["pre"]
    steps, batch, units = pre.shape[0], pre.shape[1], u.shape[0]
    grad_out = grad_out.reshape(batch, -1, units)
    hs = tape["hs"].reshape(steps + 1, batch, units)
    mask_h, act, ract = tape["mask_h"], tape["act"], tape["ract"]
    gb = grad_b.reshape(-1, w.shape[1])
    if tape["cell"] == "rnn":
        dz = np.empty_like(pre)
        dh = np.zeros((batch, units), pre.dtype)
        for t in range(steps - 1, -1, -1):
            dh = _add_grad_out(dh, grad_out, t, steps)
            dz[t] = act_backward(pre[t], hs[t + 1], dh, *act)
            if t:
                dh = _masked(dz[t] @ u.T, mask_h)
    elif tape["cell"] == "lstm":
        dz = _lstm_backward(tape, grad_out, u, act, ract, mask_h, pre, hs)
    else:
        dz = _gru_backward(tape, grad_out, u, gb, act, ract, mask_h, pre, hs, grad_u)
    if tape["cell"] != "gru":   # the recurrent gradient of every step at once (h_0 = 0 adds nothing)
        np.matmul(_masked(hs[:steps], mask_h).reshape(-1, units).T, dz.reshape(-1, dz.shape[2]), out=grad_u)
    _input_grads(xt, dz, w, tape["mask_x"], tape["reverse"], grad_w, gb[0], grad_x)
    return grad_x


# ----------------------------------------------------------------------------------------- shared
def _inputs(x, w, bias, mask_x, reverse):
    """Time-major masked inputs xt (T, B, F) and their projections xt @ w + bias (T, B, kU)."""
    xt = x.transpose(1, 0, 2)
    if reverse:
        xt = xt[::-1]
    xt = np.multiply(xt, mask_x, order="C") if mask_x.shape[0] else np.ascontiguousarray(xt)
    steps, batch, n_in = xt.shape
    pre = (xt.reshape(-1, n_in) @ w).reshape(steps, batch, -1)
    pre += bias
    return xt, pre


def _masked(h, mask_h):
    """h times the recurrent dropout mask (h itself without one)."""
    return h * mask_h if mask_h.shape[0] else h


def _add_grad_out(dh, grad_out, t, steps):
    """dh plus dL/dh_t from the layer's own output (every step, or only the last)."""
    if grad_out.shape[1] == steps:
        return dh + grad_out[:, t]
    return dh + grad_out[:, 0] if t == steps - 1 else dh


def _input_grads(xt, dz, w, mask_x, reverse, grad_w, grad_b, grad_x):
    """grad_w = xt.T @ dz, grad_b = column sums of dz, grad_x = (dz @ w.T) * mask_x, over all steps."""
    steps, batch, n_in = xt.shape
    d = dz.reshape(steps * batch, -1)
    np.matmul(xt.reshape(-1, n_in).T, d, out=grad_w)
    grad_b[...] = d.sum(axis=0)
    if grad_x is None:
        return
    gx = (d @ w.T).reshape(steps, batch, n_in)
    if mask_x.shape[0]:
        gx *= mask_x
    grad_x[...] = (gx[::-1] if reverse else gx).transpose(1, 0, 2)


# ------------------------------------------------------------------------------------------- LSTM
def _lstm_forward(u, act, ract, mask_h, pre, hs):
    """Fills hs; returns the LSTM's extra tape: gates i, f, c~, o (T*B, 4U), cs ((T+1)*B, U), tc = act(c)."""
    steps, units = pre.shape[0], u.shape[0]
    u2, u3 = 2 * units, 3 * units
    gates = np.empty_like(pre)
    cs = np.zeros_like(hs)
    tc = np.empty_like(hs[1:])
    for t in range(steps):
        p, g = pre[t], gates[t]
        if t:
            p += _masked(hs[t], mask_h) @ u
        g[...] = act_forward(p, *ract)             # i, f, o (and c~, overwritten next)
        g[:, u2:u3] = act_forward(p[:, u2:u3], *act)
        cs[t + 1] = g[:, units:u2] * cs[t] + g[:, :units] * g[:, u2:u3]
        tc[t] = act_forward(cs[t + 1], *act)
        hs[t + 1] = g[:, u3:] * tc[t]
    return {"gates": gates.reshape(-1, 4 * units), "cs": cs.reshape(-1, units), "tc": tc}


def _lstm_backward(tape, grad_out, u, act, ract, mask_h, pre, hs):
    """dL/d pre-activations (T, B, 4U)."""
    steps, batch, units = hs.shape[0] - 1, hs.shape[1], u.shape[0]
    u2, u3 = 2 * units, 3 * units
    gates = tape["gates"].reshape(steps, batch, 4 * units)
    cs, tc = tape["cs"].reshape(steps + 1, batch, units), tape["tc"]
    dz = np.empty_like(pre)
    dh = np.zeros((batch, units), pre.dtype)
    dc = np.zeros_like(dh)
    for t in range(steps - 1, -1, -1):
        dh = _add_grad_out(dh, grad_out, t, steps)
        p, g, d = pre[t], gates[t], dz[t]
        i, f, gg = g[:, :units], g[:, units:u2], g[:, u2:u3]
        dcv = dc + act_backward(cs[t + 1], tc[t], dh * g[:, u3:], *act)
        d[:, :units] = dcv * gg
        d[:, units:u2] = dcv * cs[t]
        d[:, u2:u3] = act_backward(p[:, u2:u3], gg, dcv * i, *act)
        d[:, u3:] = dh * tc[t]
        d[:, :u2] = act_backward(p[:, :u2], g[:, :u2], d[:, :u2], *ract)
        d[:, u3:] = act_backward(p[:, u3:], g[:, u3:], d[:, u3:], *ract)
        dc = dcv * f
        if t:
            dh = _masked(d @ u.T, mask_h)
    return dz


# -------------------------------------------------------------------------------------------- GRU
def _gru_forward(u, b, act, ract, reset_after, mask_h, pre, hs):
    """Fills hs; returns the GRU's extra tape: gates z, r, hh (T*B, 3U) and hp (T, B, 3U), the recurrent
    projections (without ``reset_after``, hp[..., 2U:] holds r * h_{t-1})."""
    steps, units = pre.shape[0], u.shape[0]
    u2 = 2 * units
    gates = np.empty_like(pre)
    hp = np.zeros_like(pre)
    for t in range(steps):
        p, g, q, h_prev = pre[t], gates[t], hp[t], hs[t]
        rec = _masked(h_prev, mask_h)
        if reset_after:
            q[...] = b[1]
            if t:
                q += rec @ u
        elif t:
            q[:, :u2] = rec @ u[:, :u2]
        p[:, :u2] += q[:, :u2]
        g[:, :u2] = act_forward(p[:, :u2], *ract)
        if reset_after:
            p[:, u2:] += g[:, units:u2] * q[:, u2:]
        else:
            q[:, u2:] = g[:, units:u2] * rec
            if t:
                p[:, u2:] += q[:, u2:] @ u[:, u2:]
        g[:, u2:] = act_forward(p[:, u2:], *act)
        hh = g[:, u2:]
        hs[t + 1] = hh + g[:, :units] * (h_prev - hh)
    return {"gates": gates.reshape(-1, 3 * units), "hp": hp}


def _gru_backward(tape, grad_out, u, gb, act, ract, mask_h, pre, hs, grad_u):
    """dL/d pre-activations (T, B, 3U); writes grad_u and, with ``reset_after``, the recurrent bias row."""
    steps, batch, units = hs.shape[0] - 1, hs.shape[1], u.shape[0]
    u2, reset_after = 2 * units, tape["reset_after"]
    gates, hp = tape["gates"].reshape(steps, batch, 3 * units), tape["hp"]
    dx = np.empty_like(pre)
    dhp = np.empty_like(pre) if reset_after else None
    dh = np.zeros((batch, units), pre.dtype)
    for t in range(steps - 1, -1, -1):
        dh = _add_grad_out(dh, grad_out, t, steps)
        p, g, q, d, h_prev = pre[t], gates[t], hp[t], dx[t], hs[t]
        z, r, hh = g[:, :units], g[:, units:u2], g[:, u2:]
        d[:, :units] = dh * (h_prev - hh)
        d[:, u2:] = act_backward(p[:, u2:], hh, dh * (1 - z), *act)
        direct = dh * z
        if reset_after:
            d[:, units:u2] = d[:, u2:] * q[:, u2:]
            d[:, :u2] = act_backward(p[:, :u2], g[:, :u2], d[:, :u2], *ract)
            e = dhp[t]
            e[:, :u2] = d[:, :u2]
            e[:, u2:] = d[:, u2:] * r
            if t:
                dh = _masked(e @ u.T, mask_h) + direct
        elif t:
            drh = d[:, u2:] @ u[:, u2:].T                # dL/d(r * h_{t-1})
            d[:, units:u2] = drh * _masked(h_prev, mask_h)
            d[:, :u2] = act_backward(p[:, :u2], g[:, :u2], d[:, :u2], *ract)
            dh = _masked(d[:, :u2] @ u[:, :u2].T + drh * r, mask_h) + direct
        else:
            d[:, units:u2] = 0
            d[:, :u2] = act_backward(p[:, :u2], g[:, :u2], d[:, :u2], *ract)
    recs = _masked(hs[:steps], mask_h).reshape(-1, units).T   # h_0 = 0 adds nothing
    if reset_after:
        np.matmul(recs, dhp.reshape(-1, 3 * units), out=grad_u)
        gb[1] = dhp.sum(axis=(0, 1))
    else:
        dx2 = dx.reshape(-1, 3 * units)
        grad_u[:, :u2] = recs @ dx2[:, :u2]
        grad_u[:, u2:] = hp.reshape(-1, 3 * units)[:, u2:].T @ dx2[:, u2:]
    return dx
