"""``clone_model``: the same architecture with fresh weights, as Keras' ``keras.models.clone_model``."""
from __future__ import annotations

from .model import Model


def clone_model(model: Model) -> Model:
    """A new, uncompiled model with ``model``'s layers and config, its weights initialised afresh from the
    same seed (so a clone of an untrained model starts from the same numbers)."""
    clone = type(model).from_config(model.get_config())
    if model.built:
        clone.build()
    return clone
