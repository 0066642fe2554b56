"""The preset schema: typed dataclasses, where a preset came from (to locate errors), and key paths.

:mod:`.validate` turns a TOML dict into these dataclasses, reporting every problem as one line that names
the place::

    spiral.toml:12: training.optimizer.learnig_rate: unknown key (did you mean 'learning_rate'?)

Values that came from an override (``--set`` or a variant) are blamed on that override instead of the file.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import NnplayError
from .toml_io import Path, dumps, format_path

FORMAT_VERSION = 1
VALIDATION_MODES = ("test", "split", "none")
SPLITS = ("train", "val", "test")
#: Metric names (without the split prefix) a generative preset's [target] may use, besides the loss.
AUTOENCODER_METRICS = ("reconstruction_mse", "baseline_mse", "reconstruction_ratio", "denoised_mse", "noisy_mse",
                       "bottleneck_mean_abs", "bottleneck_active_fraction", "anomaly_auc", "anomaly_precision",
                       "anomaly_recall", "anomaly_threshold")
GAN_METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "modes_covered", "segments_covered", "classes_covered",
               "high_quality", "nn_distance")


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
    augment: dict[str, Any] | None = None                        #: [data.augment]: random transforms of training images


@dataclass
class ModelConfig:
    layers: list[dict[str, Any]]                                 #: one dict per layer: ``type`` + Keras args
    input_shape: list[int] | None = None                         #: taken from the dataset when None
    base: dict[str, Any] | None = None                           #: [model.base]: layers of a trained model first


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
    fine_tune: dict[str, Any] | None = None                      #: [training.fine_tune]: unfreeze, train on


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
                    "optimizer": dict(tr.optimizer), "schedule": tr.schedule, "regularization": tr.regularization,
                    "fine_tune": tr.fine_tune}
        if tr.stop is not None:
            training["stop"] = {k: v for k, v in vars(tr.stop).items() if v is not None}
        d = {"version": self.version, "name": self.name, "description": self.description, "seed": self.seed,
             "data": {"name": self.data.name, **self.data.params,
                      **({"target": self.data.target} if self.data.target else {}),
                      **({"augment": copy.deepcopy(self.data.augment)} if self.data.augment is not None else {})},
             "model": {"input_shape": self.model.input_shape, "layers": copy.deepcopy(self.model.layers)},
             "training": {k: copy.deepcopy(v) for k, v in training.items() if v is not None}}
        if d["model"]["input_shape"] is None:
            del d["model"]["input_shape"]
        if self.model.base is not None:
            d["model"]["base"] = copy.deepcopy(self.model.base)
        if self.target is not None:
            d["target"] = {k: v for k, v in vars(self.target).items() if v is not None}
        for key in ("anomaly", "gan"):  # generative presets (see nnplay.core.experiments)
            if getattr(self, key) is not None:
                d[key] = copy.deepcopy(getattr(self, key))
        if self.variants:
            d["variants"] = [{"name": v.name, **({"description": v.description} if v.description else {}),
                              "set": copy.deepcopy(v.set)} for v in self.variants]
        return d

    def to_toml(self) -> str:
        return dumps(self.to_dict())


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
