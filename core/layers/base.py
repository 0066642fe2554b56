"""The Layer contract every nnplay layer follows.

A layer is config + weights + forward + backward:

* ``__init__`` stores and validates config only (bad values raise :class:`NnplayError` at once).
* ``build(input_shape, rng, dtype)`` checks the incoming shape (no batch axis), creates weights with
  :meth:`add_weight` and sets ``self.output_shape``. Shape errors are raised here, naming the layer and
  both shapes, so an impossible stack fails before any training.
* ``forward(x, training)`` returns the output and keeps in ``self.cache`` what backward needs.
* ``backward(grad_out, need_grad_x=True)`` writes every weight gradient **in place** into
  ``self.grads[name]`` (``[...] =`` or a kernel's ``out``; never rebind: the model points ``params`` and
  ``grads`` into flat buffers after build) and returns ``grad_x`` (or None when ``need_grad_x`` is False).
* ``get_config()`` returns JSON/TOML-friendly config; ``layer_from_config`` rebuilds the layer.

Weights follow Keras: names, order (``weight_names``) and layout, so ``get_weights()`` matches Keras.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers
from ..errors import NnplayError, did_you_mean
from ..registry import Registry, snake_case

Shape = tuple  # a shape without the batch axis, e.g. (28, 28, 1)

#: Every layer class by its snake_case type name (``"max_pooling2d"``); any spelling finds it.
LAYER_TYPES: Registry[type] = Registry("layer type")


def register(cls):
    """Class decorator: make a layer constructible from config by its snake_case type name."""
    LAYER_TYPES.add(snake_case(cls.__name__), cls)
    return cls


def _positive_int(layer: str, field: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise NnplayError(f"{layer}: {field} must be a positive whole number, got {field}={value!r}")
    return int(value)


def _shape_tuple(layer: str, field: str, value) -> Shape:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise NnplayError(f"{layer}: {field} must be a tuple of positive sizes, got {field}={value!r}")
    return tuple(_positive_int(layer, field, v) for v in value)


class Layer:
    """Base class. Subclasses set ``weight_names`` and implement build/forward/backward."""

    #: Names of the weights in Keras order (trainable and non-trainable alike), e.g. ("kernel", "bias").
    weight_names: tuple[str, ...] = ()
    #: Config keys besides the common ones, in the order get_config writes them.
    config_keys: tuple[str, ...] = ()

    def __init__(self, *, name: str | None = None, input_shape=None, input_dim=None, trainable: bool = True,
                 dtype=None, **unknown):
        cls = type(self).__name__
        if unknown:
            key = next(iter(unknown))
            raise NnplayError(f"{cls}: unknown argument {key!r}" + did_you_mean(key, self._known_args()))
        if input_dim is not None:
            input_shape = (_positive_int(cls, "input_dim", input_dim),)
        self.input_spec: Shape | None = None if input_shape is None else _shape_tuple(cls, "input_shape", input_shape)
        # Unnamed layers get ``dense``, ``dense_1``, ... from the model they join (unique per model, so a
        # preset always produces the same names).
        self.auto_named = not name
        self.base_name = snake_case(cls)
        self.name = name or self.base_name
        self.trainable = bool(trainable)
        self.dtype = dtype
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}          # non-trainable weights (BatchNorm moving stats)
        self.regularizers: dict[str, Any] = {}           # weight name -> regularizer
        self.activity_regularizer = None
        self.cache: dict[str, Any] = {}
        self.built = False
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self.rng: np.random.Generator | None = None

    # ----------------------------------------------------------------- config
    def _known_args(self) -> list[str]:
        return ["name", "input_shape", "input_dim", "trainable", "dtype", *self.config_keys]

    def get_config(self) -> dict:
        """JSON/TOML-friendly config: ``type`` plus the constructor arguments (None values left out)."""
        cfg: dict[str, Any] = {"type": snake_case(type(self).__name__), "name": self.name}
        for key in self.config_keys:
            value = getattr(self, key)
            if value is None:
                continue
            if hasattr(value, "get_config"):
                value = value.get_config()
            elif isinstance(value, tuple):
                value = list(value)
            cfg[key] = value
        if self.input_spec is not None:
            cfg["input_shape"] = list(self.input_spec)
        if not self.trainable:
            cfg["trainable"] = False
        return cfg

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"

    # ----------------------------------------------------------------- build
    def build(self, input_shape: Shape, rng: np.random.Generator, dtype=np.float32) -> None:
        """Check ``input_shape``, create the weights, set ``output_shape``. Subclasses call super()."""
        self.input_shape = tuple(input_shape)
        self.rng = rng
        self.dtype = np.dtype(dtype)
        self.output_shape = tuple(self.compute_output_shape(self.input_shape))
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def add_weight(self, name: str, shape: tuple, initializer, regularizer=None, trainable: bool = True):
        """Create a weight from an initializer (``initializers.get`` understands names and objects)."""
        init = initializers.get(initializer)
        value = np.ascontiguousarray(init(tuple(shape), self.rng, self.dtype), dtype=self.dtype)
        if trainable:
            self.params[name] = value
            self.grads[name] = np.zeros_like(value)
            if regularizer is not None:
                self.regularizers[name] = regularizer
        else:
            self.state[name] = value
        return value

    def shape_error(self, input_shape: Shape, why: str, fix: str = "") -> NnplayError:
        """The standard build-time message: layer name, what it got, why it cannot work, and the fix."""
        msg = f"layer {self.name!r} ({type(self).__name__}) cannot take input of shape {format_shape(input_shape)}: {why}"
        if fix:
            msg += f"; {fix}"
        return NnplayError(msg)

    # ----------------------------------------------------------------- math
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray, need_grad_x: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def trainable_weights(self) -> list[tuple["Layer", str]]:
        """(owner, name) of every trainable weight in Keras order; wrappers return their inner layers'."""
        if not self.trainable:
            return []
        return [(self, n) for n in self.weight_names if n in self.params]

    def all_weights(self) -> list[tuple["Layer", str]]:
        """(owner, name) of every weight (trainable and not) in Keras ``get_weights`` order."""
        return [(self, n) for n in self.weight_names if n in self.params or n in self.state]

    def weight(self, owner_name: str) -> np.ndarray:
        return self.params[owner_name] if owner_name in self.params else self.state[owner_name]

    def count_params(self) -> int:
        return int(sum(o.weight(n).size for o, n in self.all_weights()))

    def penalty(self) -> float:
        """Weight-regularization loss of this layer (activity penalties are added in forward)."""
        return float(sum(reg(self.params[n]) for n, reg in self.regularizers.items()))

    def add_penalty_grads(self) -> None:
        for n, reg in self.regularizers.items():
            self.grads[n] += reg.grad(self.params[n])

    def extras(self) -> dict[str, np.ndarray]:
        """Per-sample internals for the views (e.g. LSTM gates) from the last forward; {} by default."""
        return {}


def format_shape(shape) -> str:
    """``(None, 28, 28, 1)`` style, as Keras prints shapes."""
    return "(" + ", ".join(["None", *(str(s) for s in shape)]) + ")"


def layer_from_config(cfg: dict) -> Layer:
    """Rebuild a layer from :meth:`Layer.get_config` output (or a preset's layer table)."""
    if not isinstance(cfg, dict) or "type" not in cfg:
        raise NnplayError(f"a layer needs a 'type', got {cfg!r}")
    cfg = dict(cfg)
    cls = LAYER_TYPES.lookup(str(cfg.pop("type")))
    if hasattr(cls, "from_config"):
        return cls.from_config(cfg)
    return cls(**cfg)
