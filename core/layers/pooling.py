"""Pooling and upsampling layers (channels-last, Keras' names, arguments and "same" padding).

Shapes:
    MaxPooling2D / AveragePooling2D: (H, W, C) -> (OH, OW, C); "valid": floor((H - p) / s) + 1,
        "same": ceil(H / s). The 1-D versions take (steps, C) and run the 2-D kernels at height 1.
    GlobalAveragePooling2D / GlobalMaxPooling2D: (H, W, C) -> (C,) (``keepdims``: (1, 1, C)).
    UpSampling2D: (H, W, C) -> (H * sh, W * sw, C), nearest neighbour.
"""
from __future__ import annotations

import numpy as np

from ..errors import NnplayError
from ..kernels import batched as B
from ..kernels import pool as P
from ..pacing import Chunked, kernel_threads
from ..tiers import conv as T
from ..tiers import numpy_tier
from .base import Layer, _positive_int, format_shape, register
from .conv_args import as_pair, as_padding, check_keras_only, conv_length, image_hint


def _one(layer: str, field: str, value) -> int:
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    return _positive_int(layer, field, value)


#: Max pooling cuts the batch into sample ranges that may run on separate threads (see nnplay.core.pacing)
#: once its input has this many values.
PARALLEL_SIZE = 1 << 16


