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

import math
from typing import Any

import numpy as np

from .. import initializers
from ..errors import NnplayError, did_you_mean
from ..safety import check_allocation, has_control
from ..registry import Registry, snake_case
from ..seeding import layer_rng
from .symbolic import Node, SymbolicTensor, flatten

Shape = tuple  # a shape without the batch axis, e.g. (28, 28, 1)

#: Bumped whenever any layer's ``trainable`` changes, so a model re-plans its step only when one did.
_trainable_epoch = [0]

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
        if name is not None and (not isinstance(name, str) or has_control(name)):
            # names are shown in summaries and messages: no escape sequences from a preset or a model file
            raise NnplayError(f"{cls}: name must be text without control characters, got name={name!r}")
        if input_dim is not None:
            input_shape = (_positive_int(cls, "input_dim", input_dim),)
        self.input_spec: Shape | None = None if input_shape is None else _shape_tuple(cls, "input_shape", input_shape)
        # Unnamed layers get ``dense``, ``dense_1``, ... from the model they join (unique per model, so a
        # preset always produces the same names).
        self.auto_named = not name
        self.base_name = snake_case(cls)
        self.name = name or self.base_name
        self._trainable = bool(trainable)
        self.dtype = dtype
        self._inbound_nodes: list[Node] = []          # one per call on symbolic tensors (functional API)
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

    @property
    def trainable(self) -> bool:
        """Whether training updates this layer's weights. As in Keras 3, a change takes effect at the next
        training step of every model the layer is in, also after ``compile``."""
        return self._trainable

    @trainable.setter
    def trainable(self, value) -> None:
        value = bool(value)
        if value != getattr(self, "_trainable", None):
            self._trainable = value
            _trainable_epoch[0] += 1

    # ----------------------------------------------------------------- calling
    #: How many tensors a call returns (a functional model with several outputs returns a list).
    output_count = 1

    def __call__(self, inputs, training=None, **kwargs):
        """Call the layer: on symbolic tensors (``Input(...)`` or a layer's output) it records a node of the
        functional graph and returns symbolic outputs; on arrays it computes (building the layer first)."""
        if kwargs:
            key = next(iter(kwargs))
            raise NnplayError(f"calling {self.name!r}: unknown argument {key!r}; a layer is called on its inputs "
                              f"(and training=True/False)")
        tensors, structure = flatten(inputs)
        if structure != "none":
            return self._call_symbolic(tensors, structure)
        if any(np.iscomplexobj(v) for v in (inputs if isinstance(inputs, (list, tuple)) else [inputs])):
            raise NnplayError(f"calling {self.name!r}: the input holds complex numbers; give real values")
        if isinstance(inputs, (list, tuple)):
            x = [np.asarray(v, dtype=np.float32) if np.asarray(v).dtype.kind != "f" else np.asarray(v)
                 for v in inputs]
            shape = [a.shape[1:] for a in x]
        else:
            x = np.asarray(inputs)
            if x.dtype.kind not in "f" and not getattr(self, "takes_indices", False):
                x = x.astype(np.float32)
            shape = x.shape[1:]
        if not self.built:
            self.build(shape, layer_rng(), np.float32 if self.dtype is None else self.dtype)
        return self.forward(x, bool(training))

    def _call_symbolic(self, tensors: list[SymbolicTensor], structure: str):
        node = Node(self, tensors, structure)
        shape = node.input_shapes()
        if not self.built:
            self.build(shape, layer_rng(), tensors[0].dtype if self.dtype is None else self.dtype)
        elif not _same_shapes(shape, self.input_shape):
            raise NnplayError(f"layer {self.name!r} was built for input {_shape_text(self.input_shape)} and cannot "
                              f"be called on {_shape_text(shape)}; a shared layer takes the same shape each call")
        outs = self.output_shape if self.output_count > 1 else [self.output_shape]
        dtype = np.dtype(self.dtype) if self.dtype is not None else tensors[0].dtype
        node.outputs = [SymbolicTensor(s, dtype, node, i) for i, s in enumerate(outs)]
        self._inbound_nodes.append(node)
        return node.outputs if self.output_count > 1 else node.outputs[0]

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
        # the weight, its gradient and the initializer's float64 draw: refused before numpy tries
        check_allocation(math.prod(shape) * (2 * np.dtype(self.dtype).itemsize + 8),
                         f"layer {self.name!r}: its {name} of shape {tuple(shape)} (with its gradient)",
                         "use fewer units or filters, or a smaller input")
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

    def param_weights(self) -> list[tuple["Layer", str]]:
        """(owner, name) of every weight training could update, frozen or not (what a model binds)."""
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

    def _record_activity(self, out: np.ndarray) -> None:
        """Put the activity penalty of ``out`` in the cache: the regularizer's value divided by the batch size,
        as Keras 3 adds it to the loss."""
        self.cache["activity_penalty"] = self.activity_regularizer(out) / max(out.shape[0], 1)

    def _activity_grad(self, out: np.ndarray, batch: int) -> np.ndarray:
        """The gradient of :meth:`_record_activity`'s penalty with respect to ``out`` (any layout)."""
        return self.activity_regularizer.grad(out) / out.dtype.type(max(batch, 1))

    def extras(self) -> dict[str, np.ndarray]:
        """Per-sample internals for the views (e.g. LSTM gates) from the last forward; {} by default."""
        return {}


def _same_shapes(a, b) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(tuple(x) == tuple(y) for x, y in zip(a, b))
    return tuple(a) == tuple(b)


def _shape_text(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return format_shape(shape)


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
