"""Seeds: one integer makes data, weights, shuffling and dropout reproducible."""
from __future__ import annotations

import numpy as np

_global_seed: list[int | None] = [None]
_layer_rng: list[np.random.Generator | None] = [None]


def set_seed(seed: int | None) -> None:
    """Global default seed for models and trainers created without one (like ``keras.utils.set_random_seed``);
    it also restarts the stream that layers built by the functional API draw their weights from."""
    _global_seed[0] = None if seed is None else int(seed)
    _layer_rng[0] = None


def layer_rng() -> np.random.Generator:
    """The stream a layer built outside a model draws from (called on ``Input(...)`` tensors or on arrays):
    seeded by :func:`set_seed`, so the same script builds the same weights, as ``keras.utils.set_random_seed``
    makes Keras do."""
    if _layer_rng[0] is None:
        _layer_rng[0] = np.random.default_rng(np.random.SeedSequence([resolve_seed(None), 0x6C61796572]))
    return _layer_rng[0]


def resolve_seed(seed: int | None) -> int:
    """The seed to use: the given one, else the global one, else fresh entropy (recorded so it can be replayed)."""
    if seed is not None:
        return int(seed)
    if _global_seed[0] is not None:
        return _global_seed[0]
    return int(np.random.SeedSequence().entropy % (2**31))
