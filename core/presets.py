"""Presets: one TOML file describes a whole experiment (data, model, training, target).

    from nnplay.core.presets import load_preset, apply_overrides, build_experiment
    p = load_preset("spiral")                                  # a shipped name or a path
    p = apply_overrides(p, {"training.epochs": 50})
    exp = build_experiment(p)                                  # dataset, compiled model, callbacks
    for event in exp.trainer().run(): ...

Parsing and validation live in :mod:`.presets_validate`, the dataclasses in :mod:`.presets_schema`,
TOML positions and writing in :mod:`.presets_toml`, the memory estimate in :mod:`.presets_memory`.
"""
from __future__ import annotations

import copy
import math
import os
import re
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path as FilePath
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from . import callbacks as callbacks_mod
from . import presets_memory
from .errors import NnplayError, did_you_mean
from .fileio import atomic_write_text
from .layers.base import LAYER_TYPES, layer_from_config
from .registry import snake_case, squash
from .presets_schema import (FORMAT_VERSION, Context, DataConfig, ModelConfig, Preset, PresetError, StopConfig,
                             TargetConfig, TrainingConfig, Variant, apply_ops, parse_path)
from .presets_toml import key_lines
from .presets_validate import FILE_SUFFIXES, layer_signature, relocate, schedule_config, validate

__all__ = ["Preset", "DataConfig", "ModelConfig", "TrainingConfig", "StopConfig", "TargetConfig", "Variant",
           "PresetError", "Experiment", "FORMAT_VERSION", "load_preset", "parse_preset", "preset_from_dict",
           "list_presets", "save_preset", "build_experiment", "apply_overrides", "preset_from_model",
           "shipped_preset_names", "parse_value"]

#: The shipped presets in teaching order (others found in the package follow, by name).
ORDER = ("perceptron-xor", "xor", "circle", "gauss", "spiral", "moons", "moons-dropout", "l1-sparsity", "reg-plane",
         "reg-gauss", "optimizers", "mnist-mlp", "cnn-font-digits", "cnn-shapes", "rnn-sine", "lstm-sine",
         "memory-first-symbol", "gru-parity", "char-lstm")
_PATH_PARAMS = ("path", "images", "labels", "images_test", "labels_test")


# ------------------------------------------------------------------------------------------ reading
def _shipped_dir():
    return resources.files("nnplay.presets")


