"""Weight (and activity) regularizers with Keras' names, defaults and penalties.

Each regularizer is called on a weight array and returns the penalty added to the loss, and ``grad(w)``
returns d(penalty)/dw, which the layer adds to the weight's gradient:

* ``L1(l1)``: ``l1 * sum(|w|)``; gradient ``l1 * sign(w)`` (0 where ``w == 0``, the subgradient).
* ``L2(l2)``: ``l2 * sum(w**2)`` (no 1/2, as in Keras); gradient ``2 * l2 * w``.
* ``L1L2(l1, l2)``: the sum of both.

Configs are dicts with a ``type``: ``{"type": "l2", "l2": 0.001}``. :func:`get` also takes the names
``"l1"``, ``"l2"``, ``"l1_l2"``, Keras' class names, Keras' serialized form
``{"class_name": "L2", "config": {...}}``, a regularizer object, or None.

Where nnplay differs from Keras:

* The name ``"l1_l2"`` gives ``L1L2(l1=0.01, l2=0.01)``, the defaults Keras documents for it; Keras 3's
  lookup actually builds ``L1L2()`` with both factors 0 (no penalty at all). ``L1L2()`` called directly
  keeps Keras' 0/0 defaults.
* ``get_config`` includes ``type`` so a config can be read back without knowing the class.
* Plain callables are not accepted: nnplay needs ``grad`` as well as the penalty.
* Penalties are returned as Python floats, accumulated in float64.
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from .errors import NnplayError, did_you_mean
from .registry import Registry


def _factor(owner: str, field: str, value) -> float:
    """A non-negative finite regularization factor (None means 0, as in Keras)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise NnplayError(f"{owner}: {field} must be a non-negative number, got {field}={value!r}")
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise NnplayError(f"{owner}: {field} must be a non-negative number, got {field}={value!r}")
    return x


class Regularizer:
    """Base class: ``reg(w) -> float`` penalty, ``reg.grad(w) -> ndarray`` like ``w``."""

    def __call__(self, w) -> float:
        return 0.0

    def grad(self, w) -> np.ndarray:
        w = np.asarray(w)
        return np.zeros_like(w)

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        cfg = dict(config)
        cfg.pop("type", None)
        known = [k for k in inspect.signature(cls.__init__).parameters if k != "self"]
        for key in cfg:
            if key not in known:
                raise NnplayError(f"{cls.__name__}: unknown argument {key!r}" + did_you_mean(key, known))
        return cls(**cfg)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


def _float_array(w) -> np.ndarray:
    w = np.asarray(w)
    return w if w.dtype.kind == "f" else w.astype(np.float64)


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("L1L2", "l1", l1)
        self.l2 = _factor("L1L2", "l2", l2)

    def __call__(self, w) -> float:
        w = _float_array(w)
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.sum(np.abs(w), dtype=np.float64))
        if self.l2:
            total += self.l2 * float(np.sum(np.square(w, dtype=np.float64)))
        return total

    def grad(self, w) -> np.ndarray:
        w = _float_array(w)
        out = np.zeros_like(w)
        if self.l1:
            out += w.dtype.type(self.l1) * np.sign(w)
        if self.l2:
            out += w.dtype.type(2.0 * self.l2) * w
        return out

    def get_config(self) -> dict:
        return {"type": "l1_l2", "l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|w|)``; gradient ``l1 * sign(w)``."""

    def __init__(self, l1=0.01):
        self.l1 = _factor("L1", "l1", 0.01 if l1 is None else l1)

    def __call__(self, w) -> float:
        w = _float_array(w)
        return self.l1 * float(np.sum(np.abs(w), dtype=np.float64))

    def grad(self, w) -> np.ndarray:
        w = _float_array(w)
        return w.dtype.type(self.l1) * np.sign(w)

    def get_config(self) -> dict:
        return {"type": "l1", "l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(w**2)``; gradient ``2 * l2 * w``."""

    def __init__(self, l2=0.01):
        self.l2 = _factor("L2", "l2", 0.01 if l2 is None else l2)

    def __call__(self, w) -> float:
        w = _float_array(w)
        return self.l2 * float(np.sum(np.square(w, dtype=np.float64)))

    def grad(self, w) -> np.ndarray:
        w = _float_array(w)
        return w.dtype.type(2.0 * self.l2) * w

    def get_config(self) -> dict:
        return {"type": "l2", "l2": self.l2}


# Keras' lower-case aliases of the classes
l1 = L1
l2 = L2
l1_l2 = L1L2

_TABLE: Registry[type] = Registry("regularizer", {"l1": L1, "l2": L2, "l1_l2": L1L2})
# what a bare name builds (Keras' documented defaults)
_BY_NAME = {L1: lambda: L1(), L2: lambda: L2(), L1L2: lambda: L1L2(l1=0.01, l2=0.01)}


def get(identifier) -> Regularizer | None:
    """A regularizer from a name, a config dict, a regularizer object (returned as is), or None (None)."""
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return _BY_NAME[_TABLE.lookup(identifier)]()
    if isinstance(identifier, dict):
        cfg = dict(identifier)
        if "class_name" in cfg and "type" not in cfg:
            kind = cfg["class_name"]
            cfg = dict(cfg.get("config") or {})
        else:
            kind = cfg.pop("type", None)
        if not isinstance(kind, str):
            raise NnplayError(f"a regularizer config needs a 'type' such as 'l2', got {identifier!r}")
        return _TABLE.lookup(kind).from_config(cfg)
    if callable(getattr(identifier, "grad", None)) and callable(identifier):
        return identifier          # a duck-typed regularizer (penalty and gradient)
    raise NnplayError(f"regularizer must be 'l1', 'l2', 'l1_l2', a config dict or a Regularizer, got {identifier!r}")


def serialize(reg: Regularizer | None):
    return None if reg is None else reg.get_config()


__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]
