"""One layer's config, nnplay <-> Keras 3.

nnplay's side is what ``layer.get_config()`` writes (``{"type": "dense", "name": ..., "units": 8, ...}``);
Keras' side is the serialized layer ``{"module": "keras.layers", "class_name": "Dense", "config": {...},
"registered_name": null}``. nnplay's config keys are Keras' argument names, so most values carry over as
they are; initializers, regularizers, activations and dtypes are translated by :mod:`.keras_objects`.

Reading is strict: an argument nnplay has no counterpart for is accepted only at the value that makes it a
no-op (``data_format="channels_last"``, ``groups=1``, constraints ``None``, ...); any other value is refused
with one line, so a model never loads with silently different maths.
"""
from __future__ import annotations

import re

from ..errors import NnplayError, did_you_mean
from ..layers.base import LAYER_TYPES
from .keras_objects import (
    activation_from_keras,
    initializer_from_keras,
    initializer_to_keras,
    keras_object,
    policy_from_keras,
    policy_to_keras,
    regularizer_from_keras,
    regularizer_to_keras,
    short,
    unpack,
)

#: Keras layer classes nnplay has (its classes carry the same names).
KERAS_LAYERS = frozenset({
    "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Conv1D", "Conv2D", "Conv2DTranspose",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "UpSampling1D", "UpSampling2D",
    "BatchNormalization", "Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
    "GaussianNoise", "GaussianDropout", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    "Concatenate", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast"})
#: Keras model classes a file may nest (``Model`` is how some files name a functional model).
KERAS_MODELS = frozenset({"Sequential", "Functional", "Model"})

#: Layers whose Keras config takes ``data_format``: written explicitly, so a Keras set to channels_first
#: by its keras.json still reads them channels-last.
_CHANNELS_LAST = frozenset({
    "Conv1D", "Conv2D", "Conv2DTranspose", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
    "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "UpSampling2D", "Flatten", "RandomFlip", "RandomRotation", "RandomTranslation",
    "RandomZoom", "RandomContrast"})
#: Keras arguments nnplay lacks, accepted at these values only (None is accepted for any of them).
_NEUTRAL = {"data_format": ("channels_last",), "dilation_rate": (1, [1], [1, 1]), "groups": (1,),
            "return_state": (False,), "stateful": (False,), "unroll": (False,), "mask_zero": (False,),
            "sparse": (False,), "synchronized": (False,), "renorm": (False,)}
#: Keras arguments that only matter for features nnplay refuses elsewhere (masking, renorm, cuDNN choice).
_IGNORED = frozenset({"zero_output_for_mask", "renorm_momentum", "use_cudnn"})
#: Keys every nnplay layer config may have besides its own arguments.
_COMMON = ("type", "name", "trainable", "input_shape", "inbound_nodes", "dtype")


def keras_class(cfg: dict) -> str:
    """The Keras class name of an nnplay layer config (``"dense"`` -> ``"Dense"``)."""
    if cfg.get("type") in ("sequential", "functional"):
        return "Sequential" if cfg["type"] == "sequential" else "Functional"
    return LAYER_TYPES.lookup(str(cfg.get("type"))).__name__


def check_writable(cfg: dict) -> None:
    """Refuse a layer Keras does not have, naming it and where to save instead."""
    cls = keras_class(cfg)
    if cls not in KERAS_LAYERS and cls != "InputLayer" and cls not in KERAS_MODELS:
        raise NnplayError(f"layer {cfg.get('name', cls)!r} ({cls}) exists only in nnplay, so Keras could not open "
                          f"the .keras file; save with model.save('model.npz'), or write a Keras script with "
                          f"`nnplay export --to keras`")
    for key in ("layer", "backward_layer"):
        if isinstance(cfg.get(key), dict):
            check_writable(cfg[key])


# ------------------------------------------------------------------------------------------ nnplay -> Keras
def layer_to_keras(cfg: dict, dtype: str) -> dict:
    """An nnplay layer config (not a model, not an InputLayer) -> Keras' serialized layer."""
    cls = keras_class(cfg)
    if cls == "Bidirectional" and "backward_layer" not in cfg and isinstance(cfg.get("layer"), dict):
        cfg = {**cfg, "backward_layer": _backward_copy(cfg["layer"])}
    config: dict = {"name": cfg.get("name") or cfg["type"], "trainable": bool(cfg.get("trainable", True)),
                    "dtype": policy_to_keras(dtype)}
    for key, value in cfg.items():
        if key in _COMMON:
            continue
        if key in ("layer", "backward_layer"):
            config[key] = layer_to_keras(value, dtype)
        elif key.endswith("_initializer"):
            config[key] = initializer_to_keras(value)
        elif key.endswith("_regularizer"):
            config[key] = regularizer_to_keras(value)
        else:
            config[key] = list(value) if isinstance(value, tuple) else value
    if cls in _CHANNELS_LAST:
        config["data_format"] = "channels_last"
    return keras_object("keras.layers", cls, config)


def _backward_copy(layer: dict) -> dict:
    """The backward layer a Bidirectional makes of its forward one, written out as Keras writes it. A file
    without it makes Keras' loader serialise the forward layer a second time inside its object-sharing scope,
    which keys objects by Python ``id``: now and then (3 loads in 60 of a model with four Bidirectionals) a
    reused ``id`` handed back another layer and the load failed on the two layers' ``go_backwards``."""
    name = layer.get("name") or layer["type"]
    return {**layer, "go_backwards": not layer.get("go_backwards", False), "name": f"backward_{name}"}


def input_layer_to_keras(name: str, shape, dtype: str) -> dict:
    return keras_object("keras.layers", "InputLayer", {"batch_shape": [None, *shape], "dtype": dtype,
                                                        "sparse": False, "name": name})


# ------------------------------------------------------------------------------------------ Keras -> nnplay
def layer_class(entry, what: str) -> tuple[str, dict]:
    """``(class_name, config)`` of a layer entry, refusing Lambda and classes nnplay lacks."""
    cls, config = unpack(entry, what)
    if cls == "Lambda":
        raise NnplayError(f"{what} is a Lambda layer, whose function is Python code; nnplay never runs code from "
                          f"a file: rebuild that step with built-in layers")
    if cls not in KERAS_LAYERS and cls not in KERAS_MODELS and cls != "InputLayer":
        raise NnplayError(f"{what} is a Keras {cls} layer, which nnplay does not have"
                          + did_you_mean(cls, KERAS_LAYERS) + f"; nnplay has {', '.join(sorted(KERAS_LAYERS))}")
    if not isinstance(config, dict):
        raise NnplayError(f"{what} ({cls}) has config {short(config)}, expected a dict")
    return cls, config


def input_layer_from_keras(config: dict, what: str) -> tuple[list[int], str | None]:
    """``(shape without the batch axis, dtype)`` of an InputLayer config (Keras 3 or Keras 2 spelling)."""
    if config.get("shape") is not None:
        shape = config["shape"]
    else:
        batch_shape = config.get("batch_shape", config.get("batch_input_shape"))
        if not isinstance(batch_shape, list) or not batch_shape:
            raise NnplayError(f"{what} (InputLayer) has no shape, got batch_shape={short(batch_shape)}")
        shape = batch_shape[1:]
    if not isinstance(shape, list) or not shape or not all(_whole(v) and v > 0 for v in shape):
        raise NnplayError(f"{what} (InputLayer) needs a fixed shape of positive sizes, got {short(shape)}; "
                          f"nnplay layers take fixed-size samples")
    for key in ("sparse", "ragged", "optional"):
        if config.get(key):
            raise NnplayError(f"{what} (InputLayer) has {key}=True, which nnplay does not support")
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        dtype = policy_from_keras(dtype, f"{what} dtype")
    return [int(v) for v in shape], dtype if dtype in ("float32", "float64") else None


def layer_from_keras(entry, what: str) -> tuple[dict, str | None]:
    """Keras' serialized layer -> ``(nnplay layer config, dtype it computes in or None)``."""
    cls, config = layer_class(entry, what)
    if cls in KERAS_MODELS or cls == "InputLayer":
        raise NnplayError(f"{what} ({cls}) cannot be used here")
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise NnplayError(f"{what} ({cls}) has name {short(name)}, expected a string")
    what = f"layer {name!r} ({cls})" if name else f"{what} ({cls})"
    nn_cls = LAYER_TYPES.lookup(cls)
    out: dict = {"type": LAYER_TYPES.canonical(cls)}
    if name:
        out["name"] = name
    trainable = config.get("trainable", True)
    if not isinstance(trainable, bool):
        raise NnplayError(f"{what} has trainable={short(trainable)}, expected true or false")
    if not trainable:
        out["trainable"] = False
    dtype = policy_from_keras(config.get("dtype"), f"{what} dtype")
    accepted = set(nn_cls.config_keys) | ({"backward_layer"} if cls == "Bidirectional" else set())
    for key, value in config.items():
        if key in ("name", "trainable", "dtype"):
            continue
        if key in accepted:
            if value is not None or key == "merge_mode":
                out[key] = _value_from_keras(key, value, f"{what} {key}")
        elif value is None or key in _IGNORED or (key in _NEUTRAL and value in _NEUTRAL[key]):
            continue
        else:
            raise NnplayError(f"{what} uses {key}={short(value)}, which nnplay does not support")
    if cls == "Embedding" and out.get("embeddings_initializer") == {"type": "random_uniform", "minval": -0.05,
                                                                    "maxval": 0.05}:
        out["embeddings_initializer"] = "uniform"          # nnplay's name for Keras' default
    if cls in ("Bidirectional", "TimeDistributed"):
        _wrapped_names(out, cls)
    return out, dtype


def _value_from_keras(key: str, value, what: str):
    if key == "seed" and not (_whole(value) and 0 <= value < 2 ** 63):
        raise NnplayError(f"{what} is {short(value)}, expected a whole number >= 0 or null")
    if key in ("layer", "backward_layer"):
        return layer_from_keras(value, what)[0]
    if key.endswith("_initializer"):
        return initializer_from_keras(value, what)
    if key.endswith("_regularizer"):
        return regularizer_from_keras(value, what)
    if key in ("activation", "recurrent_activation"):
        return activation_from_keras(value, what)
    return value


def _wrapped_names(out: dict, cls: str) -> None:
    """Keras names a Bidirectional's copies ``forward_<name>``/``backward_<name>``; nnplay adds the prefixes
    itself, and leaves out names it would generate anyway (``lstm``, ``lstm_2``)."""
    for key, prefix in (("layer", "forward_"), ("backward_layer", "backward_")):
        inner = out.get(key)
        if not isinstance(inner, dict) or not isinstance(inner.get("name"), str):
            continue
        name = inner["name"]
        if cls == "Bidirectional" and name.startswith(prefix):
            name = name[len(prefix):]
        if re.fullmatch(re.escape(inner["type"]) + r"(_\d+)?", name):
            inner.pop("name")
        else:
            inner["name"] = name
    backward = out.get("backward_layer")
    if isinstance(backward, dict) and isinstance(out.get("layer"), dict):
        mirrored = dict(out["layer"], go_backwards=not out["layer"].get("go_backwards", False))
        if {k: v for k, v in backward.items() if k != "name"} == \
                {k: v for k, v in mirrored.items() if k != "name"}:
            out.pop("backward_layer")                  # the copy nnplay makes by itself


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