class _Pool(Chunked, Layer):
    """Max/average pooling over 2-D windows (1-D layers are the height-1 case)."""

    config_keys = ("pool_size", "strides", "padding")
    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = f"{type(self).__name__} {self.name!r}"
        check_keras_only(cls, data_format)
        if self.rank == 1:
            self.pool_size = (_one(cls, "pool_size", pool_size),)
            self.strides = self.pool_size if strides is None else (_one(cls, "strides", strides),)
            self._p2, self._s2 = (1, *self.pool_size), (1, *self.strides)
        else:
            self.pool_size = as_pair(cls, "pool_size", pool_size)
            self.strides = self.pool_size if strides is None else as_pair(cls, "strides", strides)
            self._p2, self._s2 = self.pool_size, self.strides
        self.padding = as_padding(cls, padding)
        self._bufs: dict = {}
        self._init_pacing()

    def _chunks(self, batch: int) -> int:
        if self.n_chunks is not None:
            return max(1, min(self.n_chunks, batch))
        threads = kernel_threads()
        if threads == 1 or self.kind != "max" or batch * int(np.prod(self._in2)) < PARALLEL_SIZE:
            return 1
        return min(threads, batch)

    def compute_output_shape(self, input_shape):
        name = type(self).__name__
        if self.rank == 2 and len(input_shape) != 3:
            raise self.shape_error(input_shape, f"{name} needs (height, width, channels) input",
                                   image_hint(input_shape))
        if self.rank == 1 and len(input_shape) != 2:
            raise self.shape_error(input_shape, f"{name} needs (steps, channels) input")
        spatial = (1, input_shape[0]) if self.rank == 1 else input_shape[:2]
        out, pads = [], []
        for size, p, s in zip(spatial, self._p2, self._s2):
            o, before = conv_length(size, p, s, self.padding)
            out.append(o)
            pads.append(before)
        if min(out) <= 0:
            what = f"{spatial[1]} steps" if self.rank == 1 else f"the {spatial[0]}x{spatial[1]} input"
            raise self.shape_error(input_shape, f"pool_size {self.pool_size} does not fit in {what} with "
                                                f"padding='valid'", "use a smaller pool_size or padding='same'")
        self._pt, self._pl = pads
        self._out2 = (out[0], out[1], input_shape[-1])
        self._in2 = (*spatial, input_shape[-1])
        return (out[1], input_shape[-1]) if self.rank == 1 else self._out2

    def _buffers(self, n: int, dtype) -> dict:
        """Per-batch-size buffers (argmax indices, grad_x), kept between calls: fresh multi-MB arrays
        page-fault on every step. grad_x is consumed at once by the layer below."""
        key = (n, np.dtype(dtype).char)
        bufs = self._bufs.get(key)
        if bufs is None:
            if len(self._bufs) >= 3:
                self._bufs.clear()
            bufs = self._bufs[key] = {"idx": np.empty((n, *self._out2), np.int32) if self.kind == "max" else None,
                                      "grad_x": None}
        return bufs

    def forward(self, x, training=False):
        if x.shape[1:] != self.input_shape:
            raise NnplayError(f"layer {self.name!r} expects input of shape {format_shape(self.input_shape)}, "
                              f"got {format_shape(x.shape[1:])}")
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        n = x.shape[0]
        x4 = x.reshape(n, *self._in2)
        if numpy_tier() and x.dtype.kind == "f":
            return self._numpy_forward(x4, x.shape)
        out = np.empty((n, *self._out2), x.dtype)
        bufs = self._buffers(n, x.dtype)
        (ph, pw), (sh, sw) = self._p2, self._s2
        if self.kind == "max":
            self._run_forward(B.maxpool2d_forward_chunks, x4, ph, pw, sh, sw, self._pt, self._pl, out, bufs["idx"],
                              batch=n, training=training)
        else:
            P.avgpool2d_forward(x4, ph, pw, sh, sw, self._pt, self._pl, out)
        self.cache = {"shape": x.shape, "bufs": bufs}
        return out.reshape(n, *self.output_shape)

    def _numpy_forward(self, x4, shape):
        """The NumPy tier's forward (see nnplay.core.tiers); x4 is the (batch, H, W, C) view of the input."""
        geometry = (self._p2, self._s2, (self._pt, self._pl), self._out2[:2])
        if self.kind == "max":
            out, arg = T.maxpool2d_forward(x4, *geometry)
        else:
            out, arg = T.avgpool2d_forward(x4, *geometry), None
        self.cache = {"tier": "numpy", "shape": shape, "arg": arg}
        return out.reshape(shape[0], *self.output_shape)

    def backward(self, grad_out, need_grad_x=True):
        shape = self.cache["shape"]
        n = shape[0]
        g = np.ascontiguousarray(grad_out).reshape(n, *self._out2)
        if self.cache.get("tier") == "numpy":
            pads, x_shape = (self._pt, self._pl), (n, *self._in2)
            grad_x = (T.maxpool2d_backward(g, self.cache["arg"], self._p2, self._s2, pads, x_shape)
                      if self.kind == "max" else T.avgpool2d_backward(g, self._p2, self._s2, pads, x_shape))
            return grad_x.reshape(shape)
        bufs = self.cache["bufs"]
        grad_x = bufs["grad_x"]
        if grad_x is None or grad_x.dtype != g.dtype:
            grad_x = bufs["grad_x"] = np.empty((n, *self._in2), g.dtype)
        (ph, pw), (sh, sw) = self._p2, self._s2
        if self.kind == "max":
            self._run_backward(B.maxpool2d_backward_chunks, g, bufs["idx"], sh, sw, ph, pw, grad_x, batch=n)
        else:
            P.avgpool2d_backward(g, ph, pw, sh, sw, self._pt, self._pl, grad_x)
        return grad_x.reshape(shape)


@register
class MaxPooling2D(_Pool):
    """Max over each ``pool_size`` window (Keras' MaxPooling2D); the gradient goes to the first maximum."""


@register
class AveragePooling2D(_Pool):
    """Mean over each window (Keras' AveragePooling2D); with "same", padded cells are not counted."""

    kind = "avg"


@register
class MaxPooling1D(_Pool):
    """Max over windows of ``pool_size`` steps: (steps, C) -> (out_steps, C)."""

    rank = 1


@register
class AveragePooling1D(_Pool):
    """Mean over windows of ``pool_size`` steps: (steps, C) -> (out_steps, C)."""

    rank = 1
    kind = "avg"


