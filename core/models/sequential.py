"""``Sequential``: Keras' linear stack of layers, on the shared :class:`~.model.Model`."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import NnplayError
from ..layers.base import LAYER_TYPES, Layer, layer_from_config
from ..layers.core import Dropout, InputLayer
from ..layers.symbolic import SymbolicTensor
from .model import Model


class Sequential(Model):
    """A linear stack of layers (Keras' ``Sequential``), itself usable as a layer of another model."""

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None, *, seed: int | None = None,
                 dtype="float32", trainable: bool = True):
        super().__init__(name=name, seed=seed, dtype=dtype, trainable=trainable)
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ stack
    def add(self, layer: Layer) -> None:
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer            # Sequential([Input(shape=...), ...])
        if not isinstance(layer, Layer):
            raise NnplayError(f"Sequential.add takes a layer, got {layer!r}")
        if isinstance(layer, InputLayer):
            if self.layers or self._input_shape is not None:
                raise NnplayError("Input(...) must come first in a Sequential model")
            self._input_shape = layer.shape
            return
        if not self.layers and self._input_shape is None:
            if layer.input_spec is not None:
                self._input_shape = layer.input_spec
            elif isinstance(layer, Model) and len(layer.input_shapes) == 1:
                self._input_shape = layer.input_shapes[0]   # a model that knows its input shape passes it on
        claim_name(layer, self.layers)
        self.layers.append(layer)
        self.built = False
        self.compiled = False

    def pop(self) -> Layer:
        if not self.layers:
            raise NnplayError("pop() on an empty model")
        self.built = self.compiled = False
        return self.layers.pop()

    # ------------------------------------------------------------------ build
    def build(self, input_shape=None, rng=None, dtype=None) -> None:
        """Build every layer, checking shapes (``input_shape`` with or without the batch axis ``None``).
        Called by compile, fit or the first call; call it directly to see errors early."""
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if input_shape and input_shape[0] is None:
                input_shape = input_shape[1:]
            self._input_shape = tuple(int(s) for s in input_shape)
        if self._input_shape is None:
            raise NnplayError("the model does not know its input shape: give the first layer input_shape=... "
                              "(or input_dim=...), or start with Input(shape=...)")
        if not self.layers:
            raise NnplayError("the model has no layers: add at least one, e.g. Dense(1)")
        if dtype is not None:
            self.model_dtype = np.dtype(dtype)
        init_rng = self._streams()
        if rng is not None:  # nested inside another model: that model's stream
            init_rng = rng
        shape = self._input_shape
        for layer in self.layers:
            layer_rng = init_rng if not isinstance(layer, Dropout) else self._dropout_rng
            if not (isinstance(layer, Model) and layer.built and layer.input_shape == tuple(shape)
                    and layer.model_dtype == self.model_dtype):  # a shared sub-model keeps its weights
                layer.build(shape, layer_rng, self.model_dtype)
            shape = layer.output_shape
        Layer.build(self, self._input_shape, init_rng, self.model_dtype)
        self.built = True

    def compute_output_shape(self, input_shape):
        return self.layers[-1].output_shape

    def _output_layers(self) -> list:
        return self.layers[-1:]

    def _dense_chain(self) -> list:
        return list(self.layers)

    # ------------------------------------------------------------------ passes
    def forward(self, x, training=False):
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad_out, need_grad_x=True):
        n = len(self.layers)
        for i in range(n - 1, -1, -1):
            grad_out = self.layers[i].backward(grad_out, need_grad_x or i > 0)
        return grad_out

    def _plan_backward(self):
        # A layer needs grad_x only if some layer before it has weights to train; layers before the first
        # trainable one get no gradient at all.
        first = next((i for i, l in enumerate(self.layers) if l.trainable_weights()), len(self.layers))
        return first, [i > first for i in range(len(self.layers))]

    def _train_backward(self, grad) -> None:
        layers, (first, need) = self.layers, self._backward_plan
        for i in range(len(layers) - 1, first - 1, -1):
            grad = layers[i].backward(grad, need[i])

    # ------------------------------------------------------------------ views
    def predict_until(self, x, name: str, batch_size: int = 256) -> np.ndarray:
        """Run the model (inference mode) up to and including the layer ``name``: an autoencoder's latent
        codes are ``model.predict_until(x, "bottleneck")``. ``name`` may be a layer of a nested model."""
        x, _ = self.check_data(x, what="x")
        target = self.get_layer(name)
        path = _path_to(self, target)
        outs = []
        for i in range(0, len(x), max(1, int(batch_size))):
            outs.append(_forward_until(self, x[i:i + batch_size], path))
        return np.concatenate(outs, axis=0) if outs else np.zeros((0, *target.output_shape), self.model_dtype)

    def activations(self, x, training: bool = False) -> list[dict]:
        """Every layer's output for a few samples, with layer internals (gates, states) where a layer has them.

        Returns a list, one dict per layer: ``{"name", "type", "output", **layer.extras()}``.
        """
        x, _ = self.check_data(x, what="x")
        out, result = x, []
        for layer in self.layers:
            out = layer.forward(out, training)
            result.append({"name": layer.name, "type": type(layer).__name__, "output": out.copy(), **layer.extras()})
        return result

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        cfg = {"type": "sequential", "name": self.name, "dtype": str(self.model_dtype), "seed": self.seed,
               "layers": [l.get_config() for l in self.layers]}
        if self._input_shape is not None:
            cfg["input_shape"] = list(self._input_shape)
        return cfg

    @classmethod
    def from_config(cls, cfg: dict) -> "Sequential":
        cfg = dict(cfg)
        layers = [layer_from_config(c) for c in cfg.pop("layers", [])]
        input_shape = cfg.pop("input_shape", None)
        model = cls(layers, name=cfg.get("name"), seed=cfg.get("seed"), dtype=cfg.get("dtype", "float32"))
        if input_shape is not None:
            model._input_shape = tuple(input_shape)
        return model


LAYER_TYPES.add("sequential", Sequential)       # a model inside another is rebuilt from its config too


def claim_name(layer: Layer, taken_by: list) -> None:
    """Give an unnamed layer the first free ``dense``, ``dense_1``, ... among ``taken_by`` (its name is then
    settled: another model never renames it); two layers named alike in one model are an error."""
    taken = {l.name for l in taken_by}
    if layer.auto_named:
        base = layer.base_name
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        layer.name = name
        layer.auto_named = False
    elif layer.name in taken:
        raise NnplayError(f"two layers are named {layer.name!r}; layer names must be unique in a model")


def _path_to(model, target) -> list:
    """The chain of layers from ``model`` down to ``target`` (``[model, ..., target]``), or []."""
    if model is target:
        return [model]
    for sub in getattr(model, "layers", ()):
        path = _path_to(sub, target)
        if path:
            return [model, *path]
    return []


def _forward_until(model, x, path):
    """Inference forward through ``model`` stopping after ``path[1]`` (recursing into nested models)."""
    for layer in model.layers:
        if layer is path[1]:
            return layer.forward(x, False) if len(path) == 2 else _forward_until(layer, x, path[1:])
        x = layer.forward(x, False)
    raise AssertionError("layer not in model")
