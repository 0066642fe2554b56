"""Elementwise activations (and softmax over the last axis) as jitted kernels.

Activations are selected by an integer code so one compiled kernel serves them all and fused kernels
(dense, conv, recurrent) can apply them in their epilogue. Arrays are 2-D ``(rows, cols)``: callers
reshape anything else to ``(-1, last_dim)``; softmax runs along ``cols``.
"""
from __future__ import annotations

import math


from ._jit import jit

LINEAR, RELU, LEAKY_RELU, ELU, SELU, SIGMOID, HARD_SIGMOID, TANH, SOFTMAX, SOFTPLUS, SOFTSIGN, SWISH, GELU = range(13)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@jit
def act_scalar(v, code, alpha):
    """One activation value (not softmax)."""
    if code == LINEAR:
        return v
    if code == RELU:
        return v if v > 0.0 else 0.0 * v
    if code == TANH:
        return math.tanh(v)
    if code == SIGMOID:
        if v >= 0.0:
            return 1.0 / (1.0 + math.exp(-v))
        e = math.exp(v)
        return e / (1.0 + e)
    if code == LEAKY_RELU:
        return v if v > 0.0 else alpha * v
    if code == ELU:
        return v if v > 0.0 else alpha * math.expm1(v)
    if code == SELU:
        return SELU_SCALE * v if v > 0.0 else SELU_SCALE * SELU_ALPHA * math.expm1(v)
    if code == HARD_SIGMOID:
        return min(max(v / 6.0 + 0.5, 0.0), 1.0)
    if code == SOFTPLUS:
        return max(v, 0.0) + math.log1p(math.exp(-abs(v)))
    if code == SOFTSIGN:
        return v / (1.0 + abs(v))
    if code == SWISH:
        if v >= 0.0:
            return v / (1.0 + math.exp(-v))
        e = math.exp(v)
        return v * e / (1.0 + e)
    if code == GELU:
        return 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0)))
    return v


@jit
def act_scalar_grad(z, a, code, alpha):
    """d act(z) / dz given the input ``z`` and the output ``a`` (not softmax)."""
    if code == LINEAR:
        return 1.0
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == TANH:
        return 1.0 - a * a
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == LEAKY_RELU:
        return 1.0 if z > 0.0 else alpha
    if code == ELU:
        return 1.0 if z > 0.0 else a + alpha
    if code == SELU:
        return SELU_SCALE if z > 0.0 else a + SELU_SCALE * SELU_ALPHA
    if code == HARD_SIGMOID:
        return 1.0 / 6.0 if -3.0 < z < 3.0 else 0.0
    if code == SOFTPLUS:
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if code == SOFTSIGN:
        d = 1.0 + abs(z)
        return 1.0 / (d * d)
    if code == SWISH:
        if z >= 0.0:
            s = 1.0 / (1.0 + math.exp(-z))
        else:
            e = math.exp(z)
            s = e / (1.0 + e)
        return s + z * s * (1.0 - s)
    if code == GELU:
        cdf = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
        pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return cdf + z * pdf
    return 1.0


@jit
def act_forward(z, code, alpha, out):
    """out = act(z).

    Shapes:
        z, out: (rows, cols); softmax normalises each row. ``out`` may be ``z`` (in place).
    """
    rows, cols = z.shape
    if code == SOFTMAX:
        for r in range(rows):
            m = z[r, 0]
            for c in range(1, cols):
                if z[r, c] > m:
                    m = z[r, c]
            s = 0.0
            for c in range(cols):
                e = math.exp(z[r, c] - m)
                out[r, c] = e
                s += e
            inv = 1.0 / s
            for c in range(cols):
                out[r, c] *= inv
        return
    for r in range(rows):
        for c in range(cols):
            out[r, c] = act_scalar(z[r, c], code, alpha)


@jit
def act_backward(z, a, grad_a, code, alpha, out):
    """out = dL/dz from dL/da.

    Shapes:
        z (pre-activation), a (output), grad_a, out: (rows, cols). ``out`` may be ``grad_a``.
    """
    rows, cols = z.shape
    if code == SOFTMAX:
        for r in range(rows):
            s = 0.0
            for c in range(cols):
                s += grad_a[r, c] * a[r, c]
            for c in range(cols):
                out[r, c] = a[r, c] * (grad_a[r, c] - s)
        return
    if code == LINEAR:
        for r in range(rows):
            for c in range(cols):
                out[r, c] = grad_a[r, c]
        return
    for r in range(rows):
        for c in range(cols):
            out[r, c] = grad_a[r, c] * act_scalar_grad(z[r, c], a[r, c], code, alpha)


