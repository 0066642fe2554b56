"""Transfer learning from a preset: ``[model.base]`` starts the model with the first layers of a trained model
(frozen by default), the preset's ``[[model.layers]]`` on top; ``[training.fine_tune]`` later unfreezes the
top of that base and trains on with a small learning rate. The recipe of Keras' transfer-learning guide::

    [model.base]
    preset = "transfer-digits-base"  # a preset to train first (shipped name, or a .toml relative to this file)
    # path = "runs/base/model.npz"   # ... or a saved model (.npz, or .keras from nnplay or Keras 3)
    layers = 6                       # how many of its first layers to keep (default: all but the last)
    pretrained = true                # false: the same layers with fresh random weights (training from scratch)
    trainable = false                # default: frozen when pretrained, trainable when not

    [training.fine_tune]
    after = 100                      # from epoch 101 on (training.epochs counts the whole run) ...
    unfreeze = 4                     # ... the base's last 4 layers train too (default: all of it) ...
    learning_rate = 0.0005           # ... with this learning rate (default: a tenth of the current one)

A base preset is trained once and saved under nnplay's cache folder (``$NNPLAY_CACHE``, else
``$XDG_CACHE_HOME/nnplay`` or ``~/.cache/nnplay``), named by a hash of the preset, so later runs and the
other variants load it instead of training it again; the same preset gives the same weights either way.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import __version__
from ..errors import NnplayError
from ..layers.base import layer_from_config
from ..layers.core import InputLayer
from ..models import load_model
from ..presets import Preset, load_preset
from ..training.callbacks import Callback

_memo: dict[str, "Base"] = {}
_lock = threading.Lock()


def cache_dir() -> str:
    """Where trained bases are kept: ``$NNPLAY_CACHE``, else ``$XDG_CACHE_HOME/nnplay``, else ``~/.cache/nnplay``."""
    if os.environ.get("NNPLAY_CACHE"):
        return os.environ["NNPLAY_CACHE"]
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "nnplay")


@dataclass
class Base:
    """A trained model whose first layers start another model."""

    model: object                    #: the trained model (not compiled when loaded from a file)
    source: str                      #: ``preset <name>`` or the file it was read from
    path: str | None = None          #: where it is saved (a base preset's cache file), if anywhere
    trained_now: bool = False        #: trained in this process (else loaded)
    untrained: bool = False          #: built without training (``train=False`` and nothing cached yet)
    metrics: dict = field(default_factory=dict)   #: the base preset's metrics after its training

    def layers(self) -> list:
        """The model's layers in order, without an InputLayer; refuses a graph that is not a chain."""
        model = self.model
        if hasattr(model, "is_chain") and not model.is_chain():
            raise NnplayError(f"the base model ({self.source}) is a graph with branches; [model.base] takes the "
                              f"first layers of a model whose layers run one after the other")
        return [layer for layer in model.layers if not isinstance(layer, InputLayer)]

    def describe(self) -> str:
        """One line for a report: where the base came from and how it scored."""
        how = "not trained yet" if self.untrained else "trained now" if self.trained_now else "loaded"
        score = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items() if k in ("test_accuracy", "test_loss"))
        where = f", saved in {self.path}" if self.path and self.trained_now else \
            (f" from {self.path}" if self.path else "")
        return f"base: {self.source} ({how}{': ' + score if score else ''}{where})"


def _resolve_ref(p: Preset, ref: str) -> str:
    """A relative path in [model.base] is relative to the preset's file (when it is there)."""
    base_dir = p.context.base_dir
    if base_dir and not os.path.isabs(ref) and (ref.endswith((".toml", ".npz", ".keras")) or "/" in ref):
        candidate = os.path.join(base_dir, ref)
        if os.path.exists(candidate):
            return candidate
    return ref


def base_preset(p: Preset) -> Preset | None:
    """The preset ``[model.base] preset`` names (loaded and validated), or None when the base is a file."""
    spec = p.model.base or {}
    if "preset" not in spec:
        return None
    try:
        return load_preset(_resolve_ref(p, spec["preset"]))
    except NnplayError as exc:
        raise p.context.error(("model", "base", "preset"), str(exc)) from None


def _key(preset: Preset) -> str:
    digest = hashlib.sha256(f"nnplay {__version__}\n{preset.to_toml()}".encode()).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in preset.name)
    return f"{name}-{digest}"


