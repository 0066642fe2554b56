"""``compile`` settings and optimizer state, nnplay <-> Keras 3.

nnplay's side is the ``compile_info`` of its ``.npz`` files (optimizer config, loss config(s), metric
names, loss weights) and the optimizer's state split by weight. Keras' side is ``compile_config`` in
``config.json`` and the optimizer's variables, stored by position as ``optimizer/vars/<i>`` in the h5.

Keras' optimizer variable order (``optimizer.variables``), which :func:`optimizer_to_keras` writes and
:func:`optimizer_from_keras` reads:

* ``iteration`` (int scalar), then ``learning_rate`` (float32 scalar) unless the rate is a schedule;
* the slots over the model's trainable weights, in Keras' ``model.trainable_variables`` order (layers in
  ``model.layers`` order, frozen layers and BatchNormalization's moving statistics left out), per
  optimizer: Adam/AdamW ``momentum, velocity`` interleaved weight by weight, then ``velocity_hat`` for
  each weight with ``amsgrad``; Nadam ``momentum, velocity`` interleaved, then its scalar ``u_product``;
  Adadelta ``accumulated_grad, accumulated_delta_var`` interleaved; SGD ``momentum`` (only when
  momentum != 0); RMSprop every ``velocity``, then every ``momentum`` (momentum > 0), then every
  ``average_gradient`` (centered); Adagrad every ``accumulator``.

nnplay's slot names are Keras' variable names, so the table below only says how they are grouped.
"""
from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError
from ..optimizers import schedules
from .keras_graph import ModelGraph, Slot, lookup
from .keras_objects import keras_object, short, unpack

_OPTIMIZER_CLASSES = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad",
                      "adadelta": "Adadelta", "nadam": "Nadam"}
#: Slot blocks in Keras' variable order: names in one block are interleaved weight by weight.
_SLOT_BLOCKS = {"sgd": [["momentum"]], "rmsprop": [["velocity"], ["momentum"], ["average_gradient"]],
                "adam": [["momentum", "velocity"], ["velocity_hat"]],
                "adamw": [["momentum", "velocity"], ["velocity_hat"]], "nadam": [["momentum", "velocity"]],
                "adagrad": [["accumulator"]], "adadelta": [["accumulated_grad", "accumulated_delta_var"]]}
_SCHEDULE_CLASSES = {"exponential_decay": "ExponentialDecay", "piecewise_constant_decay": "PiecewiseConstantDecay",
                     "polynomial_decay": "PolynomialDecay", "inverse_time_decay": "InverseTimeDecay",
                     "cosine_decay": "CosineDecay", "cosine_decay_restarts": "CosineDecayRestarts"}
#: Keras loss arguments nnplay lacks, accepted at these values.
_LOSS_NEUTRAL = {"reduction": ("sum_over_batch_size", None), "axis": (-1, None), "label_smoothing": (0, 0.0),
                 "ignore_class": (None,), "dtype": (None, "float32"), "name": None}
_HINT = "; load it with load_model(path, compile=False) and compile it again"


# ------------------------------------------------------------------------------------------ nnplay -> Keras
def compile_to_keras(info: dict) -> dict:
    """nnplay's compile info -> Keras' ``compile_config``."""
    opt = dict(info["optimizer"])
    key = opt.pop("name")
    if key not in _OPTIMIZER_CLASSES:
        raise NnplayError(f"the optimizer {key!r} has no Keras counterpart; save with model.save('model.npz')")
    config: dict = {"name": key}
    for k, v in opt.items():
        if k == "epsilon_mode":
            if v != "keras":
                raise NnplayError(f"the optimizer uses epsilon_mode={v!r}, which Keras does not have; compile with "
                                  f"the default epsilon_mode='keras', or save with model.save('model.npz')")
            continue
        config[k] = _schedule_to_keras(v) if k == "learning_rate" and isinstance(v, dict) else \
            (float(v) if k == "learning_rate" else v)
    loss = info["loss"]
    return {"optimizer": keras_object("keras.optimizers", _OPTIMIZER_CLASSES[key], config),
            "loss": [_loss_to_keras(l) for l in loss] if isinstance(loss, list) else _loss_to_keras(loss),
            "loss_weights": info.get("loss_weights"), "metrics": info.get("metrics") or None,
            "weighted_metrics": None}


def _schedule_to_keras(cfg: dict) -> dict:
    cfg = dict(cfg)
    kind = cfg.pop("type")
    if kind == "step_decay":                 # nnplay's own; the same values as Keras' staircase decay
        cfg = {"initial_learning_rate": cfg["initial_learning_rate"], "decay_steps": cfg["every"],
               "decay_rate": cfg["drop"], "staircase": True, **({"name": cfg["name"]} if "name" in cfg else {})}
        kind = "exponential_decay"
    return keras_object("keras.optimizers.schedules", _SCHEDULE_CLASSES[kind], cfg)


def _loss_to_keras(cfg: dict):
    default = losses_mod.get(cfg["name"]).get_config()
    if cfg == default:
        return cfg["name"]
    return keras_object("keras.losses", type(losses_mod.get(cfg)).__name__, dict(cfg))


