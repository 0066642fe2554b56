"""Core layers: InputLayer (and ``Input``), Dense, Activation, Dropout, Flatten, Reshape."""
from __future__ import annotations

import numpy as np

from .. import activations as acts
from .. import initializers, regularizers
from ..errors import NnplayError
from ..kernels.dense import SPLIT_WORK, dense_backward, dense_forward
from ..pacing import Chunked, kernel_threads
from ..tiers import dense as numpy_dense
from ..tiers import numpy_tier
from .base import LAYER_TYPES, Layer, _positive_int, _shape_tuple, format_shape, register
from .symbolic import Node, SymbolicTensor


@register
class InputLayer(Layer):
    """The entry of a model: one sample's shape (no batch axis). ``Input(shape=...)`` makes one and returns
    its symbolic tensor; a Sequential model may start with either."""

    config_keys = ("shape",)

    def __init__(self, shape=None, *, batch_size=None, batch_shape=None, sparse=None, **kwargs):
        if shape is None and kwargs.get("input_shape") is not None:
            shape = kwargs.pop("input_shape")
        if shape is None and batch_shape is not None:
            shape = tuple(batch_shape)[1:]
        if shape is None:
            raise NnplayError("Input: give the shape of one sample, e.g. Input(shape=(2,))")
        if sparse:
            raise NnplayError("Input: sparse inputs are not supported; give dense arrays")
        super().__init__(**kwargs)
        self.shape = _shape_tuple("Input", "shape", shape)
        self.input_spec = self.shape
        self.build(self.shape, None, np.float32 if self.dtype is None else self.dtype)
        node = Node(self, [], "one")
        node.outputs = [SymbolicTensor(self.shape, self.dtype, node, 0, name=self.name)]
        self._inbound_nodes.append(node)

    @property
    def output(self) -> SymbolicTensor:
        """The symbolic tensor this input stands for."""
        return self._inbound_nodes[0].outputs[0]

    def get_config(self) -> dict:
        cfg = {"type": "input_layer", "name": self.name, "shape": list(self.shape)}
        if self.dtype != np.float32:
            cfg["dtype"] = np.dtype(self.dtype).name
        return cfg

    def forward(self, x, training=False):
        return x

    def backward(self, grad_out, need_grad_x=True):
        return grad_out


LAYER_TYPES.alias("input", "input_layer")


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          **kwargs) -> SymbolicTensor:
    """A symbolic input of one sample's ``shape``, as ``keras.Input``: call layers on it, then make a
    ``Model(inputs, outputs)``; or start a ``Sequential([Input(shape=...), ...])`` with it."""
    if tensor is not None:
        raise NnplayError("Input: tensor= is not supported; give shape=")
    layer = InputLayer(shape, batch_size=batch_size, batch_shape=batch_shape, sparse=sparse, name=name,
                       dtype=dtype, **kwargs)
    return layer.output


class _Activated(Layer):
    """Shared by layers with a fused activation: the model may hand them dL/dlogits directly."""

    #: Set by the model when this layer's activation is fused with the loss (softmax/sigmoid + cross-entropy).
    grad_is_logits = False


class _KernelBias(_Activated):
    """Shared by layers with a ``kernel``, an optional ``bias`` and a fused activation (Dense, convolutions):
    Keras' activation / initializer / regularizer arguments and their config views."""

    def _set_kernel_bias_args(self, activation, use_bias, kernel_initializer, bias_initializer,
                              kernel_regularizer, bias_regularizer, activity_regularizer) -> None:
        self.act = acts.get(activation)
        self.use_bias = bool(use_bias)
        self._kernel_init = initializers.get(kernel_initializer)
        self._bias_init = initializers.get(bias_initializer)
        self._kernel_reg = regularizers.get(kernel_regularizer)
        self._bias_reg = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    activation = property(lambda self: self.act.name)
    kernel_initializer = property(lambda self: initializers.serialize(self._kernel_init))
    bias_initializer = property(lambda self: initializers.serialize(self._bias_init))
    kernel_regularizer = property(lambda self: self._kernel_reg)
    bias_regularizer = property(lambda self: self._bias_reg)


