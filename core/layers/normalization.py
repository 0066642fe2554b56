"""BatchNormalization (Keras' weights, defaults and moving-statistics rule).

Shapes:
    any input (..., C) -> same shape; gamma, beta, moving_mean, moving_variance: (C,).

Training normalizes with the batch statistics over every axis but the channel (last) axis and updates
``moving = moving * momentum + batch * (1 - momentum)`` with the biased batch variance, as Keras does.
Inference (and a frozen layer, ``trainable=False``, as in Keras) uses the moving statistics.
"""
from __future__ import annotations

import numpy as np

from .. import initializers, regularizers
from ..errors import NnplayError
from .base import Layer, format_shape, register


def _fraction(field: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < high:
        raise NnplayError(f"BatchNormalization: {field} must be in [{low}, {high}), got {field}={value!r}")
    return float(value)


@register
class BatchNormalization(Layer):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` per channel (Keras' BatchNormalization)."""

    weight_names = ("gamma", "beta", "moving_mean", "moving_variance")
    config_keys = ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
                   "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
                   "gamma_regularizer")

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise NnplayError(f"BatchNormalization: axis must be an int (the channel axis), got axis={axis!r}")
        self.axis = int(axis)
        self.momentum = _fraction("momentum", momentum, 0.0, 1.0)
        self.epsilon = float(epsilon)
        if not self.epsilon > 0:
            raise NnplayError(f"BatchNormalization: epsilon must be > 0, got epsilon={epsilon!r}")
        self.center, self.scale = bool(center), bool(scale)
        self._inits = {k: initializers.get(v) for k, v in (("beta", beta_initializer), ("gamma", gamma_initializer),
                                                           ("moving_mean", moving_mean_initializer),
                                                           ("moving_variance", moving_variance_initializer))}
        self._regs = {"beta": regularizers.get(beta_regularizer), "gamma": regularizers.get(gamma_regularizer)}

    beta_initializer = property(lambda self: initializers.serialize(self._inits["beta"]))
    gamma_initializer = property(lambda self: initializers.serialize(self._inits["gamma"]))
    moving_mean_initializer = property(lambda self: initializers.serialize(self._inits["moving_mean"]))
    moving_variance_initializer = property(lambda self: initializers.serialize(self._inits["moving_variance"]))
    beta_regularizer = property(lambda self: self._regs["beta"])
    gamma_regularizer = property(lambda self: self._regs["gamma"])

    def compute_output_shape(self, input_shape):
        if self.axis not in (-1, len(input_shape)):
            raise self.shape_error(input_shape, f"axis={self.axis} is not the channel (last) axis; nnplay "
                                                f"normalizes channels-last data only", "use axis=-1")
        return input_shape

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        c = (input_shape[-1],)
        if self.scale:
            self.add_weight("gamma", c, self._inits["gamma"], self._regs["gamma"])
        if self.center:
            self.add_weight("beta", c, self._inits["beta"], self._regs["beta"])
        self.add_weight("moving_mean", c, self._inits["moving_mean"], trainable=False)
        self.add_weight("moving_variance", c, self._inits["moving_variance"], trainable=False)

    def forward(self, x, training=False):
        if x.shape[1:] != self.input_shape:
            raise NnplayError(f"layer {self.name!r} expects input of shape {format_shape(self.input_shape)}, "
                              f"got {format_shape(x.shape[1:])}")
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        batch_stats = training and self.trainable
        if batch_stats:
            mean = x2.mean(axis=0)
            xc = x2 - mean
            var = np.einsum("ij,ij->j", xc, xc) / x2.shape[0]
            m = self.momentum
            self.state["moving_mean"][...] = self.state["moving_mean"] * m + mean * (1.0 - m)
            self.state["moving_variance"][...] = self.state["moving_variance"] * m + var * (1.0 - m)
        else:
            xc = x2 - self.state["moving_mean"]
            var = self.state["moving_variance"]
        inv = (1.0 / np.sqrt(var + self.epsilon)).astype(x.dtype)
        x_hat = xc * inv
        y = x_hat * self.params["gamma"] if self.scale else x_hat.copy()
        if self.center:
            y += self.params["beta"]
        self.cache = {"x_hat": x_hat, "inv": inv, "batch_stats": batch_stats, "shape": x.shape}
        return y.reshape(x.shape)

    def backward(self, grad_out, need_grad_x=True):
        cache = self.cache
        x_hat, inv = cache["x_hat"], cache["inv"]
        g = grad_out.reshape(x_hat.shape)
        if self.scale:
            self.grads["gamma"][...] = np.einsum("ij,ij->j", g, x_hat)
        if self.center:
            self.grads["beta"][...] = g.sum(axis=0)
        if not need_grad_x:
            return None
        g_hat = g * self.params["gamma"] if self.scale else g
        if cache["batch_stats"]:
            # x_hat depends on x through the batch mean and variance too
            rows = g.shape[0]
            mean_g = g_hat.sum(axis=0) / rows
            mean_gx = np.einsum("ij,ij->j", g_hat, x_hat) / rows
            grad_x = (g_hat - mean_g - x_hat * mean_gx) * inv
        else:
            grad_x = g_hat * inv
        return grad_x.reshape(cache["shape"])