def optimizer_to_keras(info: dict, state: dict, slots: list[Slot], graph: ModelGraph) -> list[np.ndarray]:
    """The optimizer's variables in Keras' order, from nnplay's state split by weight
    (``{"iterations", "learning_rate", "slots": {name: flat list}, "extra": {name: value}}``)."""
    key = info["optimizer"]["name"]
    out = [np.array(int(state["iterations"]), dtype=np.int64)]
    if not isinstance(info["optimizer"]["learning_rate"], dict):
        out.append(np.array(state.get("learning_rate") or info["optimizer"]["learning_rate"], dtype=np.float32))
    per_slot = {name: graph.split(values) for name, values in state["slots"].items()}
    trainable = [s for s in slots if s.trainable]
    for block in _SLOT_BLOCKS[key]:
        names = [n for n in block if n in per_slot]
        for slot in trainable:
            for name in names:
                value = lookup(per_slot[name], slot.owner)[slot.index]
                if value is None:
                    raise NnplayError(f"the optimizer has no {name!r} state for a trainable weight of layer "
                                      f"{'/'.join(slot.owner)!r}; train or compile the model again before saving")
                out.append(np.asarray(value))
    for name, value in state.get("extra", {}).items():
        out.append(np.array(value, dtype=np.float32))
    return out


# ------------------------------------------------------------------------------------------ Keras -> nnplay
def compile_from_keras(cc, output_names: list[str], aliases: dict) -> dict | None:
    """Keras' ``compile_config`` -> nnplay's compile info (None when the model was not compiled).
    ``aliases`` maps dict output keys to output layer names."""
    if cc is None or cc == {}:
        return None
    if not isinstance(cc, dict):
        raise NnplayError(f"compile_config is {short(cc)}, expected a dict{_HINT}")
    if cc.get("loss") is None:
        raise NnplayError(f"the model was compiled without a loss, which nnplay needs{_HINT}")
    if cc.get("weighted_metrics") not in (None, [], {}):
        raise NnplayError(f"the model has weighted_metrics, which nnplay does not support{_HINT}")
    optimizer = _optimizer_from_keras(cc.get("optimizer", "rmsprop"))
    loss = _per_output(cc["loss"], output_names, aliases, "loss")
    loss = [_loss_from_keras(l) for l in loss] if isinstance(loss, list) else _loss_from_keras(loss)
    if isinstance(loss, list) and len(output_names) == 1:
        loss = loss[0]
    metrics = _metrics_from_keras(_per_output(cc.get("metrics"), output_names, aliases, "metrics", keep_dict=True))
    weights = _per_output(cc.get("loss_weights"), output_names, aliases, "loss_weights", keep_dict=True)
    values = weights.values() if isinstance(weights, dict) else weights if isinstance(weights, list) else [weights]
    if weights is not None and not all(isinstance(w, (int, float)) and not isinstance(w, bool)
                                       and math.isfinite(w) for w in values):
        raise NnplayError(f"compile loss_weights are {short(weights)}, expected numbers{_HINT}")
    return {"optimizer": optimizer.get_config(), "loss": loss, "metrics": metrics, "loss_weights": weights}


def _optimizer_from_keras(value):
    if isinstance(value, str):
        return optimizers_mod.get(value)
    cls, config = unpack(value, "the optimizer")
    if not isinstance(config, dict):
        raise NnplayError(f"the optimizer ({cls}) has config {short(config)}, expected a dict{_HINT}")
    config = {k: v for k, v in config.items() if k != "name"}
    if isinstance(config.get("learning_rate"), dict):
        scls, scfg = unpack(config["learning_rate"], "the learning-rate schedule")
        if not isinstance(scfg, dict):
            raise NnplayError(f"the learning-rate schedule ({scls}) has config {short(scfg)}")
        config["learning_rate"] = schedules.get({"class_name": scls, "config": scfg}).get_config()
    try:
        return optimizers_mod.from_config({**config, "name": cls})
    except NnplayError as exc:
        raise NnplayError(f"{exc}{_HINT}") from None


def _loss_from_keras(value) -> dict:
    if isinstance(value, dict):
        cls, config = unpack(value, "the loss")
        if cls == "function" and isinstance(config, str):
            value = config
        else:
            if not isinstance(config, dict):
                raise NnplayError(f"the loss ({cls}) has config {short(config)}{_HINT}")
            try:
                known = inspect.signature(type(losses_mod.get(cls)).__init__).parameters
            except NnplayError as exc:
                raise NnplayError(f"{exc}{_HINT}") from None
            args = {}
            for k, v in config.items():
                if k in known and k != "self":
                    args[k] = v
                elif k not in _LOSS_NEUTRAL or (_LOSS_NEUTRAL[k] is not None and v not in _LOSS_NEUTRAL[k]):
                    raise NnplayError(f"the loss {cls} uses {k}={short(v)}, which nnplay does not support{_HINT}")
            return losses_mod.get({"name": cls, **args}).get_config()
    if not isinstance(value, str):
        raise NnplayError(f"the loss is {short(value)}, expected a name or a Keras loss{_HINT}")
    try:
        return losses_mod.get(value).get_config()
    except NnplayError as exc:
        raise NnplayError(f"{exc}{_HINT}") from None