def load_base(p: Preset, build: Callable, progress: Callable | None = None, depth: int = 0,
              train: bool = True) -> Base:
    """The trained model ``[model.base]`` names: a saved file, or a preset trained now (``build`` turns a preset
    into an experiment; ``progress(event)`` sees its training events) or loaded from the cache folder.

    With ``train=False`` a base preset that is not trained yet is only built (fresh weights, nothing saved):
    enough to show the model or check shapes."""
    spec = p.model.base
    if depth > 4:
        raise p.context.error(("model", "base", "preset"), "bases are nested more than 4 deep (does a base name "
                                                           "itself?)")
    if "path" in spec:
        path = _resolve_ref(p, spec["path"])
        try:
            return Base(load_model(path, compile=False), path, path)
        except NnplayError as exc:
            raise p.context.error(("model", "base", "path"), str(exc)) from None
    bp = base_preset(p)
    key = _key(bp)
    with _lock:
        if key in _memo:
            return _memo[key]
        file = os.path.join(cache_dir(), "bases", key + ".npz")
        if os.path.isfile(file):
            try:
                base = Base(load_model(file, compile=False), f"preset {bp.name}", file)
            except NnplayError:
                base = None              # an unreadable cache file: train again (and overwrite it)
            if base is not None:
                _memo[key] = base
                return base
        if not train:
            return Base(_build_base(p, bp, build, depth).model, f"preset {bp.name}", untrained=True)
        base = _pretrain(p, bp, build, progress, depth)
        try:
            base.model.save(file)
            base.path = file
        except (OSError, NnplayError):
            base.path = None             # a read-only cache folder: kept for this process only
        _memo[key] = base
        return base


def _build_base(p: Preset, bp: Preset, build: Callable, depth: int, train: bool = True):
    if bp.variants:
        raise p.context.error(("model", "base", "preset"), f"preset {bp.name!r} has variants; a base must be one "
                                                           f"model: name a preset without variants")
    try:
        return build(bp, depth=depth + 1, train_base=train)
    except NnplayError as exc:
        raise p.context.error(("model", "base", "preset"), f"base preset {bp.name!r}: {exc}") from None


def _pretrain(p: Preset, bp: Preset, build: Callable, progress, depth: int) -> Base:
    exp = _build_base(p, bp, build, depth)
    trainer = exp.trainer()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for event in trainer.run():
            if progress is not None:
                progress(event)
    return Base(exp.model, f"preset {bp.name}", trained_now=True, metrics=exp.evaluate(trainer))


def base_layers(p: Preset, base: Base, input_shape: tuple) -> tuple[list, list]:
    """Fresh copies of the base's first layers (same config and names) and the trained layers they copy.

    The copies are frozen or not as ``[model.base] trainable`` says (default: frozen when pretrained)."""
    spec = p.model.base
    ctx = p.context
    source = base.layers()
    shapes = getattr(base.model, "input_shapes", [])
    if len(shapes) != 1 or tuple(shapes[0]) != tuple(input_shape):
        want = ", ".join(str(list(s)) for s in shapes) or "no fixed shape"
        raise ctx.error(("model", "base"), f"the base ({base.source}) takes inputs of shape {want}, but this data's "
                                           f"samples have shape {list(input_shape)}; pick a base trained on data "
                                           f"of the same shape")
    n = spec.get("layers", len(source) - 1)
    if not 1 <= n <= len(source):
        raise ctx.error(("model", "base", "layers"), f"the base ({base.source}) has {len(source)} layers, so layers "
                                                     f"must be 1..{len(source)}, got {n}")
    pretrained = spec.get("pretrained", True)
    trainable = spec.get("trainable", not pretrained)
    copies = []
    for layer in source[:n]:
        copy = layer_from_config(layer.get_config())
        copy.trainable = trainable
        copies.append(copy)
    return copies, source[:n]


def copy_weights(copies: list, source: list) -> None:
    """Copy the trained weights into the built copies (before compile binds them)."""
    for new, old in zip(copies, source):
        for (o, name), (so, sname) in zip(new.all_weights(), old.all_weights()):
            o.weight(name)[...] = so.weight(sname)


class FineTune(Callback):
    """At the start of epoch ``after`` (0-based), unfreeze ``layers`` and restart the optimizer (fresh slots and
    step count, as recompiling with a new optimizer does in Keras) at ``learning_rate`` (default: a tenth
    of the current rate)."""

    def __init__(self, layers: list, after: int, learning_rate: float | None = None, frozen: bool = True):
        super().__init__()
        self.layers, self.after, self.learning_rate, self.frozen = list(layers), int(after), learning_rate, frozen
        self.done = False

    def on_train_begin(self, logs=None):
        if getattr(self.trainer, "initial_epoch", 0) <= self.after:   # (re)starting before the switch
            for layer in self.layers:
                layer.trainable = not self.frozen
            self.done = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.done or epoch < self.after:
            return
        self.done = True
        model = self.model
        for layer in self.layers:
            layer.trainable = True
        opt = model.optimizer
        lr = self.learning_rate if self.learning_rate is not None else opt.current_learning_rate() / 10.0
        opt.build(model._segments, int(model.P.size), model.model_dtype)
        opt.iterations = 0
        opt.set_learning_rate(lr)
        model._plan_epoch = -1           # re-plan which weights the next step updates, flags changed or not

    def describe(self) -> str:
        rate = f"learning rate {self.learning_rate:g}" if self.learning_rate is not None else \
            "a tenth of the learning rate"
        return (f"fine-tune: from epoch {self.after + 1}, the base's last {len(self.layers)} layers train too, "
                f"{rate}")