def shipped_preset_names() -> list[str]:
    found = sorted(e.name[:-5] for e in _shipped_dir().iterdir() if e.name.endswith(".toml"))
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def parse_preset(text: str, source: str = "preset", base_dir: str | None = None, default_name: str | None = None
                 ) -> Preset:
    """Parse and validate TOML text. ``source`` labels error messages (``spiral.toml:12: ...``)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", msg)
        if m:
            raise PresetError(f"invalid TOML: {msg[:m.start()]} (column {m.group(2)}); fix the syntax",
                              f"{source}:{m.group(1)}") from None
        raise PresetError(f"invalid TOML: {msg}; fix the syntax", source) from None
    if default_name and "name" not in raw:
        raw["name"] = default_name
    ctx = Context(source=source, lines=key_lines(text), base_dir=base_dir)
    return validate(raw, ctx)


def preset_from_dict(d: dict, source: str = "preset") -> Preset:
    """Validate a dict shaped like the TOML schema (what :meth:`Preset.to_dict` returns)."""
    return validate(copy.deepcopy(d), Context(source=source))


def load_preset(ref) -> Preset:
    """A shipped preset by name (``"spiral"``) or a ``.toml`` file by path, validated."""
    ref_s = os.fspath(ref)
    looks_like_path = isinstance(ref, os.PathLike) or ref_s.endswith(".toml") or os.sep in ref_s or "/" in ref_s
    if looks_like_path or os.path.isfile(ref_s):
        path = FilePath(ref_s)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise NnplayError(f"{ref_s}: preset file {what}; check the path, or see `nnplay list presets` "
                              f"for the shipped presets")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise NnplayError(f"{ref_s}: not UTF-8 text (byte {exc.start}); save the preset as UTF-8") from None
        except OSError as exc:
            raise NnplayError(f"{ref_s}: cannot read the preset ({exc.strerror or exc})") from None
        return parse_preset(text, source=ref_s, base_dir=str(path.resolve().parent), default_name=path.stem)
    names = shipped_preset_names()
    key = next((n for n in names if squash(n) == squash(ref_s)), None)
    if key is None:
        raise NnplayError(f"unknown preset {ref_s!r}" + did_you_mean(ref_s.strip().lower().replace("_", "-"), names)
                          + "; see `nnplay list presets`, or give a path to a .toml file")
    text = (_shipped_dir() / f"{key}.toml").read_text(encoding="utf-8")
    return parse_preset(text, source=f"{key}.toml", default_name=key)


def list_presets() -> list[tuple[str, str]]:
    """(name, first line of the description) of every shipped preset, in teaching order."""
    out = []
    for name in shipped_preset_names():
        try:
            raw = tomllib.loads((_shipped_dir() / f"{name}.toml").read_text(encoding="utf-8"))
            first = str(raw.get("description", "")).strip().splitlines()
        except (tomllib.TOMLDecodeError, OSError):
            first = ["(unreadable preset)"]
        out.append((name, first[0] if first else ""))
    return out


def save_preset(preset: Preset, path) -> FilePath:
    """Write ``preset`` as TOML, atomically; ``load_preset(path) == preset``."""
    return atomic_write_text(path, preset.to_toml())


def parse_value(text: str) -> Any:
    """A ``--set`` value: read as a TOML value (``0.01``, ``true``, ``["accuracy"]``, ``{ name = "sgd" }``),
    else taken as a plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(preset: Preset, overrides: dict, label: str = "--set") -> Preset:
    """A new validated preset with ``{"training.optimizer.learning_rate": 0.01, ...}`` applied.

    Keys are paths like ``model.layers[0].units``; a table value replaces the whole table. Errors about an
    overridden value are blamed on ``label`` (e.g. ``--set training.epochs: must be ...``).
    """
    ops = []
    for key, value in overrides.items():
        path = key if isinstance(key, tuple) else parse_path(key, None, ())
        ops.append((path, value, label))
    return apply_ops(preset.to_dict(), ops, preset.context, preset.overrides)


# ------------------------------------------------------------------------------------------ building
@dataclass
class Experiment:
    """Everything one run needs, built from a preset: call :meth:`trainer` and iterate its ``run()``."""

    preset: Preset
    dataset: Any
    model: Any
    callbacks: list
    fit_kwargs: dict
    target: TargetConfig | None
    steps_per_epoch: int
    memory: presets_memory.MemoryEstimate
    extra: dict = field(default_factory=dict)        #: anything a kind of experiment adds (reports, samples)

    def trainer(self, callbacks=(), **overrides):
        """A :class:`~nnplay.core.trainer.Trainer` for this experiment; ``overrides`` replace fit arguments
        (``epochs=...``, ``initial_epoch=...``) and ``callbacks`` are added to the preset's stop rules."""
        from .trainer import Trainer

        return Trainer(self.model, **{**self.fit_kwargs, **overrides}, callbacks=[*self.callbacks, *callbacks])

    def evaluate(self, trainer=None) -> dict:
        """Flat metrics of the current weights: ``train_loss``, ``val_accuracy``, ``test_loss``, ..."""
        kw = self.fit_kwargs
        sets = {}
        if trainer is not None:
            sets["train"] = (trainer.x, trainer.y)
            if trainer.val is not None:
                sets["val"] = trainer.val
        else:
            x, y = kw["x"], kw["y"]
            n_val = int(len(x) * kw.get("validation_split", 0.0))
            sets["train"] = (x[:len(x) - n_val], y[:len(y) - n_val])
            if n_val:
                sets["val"] = (x[len(x) - n_val:], y[len(y) - n_val:])
            elif kw.get("validation_data") is not None:
                sets["val"] = kw["validation_data"]
        ds = self.dataset
        if len(ds.x_test):
            sets["test"] = (ds.x_test, ds.y_test)
        out = {}
        for split, (x, y) in sets.items():
            if len(x) == 0:
                continue
            logs = self.model.evaluate(x, y, batch_size=max(256, kw["batch_size"]), return_dict=True)
            out.update({f"{split}_{k}": float(v) for k, v in logs.items()})
        return out

    def target_met(self, metrics: dict) -> bool | None:
        """None without a target, else whether ``metrics`` meet it."""
        if self.target is None:
            return None
        return self.target.check(metrics.get(self.target.metric))

    def warm_up(self) -> float:
        """Compile the kernels on a copy of the model and two samples; returns the seconds it took.

        A copy, so the real model's weights, optimizer state and random streams are untouched and a run
        gives the same numbers with or without warming up.
        """
        from . import optimizers
        from .model import Sequential

        t0 = time.perf_counter()
        m = self.model
        clone = Sequential.from_config(m.get_config())
        clone.compile(optimizer=optimizers.get(m.optimizer.get_config()), loss=m.loss.get_config(),
                      metrics=list(m._metric_specs))
        x, y = self.fit_kwargs["x"][:2], self.fit_kwargs["y"][:2]
        xb, yb = clone.check_data(x, y)
        clone.train_step(xb, yb)
        clone.evaluate_prepared(xb, yb, batch_size=2)
        return time.perf_counter() - t0


