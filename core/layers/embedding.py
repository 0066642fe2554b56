"""Embedding: integer indices -> rows of a trainable table (Keras' ``Embedding``)."""
from __future__ import annotations

import numpy as np

from .. import initializers, regularizers
from ..errors import NnplayError
from ..kernels.embedding import embedding_backward
from ..tiers import embedding as numpy_embedding
from ..tiers import numpy_tier
from .base import Layer, _positive_int, register


@register
class Embedding(Layer):
    """Looks up ``embeddings[index]`` for every index of the input.

    Indices may come as an integer array or as floats holding whole numbers (a model converts its input
    to float32, exact for indices below 2**24). Anything else, or an index outside ``[0, input_dim)``,
    raises :class:`NnplayError` naming the value. No gradient flows to the indices.

    Shapes:
        input (T,) (or any shape) of indices -> output (T, output_dim); embeddings (input_dim, output_dim).
    """

    takes_indices = True     #: called on arrays, integer indices stay integers

    weight_names = ("embeddings",)
    config_keys = ("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
                   "activity_regularizer")

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and kwargs.get("input_shape") is None:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        if mask_zero:
            raise NnplayError("Embedding: mask_zero=True is not supported (nnplay layers have no masking); "
                              "pad sequences to the same length and leave mask_zero=False")
        self.input_dim = _positive_int(f"Embedding {self.name!r}", "input_dim", input_dim)
        self.output_dim = _positive_int(f"Embedding {self.name!r}", "output_dim", output_dim)
        # Keras' "uniform" is RandomUniform(-0.05, 0.05); keep the short name in the config.
        self._init_name = embeddings_initializer if embeddings_initializer == "uniform" else None
        self._init = initializers.get("random_uniform" if self._init_name else embeddings_initializer)
        self._reg = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    embeddings_initializer = property(lambda self: self._init_name or initializers.serialize(self._init))
    embeddings_regularizer = property(lambda self: self._reg)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self._init, self._reg)

    def indices(self, x) -> np.ndarray:
        """x as int64 indices, or an NnplayError naming the first bad value."""
        x = np.asarray(x)
        if x.dtype.kind in "iub":
            idx = x.astype(np.int64, copy=False)
        elif x.dtype.kind == "f":
            idx = np.zeros(x.shape, np.int64)
            finite = np.isfinite(x)
            with np.errstate(invalid="ignore"):  # huge values wrap; the equality test below catches them
                idx[finite] = x[finite]
            bad = ~finite | (idx != x)
            if bad.any():
                pos = tuple(int(i) for i in np.argwhere(bad)[0])
                raise NnplayError(f"layer {self.name!r} (Embedding) takes integer indices, got {x[pos].item()!r} at "
                                  f"position {pos}; map each token to a whole number in [0, {self.input_dim})")
        else:
            raise NnplayError(f"layer {self.name!r} (Embedding) takes integer indices, got dtype {x.dtype}")
        if idx.size and idx.min() < 0:
            raise NnplayError(f"layer {self.name!r} (Embedding) got index {int(idx.min())}; indices must be in "
                              f"[0, {self.input_dim}) (input_dim={self.input_dim}): re-map the tokens to start at 0")
        if idx.size and idx.max() >= self.input_dim:
            top = int(idx.max())
            raise NnplayError(f"layer {self.name!r} (Embedding) got index {top}, outside [0, {self.input_dim}) "
                              f"(input_dim={self.input_dim}); set input_dim to the vocabulary size (at least "
                              f"{top + 1}) or re-map the tokens")
        return idx

    def forward(self, x, training=False):
        idx = self.indices(x)
        out = np.take(self.params["embeddings"], idx, axis=0)
        self.cache = {"idx": idx, "x": x}
        if self.activity_regularizer is not None:
            self._record_activity(out)
            self.cache["out"] = out
        return out

    def backward(self, grad_out, need_grad_x=True):
        c = self.cache
        if self.activity_regularizer is not None:
            grad_out = grad_out + self._activity_grad(c["out"], c["out"].shape[0])
        g = np.ascontiguousarray(grad_out, dtype=self.dtype).reshape(-1, self.output_dim)
        scatter = numpy_embedding.embedding_backward if numpy_tier() else embedding_backward
        scatter(c["idx"].reshape(-1), g, self.grads["embeddings"])
        if not need_grad_x:
            return None
        return np.zeros(np.shape(c["x"]), self.dtype)  # indices are piecewise constant: zero gradient
