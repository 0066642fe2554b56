"""Recurrent layers: SimpleRNN, LSTM, GRU (Keras' names, arguments, weight layout and defaults).

Input is batch-first ``(batch, timesteps, features)``; the output is the last state ``(batch, units)`` or,
with ``return_sequences=True``, every state ``(batch, timesteps, units)``. Each forward and each backward
is one kernel call over the whole sequence (:mod:`nnplay.core.kernels.recurrent`), or on the NumPy tier
the same math in NumPy (:mod:`nnplay.core.tiers.recurrent`).

Dropout follows Keras: ``dropout`` on the inputs and ``recurrent_dropout`` on the previous state, inverted
scaling, one mask per sequence (the same units are dropped at every step), only in training. nnplay
shares each mask between the gates; Keras draws one recurrent mask per gate.
"""
from __future__ import annotations

import numba
import numpy as np

from .. import activations as acts
from .. import initializers, regularizers
from ..errors import NnplayError
from ..kernels import recurrent as K
from ..pacing import Chunked, Pacer  # noqa: F401  (Pacer re-exported)
from ..tiers import numpy_tier
from ..tiers import recurrent as numpy_recurrent
from .base import Layer, _positive_int, register


# A step's recurrent product must have at least this many multiply-adds before the batch is cut into chunks
# that may run on separate threads (32 samples x 64 units x 64 is just above it).
PARALLEL_WORK = 1 << 17
# Samples per chunk, at least.
MIN_CHUNK = 8