class _GlobalPool(Layer):
    """Max or mean over every spatial axis (all but batch and channels)."""

    config_keys = ("keepdims",)
    rank = 2
    kind = "avg"

    def __init__(self, keepdims=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_keras_only(type(self).__name__, data_format)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        want = self.rank + 1
        if len(input_shape) != want:
            layout = "(height, width, channels)" if self.rank == 2 else "(steps, channels)"
            raise self.shape_error(input_shape, f"{type(self).__name__} needs {layout} input")
        return (*([1] * self.rank), input_shape[-1]) if self.keepdims else (input_shape[-1],)

    def forward(self, x, training=False):
        n, c = x.shape[0], x.shape[-1]
        x3 = x.reshape(n, -1, c)
        self.cache = {"shape": x.shape}
        if self.kind == "avg":
            out = x3.mean(axis=1)
        else:
            idx = x3.argmax(axis=1)  # first maximum, like the windowed max
            out = np.take_along_axis(x3, idx[:, None, :], axis=1)[:, 0, :]
            self.cache["idx"] = idx
        return out.reshape(n, *self.output_shape)

    def backward(self, grad_out, need_grad_x=True):
        shape = self.cache["shape"]
        n, c = shape[0], shape[-1]
        g = grad_out.reshape(n, 1, c)
        cells = int(np.prod(shape[1:-1]))
        if self.kind == "avg":
            grad_x = np.broadcast_to(g / cells, (n, cells, c)).copy()
        else:
            grad_x = np.zeros((n, cells, c), grad_out.dtype)
            np.put_along_axis(grad_x, self.cache["idx"][:, None, :], g, axis=1)
        return grad_x.reshape(shape)


@register
class GlobalAveragePooling2D(_GlobalPool):
    """(H, W, C) -> (C,): the mean of each channel."""


@register
class GlobalMaxPooling2D(_GlobalPool):
    """(H, W, C) -> (C,): the max of each channel (the gradient goes to its first maximum)."""

    kind = "max"


@register
class GlobalAveragePooling1D(_GlobalPool):
    """(steps, C) -> (C,): the mean over steps."""

    rank = 1


@register
class GlobalMaxPooling1D(_GlobalPool):
    """(steps, C) -> (C,): the max over steps."""

    rank = 1
    kind = "max"


@register
class UpSampling2D(Layer):
    """Repeat each pixel ``size`` times along height and width (Keras' UpSampling2D, nearest).

    Shapes:
        (H, W, C) -> (H * size[0], W * size[1], C).
    """

    config_keys = ("size", "interpolation")

    def __init__(self, size=(2, 2), interpolation="nearest", data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = f"UpSampling2D {self.name!r}"
        check_keras_only(cls, data_format)
        self.size = as_pair(cls, "size", size)
        if interpolation != "nearest":
            raise NnplayError(f"{cls}: only interpolation='nearest' is supported, got interpolation={interpolation!r}")
        self.interpolation = "nearest"

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise self.shape_error(input_shape, "UpSampling2D needs (height, width, channels) input",
                                   image_hint(input_shape))
        return (input_shape[0] * self.size[0], input_shape[1] * self.size[1], input_shape[2])

    def forward(self, x, training=False):
        x = np.ascontiguousarray(x)
        if numpy_tier():
            self.cache = {"shape": x.shape, "tier": "numpy"}
            return T.upsampling2d_forward(x, self.size)
        out = np.empty((x.shape[0], *self.output_shape), x.dtype)
        P.upsampling2d_forward(x, self.size[0], self.size[1], out)
        self.cache = {"shape": x.shape}
        return out

    def backward(self, grad_out, need_grad_x=True):
        if self.cache.get("tier") == "numpy":
            return T.upsampling2d_backward(grad_out, self.size)
        grad_x = np.empty(self.cache["shape"], grad_out.dtype)
        P.upsampling2d_backward(np.ascontiguousarray(grad_out), self.size[0], self.size[1], grad_x)
        return grad_x


@register
class UpSampling1D(Layer):
    """Repeat each step ``size`` times: (steps, C) -> (steps * size, C)."""

    config_keys = ("size",)

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _one(f"UpSampling1D {self.name!r}", "size", size)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise self.shape_error(input_shape, "UpSampling1D needs (steps, channels) input")
        return (input_shape[0] * self.size, input_shape[1])

    def forward(self, x, training=False):
        self.cache = {"shape": x.shape}
        return np.repeat(x, self.size, axis=1)

    def backward(self, grad_out, need_grad_x=True):
        n, steps, c = self.cache["shape"]
        return grad_out.reshape(n, steps, self.size, c).sum(axis=2)
