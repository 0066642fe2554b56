"""Validation of a preset dict: keys, types, ranges, then the engine's own checks, each error located."""
from __future__ import annotations

import inspect
import math
import os
import re

from . import losses, metrics, optimizers, regularizers, schedules
from .errors import NnplayError, did_you_mean
from .layers.base import LAYER_TYPES, layer_from_config
from .presets_schema import (FORMAT_VERSION, SPLITS, VALIDATION_MODES, Context, DataConfig, ModelConfig, Preset,
                             StopConfig, TargetConfig, TrainingConfig, Variant, parse_path)
from .presets_toml import Path, format_path

TOP_KEYS = ("version", "name", "description", "seed", "data", "model", "training", "target", "variants", "gan",
            "anomaly")
GAN_KEYS = ("latent_dim", "discriminator", "k", "g_steps", "label_smoothing", "label_noise", "n_eval", "d_optimizer")
ANOMALY_KEYS = ("held_out_class", "percentile")
MODEL_KEYS = ("layers", "input_shape")
TRAINING_KEYS = ("loss", "metrics", "epochs", "batch_size", "shuffle", "validation", "validation_split",
                 "optimizer", "schedule", "regularization", "stop")
STOP_KEYS = ("monitor", "patience", "min_delta", "restore_best_weights", "target_loss", "target_accuracy")
TARGET_KEYS = ("metric", "min", "max")
VARIANT_KEYS = ("name", "description", "set")
MAX_EPOCHS = 1_000_000
MAX_BATCH = 10_000_000
FILE_SUFFIXES = (".csv", ".tsv", ".npz", ".txt")
# schedule keys that may be given in epochs instead of optimizer steps
EPOCH_KEYS = {"decay_epochs": "decay_steps", "first_decay_epochs": "first_decay_steps",
              "warmup_epochs": "warmup_steps", "every_epochs": "every", "boundaries_epochs": "boundaries"}

_UNKNOWN = re.compile(r"(?:unknown (?:argument|parameter|key)|has no parameter) '([^']+)'(.*)$")
_HINT = re.compile(r" \((?:did you mean|choose from)[^)]*\)")


# ------------------------------------------------------------------------------------------ helpers
def relocate(ctx: Context, exc: NnplayError, base: Path, table: dict | None = None, by_value: bool = True
             ) -> NnplayError:
    """Re-raise an engine error at the key it is about (``unknown argument 'x'`` -> ``base.x: unknown key``)."""
    msg = str(exc)
    m = _UNKNOWN.search(msg)
    if m:
        hint = _HINT.search(m.group(2))
        return ctx.error(base + (m.group(1),), "unknown key" + (hint.group() if hint else ""))
    if isinstance(table, dict):
        for key, value in table.items():
            if re.search(rf"(?<![\w.]){re.escape(str(key))}=", msg):
                return ctx.error(base + (key,), msg)
        for key, value in table.items() if by_value else ():
            if isinstance(value, str) and repr(value) in msg:
                return ctx.error(base + (key,), msg)
    return ctx.error(base, msg)


def _num(v) -> str:
    if isinstance(v, int) and abs(v) >= 10_000:
        return f"{v:_}"
    return f"{v:g}"


def _range_text(lo, hi, lo_open=False, hi_open=False) -> str:
    if lo is not None and hi is not None:
        if isinstance(lo, int) and isinstance(hi, int):
            return f" in {_num(lo)}..{_num(hi)}"
        return f" in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {_num(lo)}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {_num(hi)}"
    return ""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _quote_hint(v) -> str:
    return " (it is a string: remove the quotes)" if isinstance(v, str) else ""