def _rate(layer: str, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(value) < 1.0:
        raise NnplayError(f"{layer}: {field} must be in [0, 1), got {field}={value!r}")
    return float(value)


def _reshape_fix(input_shape) -> str:
    """A Reshape that turns ``input_shape`` into (timesteps, features)."""
    if len(input_shape) == 1:
        return (f"add Reshape(({input_shape[0]}, 1)) before it, or return_sequences=True on the recurrent "
                f"layer before")
    rest = int(np.prod(input_shape[1:]))
    return f"add Reshape(({input_shape[0]}, {rest})) before it"


class _Recurrent(Chunked, Layer):
    """Shared by SimpleRNN, LSTM and GRU: config, weights, masks, shape checks, views of the states."""

    weight_names = ("kernel", "recurrent_kernel", "bias")
    #: Gate blocks in the kernel's columns: 1 (SimpleRNN), 4 (LSTM), 3 (GRU).
    n_gates = 1
    cell = "rnn"  # the cell's name in nnplay.core.tiers.recurrent
    config_keys = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                   "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                   "activity_regularizer", "dropout", "recurrent_dropout", "seed", "return_sequences",
                   "go_backwards")

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, go_backwards=False,
                 return_state=False, stateful=False, unroll=False, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        for flag, value in (("return_state", return_state), ("stateful", stateful), ("unroll", unroll)):
            if value:
                raise NnplayError(f"{cls}: {flag}=True is not supported (a Sequential layer has one output "
                                  f"and no state between batches); leave {flag} at False")
        self.units = _positive_int(f"{cls} {self.name!r}", "units", units)
        self.act = acts.get(activation)
        if self.act.name == "softmax":
            raise NnplayError(f"{cls}: activation='softmax' is not supported inside a recurrent cell; "
                              f"use tanh (the default) and put a Dense(..., activation='softmax') after it")
        self.use_bias = bool(use_bias)
        self._kernel_init = initializers.get(kernel_initializer)
        self._recurrent_init = initializers.get(recurrent_initializer)
        self._bias_init = initializers.get(bias_initializer)
        self._kernel_reg = regularizers.get(kernel_regularizer)
        self._recurrent_reg = regularizers.get(recurrent_regularizer)
        self._bias_reg = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.dropout = _rate(cls, "dropout", dropout)
        self.recurrent_dropout = _rate(cls, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.return_sequences = bool(return_sequences)
        self.go_backwards = bool(go_backwards)
        self._init_pacing()

    # config views --------------------------------------------------------
    activation = property(lambda self: self.act.name)
    kernel_initializer = property(lambda self: initializers.serialize(self._kernel_init))
    recurrent_initializer = property(lambda self: initializers.serialize(self._recurrent_init))
    bias_initializer = property(lambda self: initializers.serialize(self._bias_init))
    kernel_regularizer = property(lambda self: self._kernel_reg)
    recurrent_regularizer = property(lambda self: self._recurrent_reg)
    bias_regularizer = property(lambda self: self._bias_reg)

    # build ---------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            name = type(self).__name__
            raise self.shape_error(input_shape, f"{name} needs (timesteps, features) input",
                                   _reshape_fix(input_shape))
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        n_in, g = input_shape[-1], self.n_gates * self.units
        self.add_weight("kernel", (n_in, g), self._kernel_init, self._kernel_reg)
        self.add_weight("recurrent_kernel", (self.units, g), self._recurrent_init, self._recurrent_reg)
        if self.use_bias:
            self.add_weight("bias", self.bias_shape(), self._bias_init, self._bias_reg)
        # Weights come from the model's stream; dropout masks from it too unless the layer has its own seed.
        self._mask_rng = rng if self.seed is None else np.random.default_rng(self.seed)
        self._zero_bias = np.zeros(self.bias_shape(), self.dtype)
        self._no_grad = np.zeros(self.bias_shape(), self.dtype)
        self._no_mask_x = np.ones((0, n_in), self.dtype)
        self._no_mask_h = np.ones((0, self.units), self.dtype)
        self._no_grad_x = np.zeros((0, 0, 0), self.dtype)
        self._buffers: dict[str, np.ndarray] = {}

    def bias_shape(self) -> tuple:
        return (self.n_gates * self.units,)

    # forward helpers -----------------------------------------------------
    def _check(self, x, training):
        """x converted and checked; the dropout masks (0 rows: none)."""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        n_in = self.params["kernel"].shape[0]
        if x.ndim != 3 or x.shape[2] != n_in:
            raise NnplayError(f"layer {self.name!r} expects input of shape (batch, timesteps, {n_in}), "
                              f"got {x.shape}")
        mask_x, mask_h = self._no_mask_x, self._no_mask_h
        if training and self.dropout > 0.0:
            mask_x = self._mask((x.shape[0], n_in), self.dropout)
        if training and self.recurrent_dropout > 0.0:
            mask_h = self._mask((x.shape[0], self.units), self.recurrent_dropout)
        return x, mask_x, mask_h

    def _prepare(self, x, training):
        """:meth:`_check`, then allocate the shared per-step arrays of the kernels."""
        x, mask_x, mask_h = self._check(x, training)
        batch, steps, n_in = x.shape
        rows, u = steps * batch, self.units
        arrays = {
            "x_shape": x.shape, "mask_x": mask_x, "mask_h": mask_h,
            "xt": self._work("xt", (rows, n_in)),
            "pre": self._work("pre", (rows, self.n_gates * u)),
            "hs": self._work("hs", (rows + batch, u)),
            "hrec": self._work("hrec", (rows if mask_h.shape[0] else 0, u)),
        }
        out = np.empty((batch, steps if self.return_sequences else 1, u), self.dtype)  # fresh: callers keep it
        return x, arrays, out

    def _work(self, name: str, shape: tuple) -> np.ndarray:
        """A work array kept between calls (the kernels overwrite it; new arrays cost ~0.3 us per page in
        page faults, a third of an LSTM forward)."""
        a = self._buffers.get(name)
        if a is None or a.shape != shape:
            a = self._buffers[name] = np.empty(shape, self.dtype)
        return a

    def _mask(self, shape, rate):
        keep = 1.0 - rate
        return ((self._mask_rng.random(shape) >= rate) / keep).astype(self.dtype)

    def _finish(self, out, cache):
        self.cache = cache
        out = out if self.return_sequences else out.reshape(out.shape[0], self.units)
        if self.activity_regularizer is not None:
            self._record_activity(out)
            cache["out"] = out
        return out

    def _backward_args(self, grad_out, need_grad_x):
        """grad_out as (B, T or 1, U) plus the gradient outputs the kernels write into."""
        c = self.cache
        if self.activity_regularizer is not None:
            grad_out = grad_out + self._activity_grad(c["out"], c["out"].shape[0])
        batch, steps, n_in = c["x_shape"]
        g = np.ascontiguousarray(grad_out, dtype=self.dtype).reshape(batch, -1, self.units)
        grad_x = np.empty((batch, steps, n_in), self.dtype) if need_grad_x else self._no_grad_x
        grad_b = self.grads["bias"] if self.use_bias else self._no_grad
        return g, grad_x, grad_b

    def _bias(self):
        return self.params["bias"] if self.use_bias else self._zero_bias

    def forward(self, x, training=False):
        return self._numpy_forward(x, training) if numpy_tier() else self._kernel_forward(x, training)

    def backward(self, grad_out, need_grad_x=True):
        if self.cache.get("tier") == "numpy":
            return self._numpy_backward(grad_out, need_grad_x)
        return self._kernel_backward(grad_out, need_grad_x)

    def _numpy_forward(self, x, training):
        """forward on the NumPy tier; its tape becomes the cache (``"tier": "numpy"``)."""
        x, mask_x, mask_h = self._check(x, training)
        p, acts = self.params, [(a.code, a.alpha) for a in (self.act, getattr(self, "ract", self.act))]
        out, tape = numpy_recurrent.forward(self.cell, x, p["kernel"], p["recurrent_kernel"], self._bias(), mask_x,
                                            mask_h, *acts, self.go_backwards, self.return_sequences,
                                            getattr(self, "reset_after", True))
        return self._finish(out, tape)

    def _numpy_backward(self, grad_out, need_grad_x):
        g, grad_x, grad_b = self._backward_args(grad_out, need_grad_x)
        return numpy_recurrent.backward(self.cache, g, self.params["kernel"], self.params["recurrent_kernel"],
                                        self.grads["kernel"], self.grads["recurrent_kernel"], grad_b,
                                        grad_x if need_grad_x else None)

    def _chunks(self, batch: int) -> int:
        """Sample ranges the kernels cut the batch into (one per thread at most, >= MIN_CHUNK samples)."""
        if self.n_chunks is not None:
            return max(1, min(self.n_chunks, batch))
        work = batch * self.units * self.units * self.n_gates  # multiply-adds of one recurrent product
        if work < PARALLEL_WORK:
            return 1
        return max(1, min(numba.get_num_threads(), batch // MIN_CHUNK))

    @property
    def _fast(self) -> bool:
        return self.dtype == np.float32

    def _states(self, key="hs"):
        """(batch, T, U) view-friendly copy of a state array of the last forward (initial state dropped)."""
        batch, steps, _ = self.cache["x_shape"]
        return self.cache[key][batch:].reshape(steps, batch, -1).transpose(1, 0, 2).copy()

    def _gates(self):
        batch, steps, _ = self.cache["x_shape"]
        return self.cache["gates"].reshape(steps, batch, self.n_gates, self.units).transpose(1, 0, 2, 3).copy()

    def extras(self):
        """``hidden``: (batch, T, units) states of the last forward, in processing order."""
        if "hs" not in self.cache:
            return {}
        return {"hidden": self._states()}


@register
class SimpleRNN(_Recurrent):
    """Fully-connected recurrence ``h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Shapes:
        input (T, F) -> output (units,) or (T, units); kernel (F, U); recurrent_kernel (U, U); bias (U,).
    """

    def _kernel_forward(self, x, training=False):
        x, a, out = self._prepare(x, training)
        p = self.params
        self._run_forward(K.rnn_forward, x, p["kernel"], p["recurrent_kernel"], self._bias(), self.act.code,
                           self.act.alpha, self._fast, self.go_backwards, a["mask_x"], a["mask_h"], a["xt"],
                           a["pre"], a["hs"], a["hrec"], out, batch=x.shape[0], training=training)
        return self._finish(out, a)

    def _kernel_backward(self, grad_out, need_grad_x=True):
        c, p = self.cache, self.params
        g, grad_x, grad_b = self._backward_args(grad_out, need_grad_x)
        dz = self._work("dz", c["pre"].shape)
        self._run_backward(K.rnn_backward, g, p["kernel"], p["recurrent_kernel"], c["xt"], c["pre"], c["hs"],
                           c["hrec"], c["mask_x"], c["mask_h"], self.act.code, self.act.alpha, self.go_backwards,
                           self.use_bias, need_grad_x, dz, self.grads["kernel"], self.grads["recurrent_kernel"],
                           grad_b, grad_x, batch=g.shape[0])
        return grad_x if need_grad_x else None


class _Gated(_Recurrent):
    """LSTM and GRU: a second (recurrent) activation for the gates."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.ract = acts.get(recurrent_activation)
        if self.ract.name == "softmax":
            raise NnplayError(f"{type(self).__name__}: recurrent_activation='softmax' is not supported; "
                              f"use sigmoid (the default) or hard_sigmoid")

    recurrent_activation = property(lambda self: self.ract.name)


@register
class LSTM(_Gated):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras' gate order i, f, c, o.

    ``c_t = f * c_{t-1} + i * act(x W_c + h U_c + b_c)``; ``h_t = o * act(c_t)``; the gates i, f, o use
    ``recurrent_activation``. With ``unit_forget_bias`` the forget-gate bias starts at 1.

    Shapes:
        input (T, F) -> output (units,) or (T, units); kernel (F, 4U); recurrent_kernel (U, 4U); bias (4U,).
    """

    n_gates = 4
    cell = "lstm"
    config_keys = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                   "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
                   "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "dropout",
                   "recurrent_dropout", "seed", "return_sequences", "go_backwards")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        if self.use_bias and self.unit_forget_bias:
            self.params["bias"][self.units:2 * self.units] = 1.0

    def _kernel_forward(self, x, training=False):
        x, a, out = self._prepare(x, training)
        rows, batch, u, p = a["xt"].shape[0], x.shape[0], self.units, self.params
        a["gates"] = self._work("gates", (rows, 4 * u))
        a["cs"] = self._work("cs", (rows + batch, u))
        a["tc"] = self._work("tc", (rows, u))
        self._run_forward(K.lstm_forward, x, p["kernel"], p["recurrent_kernel"], self._bias(), self.act.code,
                           self.act.alpha, self.ract.code, self.ract.alpha, self._fast, self.go_backwards,
                           a["mask_x"], a["mask_h"], a["xt"], a["pre"], a["gates"], a["hs"], a["cs"], a["tc"],
                           a["hrec"], out, batch=batch, training=training)
        return self._finish(out, a)

    def _kernel_backward(self, grad_out, need_grad_x=True):
        c, p = self.cache, self.params
        g, grad_x, grad_b = self._backward_args(grad_out, need_grad_x)
        dz = self._work("dz", c["pre"].shape)
        self._run_backward(K.lstm_backward, g, p["kernel"], p["recurrent_kernel"], c["xt"], c["pre"], c["gates"],
                           c["hs"], c["cs"], c["tc"], c["hrec"], c["mask_x"], c["mask_h"], self.act.code,
                           self.act.alpha, self.ract.code, self.ract.alpha, self.go_backwards, self.use_bias,
                           need_grad_x, dz, self.grads["kernel"], self.grads["recurrent_kernel"], grad_b, grad_x,
                           batch=g.shape[0])
        return grad_x if need_grad_x else None

    def extras(self):
        """``hidden`` and ``cell`` (batch, T, units); ``gates`` (batch, T, 4, units): i, f, c~, o."""
        if "gates" not in self.cache:
            return {}
        return {"hidden": self._states(), "cell": self._states("cs"), "gates": self._gates()}


@register
class GRU(_Gated):
    """Gated recurrent unit (Cho et al. 2014), Keras' gate order z, r, h.

    ``h_t = z * h_{t-1} + (1 - z) * hh``. With ``reset_after`` (default, as Keras/cuDNN):
    ``hh = act(x W_h + b_ih + r * (h_{t-1} U_h + b_hh))``, bias (2, 3U) = input row, recurrent row.
    Without: ``hh = act(x W_h + b_h + (r * h_{t-1}) U_h)``, bias (3U,).

    Shapes:
        input (T, F) -> output (units,) or (T, units); kernel (F, 3U); recurrent_kernel (U, 3U).
    """

    n_gates = 3
    cell = "gru"
    config_keys = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                   "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
                   "bias_regularizer", "activity_regularizer", "dropout", "recurrent_dropout", "seed",
                   "return_sequences", "go_backwards", "reset_after")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _bias2d(self, b):
        return b if self.reset_after else b.reshape(1, -1)

    def _kernel_forward(self, x, training=False):
        x, a, out = self._prepare(x, training)
        p = self.params
        a["hp"] = self._work("hp", a["pre"].shape)
        a["gates"] = self._work("gates", a["pre"].shape)
        self._run_forward(K.gru_forward, x, p["kernel"], p["recurrent_kernel"], self._bias2d(self._bias()),
                           self.act.code, self.act.alpha, self.ract.code, self.ract.alpha, self._fast,
                           self.reset_after, self.go_backwards, a["mask_x"], a["mask_h"], a["xt"], a["pre"],
                           a["hp"], a["gates"], a["hs"], a["hrec"], out, batch=x.shape[0],
                           training=training)
        return self._finish(out, a)

    def _kernel_backward(self, grad_out, need_grad_x=True):
        c, p = self.cache, self.params
        g, grad_x, grad_b = self._backward_args(grad_out, need_grad_x)
        dx = self._work("dx", c["pre"].shape)
        dhp = self._work("dhp", c["pre"].shape if self.reset_after else (0, 3 * self.units))
        self._run_backward(K.gru_backward, g, p["kernel"], p["recurrent_kernel"], c["xt"], c["pre"], c["hp"],
                           c["gates"], c["hs"], c["hrec"], c["mask_x"], c["mask_h"], self.act.code, self.act.alpha,
                           self.ract.code, self.ract.alpha, self.reset_after, self.go_backwards, self.use_bias,
                           need_grad_x, dx, dhp, self.grads["kernel"], self.grads["recurrent_kernel"],
                           self._bias2d(grad_b), grad_x, batch=g.shape[0])
        return grad_x if need_grad_x else None

    def extras(self):
        """``hidden`` (batch, T, units); ``gates`` (batch, T, 3, units): z, r, hh."""
        if "gates" not in self.cache:
            return {}
        return {"hidden": self._states(), "gates": self._gates()}
