"""Losses with Keras' formulas, clipping and reductions.

Reduction (Keras' ``sum_over_batch_size``): each loss first reduces over the last axis (the mean for
MSE/MAE/Huber/log-cosh/BCE/hinge, the sum over classes for the categorical cross-entropies), then takes the
mean over every remaining position (batch, and time steps for sequence outputs). ``grad`` is the exact
gradient of that scalar.

Cross-entropies clip probabilities to ``[1e-7, 1 - 1e-7]``. When the model's last activation is
sigmoid (softmax) and the loss is binary (categorical) cross-entropy, the model uses :meth:`Loss.fused`
instead: value and gradient computed from the logits, stable for any logit, gradient ``p - y``. This is
what Keras' TensorFlow backend does for such outputs; the value then has no clipping.
"""
from __future__ import annotations

import numpy as np

from .errors import NnplayError
from .registry import Registry
from .tiers.activations import sigmoid as _sigmoid
from .tiers.activations import softplus as _softplus

EPSILON = 1e-7


def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    s = z - m
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


class Loss:
    """Base: ``__call__(y_true, y_pred)`` is the reduced loss (Keras argument order)."""

    name = "loss"
    #: The output activation this loss can fuse with ("sigmoid", "softmax") or None.
    fuses_with: str | None = None
    from_logits = False

    def __call__(self, y_true, y_pred) -> float:
        y_pred = np.asarray(y_pred)
        return float(self.value(self.prepare_targets(np.asarray(y_true), y_pred.shape), y_pred))

    # Subclasses implement these on prepared targets (same shape as y_pred, or indices for sparse).
    def value(self, y, p) -> float:
        raise NotImplementedError

    def grad(self, y, p) -> np.ndarray:
        raise NotImplementedError

    def fused(self, y, z):
        """(value, dL/dz) from the logits ``z`` of the fused activation."""
        raise NotImplementedError

    def per_sample(self, y, p) -> np.ndarray:
        """Loss of each sample (mean over any time axis), shape (batch,): for anomaly scores and views."""
        raise NotImplementedError

    def prepare_targets(self, y: np.ndarray, out_shape: tuple) -> np.ndarray:
        """Bring targets to the output's shape once per fit (a (n,) vector becomes (n, 1))."""
        y = np.asarray(y)
        if y.shape == tuple(out_shape):
            return y
        if y.ndim == len(out_shape) - 1 and out_shape[-1] == 1 and y.shape == tuple(out_shape[:-1]):
            return y.reshape(out_shape)
        if y.size == int(np.prod(out_shape)) and y.shape[0] == out_shape[0] and out_shape[-1] == 1:
            return y.reshape(out_shape)
        raise NnplayError(f"loss {self.name!r}: each target has shape {sample_shape(y.shape)} but each output of the "
                          f"model has shape {sample_shape(out_shape)}; give one target per output{_units_hint(y, out_shape)}")

    def get_config(self) -> dict:
        cfg = {"name": self.name}
        cfg.update({k: v for k, v in vars(self).items() if not k.startswith("_")})
        return cfg

    def __repr__(self):
        return f"{type(self).__name__}()"


def sample_shape(shape) -> str:
    """A per-sample shape for messages: the batch axis dropped, ``()`` said as "one number"."""
    rest = tuple(int(d) for d in tuple(shape)[1:])
    return f"{rest} (one number)" if not rest else str(rest)


def _units_hint(y, out_shape) -> str:
    """", or change the last layer's units to K" when targets of K numbers per sample would fit K units."""
    want = tuple(y.shape[1:]) or (1,)
    if len(want) == len(out_shape) - 1 and want[:-1] == tuple(out_shape[1:-1]):
        return f" (or change the last layer's units to {want[-1]})"
    return " (or change the last layer's units)"