def _metrics_from_keras(value):
    if value is None:
        return []
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _metrics_from_keras(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_metrics_from_keras(v) if isinstance(v, list) else _metric_name(v) for v in value]
    return [_metric_name(value)]


def _metric_name(value) -> str:
    if isinstance(value, dict):
        cls, config = unpack(value, "a metric")
        if cls == "function" and isinstance(config, str):
            value = config
        else:
            config = config if isinstance(config, dict) else {}
            extra = {k: v for k, v in config.items() if k not in ("name", "dtype") and v is not None}
            if extra:
                raise NnplayError(f"the metric {cls} uses {short(extra)}, which nnplay does not support{_HINT}")
            value = config.get("name") if isinstance(config.get("name"), str) else cls
            try:
                metrics_mod.get(value)
            except NnplayError:
                value = cls
    if not isinstance(value, str):
        raise NnplayError(f"a metric is {short(value)}, expected a name{_HINT}")
    try:
        metrics_mod.get(value)
    except NnplayError as exc:
        raise NnplayError(f"{exc}{_HINT}") from None
    return value


def _per_output(value, names: list[str], aliases: dict, what: str, keep_dict: bool = False):
    """A dict keyed by Keras output keys -> keyed by nnplay output names (or a list in output order)."""
    if not isinstance(value, dict) or "class_name" in value:
        return value
    out = {}
    for key, v in value.items():
        name = aliases.get(key, key)
        if name not in names:
            raise NnplayError(f"compile {what} names an output {short(key)} the model does not have "
                              f"(outputs: {', '.join(names)}){_HINT}")
        out[name] = v
    if keep_dict:
        return out
    missing = [n for n in names if n not in out]
    if missing:
        raise NnplayError(f"compile {what} has nothing for the output(s) {', '.join(missing)}; nnplay needs one for "
                          f"each output{_HINT}")
    return [out[n] for n in names]


def optimizer_from_keras(arrays: list[np.ndarray], info: dict, slots: list[Slot], graph: ModelGraph,
                         where: str) -> dict | None:
    """Keras' optimizer variables -> nnplay's state split by layer (the structure of
    :meth:`ModelGraph.split`, None for weights the optimizer does not update), or None (with a warning,
    as Keras does) when they do not fit the optimizer."""
    opt = optimizers_mod.get(dict(info["optimizer"]))
    opt.build([], 0)
    fresh = opt.get_state()
    slot_names = [k for k, v in fresh.items() if k != "iterations" and np.ndim(v) == 1]
    extras = [k for k, v in fresh.items() if k != "iterations" and np.ndim(v) == 0]
    has_lr = not isinstance(info["optimizer"]["learning_rate"], dict)
    trainable = [s for s in slots if s.trainable]
    blocks = [[n for n in block if n in slot_names] for block in _SLOT_BLOCKS[info["optimizer"]["name"]]]
    scalars = 1 + has_lr
    want = scalars + sum(len(b) for b in blocks) * len(trainable) + len(extras)
    if len(arrays) not in (want, scalars):
        warnings.warn(f"{where}: skipping the optimizer state: the file has {len(arrays)} optimizer arrays, "
                      f"{type(opt).__name__} over this model's trainable weights needs {want}", UserWarning,
                      stacklevel=3)
        return None
    it = arrays[0]
    if it.shape != () or it.dtype.kind not in "iu" or int(it) < 0:
        raise NnplayError(f"{where}: the optimizer's iteration count is {short(it)}, expected a whole number >= 0")
    state: dict = {"iterations": int(it), "learning_rate": None, "slots": {}, "extra": {}}
    if has_lr:
        lr = arrays[1]
        if lr.shape != () or lr.dtype.kind != "f" or not math.isfinite(float(lr)) or float(lr) <= 0:
            raise NnplayError(f"{where}: the optimizer's learning rate is {short(lr)}, expected a number > 0")
        if np.float32(info["optimizer"]["learning_rate"]) != np.float32(lr):   # changed after compile
            state["learning_rate"] = float(lr)
    if len(arrays) == scalars:               # compiled but never trained: Keras saved no slots
        return state
    pos = scalars
    per_slot = {name: graph.blank() for name in slot_names}
    for block in blocks:
        for slot in trainable:
            for name in block:
                value = arrays[pos]
                pos += 1
                if value.shape != slot.shape or value.dtype.kind != "f":
                    raise NnplayError(f"{where}: optimizer array {pos - 1} ({name} of layer "
                                      f"{'/'.join(slot.owner)!r}) has shape {value.shape} and dtype {value.dtype}, "
                                      f"expected float {slot.shape}")
                lookup(per_slot[name], slot.owner)[slot.index] = value
    for name in extras:
        state["extra"][name] = float(arrays[pos])
        pos += 1
    state["slots"] = per_slot
    return state
