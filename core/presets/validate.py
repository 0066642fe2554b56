"""Validation of a preset dict: keys, types, ranges, then the engine's own checks, each error located."""
from __future__ import annotations

import copy
import os
import re

from .. import losses, metrics, optimizers, regularizers
from ..errors import NnplayError, did_you_mean
from ..optimizers import schedules
from .fields import Table, relocate, schedule_config
from .schema import (AUTOENCODER_METRICS, FORMAT_VERSION, GAN_METRICS, SPLITS, VALIDATION_MODES, Context, DataConfig,
                     Preset, PresetError, StopConfig, TargetConfig, TrainingConfig, Variant, parse_path)
from .sections import MAX_BATCH, _anomaly, _augment, _gan, _model
from .toml_io import Path, format_path

TOP_KEYS = ("version", "name", "description", "seed", "data", "model", "training", "target", "variants", "gan",
            "anomaly")
TRAINING_KEYS = ("loss", "metrics", "epochs", "batch_size", "shuffle", "validation", "validation_split",
                 "optimizer", "schedule", "regularization", "stop", "fine_tune")
FINE_TUNE_KEYS = ("after", "unfreeze", "learning_rate")
STOP_KEYS = ("monitor", "patience", "min_delta", "restore_best_weights", "target_loss", "target_accuracy")
TARGET_KEYS = ("metric", "min", "max")
VARIANT_KEYS = ("name", "description", "set")
MAX_EPOCHS = 1_000_000
FILE_SUFFIXES = (".csv", ".tsv", ".npz", ".txt")
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
    if training.fine_tune is not None and model.base is None:
        raise ctx.error(("training", "fine_tune"), "unfreezes layers of [model.base], and there is none; add "
                                                   "[model.base] (a trained model to start from) or remove fine_tune")
    gan, anomaly = _gan(ctx, raw.get("gan"), data), _anomaly(ctx, raw.get("anomaly"), data)
    if gan is not None or data.target == "input":   # generative presets report more (nnplay.core.experiments)
        names = (names if gan is None else []) + list(GAN_METRICS if gan is not None else AUTOENCODER_METRICS)
    target = _target(ctx, raw.get("target"), names, training.validation)
    preset = Preset(name=name, data=data, model=model, training=training, description=description, seed=seed,
                    version=version, target=target, context=ctx, overrides=tuple(overrides), gan=gan,
                    anomaly=anomaly)
    preset.variants = _variants(ctx, top.list("variants", "table", [], example='[{ name = "a", set = { ... } }]'))
    for i in range(len(preset.variants)):
        variant_preset(preset, i)       # every variant must validate too, before anything runs
    return preset


def _data(ctx: Context, raw) -> DataConfig:
    path = ("data",)
    if not isinstance(raw, dict):
        raise ctx.error(path, f"must be a table, got {raw!r}")
    t = Table(ctx, path, raw, tuple(raw))
    name = t.str("name", required=True, example='"spiral"')
    column = raw.get("target") if raw.get("target") != "input" and _reads_csv(name) else None
    if column is not None:        # a CSV's label column (name or index): the csv loader's own target=
        if isinstance(column, bool) or not isinstance(column, (str, int)):
            raise t.err("target", f'must be a column name or index, or "input" (an autoencoder), got {column!r}')
        target = None
    else:
        target = t.str("target", None, example='"input"', choices=("input",))  # "input": an autoencoder
    augment = _augment(ctx, t.table("augment", example="{ rotation = 0.05, translation = 0.1 }"))
    params = {k: v for k, v in raw.items() if k not in ("name", "target", "augment")}
    if column is not None:
        params["target"] = column
    if os.path.splitext(name.strip())[1].lower() in FILE_SUFFIXES:
        return DataConfig(name, params, target, augment)   # a user file: checked when it is read
    from .. import datasets

    try:
        entry = datasets.find(name)
    except NnplayError as exc:
        raise ctx.error(path + ("name",), f"{exc}; see `nnplay list datasets`") from None
    try:
        entry.resolve(params)
    except NnplayError as exc:
        raise relocate(ctx, exc, path, params) from None
    return DataConfig(name, params, target, augment)


