"""Reading models back: :func:`load_model` opens what :meth:`Model.save <.model.Model.save>` wrote."""
from __future__ import annotations

from pathlib import Path

from .. import losses as losses_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError
from .functional import Functional
from .model import Model
from .npz_format import read_model_npz
from .sequential import Sequential


def save_model(model: Model, filepath, overwrite: bool = True) -> Path:
    """``keras.models.save_model``: ``model.save(filepath)``."""
    return model.save(filepath)


def load_model(path, compile: bool = True) -> Model:
    """Load a model saved with :meth:`Model.save` (never unpickles anything)."""
    path = Path(path)
    if not path.exists():
        raise NnplayError(f"model file {str(path)!r} does not exist; check the path")
    meta, weights, state = read_model_npz(path)
    config = meta["config"]
    model = (Functional if config.get("type") == "functional" else Sequential).from_config(config)
    model.build()
    model.set_weights(weights)
    if compile and meta.get("compile"):
        c = meta["compile"]
        loss = [losses_mod.get(l) for l in c["loss"]] if isinstance(c["loss"], list) else losses_mod.get(c["loss"])
        model.compile(optimizer=optimizers_mod.get(c["optimizer"]), loss=loss, metrics=c["metrics"],
                      loss_weights=c.get("loss_weights"))
        if state:
            model.optimizer.set_state(state)
    return model
