"""The setup dict's meaning: reading and changing fields, checking the layer stack, building the experiment.

Everything here runs without Textual, so it is easy to test and can run in a worker thread.
When ``nnplay.core.presets`` provides ``build_experiment``, building goes through it, so the TUI and the
headless runner build a preset the same way; until then the same schema is built here.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from nnplay.core.errors import NnplayError

from .data import features_text
from .state import LAYER_FIELDS, LAYER_ORDER, FieldSpec, LayerCheck, StackCheck, get_path, set_path

#: Defaults for a schedule picked in the editor (initial_learning_rate comes from the optimizer).
SCHEDULE_DEFAULTS = {
    "exponential_decay": {"decay_steps": 1000, "decay_rate": 0.5},
    "cosine_decay": {"decay_steps": 20000, "alpha": 0.01},
    "step_decay": {"drop": 0.5, "every": 2000},
}


# ------------------------------------------------------------------ fields
def get_field(setup: dict, key: str) -> Any:
    """The value an editor row shows for ``key`` (a few keys are views of the schema, not paths)."""
    if key == "training.optimizer.name":
        opt = get_path(setup, "training.optimizer", {}) or {}
        if opt.get("name") == "sgd" and opt.get("momentum"):
            return "momentum"
        return opt.get("name", "adam")
    if key == "training.regularization.type":
        return get_path(setup, key) or "none"
    if key == "training.regularization.rate":
        reg = get_path(setup, "training.regularization") or {}
        return reg.get("l2", reg.get("l1", 1e-3))
    if key == "training.schedule.type":
        return get_path(setup, key) or "none"
    if key == "training.optimizer.clipnorm":
        return float(get_path(setup, key) or 0.0)
    if key == "data.features":
        return features_text(get_path(setup, key))
    return get_path(setup, key)


def set_field(setup: dict, key: str, value: Any) -> None:
    """Change one setting in place, keeping the schema consistent."""
    if key == "training.optimizer.name":
        opt = get_path(setup, "training.optimizer") or {}
        lr = opt.get("learning_rate", 0.01)
        new = {"name": "sgd", "learning_rate": lr, "momentum": 0.9} if value == "momentum" else \
            {"name": value, "learning_rate": lr}
        if opt.get("clipnorm"):
            new["clipnorm"] = opt["clipnorm"]
        set_path(setup, "training.optimizer", new)
    elif key == "training.regularization.type":
        rate = get_field(setup, "training.regularization.rate")
        if value == "none":
            set_path(setup, "training.regularization", None)
        elif value == "l1_l2":
            set_path(setup, "training.regularization", {"type": "l1_l2", "l1": rate, "l2": rate})
        else:
            set_path(setup, "training.regularization", {"type": value, value: rate})
    elif key == "training.regularization.rate":
        reg = get_path(setup, "training.regularization") or {}
        for k in ("l1", "l2"):
            if k in reg:
                reg[k] = float(value)
        if not reg:   # remember the rate for when a type is chosen
            set_path(setup, "training.regularization", None)
    elif key == "training.schedule.type":
        if value == "none":
            set_path(setup, "training.schedule", None)
        else:
            set_path(setup, "training.schedule", {"type": value, **SCHEDULE_DEFAULTS.get(value, {})})
    elif key == "training.optimizer.clipnorm":
        set_path(setup, key, float(value) if value else None)
    elif key == "data.name":
        # another dataset has other parameters: start from its defaults (keep the data seed)
        seed = (setup.get("data") or {}).get("seed")
        setup["data"] = {"name": value, **({"seed": seed} if seed is not None else {})}
    elif key == "data.features":
        set_path(setup, key, [f.strip() for f in str(value).split(",") if f.strip()])
    else:
        set_path(setup, key, value)


def step_value(spec: FieldSpec, value: Any, direction: int) -> Any:
    """The value ``direction`` (+1 / -1) steps away from ``value`` for the arrow keys."""
    if spec.kind == "choice":
        choices = list(spec.choices)
        if value not in choices:
            return choices[0]
        return choices[(choices.index(value) + direction) % len(choices)]
    if spec.kind == "bool":
        return not bool(value)
    if spec.kind == "log":
        v = float(value or spec.default or 1.0) * (spec.step ** direction)
        return float(f"{_clamp(v, spec):.3g}")
    if spec.kind == "int":
        v = int(value or 0)
        step = spec.step if spec.step >= 1 else 1
        if spec.key in ("units", "filters") and direction < 0 and v <= 1:
            return 1
        return int(_clamp(v + direction * step, spec))
    if spec.kind == "float":
        return round(_clamp(float(value or 0.0) + direction * spec.step, spec), 6)
    return value


def parse_value(spec: FieldSpec, text: str) -> Any:
    """Convert typed text for ``spec`` or raise NnplayError naming the field and the allowed range."""
    text = text.strip()
    try:
        if spec.kind == "int":
            v: Any = int(float(text))
        elif spec.kind in ("float", "log"):
            v = float(text)
            if not math.isfinite(v):
                raise ValueError
        elif spec.kind == "bool":
            v = text.lower() in ("1", "true", "yes", "on")
        elif spec.kind == "choice":
            match = [c for c in spec.choices if str(c).lower() == text.lower()]
            if not match:
                raise NnplayError(f"{spec.label} must be one of {', '.join(map(str, spec.choices))}, got {text!r}")
            v = match[0]
        else:
            return text
    except ValueError:
        raise NnplayError(f"{spec.label} must be a number, got {text!r}") from None
    if spec.kind in ("int", "float", "log") and ((spec.lo is not None and v < spec.lo)
                                                  or (spec.hi is not None and v > spec.hi)):
        raise NnplayError(f"{spec.label} must be between {spec.lo:g} and {spec.hi:g}, got {text}")
    return v


def _clamp(v: float, spec: FieldSpec) -> float:
    if spec.lo is not None:
        v = max(v, spec.lo)
    if spec.hi is not None:
        v = min(v, spec.hi)
    return v


# ------------------------------------------------------------------ layers
def layer_types() -> tuple[str, ...]:
    from nnplay.core.layers import LAYER_TYPES
    return tuple(t for t in LAYER_ORDER if t in LAYER_TYPES)


def layer_label(cfg: dict) -> str:
    """``dense 8 tanh``, ``conv2d 8 3x3 relu``, ``lstm 16 seq``: what the stack row shows."""
    t = str(cfg.get("type", "?"))
    parts = [t]
    if "units" in cfg or "filters" in cfg:
        parts.append(str(cfg.get("units", cfg.get("filters"))))
    if "kernel_size" in cfg:
        k = cfg["kernel_size"]
        parts.append(f"{k}x{k}" if isinstance(k, int) else "x".join(map(str, k)))
    if "pool_size" in cfg:
        parts.append(f"/{cfg['pool_size']}")
    if "rate" in cfg:
        parts.append(f"{cfg['rate']:g}")
    if cfg.get("activation") and cfg.get("activation") != "linear" or t == "dense" and cfg.get("activation"):
        parts.append(str(cfg["activation"]))
    if cfg.get("return_sequences"):
        parts.append("seq")
    return " ".join(parts)


def new_layer(kind: str) -> dict:
    cfg: dict = {"type": kind}
    for spec in LAYER_FIELDS.get(kind, ()):
        if spec.default is not None and spec.default is not False:
            cfg[spec.key] = spec.default
    return cfg


def _layer_regularizer(setup: dict):
    reg = get_path(setup, "training.regularization")
    if not reg or reg.get("type") in (None, "none"):
        return None
    return {k: v for k, v in reg.items()}


def make_layers(setup: dict, input_shape: tuple) -> list:
    """Layer objects for the stack, the first told the input shape, kernels regularized as [training] says."""
    from nnplay.core.layers import LAYER_TYPES, layer_from_config
    reg = _layer_regularizer(setup)
    layers = []
    for i, cfg in enumerate(get_path(setup, "model.layers", []) or []):
        cfg = copy.deepcopy(cfg)
        cls = LAYER_TYPES.get(str(cfg.get("type", "")).lower())
        if reg and cls is not None and "kernel_regularizer" in getattr(cls, "config_keys", ()):
            cfg.setdefault("kernel_regularizer", reg)
        if i == 0:
            cfg.setdefault("input_shape", list(input_shape))
        layers.append(layer_from_config(cfg))
    return layers


def check_stack(setup: dict, input_shape: tuple) -> StackCheck:
    """Build the stack against ``input_shape`` and report every layer's output shape, or the first error."""
    from nnplay.core import Sequential
    cfgs = get_path(setup, "model.layers", []) or []
    check = StackCheck(input_shape=tuple(input_shape))
    check.layers = [LayerCheck(layer_label(c)) for c in cfgs]
    try:
        layers = make_layers(setup, input_shape)
    except NnplayError as exc:
        check.error = str(exc)
        bad = _find_bad_config(cfgs)
        if bad is not None:
            check.layers[bad].error = check.error
        return check
    model = Sequential(seed=int(setup.get("seed", 0) or 0))
    shape = tuple(input_shape)
    try:
        for layer in layers:
            model.add(layer)
        for i, layer in enumerate(model.layers):
            try:
                layer.build(shape, _rng(), model.model_dtype)
            except NnplayError as exc:
                check.error = str(exc)
                check.layers[i].error = str(exc)
                return check
            shape = layer.output_shape
            check.layers[i].output_shape = shape
            check.layers[i].params = layer.count_params()
    except NnplayError as exc:
        check.error = str(exc)
        return check
    if not layers:
        check.error = "the network has no layers: press a to add one"
    check.total_params = sum(c.params for c in check.layers)
    return check


