"""nnplay's engine: a Keras-compatible API on Numba kernels.

Heavy modules (numpy, numba) load on first use, so ``nnplay --help`` stays instant.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "Model": ("models", "Model"),
    "Sequential": ("models", "Sequential"),
    "load_model": ("models", "load_model"),
    "clone_model": ("models", "clone_model"),
    "History": ("training", "History"),
    "set_seed": ("seeding", "set_seed"),
    "NnplayError": ("errors", "NnplayError"),
    "Trainer": ("training", "Trainer"),
}
_SUBMODULES = {"layers", "optimizers", "losses", "regularizers", "initializers", "metrics", "datasets",
               "activations", "training", "models", "experiments", "errors", "presets", "kernels"}

__all__ = sorted(_LAZY) + sorted(_SUBMODULES)


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