def _reads_csv(name: str) -> bool:
    """Whether ``[data] name`` is read by the CSV loader (a .csv/.tsv path, or the csv dataset)."""
    return os.path.splitext(name.strip())[1].lower() in (".csv", ".tsv") or name.strip().lower() == "csv"


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
    if "lr" in optimizer:         # the Python API takes Keras 2's lr (with a warning); a preset file names it once
        raise ctx.error(path + ("optimizer", "lr"), "unknown key (did you mean 'learning_rate'?)")
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
    fine_tune = t.table("fine_tune", example="{ after = 50, unfreeze = 2, learning_rate = 0.0005 }")
    if fine_tune is not None:       # from epoch after + 1 on (training.epochs is the whole run)
        ft = Table(ctx, path + ("fine_tune",), fine_tune, FINE_TUNE_KEYS)
        ft.int("after", required=True, lo=0, hi=MAX_EPOCHS, example="50")
        ft.int("unfreeze", lo=1, hi=100_000)
        ft.float("learning_rate", lo=0.0, lo_open=True)
        fine_tune = dict(fine_tune)
    cfg = TrainingConfig(loss=loss, epochs=epochs, metrics=metric_list, batch_size=batch_size, shuffle=shuffle,
                         validation=validation, validation_split=split, optimizer=optimizer, schedule=schedule,
                         regularization=regularization, stop=stop, fine_tune=fine_tune)
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
               "targets are train_, val_ or test_ plus loss or a metric in training.metrics")
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


# ------------------------------------------------------------------------------------------ overrides
def _set(raw: dict, path: Path, value, label: str) -> Path:
    """Put ``value`` at ``path`` inside ``raw`` (creating tables); returns the path with indices resolved."""
    cur, done = raw, ()
    for n, part in enumerate(path):
        last = n == len(path) - 1
        if isinstance(cur, list):
            if not isinstance(part, int):
                raise PresetError(f"{format_path(done)} is a list; index it like {format_path(done)}[0]", label, path)
            if not -len(cur) <= part < len(cur):
                raise PresetError(f"index {part} is out of range: {format_path(done)} has {len(cur)} entries "
                                  f"(0..{len(cur) - 1}, or -1 for the last)", label, done + (part,))
            part = part % len(cur)
        elif isinstance(cur, dict):
            part = str(part)
            if not last and not isinstance(cur.get(part), (dict, list)):
                if part in cur:
                    raise PresetError(f"{format_path(done + (part,))} is a value, not a table, so it has no "
                                      f"{format_path(path[n + 1:])}", label, path)
                cur[part] = {}
        else:  # pragma: no cover - guarded above
            raise PresetError("not a table", label, path)
        done += (part,)
        if last:
            cur[part] = copy.deepcopy(value)
        else:
            cur = cur[part]
    return done


def apply_ops(raw: dict, ops, ctx: Context, previous: tuple = ()) -> "Preset":
    """Apply (path, value, label) overrides to a preset dict and validate the result.

    ``previous`` are the overrides already in ``raw``; the result remembers them all (variants re-apply them).
    """
    raw = copy.deepcopy(raw)
    origins = dict(ctx.origins)
    applied = []
    for path, value, label in ops:
        if path and path[0] == "variants" and not (path == ("variants",) and value == []):
            raise PresetError("variants cannot be changed by an override (only turned off with variants=[]); "
                              "edit the preset file", label, path)
        resolved = _set(raw, path, value, label)
        origins = {p: l for p, l in origins.items() if p[:len(resolved)] != resolved}
        origins[resolved] = label
        applied.append((resolved, value, label))
    return validate(raw, Context(ctx.source, ctx.lines, origins, ctx.base_dir), tuple(previous) + tuple(applied))


def variant_preset(preset: Preset, variant: str | int) -> Preset:
    """This preset with one variant's overrides applied (then any earlier ``--set`` again, so they win)."""
    if isinstance(variant, str):
        names = [v.name for v in preset.variants]
        if variant not in names:
            raise NnplayError(f"preset {preset.name!r} has no variant {variant!r}" + did_you_mean(variant, names))
        variant = names.index(variant)
    v = preset.variants[variant]
    raw = preset.to_dict()
    raw.pop("variants", None)
    ops = [(parse_path(k, preset.context, ("variants", variant, "set", k)), value,
            preset.context.where(("variants", variant, "set", k))) for k, value in v.set.items()]
    ops += list(preset.overrides)
    p = apply_ops(raw, ops, preset.context)
    p.name = f"{preset.name}/{v.name}"
    if v.description:
        p.description = f"{v.description}\n\n{preset.description}".strip()
    return p
