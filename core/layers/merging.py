"""Merge layers (Keras' names): Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum.

Each takes a list of inputs (called on a list of tensors in the functional API) and returns one output;
``backward`` returns one gradient per input. Shapes are per sample, without the batch axis; ``axis``
counts the batch axis as 0, as in Keras (``-1``, the default, is the last one).
"""
from __future__ import annotations

import numpy as np

from ..errors import NnplayError
from .base import Layer, format_shape, register


class _Merge(Layer):
    """Shared checks: a list of at least ``min_inputs`` inputs."""

    min_inputs, max_inputs = 2, None

    def _check_count(self, input_shape) -> list[tuple]:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise NnplayError(f"layer {self.name!r} ({type(self).__name__}) merges a list of inputs: call it on a "
                              f"list of tensors, e.g. {type(self).__name__}()([a, b])")
        shapes = [tuple(int(v) for v in s) for s in input_shape]
        if len(shapes) < self.min_inputs or (self.max_inputs and len(shapes) > self.max_inputs):
            want = f"exactly {self.max_inputs}" if self.max_inputs == self.min_inputs else f"at least {self.min_inputs}"
            raise NnplayError(f"layer {self.name!r} ({type(self).__name__}) takes {want} inputs, got {len(shapes)}")
        return shapes

    def build(self, input_shape, rng, dtype=np.float32):
        shapes = self._check_count(input_shape)
        self.input_shape = shapes
        self.rng = rng
        self.dtype = np.dtype(dtype)
        self.output_shape = tuple(self.compute_output_shape(shapes))
        self.built = True


class _Elementwise(_Merge):
    """Inputs of one shape, combined value by value."""

    def compute_output_shape(self, shapes):
        if any(s != shapes[0] for s in shapes):
            raise NnplayError(f"layer {self.name!r} ({type(self).__name__}) needs inputs of one shape, got "
                              + ", ".join(format_shape(s) for s in shapes)
                              + "; use Concatenate to join different widths")
        return shapes[0]


@register
class Add(_Elementwise):
    """The sum of the inputs."""

    def forward(self, x, training=False):
        self.cache = {"n": len(x)}
        out = x[0].copy()
        for v in x[1:]:
            out += v
        return out

    def backward(self, grad_out, need_grad_x=True):
        return [grad_out] * self.cache["n"]


@register
class Subtract(_Elementwise):
    """``inputs[0] - inputs[1]``."""

    min_inputs = max_inputs = 2

    def forward(self, x, training=False):
        return x[0] - x[1]

    def backward(self, grad_out, need_grad_x=True):
        return [grad_out, -grad_out]


@register
class Multiply(_Elementwise):
    """The elementwise product of the inputs."""

    def forward(self, x, training=False):
        self.cache = {"x": list(x)}
        out = x[0].copy()
        for v in x[1:]:
            out *= v
        return out

    def backward(self, grad_out, need_grad_x=True):
        xs = self.cache["x"]
        grads = []
        for i in range(len(xs)):
            g = grad_out.copy()
            for j, v in enumerate(xs):
                if j != i:
                    g *= v
            grads.append(g)
        return grads


@register
class Average(_Elementwise):
    """The mean of the inputs."""

    def forward(self, x, training=False):
        self.cache = {"n": len(x)}
        out = x[0].copy()
        for v in x[1:]:
            out += v
        return out / np.asarray(len(x), out.dtype)

    def backward(self, grad_out, need_grad_x=True):
        n = self.cache["n"]
        g = grad_out / np.asarray(n, grad_out.dtype)
        return [g] * n


class _Extreme(_Elementwise):
    """Maximum / Minimum: the gradient goes to the input that was chosen (the first one on a tie)."""

    pick = staticmethod(np.argmax)

    def forward(self, x, training=False):
        stack = np.stack(x)
        idx = self.pick(stack, axis=0)
        self.cache = {"idx": idx, "n": len(x)}
        return np.take_along_axis(stack, idx[None], axis=0)[0]

    def backward(self, grad_out, need_grad_x=True):
        idx = self.cache["idx"]
        return [np.where(idx == i, grad_out, 0).astype(grad_out.dtype) for i in range(self.cache["n"])]


@register
class Maximum(_Extreme):
    """The elementwise maximum of the inputs."""

    pick = staticmethod(np.argmax)


@register
class Minimum(_Extreme):
    """The elementwise minimum of the inputs."""

    pick = staticmethod(np.argmin)


@register
class Concatenate(_Merge):
    """The inputs joined along ``axis`` (default: the last); their other sizes must match."""

    config_keys = ("axis",)

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis == 0:
            raise NnplayError(f"Concatenate: axis must be a whole number other than 0 (the batch axis), "
                              f"got axis={axis!r}")
        self.axis = int(axis)

    def compute_output_shape(self, shapes):
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise NnplayError(f"layer {self.name!r} (Concatenate) needs inputs of one rank, got "
                              + ", ".join(format_shape(s) for s in shapes))
        ax = self.axis - 1 if self.axis > 0 else rank + self.axis
        if not 0 <= ax < rank:
            raise NnplayError(f"layer {self.name!r} (Concatenate): axis={self.axis} is outside inputs of shape "
                              f"{format_shape(shapes[0])}")
        for s in shapes:
            if s[:ax] + s[ax + 1:] != shapes[0][:ax] + shapes[0][ax + 1:]:
                raise NnplayError(f"layer {self.name!r} (Concatenate) joins along axis {self.axis}, so the other "
                                  f"sizes must match; got " + ", ".join(format_shape(v) for v in shapes))
        self._ax = ax + 1
        return (*shapes[0][:ax], sum(s[ax] for s in shapes), *shapes[0][ax + 1:])

    def forward(self, x, training=False):
        self.cache = {"sizes": [v.shape[self._ax] for v in x]}
        return np.concatenate(x, axis=self._ax)

    def backward(self, grad_out, need_grad_x=True):
        cuts = np.cumsum(self.cache["sizes"])[:-1]
        return [np.ascontiguousarray(g) for g in np.split(grad_out, cuts, axis=self._ax)]