def _find_bad_config(cfgs: list[dict]) -> int | None:
    from nnplay.core.layers import layer_from_config
    for i, c in enumerate(cfgs):
        try:
            layer_from_config(copy.deepcopy(c))
        except NnplayError:
            return i
    return None


def _rng():
    import numpy as np
    return np.random.default_rng(0)


# ------------------------------------------------------------------ building
@dataclass
class Experiment:
    """What one run trains: the preset's experiment (dataset, compiled model, callbacks) plus the setup.

    A GAN preset's ``model`` is its generator (the layer stack the learner edits); its trainer is the
    experiment's :class:`~nnplay.core.gan.GANTrainer`, which also owns the discriminator.
    """

    setup: dict
    core: Any                       #: ``nnplay.core.presets.Experiment``

    @property
    def dataset(self):
        return self.core.dataset

    @property
    def model(self):
        return self.core.model

    @property
    def epochs(self) -> int:
        return int(self.core.fit_kwargs["epochs"])

    @property
    def is_gan(self) -> bool:
        return "make" in self.core.extra

    @property
    def gan(self):
        """The GAN trainer of the current run (or the one built ready to run); None for other models."""
        return (self.core.extra.get("gan") or self.core.extra.get("fresh")) if self.is_gan else None

    @property
    def input_shape(self) -> tuple:
        """What the edited layer stack takes: a sample, or a GAN generator's latent vector."""
        if self.is_gan:
            return tuple(self.gan.latent_shape)
        return tuple(self.dataset.input_shape)

    def current_learning_rate(self) -> float:
        """The learning rate in use (a GAN's generator's; ``+``/``-`` set both players' to the same value)."""
        opt = self.gan.combined.optimizer if self.is_gan else self.model.optimizer
        return float(opt.current_learning_rate())

    def trainer(self, initial_epoch: int = 0, epochs: int | None = None):
        """The same trainer the headless runner makes, optionally continuing from ``initial_epoch``."""
        if self.is_gan:
            return self._gan_trainer(initial_epoch, epochs or self.epochs)
        from nnplay.core.trainer import Trainer
        kw = dict(self.core.fit_kwargs)
        kw["epochs"] = epochs or kw["epochs"]
        return Trainer(self.model, **kw, initial_epoch=initial_epoch, callbacks=list(self.core.callbacks))

    def _gan_trainer(self, initial_epoch: int, epochs: int):
        gan = self.core.extra.get("gan")
        if initial_epoch and gan is not None:     # keep training the same two players
            gan.continue_run(initial_epoch, epochs)
            return gan
        gan = self.core.trainer()                 # fresh players, seeded as the preset says
        gan.continue_run(0, epochs)
        return gan


def to_preset(setup: dict):
    from nnplay.core.presets import preset_from_dict
    return preset_from_dict(setup, source="setup")


def build_experiment(setup: dict) -> Experiment:
    """Validate ``setup`` as a preset and build it exactly as ``nnplay run`` would; NnplayError says why not."""
    from nnplay.core.presets import build_experiment as build
    return Experiment(setup=copy.deepcopy(setup), core=build(to_preset(setup)))


def load_setup(ref: str) -> dict:
    """A shipped preset name or a .toml path, validated, as a setup dict."""
    from nnplay.core.presets import load_preset
    return load_preset(ref).to_dict()


def save_setup(setup: dict, path: str) -> str:
    """Write the setup as a preset file (atomically); returns the path written."""
    from nnplay.core.presets import save_preset
    if not path.endswith(".toml"):
        path += ".toml"
    return str(save_preset(to_preset(setup), path))


def preset_choices() -> list[tuple[str, str]]:
    try:
        from nnplay.core.presets import list_presets
        return list_presets()
    except ImportError:
        return []
