"""Slow, obviously-correct NumPy references for the recurrent kernels: one time step at a time, float64.

Each ``*_forward`` returns ``(out, tape)`` and each ``*_backward(tape, grad_out)`` returns the gradients
``{"x", "kernel", "recurrent_kernel", "bias"}`` by plain backpropagation through time. Keras conventions:
batch-first ``x (B, T, F)``, gate order i, f, c, o (LSTM) and z, r, h (GRU), ``go_backwards`` reads the
sequence from the end and returns the states in processing order. Dropout masks (already scaled) are
``(B, F)`` and ``(B, U)`` and stay the same at every step.
"""
from __future__ import annotations

import numpy as np


def _act(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "hard_sigmoid":
        return np.clip(z / 6.0 + 0.5, 0.0, 1.0)
    if name == "linear":
        return z
    raise ValueError(name)


def _dact(name, z):
    """d act / dz at z."""
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if name == "relu":
        return (z > 0).astype(float)
    if name == "hard_sigmoid":
        return ((z > -3.0) & (z < 3.0)) / 6.0
    if name == "linear":
        return np.ones_like(z)
    raise ValueError(name)


def _setup(x, units, mask_x, mask_h, go_backwards):
    x = np.asarray(x, np.float64)
    B, T, F = x.shape
    mx = np.ones((B, F)) if mask_x is None else np.asarray(mask_x, np.float64)
    mh = np.ones((B, units)) if mask_h is None else np.asarray(mask_h, np.float64)
    order = list(range(T))[::-1] if go_backwards else list(range(T))
    return x, mx, mh, order


def _output(hs, return_sequences):
    return np.stack(hs, axis=1) if return_sequences else hs[-1]


def _grad_at(grad_out, k, T, return_sequences):
    """dL/dh of processing step k coming straight from the layer's output."""
    if return_sequences:
        return grad_out[:, k]
    return grad_out if k == T - 1 else np.zeros_like(grad_out)


# ------------------------------------------------------------------------------------------ SimpleRNN
def rnn_forward(x, W, U, b, activation="tanh", return_sequences=False, go_backwards=False, mask_x=None,
                mask_h=None):
    x, mx, mh, order = _setup(x, U.shape[0], mask_x, mask_h, go_backwards)
    h = np.zeros((x.shape[0], U.shape[0]))
    hs, steps = [], []
    for t in order:
        xin, hin = x[:, t] * mx, h * mh
        z = xin @ W + hin @ U + b
        h_new = _act(activation, z)
        steps.append((t, xin, hin, z))
        hs.append(h_new)
        h = h_new
    tape = dict(W=W, U=U, act=activation, steps=steps, mx=mx, mh=mh, shape=x.shape, seq=return_sequences)
    return _output(hs, return_sequences), tape


def rnn_backward(tape, grad_out):
    W, U, act, mx, mh = tape["W"], tape["U"], tape["act"], tape["mx"], tape["mh"]
    B, T, F = tape["shape"]
    g = {"x": np.zeros((B, T, F)), "kernel": np.zeros_like(W), "recurrent_kernel": np.zeros_like(U),
         "bias": np.zeros(U.shape[1])}
    dh = np.zeros((B, U.shape[0]))
    for k in range(T - 1, -1, -1):
        t, xin, hin, z = tape["steps"][k]
        dh = dh + _grad_at(grad_out, k, T, tape["seq"])
        dz = dh * _dact(act, z)
        g["kernel"] += xin.T @ dz
        g["recurrent_kernel"] += hin.T @ dz
        g["bias"] += dz.sum(0)
        g["x"][:, t] = (dz @ W.T) * mx
        dh = (dz @ U.T) * mh
    return g


# ----------------------------------------------------------------------------------------------- LSTM
def lstm_forward(x, W, U, b, activation="tanh", recurrent_activation="sigmoid", return_sequences=False,
                 go_backwards=False, mask_x=None, mask_h=None):
    n = U.shape[0]
    x, mx, mh, order = _setup(x, n, mask_x, mask_h, go_backwards)
    B = x.shape[0]
    h, c = np.zeros((B, n)), np.zeros((B, n))
    hs, steps = [], []
    for t in order:
        xin, hin = x[:, t] * mx, h * mh
        z = xin @ W + hin @ U + b
        zi, zf, zg, zo = z[:, :n], z[:, n:2 * n], z[:, 2 * n:3 * n], z[:, 3 * n:]
        i = _act(recurrent_activation, zi)
        f = _act(recurrent_activation, zf)
        g = _act(activation, zg)
        o = _act(recurrent_activation, zo)
        c_new = f * c + i * g
        h_new = o * _act(activation, c_new)
        steps.append(dict(t=t, xin=xin, hin=hin, z=z, i=i, f=f, g=g, o=o, c_prev=c, c=c_new))
        hs.append(h_new)
        h, c = h_new, c_new
    tape = dict(W=W, U=U, act=activation, ract=recurrent_activation, steps=steps, mx=mx, mh=mh, shape=x.shape,
                seq=return_sequences)
    return _output(hs, return_sequences), tape


def lstm_backward(tape, grad_out):
    W, U, act, ract, mx, mh = tape["W"], tape["U"], tape["act"], tape["ract"], tape["mx"], tape["mh"]
    B, T, F = tape["shape"]
    n = U.shape[0]
    grads = {"x": np.zeros((B, T, F)), "kernel": np.zeros_like(W), "recurrent_kernel": np.zeros_like(U),
             "bias": np.zeros(U.shape[1])}
    dh, dc = np.zeros((B, n)), np.zeros((B, n))
    for k in range(T - 1, -1, -1):
        s = tape["steps"][k]
        z = s["z"]
        dh = dh + _grad_at(grad_out, k, T, tape["seq"])
        do = dh * _act(act, s["c"])
        dc = dc + dh * s["o"] * _dact(act, s["c"])
        di, df, dg = dc * s["g"], dc * s["c_prev"], dc * s["i"]
        dz = np.concatenate([di * _dact(ract, z[:, :n]), df * _dact(ract, z[:, n:2 * n]),
                             dg * _dact(act, z[:, 2 * n:3 * n]), do * _dact(ract, z[:, 3 * n:])], axis=1)
        grads["kernel"] += s["xin"].T @ dz
        grads["recurrent_kernel"] += s["hin"].T @ dz
        grads["bias"] += dz.sum(0)
        grads["x"][:, s["t"]] = (dz @ W.T) * mx
        dh = (dz @ U.T) * mh
        dc = dc * s["f"]
    return grads


# ------------------------------------------------------------------------------------------------ GRU
def gru_forward(x, W, U, b, activation="tanh", recurrent_activation="sigmoid", reset_after=True,
                return_sequences=False, go_backwards=False, mask_x=None, mask_h=None):
    """b: (2, 3U) with reset_after (input row, recurrent row), else (3U,)."""
    n = U.shape[0]
    x, mx, mh, order = _setup(x, n, mask_x, mask_h, go_backwards)
    B = x.shape[0]
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros(3 * n))
    h = np.zeros((B, n))
    hs, steps = [], []
    for t in order:
        xin, hin = x[:, t] * mx, h * mh
        xw = xin @ W + b_in
        if reset_after:
            hu = hin @ U + b_rec
            zz = xw[:, :n] + hu[:, :n]
            zr = xw[:, n:2 * n] + hu[:, n:2 * n]
            z, r = _act(recurrent_activation, zz), _act(recurrent_activation, zr)
            zh = xw[:, 2 * n:] + r * hu[:, 2 * n:]
        else:
            hu = hin @ U[:, :2 * n]
            zz = xw[:, :n] + hu[:, :n]
            zr = xw[:, n:2 * n] + hu[:, n:2 * n]
            z, r = _act(recurrent_activation, zz), _act(recurrent_activation, zr)
            zh = xw[:, 2 * n:] + (r * hin) @ U[:, 2 * n:]
        hh = _act(activation, zh)
        h_new = z * h + (1.0 - z) * hh
        steps.append(dict(t=t, xin=xin, hin=hin, h_prev=h, hu=hu, zz=zz, zr=zr, zh=zh, z=z, r=r, hh=hh))
        hs.append(h_new)
        h = h_new
    tape = dict(W=W, U=U, act=activation, ract=recurrent_activation, reset_after=reset_after, steps=steps,
                mx=mx, mh=mh, shape=x.shape, seq=return_sequences, bias_shape=np.shape(b))
    return _output(hs, return_sequences), tape