def _resolve_file(value, base_dir):
    """Relative data paths in a preset file are relative to that file (when the file is there)."""
    if not isinstance(value, str) or not base_dir or os.path.isabs(value):
        return value
    candidate = os.path.join(base_dir, value)
    return candidate if os.path.exists(candidate) else value


def _load_dataset(p: Preset, ctx: Context, limit: int | None):
    from . import datasets

    name, params = p.data.name, dict(p.data.params)
    is_file = os.path.splitext(name.strip())[1].lower() in FILE_SUFFIXES
    if is_file:
        name = _resolve_file(name, ctx.base_dir)
    for key in _PATH_PARAMS:
        if key in params:
            params[key] = _resolve_file(params[key], ctx.base_dir)
    for key, value in [("name", name)] + [(k, params.get(k)) for k in _PATH_PARAMS]:
        if isinstance(value, str) and os.path.isfile(value) and limit is not None and os.path.getsize(value) * 4 > limit:
            raise ctx.error(("data", key), f"{value!r} is {presets_memory.human_bytes(os.path.getsize(value))}, "
                                           f"too big to load in {presets_memory.human_bytes(limit)}; use a smaller file")
    if not is_file and "seed" not in params:
        try:
            if any(par.name == "seed" for par in datasets.find(name).params):
                params["seed"] = p.seed      # one seed makes the whole run reproducible
        except NnplayError:
            pass
    try:
        return datasets.load(name, **params)
    except NnplayError as exc:
        raise relocate(ctx, exc, ("data",), {"name": p.data.name, **p.data.params}) from None
    except MemoryError:
        raise ctx.error(("data",), "the dataset does not fit in memory; use fewer samples") from None


def _layer_configs(p: Preset) -> list[dict]:
    reg = p.training.regularization
    out = []
    for cfg in p.model.layers:
        cfg = copy.deepcopy(cfg)
        cls = LAYER_TYPES.get(str(cfg["type"]))
        if reg and cls is not None and "kernel_regularizer" in getattr(cls, "config_keys", ()) \
                and not cfg.get("kernel_regularizer"):
            cfg["kernel_regularizer"] = dict(reg)
        out.append(cfg)
    return out


