"""Weight initializers with Keras' names, defaults and fan rules.

Each initializer is called as ``init(shape, rng, dtype) -> ndarray``. Randomness comes only from the
``np.random.Generator`` the model hands to each layer, so a seed makes the weights bit-identical.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import NnplayError
from .registry import Registry


def compute_fans(shape: tuple) -> tuple[float, float]:
    """Keras' fans: (in, out) for a matrix; conv kernels (kh, kw, in, out) scale by the receptive field."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    def __call__(self, shape, rng, dtype=np.float32):
        raise NotImplementedError

    def get_config(self) -> dict:
        cfg = {"type": _NAME_OF[type(self)]}
        cfg.update({k: v for k, v in vars(self).items()})
        return cfg

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class Zeros(Initializer):
    def __call__(self, shape, rng, dtype=np.float32):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    def __call__(self, shape, rng, dtype=np.float32):
        return np.ones(shape, dtype)


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, rng, dtype=np.float32):
        return np.full(shape, self.value, dtype)


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, rng, dtype=np.float32):
        return (self.mean + self.stddev * rng.standard_normal(shape)).astype(dtype)


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, rng, dtype=np.float32):
        return rng.uniform(self.minval, self.maxval, size=shape).astype(dtype)


def _truncated_normal(shape, stddev, rng):
    """Normal samples redrawn until they lie within two standard deviations."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out * stddev


class TruncatedNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, rng, dtype=np.float32):
        return (self.mean + _truncated_normal(shape, self.stddev, rng)).astype(dtype)


class VarianceScaling(Initializer):
    """Keras' VarianceScaling: variance ``scale / n`` with n the fan_in, fan_out or their mean."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"):
        if scale <= 0:
            raise NnplayError(f"VarianceScaling: scale must be > 0, got scale={scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise NnplayError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, got mode={mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise NnplayError(f"VarianceScaling: distribution must be truncated_normal, untruncated_normal or "
                              f"uniform, got distribution={distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, rng, dtype=np.float32):
        fan_in, fan_out = compute_fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        var = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated at +-2; Keras divides it out.
            return _truncated_normal(shape, math.sqrt(var) / 0.87962566103423978, rng).astype(dtype)
        if self.distribution == "untruncated_normal":
            return (math.sqrt(var) * rng.standard_normal(shape)).astype(dtype)
        limit = math.sqrt(3.0 * var)
        return rng.uniform(-limit, limit, size=shape).astype(dtype)

    def get_config(self) -> dict:
        name = _NAME_OF[type(self)]
        if type(self) is VarianceScaling:
            return {"type": name, "scale": self.scale, "mode": self.mode, "distribution": self.distribution}
        return {"type": name}


class GlorotUniform(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_avg", "uniform")


class GlorotNormal(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_avg", "truncated_normal")


class HeUniform(VarianceScaling):
    def __init__(self):
        super().__init__(2.0, "fan_in", "uniform")


class HeNormal(VarianceScaling):
    def __init__(self):
        super().__init__(2.0, "fan_in", "truncated_normal")


class LecunUniform(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_in", "uniform")


class LecunNormal(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """Keras' orthogonal: QR of a normal matrix, signs fixed by diag(R), reshaped to ``shape``."""

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def __call__(self, shape, rng, dtype=np.float32):
        if len(shape) < 2:
            raise NnplayError(f"orthogonal initializer needs a weight of rank >= 2, got shape {tuple(shape)}")
        rows, cols = int(np.prod(shape[:-1])), int(shape[-1])
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)


_TABLE = Registry("initializer", {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
    "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
}, aliases={"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal", "zero": "zeros", "one": "ones"})
_NAME_OF = {cls: name for name, cls in _TABLE.items()}


def get(identifier) -> Initializer:
    """An initializer from a name (``"he_normal"``), a config dict, an instance, or a number (constant)."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, (int, float)) and not isinstance(identifier, bool):
        return Constant(identifier)
    if isinstance(identifier, dict):
        cfg = dict(identifier)
        name = str(cfg.pop("type", ""))
        cls = _TABLE.lookup(name)
        try:
            return cls(**cfg)
        except TypeError as exc:
            raise NnplayError(f"initializer {identifier!r}: {exc}") from None
    if isinstance(identifier, str):
        return _TABLE.lookup(identifier)()
    raise NnplayError(f"initializer must be a name, a dict or an Initializer, got {identifier!r}")


def serialize(init: Initializer):
    cfg = init.get_config()
    return cfg["type"] if len(cfg) == 1 else cfg