def gru_backward(tape, grad_out):
    W, U, act, ract, mx, mh = tape["W"], tape["U"], tape["act"], tape["ract"], tape["mx"], tape["mh"]
    B, T, F = tape["shape"]
    n = U.shape[0]
    grads = {"x": np.zeros((B, T, F)), "kernel": np.zeros_like(W), "recurrent_kernel": np.zeros_like(U),
             "bias": np.zeros(tape["bias_shape"])}
    dh = np.zeros((B, n))
    for k in range(T - 1, -1, -1):
        s = tape["steps"][k]
        dh = dh + _grad_at(grad_out, k, T, tape["seq"])
        dz = dh * (s["h_prev"] - s["hh"])
        dhh = dh * (1.0 - s["z"])
        dh_prev = dh * s["z"]                               # through z * h_prev (unmasked)
        dzh = dhh * _dact(act, s["zh"])
        if tape["reset_after"]:
            dr = dzh * s["hu"][:, 2 * n:]
            dzz, dzr = dz * _dact(ract, s["zz"]), dr * _dact(ract, s["zr"])
            dxw = np.concatenate([dzz, dzr, dzh], axis=1)
            dhu = np.concatenate([dzz, dzr, dzh * s["r"]], axis=1)
            grads["recurrent_kernel"] += s["hin"].T @ dhu
            grads["bias"][0] += dxw.sum(0)
            grads["bias"][1] += dhu.sum(0)
            dhin = dhu @ U.T
        else:
            drh = dzh @ U[:, 2 * n:].T                       # d/d(r * hin)
            dr = drh * s["hin"]
            dzz, dzr = dz * _dact(ract, s["zz"]), dr * _dact(ract, s["zr"])
            dxw = np.concatenate([dzz, dzr, dzh], axis=1)
            dzr_cat = np.concatenate([dzz, dzr], axis=1)
            grads["recurrent_kernel"][:, :2 * n] += s["hin"].T @ dzr_cat
            grads["recurrent_kernel"][:, 2 * n:] += (s["r"] * s["hin"]).T @ dzh
            grads["bias"] += dxw.sum(0)
            dhin = dzr_cat @ U[:, :2 * n].T + drh * s["r"]
        grads["kernel"] += s["xin"].T @ dxw
        grads["x"][:, s["t"]] = (dxw @ W.T) * mx
        dh = dh_prev + dhin * mh
    return grads
