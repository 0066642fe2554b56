"""The activations of :mod:`nnplay.core.kernels.activations` in NumPy, by the same integer codes.

Arrays of any shape; softmax runs over the last axis. The derivatives take the input ``z`` and the output
``a`` as the kernels do (tanh' = 1 - a^2, sigmoid' = a (1 - a), ...).
"""
from __future__ import annotations

import math

import numpy as np

from ..kernels.activations import (ELU, GELU, HARD_SIGMOID, LEAKY_RELU, LINEAR, RELU, SELU, SELU_ALPHA,
                                   SELU_SCALE, SIGMOID, SOFTMAX, SOFTPLUS, SOFTSIGN, SWISH, TANH)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow for either sign."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) without overflow."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _erf(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf      # only GELU needs it: not loaded with the losses
    return erf(z)


def act_forward(z: np.ndarray, code: int, alpha: float) -> np.ndarray:
    """act(z), a new array of z's shape and dtype."""
    dt = z.dtype
    if code == LINEAR:
        out = z.copy()
    elif code == RELU:
        out = np.maximum(z, 0)
    elif code == TANH:
        out = np.tanh(z)
    elif code == SIGMOID:
        out = sigmoid(z)
    elif code == SOFTMAX:
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        out = e / e.sum(axis=-1, keepdims=True)
    elif code == LEAKY_RELU:
        out = np.where(z > 0, z, alpha * z)
    elif code == ELU:
        out = np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))
    elif code == SELU:
        out = np.where(z > 0, SELU_SCALE * z, SELU_SCALE * SELU_ALPHA * np.expm1(np.minimum(z, 0)))
    elif code == HARD_SIGMOID:
        out = np.clip(z / 6.0 + 0.5, 0.0, 1.0)
    elif code == SOFTPLUS:
        out = softplus(z)
    elif code == SOFTSIGN:
        out = z / (1.0 + np.abs(z))
    elif code == SWISH:
        out = z * sigmoid(z)
    elif code == GELU:
        out = 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))
    else:
        out = z.copy()
    return np.asarray(out, dt)


def act_backward(z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, code: int, alpha: float,
                 grad_is_logits: bool = False) -> np.ndarray:
    """dL/dz from dL/da (``grad_a`` itself when it is already dL/dz: the fused cross-entropy path)."""
    dt = grad_a.dtype
    if grad_is_logits or code == LINEAR:
        return np.array(grad_a, dt)
    if code == SOFTMAX:
        s = (grad_a * a).sum(axis=-1, keepdims=True)
        return np.asarray(a * (grad_a - s), dt)
    if code == RELU:
        d = (z > 0).astype(dt)
    elif code == TANH:
        d = 1.0 - a * a
    elif code == SIGMOID:
        d = a * (1.0 - a)
    elif code == LEAKY_RELU:
        d = np.where(z > 0, 1.0, alpha)
    elif code == ELU:
        d = np.where(z > 0, 1.0, a + alpha)
    elif code == SELU:
        d = np.where(z > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA)
    elif code == HARD_SIGMOID:
        d = np.where((z > -3.0) & (z < 3.0), 1.0 / 6.0, 0.0)
    elif code == SOFTPLUS:
        d = sigmoid(z)
    elif code == SOFTSIGN:
        d = 1.0 / np.square(1.0 + np.abs(z))
    elif code == SWISH:
        s = sigmoid(z)
        d = s + z * s * (1.0 - s)
    elif code == GELU:
        d = 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    else:
        d = 1.0
    return np.asarray(grad_a * d, dt)
