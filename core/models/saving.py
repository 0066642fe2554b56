"""Reading models back: :func:`load_model` opens what :meth:`Model.save <.model.Model.save>` wrote."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import losses as losses_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError
from .model import FORMAT_VERSION, Model
from .functional import Functional
from .sequential import Sequential


def save_model(model: Model, filepath, overwrite: bool = True) -> Path:
    """``keras.models.save_model``: ``model.save(filepath)``."""
    return model.save(filepath)


def load_model(path, compile: bool = True) -> Model:
    """Load a model saved with :meth:`Model.save` (never unpickles anything)."""
    path = Path(path)
    if not path.exists():
        raise NnplayError(f"model file {str(path)!r} does not exist; check the path")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
        if meta.get("format") != "nnplay-model":
            raise KeyError("format")
    except Exception as exc:  # any corruption: one clear message, no traceback
        raise NnplayError(f"{str(path)!r} is not a readable nnplay model ({type(exc).__name__}); "
                          f"it may be truncated or from another program: save the model again") from None
    if meta.get("version", 0) > FORMAT_VERSION:
        raise NnplayError(f"{str(path)!r} was saved by a newer nnplay (format {meta['version']}); upgrade nnplay")
    config = meta["config"]
    model = (Functional if config.get("type") == "functional" else Sequential).from_config(config)
    model.build()
    weights = [arrays[k] for k in sorted(k for k in arrays if k.startswith("w"))]
    model.set_weights(weights)
    if compile and meta.get("compile"):
        c = meta["compile"]
        loss = [losses_mod.get(l) for l in c["loss"]] if isinstance(c["loss"], list) else losses_mod.get(c["loss"])
        model.compile(optimizer=optimizers_mod.get(c["optimizer"]), loss=loss, metrics=c["metrics"],
                      loss_weights=c.get("loss_weights"))
        state = {k[4:]: v for k, v in arrays.items() if k.startswith("opt/")}
        if state:
            model.optimizer.set_state(state)
    return model
