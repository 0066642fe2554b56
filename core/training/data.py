"""Batches of data that may be one array or a list of arrays (a model with several inputs or outputs).

Every helper takes either form and keeps it, so the trainer slices, shuffles and splits both the same way.
"""
from __future__ import annotations

import math

import numpy as np


def count(data) -> int:
    """Number of samples."""
    return len(data[0]) if isinstance(data, list) else len(data)


def take(data, idx):
    """The samples at ``idx`` (an index array)."""
    return [a[idx] for a in data] if isinstance(data, list) else data[idx]


def rows(data, start: int, stop: int):
    """Samples ``start:stop``."""
    return [a[start:stop] for a in data] if isinstance(data, list) else data[start:stop]


def validation_count(n: int, split: float) -> int:
    """How many of ``n`` samples ``validation_split=split`` holds out: Keras trains on floor(n * (1 - split))."""
    return n - int(math.floor(n * (1.0 - split))) if split else 0


def head_tail(data, n_tail: int):
    """(all but the last ``n_tail`` samples, the last ``n_tail``), as Keras' ``validation_split`` takes them."""
    n = count(data)
    return rows(data, 0, n - n_tail), rows(data, n - n_tail, n)


def as_list(data) -> list[np.ndarray]:
    return data if isinstance(data, list) else [data]
