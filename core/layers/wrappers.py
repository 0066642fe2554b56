"""Layer wrappers: Bidirectional (a recurrent layer read both ways) and TimeDistributed (a layer per step).

A wrapper owns no weights itself: ``trainable_weights()``/``all_weights()`` return its inner layers'
(owner, name) pairs, so the model binds, trains, saves and gradient-checks them like any other weight.
"""
from __future__ import annotations

import numpy as np

from ..errors import NnplayError
from .base import Layer, layer_from_config, register
from .recurrent import _Recurrent

MERGE_MODES = ("concat", "sum", "mul", "ave")


class _Wrapper(Layer):
    """Delegates weights, penalties and regularizers to ``self.inner`` (a list of layers)."""

    inner: list[Layer]

    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.inner for w in layer.trainable_weights()]

    def all_weights(self):
        return [w for layer in self.inner for w in layer.all_weights()]

    def param_weights(self):
        return [w for layer in self.inner for w in layer.param_weights()]

    def _collect_regularizers(self) -> None:
        # The model penalises a layer when ``regularizers`` or ``activity_regularizer`` is set: mirror the
        # inner layers' so it finds them, then delegate the arithmetic.
        self.regularizers = {f"{l.name}/{n}": r for l in self.inner for n, r in l.regularizers.items()}
        self.activity_regularizer = next((l.activity_regularizer for l in self.inner
                                          if l.activity_regularizer is not None), None)

    def penalty(self):
        return float(sum(l.penalty() for l in self.inner))

    def add_penalty_grads(self):
        for l in self.inner:
            l.add_penalty_grads()

    def _activity_penalty(self) -> None:
        total = sum(float(l.cache.get("activity_penalty", 0.0)) for l in self.inner)
        if self.activity_regularizer is not None:
            self.cache["activity_penalty"] = total


@register
class Bidirectional(_Wrapper):
    """Runs a recurrent layer forwards and a copy of it backwards, then merges the two outputs (Keras).

    The backward copy is built from the layer's config with ``go_backwards`` flipped; with
    ``return_sequences`` its output is flipped back so both line up in time. Weights: the forward
    layer's, then the backward layer's; the copies are named ``forward_<name>`` and ``backward_<name>``.

    Shapes:
        input (T, F) -> (U,) / (T, U) for each direction; merged by ``concat`` -> (2U,) / (T, 2U), or
        elementwise by ``sum``, ``mul``, ``ave``.
    """

    config_keys = ("layer", "merge_mode")

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if isinstance(layer, dict):
            layer = layer_from_config(layer)
        if isinstance(backward_layer, dict):
            backward_layer = layer_from_config(backward_layer)
        if "input_shape" not in kwargs and "input_dim" not in kwargs and isinstance(layer, Layer):
            kwargs["input_shape"] = layer.input_spec
        super().__init__(**kwargs)
        if not isinstance(layer, _Recurrent):
            raise NnplayError(f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU), got {layer!r}")
        if merge_mode not in MERGE_MODES:
            raise NnplayError(f"Bidirectional: merge_mode must be one of {', '.join(MERGE_MODES)}, got "
                              f"merge_mode={merge_mode!r}" + (" (None, two outputs, is not supported in a "
                                                              "Sequential model)" if merge_mode is None else ""))
        self.merge_mode = merge_mode
        self._layer_config = self._inner_config(layer)
        self._backward_config = None
        if backward_layer is None:
            cfg = dict(self._layer_config)
            cfg["go_backwards"] = not layer.go_backwards
            cfg.pop("name", None)
            backward_layer = layer_from_config(cfg)
            backward_layer.auto_named, backward_layer.name = layer.auto_named, layer.name
        else:
            if not isinstance(backward_layer, _Recurrent) or backward_layer.return_sequences != layer.return_sequences:
                raise NnplayError("Bidirectional: backward_layer must be a recurrent layer with the same "
                                  "return_sequences as the forward layer")
            self._backward_config = self._inner_config(backward_layer)
        self.forward_layer, self.backward_layer = layer, backward_layer
        self._inner_names = (layer.name, backward_layer.name)
        self.inner = [layer, backward_layer]
        self.return_sequences = layer.return_sequences

    @classmethod
    def from_config(cls, cfg: dict) -> "Bidirectional":
        """Rebuild from :meth:`get_config`: the nested ``layer`` (and ``backward_layer``) dicts become layers."""
        cfg = dict(cfg)
        cfg["layer"] = layer_from_config(cfg["layer"])
        if cfg.get("backward_layer") is not None:
            cfg["backward_layer"] = layer_from_config(cfg["backward_layer"])
        return cls(**cfg)

    @staticmethod
    def _inner_config(layer: Layer) -> dict:
        cfg = layer.get_config()
        cfg.pop("input_shape", None)
        if layer.auto_named:
            cfg.pop("name", None)
        return cfg

    @property
    def layer(self) -> Layer:
        return self.forward_layer

    def get_config(self) -> dict:
        cfg = {"type": "bidirectional", "name": self.name, "layer": dict(self._layer_config),
               "merge_mode": self.merge_mode}
        if self._backward_config is not None:
            cfg["backward_layer"] = dict(self._backward_config)
        if self.input_spec is not None:
            cfg["input_shape"] = list(self.input_spec)
        if not self.trainable:
            cfg["trainable"] = False
        return cfg

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return (*shape[:-1], 2 * shape[-1])
        return shape

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        # forward_lstm, backward_lstm; inside "bidirectional_2": forward_lstm_2 (unique in the model).
        suffix = self.name[len(self.base_name):] if self.auto_named and self.name.startswith(self.base_name) else ""
        for layer, prefix, name in zip(self.inner, ("forward_", "backward_"), self._inner_names):
            layer.name = prefix + (layer.base_name + suffix if layer.auto_named else name)
            layer.build(input_shape, rng, dtype)
        self._collect_regularizers()

    def forward(self, x, training=False):
        y_f = self.forward_layer.forward(x, training)
        y_b = self.backward_layer.forward(x, training)
        if self.return_sequences:
            y_b = y_b[:, ::-1]
        self.cache = {"y_f": y_f, "y_b": y_b}
        self._activity_penalty()
        mode = self.merge_mode
        if mode == "concat":
            return np.concatenate([y_f, y_b], axis=-1)
        if mode == "sum":
            return y_f + y_b
        if mode == "ave":
            return (y_f + y_b) * y_f.dtype.type(0.5)
        return y_f * y_b

    def backward(self, grad_out, need_grad_x=True):
        mode, c = self.merge_mode, self.cache
        if mode == "concat":
            units = c["y_f"].shape[-1]
            g_f, g_b = grad_out[..., :units], grad_out[..., units:]
        elif mode == "sum":
            g_f = g_b = grad_out
        elif mode == "ave":
            g_f = g_b = grad_out * grad_out.dtype.type(0.5)
        else:
            g_f, g_b = grad_out * c["y_b"], grad_out * c["y_f"]
        if self.return_sequences:
            g_b = g_b[:, ::-1]
        dx_f = self.forward_layer.backward(np.ascontiguousarray(g_f), need_grad_x)
        dx_b = self.backward_layer.backward(np.ascontiguousarray(g_b), need_grad_x)
        return dx_f + dx_b if need_grad_x else None

    def extras(self):
        """The inner layers' views, keys prefixed ``forward_``/``backward_`` (e.g. ``forward_hidden``)."""
        out = {}
        for prefix, layer in (("forward_", self.forward_layer), ("backward_", self.backward_layer)):
            out.update({prefix + k: v for k, v in layer.extras().items()})
        return out


