"""Reading models back: :func:`load_model` opens what :meth:`Model.save <.model.Model.save>` wrote."""
from __future__ import annotations

from pathlib import Path

from .. import losses as losses_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError
from .functional import Functional
from .model import Model
from .npz_format import read_model_npz
from .optimizer_slots import set_optimizer_slots
from .sequential import Sequential


def save_model(model: Model, filepath, overwrite: bool = True) -> Path:
    """``keras.models.save_model``: ``model.save(filepath)``."""
    return model.save(filepath)


def load_model(path, compile: bool = True) -> Model:
    """Load a model saved with :meth:`Model.save`: nnplay's ``.npz``, or a ``.keras`` file that Keras 3 or
    nnplay wrote (never unpickles or runs anything from the file)."""
    path = Path(path)
    if not path.exists():
        raise NnplayError(f"model file {str(path)!r} does not exist; check the path")
    if path.suffix == ".keras":
        return _load_keras(path, compile)
    meta, weights, state = read_model_npz(path)
    config = meta["config"]
    model = (Functional if config.get("type") == "functional" else Sequential).from_config(config)
    model.build()
    model.set_weights(weights)
    if compile and meta.get("compile"):
        _compile(model, meta["compile"])
        if state:
            model.optimizer.set_state(state)
    return model


def _compile(model: Model, c: dict) -> None:
    loss = [losses_mod.get(l) for l in c["loss"]] if isinstance(c["loss"], list) else losses_mod.get(c["loss"])
    model.compile(optimizer=optimizers_mod.get(c["optimizer"]), loss=loss, metrics=c["metrics"],
                  loss_weights=c.get("loss_weights"))


def _load_keras(path: Path, compile: bool) -> Model:
    from ..saving import read_keras_file

    read = read_keras_file(path, compile=compile)
    config = read.config
    try:
        model = (Functional if config["type"] == "functional" else Sequential).from_config(config)
        model.build()
        model.set_weights(_by_layer_order(model, read.weights))
        if read.compile_info:
            _compile(model, read.compile_info)
            if read.optimizer_state:
                state = read.optimizer_state
                slots = {name: _by_layer_order(model, tree) for name, tree in state["slots"].items()}
                set_optimizer_slots(model, {**state, "slots": slots})
    except NnplayError as exc:
        raise NnplayError(f"{str(path)!r}: {exc}") from None
    except Exception as exc:        # a value the file's config holds that nnplay cannot use: one line
        raise NnplayError(f"{str(path)!r}: the model cannot be rebuilt from its config ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:200]})") from None
    return model


def _by_layer_order(model: Model, tree: dict) -> list:
    """Arrays kept by layer name (``{name: [arrays] or {nested model's layers}}``) in ``get_weights()`` order:
    the order of ``model.layers``, however the file listed them."""
    out = []
    for layer in model.layers:
        value = tree.get(layer.name, [])
        out += _by_layer_order(layer, value) if isinstance(layer, Model) else list(value)
    return out