def build_experiment(p: Preset, *, check_memory: bool = True) -> Experiment:
    """Load the data, build and compile the model (seeded), make the callbacks; nothing trains yet.

    Every problem found here (a missing file, an impossible layer stack, a model too big for memory)
    raises a one-line :class:`PresetError` naming the place in the preset.
    """
    from . import optimizers
    from .model import Sequential

    ctx, tr = p.context, p.training
    limit = presets_memory.memory_limit() if check_memory else None
    ds = _load_dataset(p, ctx, limit)
    cls = Experiment
    if p.gan is not None or p.data.target == "input":   # generative presets: see nnplay.core.generative
        from . import generative
        if p.gan is not None:
            return generative.gan_experiment(p, ds, check_memory=check_memory)
        ds, cls = generative.autoencoder_dataset(ds, p.anomaly), generative.AutoencoderExperiment
    if tr.validation == "test" and len(ds.x_test) == 0:
        raise ctx.error(("training", "validation"), "the dataset has no test split to validate on; "
                                                    "use validation = \"split\" or \"none\"")
    input_shape = tuple(p.model.input_shape) if p.model.input_shape else ds.input_shape
    if p.model.input_shape and tuple(p.model.input_shape) != ds.input_shape:
        raise ctx.error(("model", "input_shape"), f"{list(p.model.input_shape)} does not match the data, whose "
                                                  f"samples have shape {list(ds.input_shape)}; remove input_shape")
    layers = []
    for i, cfg in enumerate(_layer_configs(p)):
        try:
            layers.append(layer_from_config(cfg))
        except NnplayError as exc:
            raise relocate(ctx, exc, ("model", "layers", i), cfg) from None
    split = tr.validation_split if tr.validation_split is not None else 0.2
    n_train = ds.n_train - (int(ds.n_train * split) if tr.validation == "split" else 0)
    batch = min(tr.batch_size, max(n_train, 1))
    steps = math.ceil(n_train / batch) if n_train else 0
    opt_cfg = dict(tr.optimizer)
    probe = optimizers.get(dict(opt_cfg))
    if tr.schedule is not None:
        try:
            opt_cfg["learning_rate"] = schedule_config(tr.schedule, steps, probe.current_learning_rate())
        except NnplayError as exc:
            raise relocate(ctx, exc, ("training", "schedule"), tr.schedule) from None

    def shape_error(i, exc):
        return relocate(ctx, exc, ("model", "layers", i), p.model.layers[i], by_value=False)

    data_bytes = sum(int(a.nbytes) for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    n_slots = len(probe._slot_names())
    est = presets_memory.estimate(layers, input_shape, batch, n_slots, 4, data_bytes, shape_error)
    if check_memory:
        presets_memory.check(est, ctx.error)
    model = Sequential(layers, name=p.name.replace("/", "-") or "sequential", seed=p.seed)
    try:
        model.build(input_shape)
    except NnplayError as exc:
        bad = next((i for i, l in enumerate(model.layers) if not l.built), len(model.layers) - 1)
        raise shape_error(bad, exc) from None
    except MemoryError:
        raise ctx.error(("model",), "the model's weights do not fit in memory; use fewer or smaller layers") from None
    try:
        model.compile(optimizer=opt_cfg, loss=tr.loss, metrics=list(tr.metrics))
    except NnplayError as exc:
        raise ctx.error(("training",), str(exc)) from None
    try:
        model.check_data(ds.x_train[:8], ds.y_train[:8])
    except NnplayError as exc:
        raise ctx.error(("training", "loss") if "loss" in str(exc) else ("model",), str(exc)) from None
    est.params = model.count_params()
    fit = {"x": ds.x_train, "y": ds.y_train, "epochs": tr.epochs, "batch_size": tr.batch_size,
           "shuffle": tr.shuffle}
    if tr.validation == "test":
        fit["validation_data"] = (ds.x_test, ds.y_test)
    elif tr.validation == "split":
        fit["validation_split"] = split
    return cls(preset=p, dataset=ds, model=model, callbacks=_callbacks(tr), fit_kwargs=fit,
                      target=p.target, steps_per_epoch=steps, memory=est)


def _callbacks(tr: TrainingConfig) -> list:
    s = tr.stop
    if s is None:
        return []
    val = tr.validation != "none"
    out = []
    if s.patience is not None:
        out.append(callbacks_mod.EarlyStopping(monitor=s.monitor or ("val_loss" if val else "loss"),
                                               patience=s.patience, min_delta=s.min_delta or 0.0,
                                               restore_best_weights=bool(s.restore_best_weights)))
    if s.target_loss is not None:
        out.append(callbacks_mod.StopAtTarget("loss", s.target_loss, mode="min"))
    if s.target_accuracy is not None:
        out.append(callbacks_mod.StopAtTarget("val_accuracy" if val else "accuracy", s.target_accuracy, mode="max"))
    return out


# ------------------------------------------------------------------------------------------ from a model
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
