"""The preset schema: typed dataclasses, and the validation that turns a TOML dict into them.

Validation runs before anything trains. It checks keys (unknown ones get a did-you-mean), types and
ranges, then builds the cheap objects (layers, loss, metrics, optimizer, schedule, regularizer) so their
own checks run too, and re-reports every problem as one line that names the place::

    spiral.toml:12: training.optimizer.learnig_rate: unknown key (did you mean 'learning_rate'?)

Values that came from an override (``--set`` or a variant) are blamed on that override instead of the file.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import NnplayError, did_you_mean
from .presets_toml import Path, dumps, format_path

FORMAT_VERSION = 1
VALIDATION_MODES = ("test", "split", "none")
SPLITS = ("train", "val", "test")


class PresetError(NnplayError):
    """A preset mistake, with where it is: ``where`` (``file:line``, ``--set``...), ``path`` and ``reason``."""

    def __init__(self, reason: str, where: str | None = None, path: Path = ()):
        self.reason, self.where, self.path = reason, where, tuple(path)
        head = format_path(self.path)
        if where and head:
            head = f"{where} {head}" if where.startswith("--") else f"{where}: {head}"
        super().__init__(": ".join(p for p in (head or where, reason) if p))


@dataclass
class Context:
    """Where a preset came from, to point errors at a line or at the override that caused them."""

    source: str | None = None                                    #: file label, e.g. "spiral.toml"
    lines: dict = field(default_factory=dict)                    #: key path -> line in the file
    origins: dict = field(default_factory=dict)                  #: key path -> label of the override that set it
    base_dir: str | None = None                                  #: folder of the preset file (relative data paths)

    def where(self, path: Path) -> str | None:
        path = tuple(path)
        for n in range(len(path), 0, -1):
            if path[:n] in self.origins:
                return self.origins[path[:n]]
        if path:  # an override below this place (e.g. a layer's type) is the likelier culprit
            below = [label for p, label in self.origins.items() if p[:len(path)] == path]
            if below:
                return below[0]
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return f"{self.source or 'preset'}:{self.lines[path[:n]]}"
        return self.source

    def error(self, path: Path, reason: str) -> PresetError:
        return PresetError(reason, self.where(path), path)


# ------------------------------------------------------------------------------------------ dataclasses
@dataclass
class DataConfig:
    name: str                                                    #: dataset name (or a data file path)
    params: dict[str, Any] = field(default_factory=dict)         #: passed to ``datasets.load(name, **params)``
    target: str | None = None                                    #: "input": the model's target is its input


@dataclass
class ModelConfig:
    layers: list[dict[str, Any]]                                 #: one dict per layer: ``type`` + Keras args
    input_shape: list[int] | None = None                         #: taken from the dataset when None


@dataclass
class StopConfig:
    monitor: str | None = None                                   #: what ``patience`` watches (default val_loss)
    patience: int | None = None
    min_delta: float | None = None
    restore_best_weights: bool | None = None
    target_loss: float | None = None                             #: stop once the training loss <= this
    target_accuracy: float | None = None                         #: stop once (val_)accuracy >= this


@dataclass
class TrainingConfig:
    loss: str | dict
    epochs: int
    metrics: list[str] = field(default_factory=list)
    batch_size: int = 32
    shuffle: bool = True
    validation: str = "test"                                     #: "test", "split" or "none"
    validation_split: float | None = None                        #: only with validation = "split"
    optimizer: dict[str, Any] = field(default_factory=lambda: {"name": "adam"})
    schedule: dict[str, Any] | None = None
    regularization: dict[str, Any] | None = None
    stop: StopConfig | None = None


@dataclass
class TargetConfig:
    metric: str                                                  #: e.g. "test_accuracy", "train_loss"
    min: float | None = None
    max: float | None = None

    def check(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> str:
        parts = ([f">= {self.min:g}"] if self.min is not None else []) + \
                ([f"<= {self.max:g}"] if self.max is not None else [])
        return f"{self.metric} {' and '.join(parts)}"


@dataclass
class Variant:
    name: str
    set: dict[str, Any]                                          #: override path -> value, as for ``--set``
    description: str = ""


@dataclass
class Preset:
    name: str
    data: DataConfig
    model: ModelConfig
    training: TrainingConfig
    description: str = ""
    seed: int = 0
    version: int = FORMAT_VERSION
    target: TargetConfig | None = None
    variants: list[Variant] = field(default_factory=list)
    gan: dict[str, Any] | None = None                            #: [gan]: discriminator, latent_dim, k, ...
    anomaly: dict[str, Any] | None = None                        #: [anomaly]: held_out_class, percentile
    context: Context = field(default_factory=Context, compare=False, repr=False)
    overrides: tuple = field(default=(), compare=False, repr=False)   #: (path, value, label) applied so far

    def to_dict(self) -> dict:
        """The TOML schema as a dict (what :func:`preset_from_dict` reads back)."""
        tr = self.training
        training = {"loss": tr.loss, "metrics": list(tr.metrics), "epochs": tr.epochs, "batch_size": tr.batch_size,
                    "shuffle": tr.shuffle, "validation": tr.validation, "validation_split": tr.validation_split,
                    "optimizer": dict(tr.optimizer), "schedule": tr.schedule, "regularization": tr.regularization}
        if tr.stop is not None:
            training["stop"] = {k: v for k, v in vars(tr.stop).items() if v is not None}
        d = {"version": self.version, "name": self.name, "description": self.description, "seed": self.seed,
             "data": {"name": self.data.name, **self.data.params,
                      **({"target": self.data.target} if self.data.target else {})},
             "model": {"input_shape": self.model.input_shape, "layers": copy.deepcopy(self.model.layers)},
             "training": {k: copy.deepcopy(v) for k, v in training.items() if v is not None}}
        if d["model"]["input_shape"] is None:
            del d["model"]["input_shape"]
        if self.target is not None:
            d["target"] = {k: v for k, v in vars(self.target).items() if v is not None}
        for key in ("anomaly", "gan"):  # generative presets (see nnplay.core.generative)
            if getattr(self, key) is not None:
                d[key] = copy.deepcopy(getattr(self, key))
        if self.variants:
            d["variants"] = [{"name": v.name, **({"description": v.description} if v.description else {}),
                              "set": copy.deepcopy(v.set)} for v in self.variants]
        return d

    def to_toml(self) -> str:
        return dumps(self.to_dict())

    def variant_preset(self, variant: str | int) -> "Preset":
        """This preset with one variant's overrides applied (then any earlier ``--set`` again, so they win)."""
        if isinstance(variant, str):
            names = [v.name for v in self.variants]
            if variant not in names:
                raise NnplayError(f"preset {self.name!r} has no variant {variant!r}" + did_you_mean(variant, names))
            variant = names.index(variant)
        v = self.variants[variant]
        raw = self.to_dict()
        raw.pop("variants", None)
        ops = [(parse_path(k, self.context, ("variants", variant, "set", k)), value,
                self.context.where(("variants", variant, "set", k))) for k, value in v.set.items()]
        ops += list(self.overrides)
        p = apply_ops(raw, ops, self.context)
        p.name = f"{self.name}/{v.name}"
        if v.description:
            p.description = f"{v.description}\n\n{self.description}".strip()
        return p


# ------------------------------------------------------------------------------------------ overrides
_SEGMENT = re.compile(r"\s*(?:([^.\[\]\s]+)|\[\s*(-?\d+)\s*\])\s*(\.|(?=\[)|$)")


def parse_path(text: str, ctx: Context | None = None, where: Path = ()) -> Path:
    """``"model.layers[0].units"`` (or ``model.layers.0.units``) -> ``("model", "layers", 0, "units")``."""
    path, i = [], 0
    text = str(text)
    while i < len(text):
        m = _SEGMENT.match(text, i)
        if not m or m.end() == i:
            break
        key, index = m.group(1), m.group(2)
        path.append(int(index) if index is not None else int(key) if re.fullmatch(r"-?\d+", key) else key)
        i = m.end()
        if m.group(3) == "" and i < len(text) and text[i] != "[":
            break
    if i != len(text) or not path:
        reason = (f"{text!r} is not a key path; write it like training.optimizer.learning_rate "
                  f"or model.layers[0].units")
        raise (ctx or Context()).error(where, reason) if where else NnplayError(reason)
    return tuple(path)


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
    from .presets_validate import validate

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
