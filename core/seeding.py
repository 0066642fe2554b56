"""Seeds: one integer makes data, weights, shuffling and dropout reproducible."""
from __future__ import annotations

import numpy as np

_global_seed: list[int | None] = [None]


def set_seed(seed: int | None) -> None:
    """Global default seed for models and trainers created without one (like ``keras.utils.set_random_seed``)."""
    _global_seed[0] = None if seed is None else int(seed)


def resolve_seed(seed: int | None) -> int:
    """The seed to use: the given one, else the global one, else fresh entropy (recorded so it can be replayed)."""
    if seed is not None:
        return int(seed)
    if _global_seed[0] is not None:
        return _global_seed[0]
    return int(np.random.SeedSequence().entropy % (2**31))
