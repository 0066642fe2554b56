"""Validation of numeric arguments, shared by optimizers, schedules and friends.

Each check returns the value as a float or raises :class:`NnplayError` naming the owner, the field and
the value, e.g. ``"Adam: beta_1 must be in [0, 1), got beta_1=1.5"``.
"""
from __future__ import annotations

import math
import numbers

from .errors import NnplayError


def number(owner: str, field: str, value) -> float:
    """A finite real number (bools are not numbers here)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, numbers.Real):
        raise NnplayError(f"{owner}: {field} must be a number, got {field}={value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise NnplayError(f"{owner}: {field} must be a finite number, got {field}={value!r}")
    return x


def positive(owner: str, field: str, value) -> float:
    x = number(owner, field, value)
    if x <= 0:
        raise NnplayError(f"{owner}: {field} must be > 0, got {field}={value!r}")
    return x


def non_negative(owner: str, field: str, value) -> float:
    x = number(owner, field, value)
    if x < 0:
        raise NnplayError(f"{owner}: {field} must be >= 0, got {field}={value!r}")
    return x