@register
class Dense(Chunked, _KernelBias):
    """``units`` outputs ``act(x @ kernel + bias)`` over the last axis (Keras' Dense).

    Shapes:
        input (..., n_in) -> output (..., units); kernel (n_in, units); bias (units,).
    """

    weight_names = ("kernel", "bias")
    config_keys = ("units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
                   "kernel_regularizer", "bias_regularizer", "activity_regularizer")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int(f"Dense {self.name!r}", "units", units)
        self._set_kernel_bias_args(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                   bias_regularizer, activity_regularizer)
        self._init_pacing()

    def _chunks(self, batch: int) -> int:
        """Blocks the big products are cut into (one per kernel thread; see nnplay.core.pacing)."""
        if self.n_chunks is not None:
            return max(1, self.n_chunks)
        kernel = self.params.get("kernel")
        if kernel is None or batch * kernel.size < SPLIT_WORK:
            return 1
        return kernel_threads()

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise self.shape_error(input_shape, "Dense needs at least one feature axis")
        return (*input_shape[:-1], self.units)

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        n_in = input_shape[-1]
        self.add_weight("kernel", (n_in, self.units), self._kernel_init, self._kernel_reg)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self._bias_init, self._bias_reg)
        else:
            self._no_bias = np.zeros(1, self.dtype)

    def forward(self, x, training=False):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        if x2.shape[1] != self.params["kernel"].shape[0]:
            raise NnplayError(f"layer {self.name!r} expects {self.params['kernel'].shape[0]} input features, "
                              f"got input of shape {format_shape(x.shape[1:])}")
        b = self.params["bias"] if self.use_bias else self._no_bias
        if numpy_tier():
            z, a = numpy_dense.dense_forward(x2, self.params["kernel"], b, self.use_bias, self.act.code,
                                             self.act.alpha)
        else:
            z = np.empty((x2.shape[0], self.units), self.dtype)
            a = z if self.act.is_linear else np.empty_like(z)
            self._run_forward(dense_forward, x2, self.params["kernel"], b, self.use_bias, self.act.code,
                              self.act.alpha, z, a, batch=x2.shape[0], training=training, whole=True)
        self.cache = {"x": x2, "z": z, "a": a, "lead": lead}
        out = a.reshape(*lead, self.units)
        if self.activity_regularizer is not None:
            self._record_activity(out)
        return out

    def backward(self, grad_out, need_grad_x=True):
        c = self.cache
        grad_a = np.ascontiguousarray(grad_out.reshape(-1, self.units), dtype=self.dtype)
        if self.activity_regularizer is not None:
            grad_a = grad_a + self._activity_grad(c["a"], c["lead"][0] if c["lead"] else 1)
        gb = self.grads["bias"] if self.use_bias else self._no_bias
        if numpy_tier():
            grad_x = numpy_dense.dense_backward(c["x"], self.params["kernel"], c["z"], c["a"], grad_a,
                                                self.act.code, self.act.alpha, self.use_bias, self.grad_is_logits,
                                                need_grad_x, self.grads["kernel"], gb)
            return grad_x.reshape(*c["lead"], c["x"].shape[1]) if need_grad_x else None
        grad_z = np.empty_like(grad_a)
        grad_x = np.empty_like(c["x"]) if need_grad_x else c["x"]  # placeholder array when not needed
        self._run_backward(dense_backward, c["x"], self.params["kernel"], c["z"], c["a"], grad_a,
                           self.act.code, self.act.alpha, self.use_bias, self.grad_is_logits, need_grad_x, grad_z,
                           self.grads["kernel"], gb, grad_x, batch=c["x"].shape[0], whole=True)
        return grad_x.reshape(*c["lead"], c["x"].shape[1]) if need_grad_x else None

    def logits(self) -> np.ndarray:
        """Pre-activation output of the last forward, shaped like the output."""
        return self.cache["z"].reshape(*self.cache["lead"], self.units)


@register
class Activation(_Activated):
    """Applies an activation on its own, e.g. ``Activation("softmax")`` after a linear Dense."""

    config_keys = ("activation",)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.act = acts.get(activation)

    activation = property(lambda self: self.act.name)

    def forward(self, x, training=False):
        a = self.act.forward(np.ascontiguousarray(x))
        self.cache = {"z": x, "a": a}
        return a

    def backward(self, grad_out, need_grad_x=True):
        if self.grad_is_logits:
            return grad_out
        return self.act.backward(np.ascontiguousarray(self.cache["z"]), self.cache["a"], grad_out)

    def logits(self):
        return self.cache["z"]


@register
class Dropout(Layer):
    """Inverted dropout (Keras): in training, zero each input with probability ``rate`` and scale the rest
    by ``1 / (1 - rate)``; at inference, the identity."""

    config_keys = ("rate", "seed")

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise NnplayError(f"Dropout: rate must be in [0, 1), got rate={rate!r}")
        self.rate = float(rate)
        self.seed = seed

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng if self.seed is None else np.random.default_rng(self.seed), dtype)

    def draw_mask(self, shape: tuple, dtype) -> np.ndarray:
        """The next training mask for inputs of ``shape``: 0 where dropped, ``1 / (1 - rate)`` elsewhere
        (drawn from this layer's generator; the fused conv step draws its masks here too)."""
        dtype = np.dtype(dtype)
        keep = 1.0 - self.rate
        return (self.rng.random(shape, dtype=np.float32) >= self.rate).astype(dtype) * dtype.type(1.0 / keep)

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.cache = {"mask": None}
            return x
        mask = self.draw_mask(x.shape, x.dtype)
        self.cache = {"mask": mask}
        return x * mask

    def backward(self, grad_out, need_grad_x=True):
        mask = self.cache["mask"]
        return grad_out if mask is None else grad_out * mask


@register
class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...), in channels-last (row-major) order as Keras."""

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        self.cache = {"shape": x.shape}
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out, need_grad_x=True):
        return grad_out.reshape(self.cache["shape"])


@register
class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1)."""

    config_keys = ("target_shape",)

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, int):
            target_shape = (target_shape,)
        try:
            self.target_shape = tuple(int(v) for v in target_shape)
        except (TypeError, ValueError):
            raise NnplayError(f"Reshape: target_shape must be a tuple of sizes, got {target_shape!r}") from None
        if any(v == 0 or v < -1 for v in self.target_shape) or self.target_shape.count(-1) > 1:
            raise NnplayError(f"Reshape: target_shape takes positive sizes and at most one -1, got {target_shape!r}")

    def compute_output_shape(self, input_shape):
        total = int(np.prod(input_shape))
        known = int(np.prod([v for v in self.target_shape if v != -1]))
        if -1 in self.target_shape:
            if total % known:
                raise self.shape_error(input_shape, f"{total} values do not fill target_shape {self.target_shape}")
            return tuple(total // known if v == -1 else v for v in self.target_shape)
        if known != total:
            raise self.shape_error(input_shape, f"{total} values cannot be reshaped to {self.target_shape} "
                                                f"({known} values)", "make the sizes multiply to the same total")
        return self.target_shape

    def forward(self, x, training=False):
        self.cache = {"shape": x.shape}
        return x.reshape(x.shape[0], *self.output_shape)

    def backward(self, grad_out, need_grad_x=True):
        return grad_out.reshape(self.cache["shape"])
