"""Activation functions by name, with Keras' names and constants.

The math lives in :mod:`nnplay.core.kernels.activations` (one jitted kernel selected by an int code, so
dense, conv and recurrent kernels can fuse it). This module maps names to codes and offers NumPy-facing
``forward``/``backward`` for layers that do not fuse.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import NnplayError
from .kernels import activations as K
from .registry import Registry


@dataclass(frozen=True)
class Activation:
    """A resolved activation: its Keras name, kernel code and parameter (leaky slope, elu alpha)."""

    name: str
    code: int
    alpha: float = 0.0

    def forward(self, z: np.ndarray) -> np.ndarray:
        """act(z) for any shape (softmax over the last axis)."""
        out = np.empty_like(z)
        K.act_forward(_rows(z), self.code, self.alpha, _rows(out))
        return out

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        """dL/dz from dL/da, given the input ``z`` and the output ``a``."""
        out = np.empty_like(grad_a)
        K.act_backward(_rows(z), _rows(a), _rows(np.ascontiguousarray(grad_a)), self.code, self.alpha, _rows(out))
        return out

    @property
    def is_linear(self) -> bool:
        return self.code == K.LINEAR

    def __str__(self) -> str:
        return self.name


def _rows(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1]) if a.ndim >= 1 else a.reshape(1, 1)


_TABLE = Registry("activation", {
    "linear": Activation("linear", K.LINEAR),
    "relu": Activation("relu", K.RELU),
    "leaky_relu": Activation("leaky_relu", K.LEAKY_RELU, 0.2),   # Keras 3 default negative_slope
    "elu": Activation("elu", K.ELU, 1.0),
    "selu": Activation("selu", K.SELU),
    "sigmoid": Activation("sigmoid", K.SIGMOID),
    "hard_sigmoid": Activation("hard_sigmoid", K.HARD_SIGMOID),  # Keras 3: relu6(x + 3) / 6
    "tanh": Activation("tanh", K.TANH),
    "softmax": Activation("softmax", K.SOFTMAX),
    "softplus": Activation("softplus", K.SOFTPLUS),
    "softsign": Activation("softsign", K.SOFTSIGN),
    "swish": Activation("swish", K.SWISH),
    "gelu": Activation("gelu", K.GELU),                          # exact (erf) form, Keras' default
}, aliases={"silu": "swish", "none": "linear", "identity": "linear"})
NAMES = tuple(_TABLE)


def get(identifier) -> Activation:
    """An activation from a name (``"relu"``), None (linear) or an :class:`Activation`."""
    if identifier is None:
        return _TABLE["linear"]
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str):
        return _TABLE.lookup(identifier)
    raise NnplayError(f"activation must be a name such as 'relu', got {identifier!r}")
