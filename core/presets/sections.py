"""The preset sections that describe what is built: [model] (its layers, each checked against the layer's
own constructor, and [model.base]), [data.augment], [gan] and [anomaly]. Used by :mod:`.validate`."""
from __future__ import annotations

import inspect

from .. import optimizers
from ..errors import NnplayError, did_you_mean
from ..layers.augment import AUGMENT_KEYS, augment_layers
from ..layers.base import LAYER_TYPES, layer_from_config
from .fields import Table, relocate
from .schema import Context, DataConfig, ModelConfig
from .toml_io import Path

GAN_KEYS = ("latent_dim", "discriminator", "k", "g_steps", "label_smoothing", "label_noise", "n_eval", "d_optimizer")
ANOMALY_KEYS = ("held_out_class", "percentile")
MODEL_KEYS = ("layers", "input_shape", "base")
BASE_KEYS = ("preset", "path", "layers", "trainable", "pretrained")
MAX_BATCH = 10_000_000


def _augment(ctx: Context, raw) -> dict | None:
    """[data.augment]: random transforms of the training images (nnplay.core.layers.augment)."""
    if raw is None:
        return None
    path = ("data", "augment")
    Table(ctx, path, raw, AUGMENT_KEYS)
    try:
        augment_layers(raw)
    except NnplayError as exc:
        key = next((k for k in raw if f"{k}=" in str(exc)), None)
        raise ctx.error(path + ((key,) if key else ()), str(exc).removeprefix("augment: ")) from None
    return dict(raw)


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
    base = _base(ctx, t.table("base", example='{ preset = "transfer-digits-base" }'))
    return ModelConfig(layers, input_shape, base)


def _base(ctx: Context, raw) -> dict | None:
    """[model.base]: the first layers of a trained model (a preset trained first, or a saved model file),
    with the [[model.layers]] on top (nnplay.core.experiments.transfer)."""
    if raw is None:
        return None
    t = Table(ctx, ("model", "base"), raw, BASE_KEYS)
    preset = t.str("preset", example='"transfer-digits-base"')
    path = t.str("path", example='"base.npz"')
    if (preset is None) == (path is None):
        raise t.err(None, 'give either preset = "..." (a preset to train first) or path = "..." (a saved .npz or '
                          '.keras model), not both' if preset else 'needs preset = "..." (a preset to train first) '
                          'or path = "..." (a saved .npz or .keras model)')
    t.int("layers", lo=1, hi=100_000)
    t.bool("trainable")
    t.bool("pretrained")
    return dict(raw)


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