# ------------------------------------------------------------------ fused epilogues shared by layer kernels
# Dispatching on ``code`` per element costs ~20x the arithmetic on small layers, so the common
# activations get their own loops and only the rest go through act_scalar. Softmax is written out here too
# (not a call of act_forward/act_backward): every called kernel is one more compilation on a cold start.

@jit
def bias_act_rows(z2, b, use_bias, code, alpha, a2, r0, r1):
    """Rows r0..r1: z2 += b (if use_bias); a2 = act(z2) (softmax over each row's F values).

    Shapes: z2, a2: (rows, F) (``a2`` may be ``z2`` for linear); b: (F,).
    """
    F = z2.shape[1]
    if use_bias:
        for r in range(r0, r1):
            for f in range(F):
                z2[r, f] += b[f]
    if code == LINEAR:
        if a2.ctypes.data != z2.ctypes.data:
            for r in range(r0, r1):
                for f in range(F):
                    a2[r, f] = z2[r, f]
    elif code == RELU:
        for r in range(r0, r1):
            for f in range(F):
                v = z2[r, f]
                a2[r, f] = v if v > 0.0 else 0.0
    elif code == TANH:
        for r in range(r0, r1):
            for f in range(F):
                a2[r, f] = math.tanh(z2[r, f])
    elif code == SIGMOID:
        for r in range(r0, r1):
            for f in range(F):
                a2[r, f] = 1.0 / (1.0 + math.exp(-z2[r, f]))
    elif code == SOFTMAX:  # the loops of act_forward, here so that no second kernel is compiled for them
        for r in range(r0, r1):
            m = z2[r, 0]
            for c in range(1, F):
                if z2[r, c] > m:
                    m = z2[r, c]
            s = 0.0
            for c in range(F):
                e = math.exp(z2[r, c] - m)
                a2[r, c] = e
                s += e
            inv = 1.0 / s
            for c in range(F):
                a2[r, c] *= inv
    else:
        for r in range(r0, r1):
            for f in range(F):
                a2[r, f] = act_scalar(z2[r, f], code, alpha)


@jit
def act_grad_rows(z2, a2, grad_a2, code, alpha, plain, grad_z2, r0, r1):
    """Rows r0..r1: grad_z2 = grad_a2 * act'(z2); a copy when ``plain`` (linear, or already dL/dz).

    Shapes: all (rows, F); ``grad_z2`` may be ``grad_a2``.
    """
    F = z2.shape[1]
    if plain or code == LINEAR:
        for r in range(r0, r1):
            for f in range(F):
                grad_z2[r, f] = grad_a2[r, f]
    elif code == RELU:
        for r in range(r0, r1):
            for f in range(F):
                grad_z2[r, f] = grad_a2[r, f] if z2[r, f] > 0.0 else 0.0
    elif code == TANH:
        for r in range(r0, r1):
            for f in range(F):
                v = a2[r, f]
                grad_z2[r, f] = grad_a2[r, f] * (1.0 - v * v)
    elif code == SIGMOID:
        for r in range(r0, r1):
            for f in range(F):
                v = a2[r, f]
                grad_z2[r, f] = grad_a2[r, f] * (v * (1.0 - v))
    elif code == SOFTMAX:  # the loops of act_backward (see bias_act_rows)
        for r in range(r0, r1):
            s = 0.0
            for c in range(F):
                s += grad_a2[r, c] * a2[r, c]
            for c in range(F):
                grad_z2[r, c] = a2[r, c] * (grad_a2[r, c] - s)
    else:
        for r in range(r0, r1):
            for f in range(F):
                grad_z2[r, f] = grad_a2[r, f] * act_scalar_grad(z2[r, f], a2[r, f], code, alpha)


@jit
def bias_act(z2, b, use_bias, code, alpha, a2):
    """The forward epilogue over all rows: bias, then the activation (softmax over F included)."""
    bias_act_rows(z2, b, use_bias, code, alpha, a2, 0, z2.shape[0])


@jit
def act_grad_bias(z2, a2, grad_a2, code, alpha, plain, use_bias, grad_z2, grad_b):
    """The backward epilogue: grad_z2 through the activation, and grad_b = its column sums."""
    rows, F = z2.shape
    act_grad_rows(z2, a2, grad_a2, code, alpha, plain, grad_z2, 0, rows)
    if use_bias:
        for f in range(F):
            grad_b[f] = 0.0
        for r in range(rows):
            for f in range(F):
                grad_b[f] += grad_z2[r, f]