class Table:
    """Typed access to one table of the preset, raising located errors."""

    def __init__(self, ctx: Context, path: Path, raw, keys: tuple, what: str = "a table"):
        self.ctx, self.path = ctx, tuple(path)
        if not isinstance(raw, dict):
            raise ctx.error(self.path, f"must be {what}, got {raw!r}")
        for key in raw:
            if key not in keys:
                raise ctx.error(self.path + (key,), "unknown key" + did_you_mean(str(key), keys))
        self.raw = raw

    def err(self, key, reason: str) -> NnplayError:
        return self.ctx.error(self.path + ((key,) if key is not None else ()), reason)

    def has(self, key) -> bool:
        return key in self.raw

    def _value(self, key, required, example):
        if key not in self.raw:
            if required:
                raise self.err(None, f"missing key '{key}'" + (f"; add e.g. {key} = {example}" if example else ""))
            return None
        return self.raw[key]

    def int(self, key, default=None, lo=None, hi=None, required=False, example=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        if not _is_int(v):
            fix = f"; write {int(v)}" if isinstance(v, float) and v.is_integer() else _quote_hint(v)
            raise self.err(key, f"must be a whole number{_range_text(lo, hi)}, got {v!r}{fix}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.err(key, f"must be a whole number{_range_text(lo, hi)}, got {v}")
        return v

    def float(self, key, default=None, lo=None, hi=None, lo_open=False, hi_open=False, required=False,
              example=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        rng = _range_text(lo, hi, lo_open, hi_open)
        if not _is_num(v) or not math.isfinite(v):
            raise self.err(key, f"must be a finite number{rng}, got {v!r}{_quote_hint(v)}")
        if (lo is not None and (v < lo or (lo_open and v == lo))) or \
                (hi is not None and (v > hi or (hi_open and v == hi))):
            raise self.err(key, f"must be a number{rng}, got {v!r}")
        return v

    def bool(self, key, default=None):
        v = self._value(key, False, None)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self.err(key, f"must be true or false, got {v!r}{_quote_hint(v)}")
        return v

    def str(self, key, default=None, required=False, example=None, choices=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        if not isinstance(v, str):
            raise self.err(key, f"must be a string such as {example or repr('...')}, got {v!r}")
        if choices is not None and v not in choices:
            raise self.err(key, f"{v!r} is not allowed" + did_you_mean(v, choices))
        return v

    def table(self, key, required=False, example=None):
        v = self._value(key, required, example)
        if v is not None and not isinstance(v, dict):
            raise self.err(key, f"must be a table ([{format_path(self.path + (key,))}] or {{ ... }}), got {v!r}")
        return v

    def list(self, key, item: str, default=None, required=False, example=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        if not isinstance(v, list):
            raise self.err(key, f"must be a list, e.g. {key} = {example}, got {v!r}")
        for i, x in enumerate(v):
            ok = {"str": isinstance(x, str), "table": isinstance(x, dict),
                  "positive int": _is_int(x) and x > 0}[item]
            if not ok:
                raise self.ctx.error(self.path + (key, i), f"must be a {item}, got {x!r}")
        return v


# ------------------------------------------------------------------------------------------ schedules
def schedule_config(cfg: dict, steps_per_epoch: int, default_lr: float) -> dict:
    """A preset's schedule table -> a ``schedules.get`` config (``*_epochs`` keys turned into steps)."""
    out = {}
    for key, value in cfg.items():
        if key in EPOCH_KEYS:
            step_key = EPOCH_KEYS[key]
            if step_key in cfg:
                raise NnplayError(f"give either {key} or {step_key}, not both")
            if isinstance(value, list):
                out[step_key] = [_epochs_to_steps(key, v, steps_per_epoch) for v in value]
            else:
                out[step_key] = _epochs_to_steps(key, value, steps_per_epoch)
        else:
            out[key] = value
    kind = str(out.get("type", "")).lower().replace("-", "_")
    if "initial_learning_rate" not in out and not kind.startswith("piecewise"):
        out["initial_learning_rate"] = default_lr
    return out


def _epochs_to_steps(key, value, steps_per_epoch) -> int | float:
    if not _is_num(value) or value < 0:
        raise NnplayError(f"{key} must be a number of epochs >= 0, got {key}={value!r}")
    steps = value * steps_per_epoch
    return int(round(steps)) if abs(steps - round(steps)) < 1e-9 else steps


# ------------------------------------------------------------------------------------------ validate
def validate(raw, ctx: Context, overrides: tuple = ()) -> Preset:
    """A validated :class:`Preset` from a TOML-shaped dict, or a located :class:`PresetError`."""
    top = Table(ctx, (), raw, TOP_KEYS, "a TOML document")
    version = top.int("version", FORMAT_VERSION, lo=1)
    if version > FORMAT_VERSION:
        raise top.err("version", f"this preset is for a newer nnplay (format {version}, this one reads "
                                 f"{FORMAT_VERSION}); upgrade nnplay")
    name = top.str("name", "preset")
    description = top.str("description", "")
    seed = top.int("seed", 0, lo=0, hi=2**63 - 1)
    example = {"data": '{ name = "spiral" }', "model": "[[model.layers]] tables",
               "training": '{ loss = "mse", epochs = 10 }'}
    for key in ("data", "model", "training"):
        top.table(key, required=True, example=example[key])
    data = _data(ctx, raw["data"])
    model = _model(ctx, raw["model"])
    training, names = _training(ctx, raw["training"])
    gan, anomaly = _gan(ctx, raw.get("gan"), data), _anomaly(ctx, raw.get("anomaly"), data)
    if gan is not None or data.target == "input":   # generative presets report more (nnplay.core.generative)
        from .generative import target_metric_names
        names = (names if gan is None else []) + target_metric_names(gan is not None)
    target = _target(ctx, raw.get("target"), names, training.validation)
    preset = Preset(name=name, data=data, model=model, training=training, description=description, seed=seed,
                    version=version, target=target, context=ctx, overrides=tuple(overrides), gan=gan,
                    anomaly=anomaly)
    preset.variants = _variants(ctx, top.list("variants", "table", [], example='[{ name = "a", set = { ... } }]'))
    for i in range(len(preset.variants)):
        preset.variant_preset(i)        # every variant must validate too, before anything runs
    return preset


def _data(ctx: Context, raw) -> DataConfig:
    path = ("data",)
    if not isinstance(raw, dict):
        raise ctx.error(path, f"must be a table, got {raw!r}")
    t = Table(ctx, path, raw, tuple(raw))
    name = t.str("name", required=True, example='"spiral"')
    target = t.str("target", None, example='"input"', choices=("input",))  # "input": an autoencoder
    params = {k: v for k, v in raw.items() if k not in ("name", "target")}
    if os.path.splitext(name.strip())[1].lower() in FILE_SUFFIXES:
        return DataConfig(name, params, target)   # a user file: checked when it is read
    from . import datasets

    try:
        entry = datasets.find(name)
    except NnplayError as exc:
        raise ctx.error(path + ("name",), f"{exc}; see `nnplay list datasets`") from None
    try:
        entry.resolve(params)
    except NnplayError as exc:
        raise relocate(ctx, exc, path, params) from None
    return DataConfig(name, params, target)


def _model(ctx: Context, raw) -> ModelConfig:
    path = ("model",)
    t = Table(ctx, path, raw, MODEL_KEYS)
    layers = t.list("layers", "table", required=True, example='[{ type = "dense", units = 1 }]')
    if not layers:
        raise t.err("layers", 'is empty; add at least one layer: [[model.layers]] type = "dense" units = 1')
    input_shape = t.list("input_shape", "positive int", example="[28, 28, 1]")
    if input_shape is not None and not input_shape:
        raise t.err("input_shape", "is empty; give the shape of one sample, e.g. [2], or leave it out")
    _check_layers(ctx, path + ("layers",), layers)
    return ModelConfig(layers, input_shape)


def _check_layers(ctx: Context, path: Path, layers: list) -> None:
    for i, layer in enumerate(layers):
        lp = path + (i,)
        if "type" not in layer:
            raise ctx.error(lp, "missing key 'type'; add e.g. type = \"dense\"")
        if not isinstance(layer["type"], str):
            raise ctx.error(lp + ("type",), f"must be a layer type name such as \"dense\", got {layer['type']!r}")
        _check_layer_keys(ctx, lp, layer)
        try:
            layer_from_config(layer)
        except NnplayError as exc:
            raise relocate(ctx, exc, lp, layer) from None
        except TypeError as exc:   # a required argument is missing
            raise ctx.error(lp, f"{exc}".replace("__init__()", layer["type"])) from None


def _gan(ctx: Context, raw, data: DataConfig) -> dict | None:
    """[gan]: [[model.layers]] is the generator; this table holds the discriminator and the GAN settings."""
    if raw is None:
        return None
    t = Table(ctx, ("gan",), raw, GAN_KEYS)
    if data.target is not None:
        raise ctx.error(("data", "target"), "a GAN learns the data itself; remove data.target")
    t.int("latent_dim", required=True, lo=1, hi=100_000, example="8")
    for key in ("k", "g_steps", "n_eval"):
        t.int(key, lo=1, hi=MAX_BATCH)
    for key in ("label_smoothing", "label_noise"):
        t.float(key, lo=0.0, hi=0.5, hi_open=True)
    layers = t.list("discriminator", "table", required=True,
                    example='[{ type = "dense", units = 1, activation = "sigmoid" }]')
    if not layers:
        raise t.err("discriminator", "is empty; end it with a unit that scores real vs fake, e.g. "
                                     '[[gan.discriminator]] type = "dense" units = 1 activation = "sigmoid"')
    _check_layers(ctx, ("gan", "discriminator"), layers)
    opt = t.table("d_optimizer")
    if opt is not None:
        try:
            optimizers.get(dict(opt))
        except NnplayError as exc:
            raise relocate(ctx, exc, ("gan", "d_optimizer"), opt) from None
    return dict(raw)


def _anomaly(ctx: Context, raw, data: DataConfig) -> dict | None:
    """[anomaly]: hold one class out of an autoencoder's training and detect it by reconstruction error."""
    if raw is None:
        return None
    t = Table(ctx, ("anomaly",), raw, ANOMALY_KEYS)
    if data.target != "input":
        raise ctx.error(("anomaly",), 'needs an autoencoder: add target = "input" to [data]')
    t.int("held_out_class", required=True, lo=0, example="4")
    t.float("percentile", lo=0.0, hi=100.0, lo_open=True, hi_open=True)
    return dict(raw)


def layer_signature(cls) -> tuple[set, list]:
    """(every argument name, required argument names) of a layer class's constructors along its MRO."""
    names, required = set(), []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for par in list(inspect.signature(init).parameters.values())[1:]:
            if par.kind in (par.VAR_POSITIONAL, par.VAR_KEYWORD):
                continue
            names.add(par.name)
            if par.default is inspect.Parameter.empty and par.name not in required:
                required.append(par.name)
    return names, required


def _check_layer_keys(ctx: Context, path: Path, layer: dict) -> None:
    """Unknown and missing layer arguments, named before the constructor's own TypeError could hide them."""
    cls = LAYER_TYPES.get(layer["type"])
    if cls is None:
        return                    # layer_from_config reports the unknown type with a did-you-mean
    names, required = layer_signature(cls)
    if hasattr(cls, "config_keys"):
        names |= set(cls.config_keys)
    names |= {"name", "input_shape", "input_dim", "trainable", "dtype", "type"}
    for k in layer:
        if k not in names:
            raise ctx.error(path + (k,), "unknown key" + did_you_mean(str(k), sorted(names - {"type"})))
    for k in required:
        if k not in layer and not (k == "shape" and "input_shape" in layer):
            raise ctx.error(path, f"missing key '{k}' for a {layer['type']} layer; add e.g. {k} = ...")


def _training(ctx: Context, raw) -> tuple[TrainingConfig, list[str]]:
    path = ("training",)
    t = Table(ctx, path, raw, TRAINING_KEYS)
    loss = t._value("loss", True, '"binary_crossentropy"')
    if not isinstance(loss, (str, dict)):
        raise t.err("loss", f"must be a loss name such as \"mse\", got {loss!r}")
    try:
        loss_obj = losses.get(loss)
    except NnplayError as exc:
        raise relocate(ctx, exc, path + (("loss",) if isinstance(loss, str) else ("loss",)),
                       loss if isinstance(loss, dict) else None) from None
    metric_list = t.list("metrics", "str", [], example='["accuracy"]')
    names = ["loss"]
    for i, m in enumerate(metric_list):
        try:
            names.append(metrics.get(m, loss_obj, (1,)).name)
        except NnplayError as exc:
            raise ctx.error(path + ("metrics", i), str(exc)) from None
    epochs = t.int("epochs", required=True, lo=1, hi=MAX_EPOCHS, example="100")
    batch_size = t.int("batch_size", 32, lo=1, hi=MAX_BATCH)
    shuffle = t.bool("shuffle", True)
    validation = t.str("validation", "test", choices=VALIDATION_MODES, example='"test"')
    split = t.float("validation_split", None, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    if split is not None and validation != "split":
        raise t.err("validation_split", f"is only used with validation = \"split\" (now {validation!r}); "
                                        f"remove it or set validation = \"split\"")
    optimizer = t.table("optimizer") or {"name": "adam"}
    if "name" not in optimizer:
        raise ctx.error(path + ("optimizer",), "missing key 'name'; add e.g. name = \"adam\"")
    try:
        opt = optimizers.get(dict(optimizer))
    except NnplayError as exc:
        raise relocate(ctx, exc, path + ("optimizer",), optimizer) from None
    schedule = t.table("schedule")
    if schedule is not None:
        if "type" not in schedule:
            raise ctx.error(path + ("schedule",), "missing key 'type'; add e.g. type = \"cosine_decay\"")
        try:
            schedules.get(schedule_config(schedule, 1, opt.current_learning_rate()))
        except NnplayError as exc:
            raise relocate(ctx, exc, path + ("schedule",), schedule) from None
    regularization = t.table("regularization")
    if regularization is not None:
        try:
            regularizers.get(dict(regularization))
        except NnplayError as exc:
            raise relocate(ctx, exc, path + ("regularization",), regularization) from None
    stop = _stop(ctx, t.table("stop"), names, validation)
    cfg = TrainingConfig(loss=loss, epochs=epochs, metrics=metric_list, batch_size=batch_size, shuffle=shuffle,
                         validation=validation, validation_split=split, optimizer=optimizer, schedule=schedule,
                         regularization=regularization, stop=stop)
    return cfg, names


def logged_names(names: list[str], validation: str) -> list[str]:
    return names + ([f"val_{n}" for n in names] if validation != "none" else [])


def _stop(ctx: Context, raw, names, validation) -> StopConfig | None:
    if raw is None:
        return None
    t = Table(ctx, ("training", "stop"), raw, STOP_KEYS)
    logged = logged_names(names, validation)
    s = StopConfig(monitor=t.str("monitor", example='"val_loss"'), patience=t.int("patience", lo=0, hi=MAX_EPOCHS),
                   min_delta=t.float("min_delta", lo=0.0), restore_best_weights=t.bool("restore_best_weights"),
                   target_loss=t.float("target_loss", lo=0.0),
                   target_accuracy=t.float("target_accuracy", lo=0.0, hi=1.0, lo_open=True))
    if s.monitor is not None and s.monitor not in logged:
        raise t.err("monitor", f"training does not log {s.monitor!r}" + did_you_mean(s.monitor, logged))
    if s.patience is None:
        for key in ("monitor", "min_delta", "restore_best_weights"):
            if getattr(s, key) is not None:
                raise t.err(key, "only applies with patience; add e.g. patience = 20")
    if s.target_accuracy is not None and "accuracy" not in names:
        raise t.err("target_accuracy", 'needs the accuracy metric: add "accuracy" to training.metrics')
    return s


def _target(ctx: Context, raw, names, validation) -> TargetConfig | None:
    if raw is None:
        return None
    t = Table(ctx, ("target",), raw, TARGET_KEYS)
    metric = t.str("metric", required=True, example='"test_accuracy"')
    split, _, base = metric.partition("_")
    valid = [f"{s}_{n}" for s in SPLITS for n in names if s != "val" or validation != "none"]
    if metric not in valid:
        hint = did_you_mean(metric, valid)
        why = ("there is no validation set (validation = \"none\")" if split == "val" and base in names else
               f"targets are train_, val_ or test_ plus loss or a metric in training.metrics")
        raise t.err("metric", f"unknown metric {metric!r}{hint}; {why}")
    lo, hi = t.float("min"), t.float("max")
    if lo is None and hi is None:
        raise t.err(None, "give min (the metric must reach at least this) or max (at most this), e.g. min = 0.9")
    if lo is not None and hi is not None and lo > hi:
        raise t.err("min", f"min = {lo:g} is above max = {hi:g}; no result could meet the target")
    return TargetConfig(metric, lo, hi)


def _variants(ctx: Context, raw_list) -> list[Variant]:
    out, seen = [], set()
    for i, raw in enumerate(raw_list):
        t = Table(ctx, ("variants", i), raw, VARIANT_KEYS)
        name = t.str("name", required=True, example='"adam"')
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):   # it names a folder in --out
            raise t.err("name", f"must be a short name of letters, digits, '-', '_' or '.', e.g. \"adam\"; "
                                f"got {name!r}")
        if name in seen:
            raise t.err("name", f"two variants are named {name!r}; give each a different name")
        seen.add(name)
        sets = t.table("set", required=True, example='{ "training.optimizer.name" = "sgd" }')
        if not sets:
            raise t.err("set", 'is empty; give at least one override, e.g. "training.optimizer.name" = "sgd"')
        for key in sets:
            path = parse_path(key, ctx, ("variants", i, "set", key))
            if path[0] == "variants":
                raise ctx.error(("variants", i, "set", key), "a variant cannot change the variants")
        out.append(Variant(name=name, set=sets, description=t.str("description", "")))
    return out