def _rows(p):
    """Number of positions the final mean runs over (every axis but the last)."""
    return max(1, p.size // p.shape[-1]) if p.ndim else 1


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def value(self, y, p):
        return float(np.mean(np.square(p - y)))

    def per_sample(self, y, p):
        return np.square(p - y).reshape(p.shape[0], -1).mean(axis=1)

    def grad(self, y, p):
        return (2.0 / p.size) * (p - y)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def value(self, y, p):
        return float(np.mean(np.abs(p - y)))

    def per_sample(self, y, p):
        return np.abs(p - y).reshape(p.shape[0], -1).mean(axis=1)

    def grad(self, y, p):
        return np.sign(p - y) / p.size


class Huber(Loss):
    name = "huber"

    def __init__(self, delta: float = 1.0):
        if not delta > 0:
            raise NnplayError(f"huber: delta must be > 0, got delta={delta!r}")
        self.delta = float(delta)

    def _elem(self, y, p):
        e = np.abs(p - y)
        d = self.delta
        return np.where(e <= d, 0.5 * e * e, d * (e - 0.5 * d))

    def value(self, y, p):
        return float(np.mean(self._elem(y, p)))

    def per_sample(self, y, p):
        return self._elem(y, p).reshape(p.shape[0], -1).mean(axis=1)

    def grad(self, y, p):
        return np.clip(p - y, -self.delta, self.delta) / p.size


class LogCosh(Loss):
    name = "log_cosh"

    def _elem(self, y, p):
        e = p - y
        return e + _softplus(-2.0 * e) - np.log(2.0)

    def value(self, y, p):
        return float(np.mean(self._elem(y, p)))

    def per_sample(self, y, p):
        return self._elem(y, p).reshape(p.shape[0], -1).mean(axis=1)

    def grad(self, y, p):
        return np.tanh(p - y) / p.size


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)

    def _elem(self, y, p):
        if self.from_logits:
            return _softplus(p) - p * y
        pc = np.clip(p, EPSILON, 1.0 - EPSILON)
        return -(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))

    def value(self, y, p):
        return float(np.mean(self._elem(y, p)))

    def per_sample(self, y, p):
        return self._elem(y, p).reshape(p.shape[0], -1).mean(axis=1)

    def grad(self, y, p):
        if self.from_logits:
            return (_sigmoid(p) - y) / p.size
        inside = (p > EPSILON) & (p < 1.0 - EPSILON)
        pc = np.clip(p, EPSILON, 1.0 - EPSILON)
        return np.where(inside, (pc - y) / (pc * (1.0 - pc)), 0.0).astype(p.dtype) / p.size

    def fused(self, y, z):
        value = float(np.mean(_softplus(z) - z * y))
        return value, (_sigmoid(z) - y) / z.size


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0):
        if not 0.0 <= label_smoothing <= 1.0:
            raise NnplayError(f"{self.name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def prepare_targets(self, y, out_shape):
        y = np.asarray(y)
        if y.shape == tuple(out_shape[:-1]) and out_shape[-1] > 1 and np.issubdtype(y.dtype, np.integer):
            raise NnplayError(f"loss {self.name!r} needs one-hot targets of shape {sample_shape(out_shape)} per sample, "
                              f"got class indices; use loss='sparse_categorical_crossentropy' instead")
        y = super().prepare_targets(y, out_shape)
        if self.label_smoothing:
            k = out_shape[-1]
            y = y * (1.0 - self.label_smoothing) + self.label_smoothing / k
        return y

    def _elem_rows(self, y, p):
        if self.from_logits:
            return -(y * _log_softmax(p)).sum(axis=-1)
        q = p / p.sum(axis=-1, keepdims=True)
        return -(y * np.log(np.clip(q, EPSILON, 1.0 - EPSILON))).sum(axis=-1)

    def value(self, y, p):
        return float(np.mean(self._elem_rows(y, p)))

    def per_sample(self, y, p):
        return self._elem_rows(y, p).reshape(p.shape[0], -1).mean(axis=1)

    def grad(self, y, p):
        n = _rows(p)
        if self.from_logits:   # one-hot y here, also for the sparse subclass (whose own fused takes indices)
            return CategoricalCrossentropy.fused(self, y, p)[1]
        s = p.sum(axis=-1, keepdims=True)
        q = p / s
        inside = (q > EPSILON) & (q < 1.0 - EPSILON)
        g_q = np.where(inside, -y / np.clip(q, EPSILON, 1.0), 0.0)
        g_p = (g_q - (g_q * q).sum(axis=-1, keepdims=True)) / s
        return (g_p / n).astype(p.dtype)

    def fused(self, y, z):
        logp = _log_softmax(z)
        value = float(np.mean(-(y * logp).sum(axis=-1)))
        grad = np.exp(logp) * y.sum(axis=-1, keepdims=True) - y
        return value, grad / _rows(z)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class targets: shape (batch,) or (batch, T)."""

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False):
        super().__init__(from_logits=from_logits)

    def prepare_targets(self, y, out_shape):
        y = np.asarray(y)
        lead = tuple(out_shape[:-1])
        if y.shape == lead + (1,):
            y = y.reshape(lead)
        if y.shape != lead:
            want = "one class index per sample" if len(lead) == 1 else \
                f"class indices of shape {sample_shape(lead)} per sample"
            raise NnplayError(f"loss {self.name!r} needs {want}, got targets of shape {sample_shape(y.shape)} per "
                              f"sample (one-hot targets go with loss='categorical_crossentropy')")
        if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
            raise NnplayError(f"loss {self.name!r} needs whole-number class indices, got values such as {y.flat[0]!r}")
        y = y.astype(np.int64)
        k = out_shape[-1]
        if y.size and (y.min() < 0 or y.max() >= k):
            bad = int(y.max()) if y.max() >= k else int(y.min())
            raise NnplayError(f"loss {self.name!r}: class index {bad} is outside 0..{k - 1} for a {k}-unit output; "
                              f"give the last layer as many units as there are classes")
        return y

    def _one_hot(self, y, p):
        oh = np.zeros(p.shape, p.dtype)
        np.put_along_axis(oh, y[..., None], 1.0, axis=-1)
        return oh

    def value(self, y, p):
        return super().value(self._one_hot(y, p), p)

    def per_sample(self, y, p):
        return super().per_sample(self._one_hot(y, p), p)

    def grad(self, y, p):
        return super().grad(self._one_hot(y, p), p)

    def fused(self, y, z):
        logp = _log_softmax(z)
        picked = np.take_along_axis(logp, y[..., None], axis=-1)
        value = float(-np.mean(picked))
        grad = np.exp(logp)
        np.put_along_axis(grad, y[..., None], np.take_along_axis(grad, y[..., None], axis=-1) - 1.0, axis=-1)
        return value, grad / _rows(z)

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}


class Hinge(Loss):
    """Keras' hinge: 0/1 targets are mapped to -1/+1 first; mean of max(1 - y*p, 0) over the last axis."""

    name = "hinge"
    power = 1

    def prepare_targets(self, y, out_shape):
        y = super().prepare_targets(y, out_shape).astype(np.float64)
        if y.size and np.all((y == 0) | (y == 1)):
            y = 2.0 * y - 1.0
        return y

    def _margin(self, y, p):
        return np.maximum(1.0 - y * p, 0.0)

    def value(self, y, p):
        return float(np.mean(self._margin(y, p) ** self.power))

    def per_sample(self, y, p):
        return (self._margin(y, p) ** self.power).reshape(p.shape[0], -1).mean(axis=1)

    def grad(self, y, p):
        m = self._margin(y, p)
        g = -y * (m > 0) if self.power == 1 else -2.0 * y * m
        return (g / p.size).astype(p.dtype)


class SquaredHinge(Hinge):
    name = "squared_hinge"
    power = 2


_TABLE = Registry("loss", {
    "mean_squared_error": MeanSquaredError, "mean_absolute_error": MeanAbsoluteError, "huber": Huber,
    "log_cosh": LogCosh, "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "hinge": Hinge, "squared_hinge": SquaredHinge,
}, aliases={"mse": "mean_squared_error", "mae": "mean_absolute_error", "bce": "binary_crossentropy",
            "cce": "categorical_crossentropy", "huber_loss": "huber", "sparse_cce": "sparse_categorical_crossentropy"})
NAMES = tuple(_TABLE)

# Keras-style aliases for the classes
MSE = MeanSquaredError
MAE = MeanAbsoluteError


def get(identifier) -> Loss:
    """A loss from a name (``"mse"``, ``"binary_crossentropy"``), a config dict or a :class:`Loss`."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        cfg = dict(identifier)
        name = str(cfg.pop("name", cfg.pop("type", "")))
        cls = _TABLE.lookup(name)
        try:
            return cls(**cfg)
        except TypeError as exc:
            raise NnplayError(f"loss {name!r}: {exc}") from None
    if isinstance(identifier, str):
        return _TABLE.lookup(identifier)()
    raise NnplayError(f"loss must be a name such as 'mse' or a Loss object, got {identifier!r}")
