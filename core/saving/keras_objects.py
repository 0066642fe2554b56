"""The small objects inside Keras 3 configs: the ``{"module", "class_name", "config", "registered_name"}``
wrapper, initializers, regularizers, activations and dtype policies, each translated both ways; plus the
checks every object read from a file goes through (only Keras' own classes, no code, no custom objects).

nnplay's side is what its ``get_config`` writes: initializers and regularizers as their serialized form
(``"glorot_uniform"``, ``{"type": "l2", "l2": 0.01}``), activations as names, dtypes as ``"float32"``.
"""
from __future__ import annotations

import re

from .. import activations as acts
from .. import initializers, regularizers
from ..errors import NnplayError

#: The Keras release whose ``.keras`` format nnplay writes and was checked against.
KERAS_VERSION = "3.15.1"

_SEEDLESS_INITIALIZERS = {"Zeros", "Ones", "Constant"}
_REGULARIZER_CLASSES = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2"}
#: Keras dtype policies nnplay computes in: mixed precision keeps float32 variables, so it loads as float32.
_POLICIES = {"float32": "float32", "float64": "float64", "mixed_float16": "float32", "mixed_bfloat16": "float32"}


def keras_object(module: str, class_name: str, config) -> dict:
    """Keras' serialized form of a public object."""
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def keras_snake_case(name: str) -> str:
    """Keras' ``to_snake_case``, which names the h5 groups: ``Conv2DTranspose`` -> ``conv2d_transpose``,
    ``SimpleRNN`` -> ``simple_rnn``, ``InputLayer`` -> ``input_layer``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (values read from files may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def unpack(obj, what: str) -> tuple[str, dict]:
    """``(class_name, config)`` of a serialized Keras object, after checking that it is one of Keras' own
    classes: never code (``__lambda__``, functions from other modules) and never a custom object."""
    if not isinstance(obj, dict):
        raise NnplayError(f"{what} must be a Keras object (a dict with class_name and config), got {short(obj)}")
    cls = obj.get("class_name")
    if not isinstance(cls, str) or not cls:
        raise NnplayError(f"{what} has no class_name, got {short(obj)}")
    if cls.startswith("__"):
        raise NnplayError(f"{what} is a {cls} object (Python code); nnplay never runs code from a file")
    module = obj.get("module")
    if module is not None and (not isinstance(module, str) or not (module == "keras" or module.startswith("keras."))):
        raise NnplayError(f"{what} is {short(module)}.{cls}, not one of Keras' own classes; nnplay reads only "
                          f"Keras' built-in layers and objects (no code from a file is run)")
    registered = obj.get("registered_name")
    if registered is not None and registered != cls:
        raise NnplayError(f"{what} is the custom object {short(registered)}, which needs its Python code; nnplay "
                          f"reads only Keras' built-in classes")
    config = obj.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, (dict, str)):
        raise NnplayError(f"{what} ({cls}) has a config of type {type(config).__name__}, expected a dict")
    return cls, config


# ------------------------------------------------------------------------------------------ initializers
def initializer_to_keras(spec) -> dict:
    """nnplay's serialized initializer -> Keras' (``"uniform"``, Embedding's default, is RandomUniform)."""
    init = initializers.get("random_uniform" if spec == "uniform" else spec)
    cls = type(init).__name__
    config = {k: v for k, v in init.get_config().items() if k != "type"}
    if cls not in _SEEDLESS_INITIALIZERS:
        config["seed"] = None
    return keras_object("keras.initializers", cls, config)


def initializer_from_keras(value, what: str):
    """Keras' initializer (object or name) -> nnplay's serialized form. A seed is dropped: the weights come
    from the file."""
    if isinstance(value, str):
        return initializers.serialize(initializers.get(value))
    cls, config = unpack(value, what)
    if not isinstance(config, dict):
        raise NnplayError(f"{what} ({cls}) has config {short(config)}, expected a dict")
    # seeds and fan axes only shape the first draw; a loaded layer's weights come from the file
    config = {k: v for k, v in config.items() if k not in ("seed", "input_axes", "output_axes")}
    return initializers.serialize(initializers.get({"type": cls, **config}))


# ------------------------------------------------------------------------------------------ regularizers
def regularizer_to_keras(spec):
    if spec is None:
        return None
    config = dict(regularizers.get(spec).get_config())
    kind = config.pop("type")
    return keras_object("keras.regularizers", _REGULARIZER_CLASSES[kind], config)


def regularizer_from_keras(value, what: str):
    if value is None:
        return None
    if isinstance(value, str):
        return regularizers.get(value).get_config()
    cls, config = unpack(value, what)
    if not isinstance(config, dict):
        raise NnplayError(f"{what} ({cls}) has config {short(config)}, expected a dict")
    return regularizers.get({"type": cls, **config}).get_config()


# ------------------------------------------------------------------------------------------ activations
def activation_from_keras(value, what: str) -> str:
    """A name, or Keras' function object ``{"class_name": "function", "config": "relu"}``."""
    if isinstance(value, dict):
        cls, config = unpack(value, what)
        if cls != "function" or not isinstance(config, str):
            raise NnplayError(f"{what} is a {cls} object; nnplay reads activations given by name, e.g. 'relu'")
        value = config
    if not isinstance(value, str):
        raise NnplayError(f"{what} must be an activation name such as 'relu', got {short(value)}")
    return acts.get(value).name


# ------------------------------------------------------------------------------------------ dtypes
def policy_to_keras(dtype: str) -> dict:
    return keras_object("keras", "DTypePolicy", {"name": dtype})


def policy_from_keras(value, what: str) -> str | None:
    """The dtype nnplay computes a layer in (``"float32"``/``"float64"``), or None when not given."""
    if value is None:
        return None
    if isinstance(value, dict):
        cls, config = unpack(value, what)
        if not cls.endswith("DTypePolicy") or not isinstance(config, dict):
            raise NnplayError(f"{what} must be a DTypePolicy, got {cls}")
        value = config.get("name")
    if value not in _POLICIES:
        raise NnplayError(f"{what} is {short(value)}; nnplay computes in float32 or float64 (mixed precision "
                          f"loads as float32)")
    return _POLICIES[value]
