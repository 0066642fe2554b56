"""Reading models back: :func:`load_model` opens what :meth:`Model.save <.model.Model.save>` wrote."""
from __future__ import annotations

from pathlib import Path

from .. import losses as losses_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError
from .functional import Functional
from .model import Model
from .npz_format import ModelFile
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
    with ModelFile(path) as f:      # a regular file, its config read first and checked
        meta = f.meta
        model = _rebuilt(path, lambda: _from_config(meta["config"]))
        shapes = [owner.weight(n).shape for owner, n in model.all_weights()]
        weights = f.weights(shapes)     # each array checked against its shape before it is inflated
        _rebuilt(path, lambda: model.set_weights(weights))
        if compile and meta.get("compile"):
            _rebuilt(path, lambda: _compile(model, meta["compile"]))
            state = f.optimizer_state(model.P.size if model.P is not None else model.count_params())
            if state:
                _rebuilt(path, lambda: model.optimizer.set_state(state))
    return model


def _from_config(config: dict) -> Model:
    model = (Functional if config.get("type") == "functional" else Sequential).from_config(config)
    model.build()
    return model


def _rebuilt(path: Path, step):
    """Run one step of rebuilding a model from a file; whatever the file's values provoke is one line."""
    try:
        return step()
    except NnplayError as exc:
        raise NnplayError(f"{str(path)!r}: {exc}") from None
    except MemoryError:
        raise NnplayError(f"{str(path)!r}: the model in it does not fit in the memory available") from None
    except Exception as exc:        # a value the file's config holds that nnplay cannot use: one line
        raise NnplayError(f"{str(path)!r}: the model cannot be rebuilt from its config ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:200]})") from None


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
