"""Each nnplay layer as the Keras 3 call that makes it: Keras' class and argument names, only the arguments
that differ from Keras' defaults (nnplay's defaults are Keras'), so ``Dense(8, activation="tanh")``."""
from __future__ import annotations

import inspect

from .. import activations, initializers
from ..errors import NnplayError
from ..layers import (GRU, LSTM, Activation, Add, Average, AveragePooling1D, AveragePooling2D, BatchNormalization,
                      Bidirectional, Concatenate, Conv1D, Conv2D, Conv2DTranspose, Dense, Dropout, Embedding, Flatten,
                      GaussianDropout, GaussianNoise, GlobalAveragePooling1D, GlobalAveragePooling2D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, Maximum, MaxPooling1D, MaxPooling2D, Minimum, Multiply,
                      Reshape, Sampling, SimpleRNN, Subtract, TimeDistributed, UpSampling1D, UpSampling2D)
from ..layers.base import Layer
from .code import Src, call, same_or_pair
from .graph import auto_named, describe, refuse

#: nnplay layer class -> the positional arguments its Keras call takes first.
POSITIONAL: dict[type, tuple[str, ...]] = {
    Dense: ("units",), Activation: ("activation",), Dropout: ("rate",), Flatten: (), Reshape: ("target_shape",),
    Conv2D: ("filters", "kernel_size"), Conv1D: ("filters", "kernel_size"), Conv2DTranspose: ("filters", "kernel_size"),
    MaxPooling2D: ("pool_size",), AveragePooling2D: ("pool_size",), MaxPooling1D: ("pool_size",),
    AveragePooling1D: ("pool_size",), GlobalAveragePooling2D: (), GlobalMaxPooling2D: (), GlobalAveragePooling1D: (),
    GlobalMaxPooling1D: (), UpSampling2D: ("size",), UpSampling1D: ("size",), BatchNormalization: (),
    SimpleRNN: ("units",), LSTM: ("units",), GRU: ("units",), Bidirectional: ("layer",), TimeDistributed: ("layer",),
    Embedding: ("input_dim", "output_dim"), GaussianNoise: ("stddev",), GaussianDropout: ("rate",), Sampling: (),
    Add: (), Subtract: (), Multiply: (), Average: (), Maximum: (), Minimum: (), Concatenate: (),
}
#: Keras' image augmentation layers, by class name (the identity at inference, as in nnplay).
AUGMENT_POSITIONAL = {"RandomFlip": ("mode",), "RandomRotation": ("factor",), "RandomTranslation": ("height_factor",
                      "width_factor"), "RandomZoom": ("height_factor",), "RandomContrast": ("factor",)}
#: Arguments that are pairs (or singles for 1-D layers): written as one number when square.
_PAIRS = ("kernel_size", "strides", "pool_size", "size")
_ACTIVATION_ARGS = ("activation", "recurrent_activation")


def defaults_of(cls: type) -> dict:
    """Keyword defaults of a layer class's constructor, through its bases (they are Keras')."""
    out: dict = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, p in inspect.signature(init).parameters.items():
            if p.default is not inspect.Parameter.empty:
                out[name] = p.default
    return out


def _norm(key: str, value):
    """A config value in the form two values are compared and written in."""
    if key in _ACTIVATION_ARGS:
        return activations.get(value).name
    if key in _PAIRS:
        return same_or_pair(value)
    if key == "target_shape" and isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def initializer(value) -> Src | str:
    """A serialized nnplay initializer as Keras source: a name, or ``keras.initializers.RandomNormal(...)``."""
    if isinstance(value, str):
        return value
    cfg = dict(value)
    kind = str(cfg.pop("type"))
    cls = "".join(w.capitalize() for w in kind.split("_"))
    return Src(call(f"keras.initializers.{cls}", (), {k: v for k, v in cfg.items() if v is not None}))


def regularizer(cfg) -> Src:
    """``{"type": "l1", "l1": 0.01}`` -> ``keras.regularizers.L1(0.01)``."""
    if hasattr(cfg, "get_config"):
        cfg = cfg.get_config()
    kind = cfg["type"]
    if kind == "l1":
        return Src(call("keras.regularizers.L1", (cfg["l1"],)))
    if kind == "l2":
        return Src(call("keras.regularizers.L2", (cfg["l2"],)))
    return Src(call("keras.regularizers.L1L2", (), {"l1": cfg["l1"], "l2": cfg["l2"]}))


def keras_layer(layer: Layer, to: str = "keras", named: bool = False, inner: bool = False) -> str:
    """The Keras call that makes ``layer`` (``named``: always pass ``name=``; ``inner``: a wrapped layer, which
    Keras names after its wrapper)."""
    cls = type(layer)
    first = POSITIONAL.get(cls, AUGMENT_POSITIONAL.get(cls.__name__))
    if first is None:
        raise refuse(to, describe(layer), "nnplay export does not know this layer type",
                     "use one of the layers nnplay ships (see the README)")
    cfg = layer.get_config()
    defaults = defaults_of(cls)
    positional, keywords = [], {}
    for key in first:
        positional.append(_value(layer, key, cfg[key], to))
    for key in cls.config_keys:
        if key in first or key not in cfg:
            continue
        value = _norm(key, cfg[key])
        if key in defaults and _same(key, value, defaults[key]):
            continue
        if key == "strides" and cfg.get("pool_size") is not None and value == _norm("pool_size", cfg["pool_size"]):
            continue                                        # pooling: strides default to pool_size
        keywords[key] = _value(layer, key, cfg[key], to)
    if isinstance(layer, Bidirectional) and layer._backward_config is not None:
        keywords["backward_layer"] = Src(keras_layer(layer.backward_layer, to, inner=True))
    if not layer.trainable:
        keywords["trainable"] = False
    if not inner and (named or not auto_named(layer)):
        keywords["name"] = layer.name
    prefix = "" if cls is Sampling else "layers."
    return call(prefix + cls.__name__, positional, keywords)


def _init_config(value) -> dict:
    return initializers.get("random_uniform" if value == "uniform" else value).get_config()


def _same(key, value, default) -> bool:
    if key.endswith("_initializer"):
        return _init_config(default) == _init_config(value)
    if default is None and key not in _ACTIVATION_ARGS:
        return value is None
    try:
        return _norm(key, default) == value
    except NnplayError:  # a default the normaliser cannot read is never equal
        return False


def _value(layer: Layer, key: str, value, to: str):
    if key in ("layer",):
        inner = layer.layer if isinstance(layer, (Bidirectional, TimeDistributed)) else None
        return Src(keras_layer(inner, to, inner=True))
    if key.endswith("_initializer"):
        return initializer(value)
    if key.endswith("_regularizer"):
        return regularizer(value)
    return _norm(key, value)