@register
class TimeDistributed(_Wrapper):
    """Applies one layer to every time step: (batch, T, ...) -> (batch * T, ...) -> layer -> (batch, T, ...).

    ``TimeDistributed(Dense(10))`` is what Keras writes for a per-step classifier after
    ``return_sequences=True``. The inner layer's weights are shared by all steps.

    Shapes:
        input (T, *inner_input) -> (T, *inner_output).
    """

    config_keys = ("layer",)

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = layer_from_config(layer)
        if not isinstance(layer, Layer):
            raise NnplayError(f"TimeDistributed wraps a layer, e.g. TimeDistributed(Dense(10)), got {layer!r}")
        if "input_shape" not in kwargs and "input_dim" not in kwargs and layer.input_spec is not None:
            kwargs["input_shape"] = layer.input_spec
        super().__init__(**kwargs)
        self.layer = layer
        self.inner = [layer]

    @classmethod
    def from_config(cls, cfg: dict) -> "TimeDistributed":
        """Rebuild from :meth:`get_config`: the nested ``layer`` dict becomes a layer."""
        cfg = dict(cfg)
        cfg["layer"] = layer_from_config(cfg["layer"])
        return cls(**cfg)

    def get_config(self) -> dict:
        cfg = super().get_config()
        inner = self.layer.get_config()
        inner.pop("input_shape", None)
        if self.layer.auto_named:
            inner.pop("name", None)
        cfg["layer"] = inner
        return cfg

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise self.shape_error(input_shape, "TimeDistributed needs (timesteps, ...) input with at least one "
                                                "axis per step", "use the layer without TimeDistributed, or "
                                                "return_sequences=True on the recurrent layer before")
        return (input_shape[0], *self.layer.compute_output_shape(tuple(input_shape[1:])))

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        self.layer.build(tuple(input_shape[1:]), rng, dtype)
        self._collect_regularizers()

    def forward(self, x, training=False):
        batch, steps = x.shape[0], x.shape[1]
        y = self.layer.forward(x.reshape(batch * steps, *x.shape[2:]), training)
        self.cache = {"lead": (batch, steps)}
        self._activity_penalty()
        return y.reshape(batch, steps, *y.shape[1:])

    def backward(self, grad_out, need_grad_x=True):
        batch, steps = self.cache["lead"]
        g = np.ascontiguousarray(grad_out).reshape(batch * steps, *grad_out.shape[2:])
        dx = self.layer.backward(g, need_grad_x)
        return None if dx is None or not need_grad_x else dx.reshape(batch, steps, *dx.shape[1:])

    def extras(self):
        return self.layer.extras()
