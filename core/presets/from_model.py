"""A preset from a built model: what the playground's "save as preset" writes."""
from __future__ import annotations

import copy

from ..errors import NnplayError
from ..layers.base import LAYER_TYPES, layer_from_config
from ..registry import snake_case
from .files import preset_from_dict
from .schema import FORMAT_VERSION, Preset
from .sections import layer_signature


def _compact_layer(cfg: dict, taken: list[str]) -> dict:
    """A layer config without the values its constructor would use anyway (so saved presets stay short).

    ``taken`` lists the names of the layers before it: a name is dropped when the model would give the
    layer that same name on its own (``dense``, ``dense_1``, ...).
    """
    cfg = dict(cfg)
    name = cfg.pop("name", None)
    taken.append(name or "")
    cls = LAYER_TYPES.get(str(cfg.get("type")))
    if cls is None:
        return cfg if name is None else {**cfg, "name": name}
    _, required_args = layer_signature(cls)
    required = {k: cfg[k] for k in required_args if k in cfg}
    try:
        default = layer_from_config({"type": cfg["type"], **required}).get_config()
    except (NnplayError, TypeError):
        default = {}
    out = {k: v for k, v in cfg.items() if k == "type" or k in required or default.get(k, object()) != v}
    base, auto, n = snake_case(cls.__name__), snake_case(cls.__name__), 0
    while auto in taken[:-1]:
        n += 1
        auto = f"{base}_{n}"
    if name is not None and name != auto:
        out["name"] = name
    return out


def preset_from_model(model, data: dict, training: dict, name: str, description: str = "", *,
                      seed: int | None = None, target: dict | None = None) -> Preset:
    """A preset that rebuilds ``model`` (its layer stack via ``model.get_config()``) with this data and training.

    ``data`` is ``{"name": "spiral", **dataset params}``; ``training`` is the ``[training]`` table. Loss,
    optimizer and metrics missing from ``training`` are read from the compiled model.
    """
    taken: list[str] = []
    layers = [_compact_layer(c, taken) for c in model.get_config()["layers"]]
    for layer in layers[:1]:      # the dataset gives the input shape
        layer.pop("input_shape", None)
        layer.pop("input_dim", None)
    training = copy.deepcopy(dict(training))
    if getattr(model, "compiled", False):
        if "loss" not in training:
            cfg = model.loss.get_config()
            training["loss"] = cfg["name"] if len(cfg) == 1 or all(not v for k, v in cfg.items() if k != "name") \
                else cfg
        if "metrics" not in training:
            training["metrics"] = [m if isinstance(m, str) else m.name for m in model._metric_specs]
        if "optimizer" not in training:
            opt = model.optimizer.get_config()
            if isinstance(opt.get("learning_rate"), dict):
                training.setdefault("schedule", opt.pop("learning_rate"))
            training["optimizer"] = opt
    reg = training.get("regularization")
    if reg:
        for layer in layers:
            if layer.get("kernel_regularizer") == reg:
                del layer["kernel_regularizer"]
    raw = {"version": FORMAT_VERSION, "name": name, "description": description,
           "seed": int(model.seed if seed is None else seed), "data": dict(data),
           "model": {"layers": layers}, "training": training}
    if target:
        raw["target"] = dict(target)
    return preset_from_dict(raw, source=f"{name}.toml")
