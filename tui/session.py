"""The setup dict's meaning: reading and changing fields, checking the layer stack, building the experiment.

Everything here runs without Textual, so it is easy to test and can run in a worker thread. Building goes
through ``nnplay.core.experiments``, so the playground and the headless runner build a preset the same way.
"""
from __future__ import annotations

import copy
import math
import os
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
        setup["data"] = {"name": value, **_shared_data_params(setup.get("data") or {}, value)}
    elif key == "data.augment":         # on: nnplay's default augmentation of images; off: none
        from nnplay.core.layers.augment import DEFAULT_AUGMENT
        data = setup.setdefault("data", {})
        if value:
            data["augment"] = dict(data.get("augment") or DEFAULT_AUGMENT)
        else:
            data.pop("augment", None)
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


def parse_field_text(spec: FieldSpec, text: str) -> Any:
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
    if cfg.get("trainable") is False:
        parts.append("❄ frozen")
    return " ".join(parts)


def base_line(exp) -> str:
    """The Network panel's line for a ``[model.base]``: where it comes from, its layers, frozen or not."""
    n = getattr(exp, "n_base_layers", 0)
    if not n:
        return ""
    layers = exp.model.layers[:n]
    base = exp.preset.model.base or {}
    source = base.get("preset") or os.path.basename(str(base.get("path", "a saved model")))
    frozen = not any(layer.trainable for layer in layers)
    state = "❄ frozen" if frozen else "trainable" if all(layer.trainable for layer in layers) else "partly frozen"
    return f"base {source}: {n} layers, {sum(l.count_params() for l in layers):,} params, {state}"


def new_layer(kind: str) -> dict:
    cfg: dict = {"type": kind}
    for spec in LAYER_FIELDS.get(kind, ()):
        if spec.default is not None and spec.default is not False:
            cfg[spec.key] = spec.default
    return cfg


def make_layers(setup: dict, input_shape: tuple) -> list:
    """Layer objects for the stack, the first told the input shape, kernels regularized as [training] says
    (the same configs ``nnplay run`` builds, from :func:`nnplay.core.experiments.layer_configs`)."""
    from nnplay.core.experiments import layer_configs
    from nnplay.core.layers import layer_from_config
    reg = get_path(setup, "training.regularization")
    if reg and reg.get("type") in (None, "none"):
        reg = None
    cfgs = layer_configs(get_path(setup, "model.layers", []) or [], reg)
    if cfgs:
        cfgs[0].setdefault("input_shape", list(input_shape))
    return [layer_from_config(cfg) for cfg in cfgs]


def check_stack(setup: dict, input_shape: tuple, targets=None) -> StackCheck:
    """Build the stack against ``input_shape`` and report every layer's output shape, or the first error;
    with ``targets`` (a few samples' targets), also whether the loss can compare them with the output."""
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
    elif targets is not None and len(targets):
        _check_targets(setup, shape, targets, check)
    check.total_params = sum(c.params for c in check.layers)
    return check


def _check_targets(setup: dict, out_shape: tuple, targets, check: StackCheck) -> None:
    """The output layer's error when the loss cannot compare the targets with the output (the same check,
    and message, as the build's)."""
    from nnplay.core import losses
    try:
        losses.get(get_path(setup, "training.loss", "mse")).prepare_targets(targets, (len(targets), *out_shape))
    except NnplayError as exc:
        check.error = str(exc)
        check.layers[-1].error = check.error


def _shared_data_params(old: dict, name: str) -> dict:
    """The old dataset's settings that the dataset ``name`` also has, with values it accepts, when both are
    the same kind of data (spiral -> circle keeps the features, sample count and noise); the data seed
    always. The rest start from ``name``'s defaults."""
    from nnplay.core.datasets import list_datasets

    from .data import data_fields
    try:
        specs = {s.key.removeprefix("data."): s for s in data_fields(name)}
    except NnplayError:
        return {}
    kinds = {n: kind for n, _, kind in list_datasets()}
    if kinds.get(old.get("name")) != kinds.get(name):
        return {"seed": old["seed"]} if "seed" in old and "seed" in specs else {}
    kept = {}
    for key, value in old.items():
        spec = specs.get(key)
        if key == "name" or spec is None:
            continue
        if spec.kind in ("int", "float") and not isinstance(value, bool) and isinstance(value, (int, float)):
            if (spec.lo is None or value >= spec.lo) and (spec.hi is None or value <= spec.hi):
                kept[key] = value
        elif spec.kind == "choice" and key != "features" and value not in spec.choices:
            continue
        elif spec.kind != "int" and spec.kind != "float":
            kept[key] = value
    return kept


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
def to_preset(setup: dict):
    from nnplay.core.presets import preset_from_dict
    return preset_from_dict(setup, source="setup")


def build_experiment(setup: dict):
    """Validate ``setup`` as a preset and build it exactly as ``nnplay run`` would (an
    :class:`nnplay.core.experiments.Experiment` of any kind); NnplayError says why not."""
    from nnplay.core.experiments import build_experiment as build
    return build(to_preset(setup))


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
