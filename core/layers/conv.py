"""Convolution layers: Conv2D, Conv2DTranspose and Conv1D (channels-last, Keras weights and defaults).

Shapes:
    Conv2D: input (H, W, C) -> (OH, OW, filters); kernel (kh, kw, C, filters); bias (filters,).
    Conv2DTranspose: input (H, W, C) -> (OH, OW, filters); kernel (kh, kw, filters, C) (Keras' layout).
    Conv1D: input (steps, C) -> (out_steps, filters); kernel (k, C, filters); runs as a 2-D conv of height 1.

"same" padding is TensorFlow's: the output has ceil(size / stride) pixels and the padding total
``max((out - 1) * stride + k - size, 0)`` is split with the extra pixel at the bottom/right.
"""
from __future__ import annotations


import numpy as np

from ..errors import NnplayError
from ..kernels import batched as B
from ..kernels import conv as K
from ..pacing import Chunked, kernel_threads
from ..tiers import conv as T
from ..tiers import numpy_tier
from .base import Layer, _positive_int, format_shape, register
from .conv_args import PADDINGS, as_pair, as_padding, check_keras_only, conv_length, image_hint, single
from .core import _KernelBias

#: Above this many scratch values (256 MB in float32) the GEMM paths' window matrix is not allocated and
#: the direct loops run instead.
MAX_COLS = 64 * 1024 * 1024
#: PLANE (padded-plane im2col) is used for stride-1 layers with at most this many input channels: it
#: builds the window matrix from kh*kw*C long copies instead of one short copy per output pixel and tap.
#: Measured (float32, 1 thread, forward + backward): W3 conv1 (C=1) 1.7 ms vs 2.0 ms by ROWS; W4 conv
#: (C=1) 46 us vs 65 us; W3 conv2 (C=16) 7.9 ms vs 3.6 ms (ROWS wins once channels fill the copy loops).
#: See the table in kernels/conv.py.
PLANE_MAX_CHANNELS = 4

#: A convolution's batch is cut into sample ranges that may run on separate threads (see nnplay.core.pacing)
#: once its forward product has this many multiply-adds (W4's 32x8x8 -> 8 conv, 147k, stays whole).
PARALLEL_WORK = 1 << 20

class _Scratch:
    """The buffers of one batch size, kept between calls: fresh multi-MB arrays cost page faults on every
    step. ``cols`` (the window matrix) lives from forward to backward; ``z`` is internal (only ``a`` is
    returned); ``grad_x`` is returned by backward and consumed at once by the layer below."""

    __slots__ = ("method", "cols", "buf", "z", "grad_z", "grad_x", "n_chunks", "gw_parts", "gb_parts")


class _ConvBase(Chunked, _KernelBias):
    """Config, weights and scratch shared by the convolution layers."""

    weight_names = ("kernel", "bias")
    config_keys = ("filters", "kernel_size", "strides", "padding", "activation", "use_bias", "kernel_initializer",
                   "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer")
    rank = 2
    paddings = PADDINGS

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, data_format=None, dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        cls = f"{type(self).__name__} {self.name!r}"
        check_keras_only(cls, data_format, dilation_rate)
        self.filters = _positive_int(cls, "filters", filters)
        if self.rank == 1:
            self.kernel_size = (_positive_int(cls, "kernel_size", single(kernel_size)),)
            self.strides = (_positive_int(cls, "strides", single(strides)),)
        else:
            self.kernel_size = as_pair(cls, "kernel_size", kernel_size)
            self.strides = as_pair(cls, "strides", strides)
        self.padding = as_padding(cls, padding, self.paddings)
        self._set_kernel_bias_args(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                   bias_regularizer, activity_regularizer)
        self._scratches: dict[int, _Scratch] = {}
        self._init_pacing()

    def _add_weights(self, kernel_shape: tuple) -> None:
        self.add_weight("kernel", kernel_shape, self._kernel_init, self._kernel_reg)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self._bias_init, self._bias_reg)
        self._no_bias = np.zeros(1, self.dtype)
        self._scratches = {}

    def _scratch(self, n: int) -> _Scratch:
        s = self._scratches.get(n)
        if s is None or s.n_chunks != self._chunks(n):
            if len(self._scratches) >= 3:  # e.g. train / last partial batch / GAN's 2n: keep a few sizes
                self._scratches.clear()
            s = self._scratches[n] = self._new_scratch(n)
        return s

    def _new_scratch(self, n: int) -> _Scratch:
        raise NotImplementedError

    def _chunks(self, batch: int) -> int:
        """Sample ranges for the kernels: one per kernel thread once the product is big enough."""
        if self.n_chunks is not None:
            return max(1, min(self.n_chunks, batch))
        threads = kernel_threads()
        if threads == 1:
            return 1
        return min(threads, batch) if batch * self.work_per_sample() >= PARALLEL_WORK else 1

    def work_per_sample(self) -> int:
        """Multiply-adds of one sample's forward product."""
        oh, ow, f = self.output_shape if self.rank == 2 else (1, *self.output_shape)
        return oh * ow * f * int(np.prod(self.kernel_size)) * self.input_shape[-1]

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1:] != self.input_shape:
            raise NnplayError(f"layer {self.name!r} expects input of shape {format_shape(self.input_shape)}, "
                              f"got {format_shape(x.shape[1:])}")
        if x.dtype != self.dtype or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=self.dtype)
        return x

    def _outputs(self, s: _Scratch, shape: tuple):
        """(z, a): ``a`` is always fresh (it is returned); ``z`` is the scratch one unless it is ``a``."""
        a = np.empty(shape, self.dtype)
        return (a, a) if s.z is None else (s.z, a)

    def _grad_a(self, grad_out: np.ndarray) -> np.ndarray:
        grad_a = grad_out
        if grad_a.dtype != self.dtype or not grad_a.flags.c_contiguous:
            grad_a = np.ascontiguousarray(grad_a, dtype=self.dtype)
        grad_a = grad_a.reshape(self.cache["z"].shape)
        if self.activity_regularizer is not None:
            grad_a = grad_a + self._activity_grad(self.cache["a"], self.cache["x"].shape[0])
        return grad_a

    def _finish_forward(self, x, z, a, s, shape):
        self.cache = {"x": x, "z": z, "a": a, "s": s}
        out = a.reshape(shape) if a.shape != shape else a
        if self.activity_regularizer is not None:
            self._record_activity(out)
        return out

    def _grad_x(self, s: _Scratch, x: np.ndarray, need_grad_x: bool) -> np.ndarray:
        if not need_grad_x:
            return x  # a placeholder the kernels leave alone
        if s.grad_x is None:
            s.grad_x = np.empty_like(x)
        return s.grad_x

    def logits(self) -> np.ndarray:
        """Pre-activation output of the last forward, shaped like the output."""
        z = self.cache["z"]
        return z.reshape(z.shape[0], *self.output_shape)


@register
class Conv2D(_ConvBase):
    """2-D convolution, ``act(conv(x, kernel) + bias)`` (Keras' Conv2D, channels-last).

    Shapes:
        input (H, W, C) -> output (OH, OW, filters); kernel (kh, kw, C, filters); bias (filters,).
    """

    def compute_output_shape(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != 3:
            raise self.shape_error(input_shape, f"{name} needs (height, width, channels) input",
                                   image_hint(input_shape))
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        oh, self._pt = conv_length(input_shape[0], kh, sh, self.padding)
        ow, self._pl = conv_length(input_shape[1], kw, sw, self.padding)
        if oh <= 0 or ow <= 0:
            raise self.shape_error(input_shape, f"kernel_size {self.kernel_size} does not fit in the "
                                                f"{input_shape[0]}x{input_shape[1]} input with padding='valid'",
                                   "use padding='same', a smaller kernel_size, or a larger input")
        return (oh, ow, self.filters)

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        self._add_weights((*self.kernel_size, input_shape[-1], self.filters))
        self._plan(self.kernel_size, self.strides, self.input_shape, self.output_shape)

    def _plan(self, kernel_size, strides, in_shape, out_shape) -> None:
        """Record the 2-D geometry (Conv1D passes its height-1 view) and pick the kernel method."""
        self._ks2, self._st2, self._in2, self._out2 = kernel_size, strides, in_shape, out_shape
        self._w4 = (*kernel_size, in_shape[-1], out_shape[-1])
        self.method = K.PLANE if strides == (1, 1) and in_shape[-1] <= PLANE_MAX_CHANNELS else K.ROWS

    def _new_scratch(self, n: int) -> _Scratch:
        (kh, kw), c = self._ks2, self._in2[-1]
        oh, ow, f = self._out2
        s = _Scratch()
        method = self.method
        s.n_chunks = self._chunks(n)
        if method == K.PLANE:
            _, _, total, used = K.plane_geometry(n, oh, ow, kh, kw)
            if kh * kw * c * used > MAX_COLS:
                method = K.DIRECT
        elif n * oh * ow * kh * kw * c > MAX_COLS:
            method = K.DIRECT
        s.method = method
        s.buf = np.zeros(0, self.dtype)
        if method == K.PLANE and s.n_chunks > 1:   # one flat slot per sample range
            cols, buf = B.plane_slots(n, s.n_chunks, oh, ow, kh, kw, c, f)
            s.cols, s.buf = np.empty(s.n_chunks * cols, self.dtype), np.empty(s.n_chunks * buf, self.dtype)
        elif method == K.PLANE:
            s.cols = np.empty((kh * kw * c, used), self.dtype)
            s.buf = np.empty(max(total * c, used * f), self.dtype)
        elif method == K.ROWS:
            s.cols = np.empty((n * oh * ow, kh * kw * c), self.dtype)
        else:
            s.cols = np.zeros((0, 0), self.dtype)
        if s.n_chunks > 1 and method != K.DIRECT:
            s.gw_parts = np.empty((s.n_chunks, kh, kw, c, f), self.dtype)
            s.gb_parts = np.empty((s.n_chunks, f), self.dtype)
        s.z = None if self.act.is_linear else np.empty((n, oh, ow, f), self.dtype)
        s.grad_z = np.empty((n, oh, ow, f), self.dtype)
        s.grad_x = None  # allocated by the first backward that needs it
        return s

    def forward(self, x, training=False):
        x = self._check_input(x)
        n = x.shape[0]
        x4 = x if self.rank == 2 else x.reshape(n, *self._in2)
        w = self.params["kernel"].reshape(self._w4)
        b = self.params["bias"] if self.use_bias else self._no_bias
        (sh, sw), act = self._st2, self.act
        if numpy_tier():
            xp, cols, z, a = T.conv2d_forward(x4, w, b, self._st2, (self._pt, self._pl), self._out2[:2],
                                              self.use_bias, act.code, act.alpha)
            out = self._finish_forward(x4, z, a, None, (n, *self.output_shape))
            self.cache.update(tier="numpy", xp=xp, cols=cols)
            return out
        s = self._scratch(n)
        z, a = self._outputs(s, (n, *self._out2))
        if s.method == K.DIRECT:
            K.conv2d_direct_forward(x4, w, b, sh, sw, self._pt, self._pl, self.use_bias, act.code, act.alpha, z, a)
        elif s.n_chunks > 1:
            kernel = B.conv2d_plane_forward_chunks if s.method == K.PLANE else B.conv2d_forward_chunks
            self._run_forward(kernel, x4, w, b, sh, sw, self._pt, self._pl, self.use_bias, act.code,
                              act.alpha, s.cols, s.buf, z, a, batch=n, training=training)
        else:
            K.conv2d_forward(x4, w, b, sh, sw, self._pt, self._pl, self.use_bias, act.code, act.alpha, s.method,
                             s.cols, s.buf, z, a)
        return self._finish_forward(x4, z, a, s, (n, *self.output_shape))

    def backward(self, grad_out, need_grad_x=True):
        c = self.cache
        s, x4 = c["s"], c["x"]
        grad_a = self._grad_a(grad_out)
        w = self.params["kernel"].reshape(self._w4)
        gw = self.grads["kernel"].reshape(self._w4)  # a view: written in place
        gb = self.grads["bias"] if self.use_bias else self._no_bias
        (sh, sw), act = self._st2, self.act
        if c.get("tier") == "numpy":
            grad_x = T.conv2d_backward(c["xp"], c["cols"], w, c["z"], c["a"], grad_a, self._st2, (self._pt, self._pl),
                                       x4.shape, act.code, act.alpha, self.use_bias, self.grad_is_logits, need_grad_x,
                                       gw, gb)
            return None if grad_x is None else grad_x.reshape(x4.shape[0], *self.input_shape)
        grad_x = self._grad_x(s, x4, need_grad_x)
        if s.method == K.DIRECT:
            K.conv2d_direct_backward(x4, w, c["z"], c["a"], grad_a, sh, sw, self._pt, self._pl, act.code, act.alpha,
                                     self.use_bias, self.grad_is_logits, need_grad_x, s.grad_z, gw, gb, grad_x)
        elif s.n_chunks > 1:
            kernel = B.conv2d_plane_backward_chunks if s.method == K.PLANE else B.conv2d_backward_chunks
            self._run_backward(kernel, x4, w, c["z"], c["a"], grad_a, sh, sw, self._pt, self._pl,
                               act.code, act.alpha, self.use_bias, self.grad_is_logits, need_grad_x, s.cols, s.buf,
                               s.grad_z, s.gw_parts, s.gb_parts, gw, gb, grad_x, batch=x4.shape[0])
        else:
            K.conv2d_backward(x4, w, c["z"], c["a"], grad_a, sh, sw, self._pt, self._pl, act.code, act.alpha,
                              self.use_bias, self.grad_is_logits, need_grad_x, s.method, s.cols, s.buf, s.grad_z,
                              gw, gb, grad_x)
        if not need_grad_x:
            return None
        return grad_x if self.rank == 2 else grad_x.reshape(x4.shape[0], *self.input_shape)


@register
class Conv2DTranspose(_ConvBase):
    """Transposed 2-D convolution (Keras' Conv2DTranspose): the data gradient of a Conv2D, used to upsample.

    Shapes:
        input (H, W, C) -> output (OH, OW, filters) with OH = H * s + max(kh - s, 0) ("valid", as Keras) or H * s
        ("same");
        kernel (kh, kw, filters, C); bias (filters,).
    """

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise self.shape_error(input_shape, "Conv2DTranspose needs (height, width, channels) input",
                                   image_hint(input_shape))
        out = []
        for size, k, s in zip(input_shape[:2], self.kernel_size, self.strides):
            # Keras' length: with "valid" and a kernel smaller than the stride, the last stride's cells past the
            # kernel get only the bias (size * s, not (size - 1) * s + k)
            out.append(size * s + max(k - s, 0) if self.padding == "valid" else size * s)
        # the padding of the equivalent forward convolution, which maps the output back to the input
        self._pt = conv_length(out[0], self.kernel_size[0], self.strides[0], self.padding)[1]
        self._pl = conv_length(out[1], self.kernel_size[1], self.strides[1], self.padding)[1]
        return (out[0], out[1], self.filters)

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        kh, kw = self.kernel_size
        self._add_weights((kh, kw, self.filters, input_shape[-1]))

    def _chunks(self, batch: int) -> int:
        return 1   # one call over the whole batch (its kernels are not cut into sample ranges)

    def _new_scratch(self, n: int) -> _Scratch:
        (kh, kw), (h, w, _) = self.kernel_size, self.input_shape
        rows = n * h * w
        s = _Scratch()
        s.n_chunks = 1
        s.method = K.ROWS if rows * kh * kw * self.filters <= MAX_COLS else K.DIRECT
        s.cols = np.empty((rows, kh * kw * self.filters) if s.method == K.ROWS else (0, 0), self.dtype)
        s.buf = None
        s.z = None if self.act.is_linear else np.empty((n, *self.output_shape), self.dtype)
        s.grad_z = np.empty((n, *self.output_shape), self.dtype)
        s.grad_x = None
        return s

    def forward(self, x, training=False):
        x = self._check_input(x)
        n = x.shape[0]
        s = self._scratch(n)
        z, a = self._outputs(s, (n, *self.output_shape))
        b = self.params["bias"] if self.use_bias else self._no_bias
        (sh, sw), act = self.strides, self.act
        K.conv2d_transpose_forward(x, self.params["kernel"], b, sh, sw, self._pt, self._pl, self.use_bias, act.code,
                                   act.alpha, s.method, s.cols, z, a)
        return self._finish_forward(x, z, a, s, a.shape)

    def backward(self, grad_out, need_grad_x=True):
        c = self.cache
        s, x = c["s"], c["x"]
        grad_a = self._grad_a(grad_out)
        grad_x = self._grad_x(s, x, need_grad_x)
        gb = self.grads["bias"] if self.use_bias else self._no_bias
        (sh, sw), act = self.strides, self.act
        K.conv2d_transpose_backward(x, self.params["kernel"], c["z"], c["a"], grad_a, sh, sw, self._pt, self._pl,
                                    act.code, act.alpha, self.use_bias, self.grad_is_logits, need_grad_x, s.method,
                                    s.cols, s.grad_z, self.grads["kernel"], gb, grad_x)
        return grad_x if need_grad_x else None


@register
class Conv1D(Conv2D):
    """1-D convolution over (steps, channels) input (Keras' Conv1D), run as a Conv2D of height 1.

    Shapes:
        input (steps, C) -> output (out_steps, filters); kernel (k, C, filters); bias (filters,).
        ``padding="causal"`` pads k - 1 steps on the left only (output step t sees inputs <= t).
    """

    rank = 1
    paddings = ("valid", "same", "causal")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise self.shape_error(input_shape, "Conv1D needs (steps, channels) input",
                                   f"add Reshape(({input_shape[0]}, 1)) before it" if len(input_shape) == 1
                                   else "use Conv2D for images")
        k, s = self.kernel_size[0], self.strides[0]
        steps, self._pl = conv_length(input_shape[0], k, s, self.padding)
        self._pt = 0
        if steps <= 0:
            raise self.shape_error(input_shape, f"kernel_size {k} does not fit in {input_shape[0]} steps with "
                                                f"padding='valid'", "use padding='same', a smaller kernel_size, "
                                                                    "or longer sequences")
        return (steps, self.filters)

    def build(self, input_shape, rng, dtype=np.float32):
        Layer.build(self, input_shape, rng, dtype)
        steps, c = input_shape
        self._add_weights((self.kernel_size[0], c, self.filters))
        self._plan((1, self.kernel_size[0]), (1, self.strides[0]), (1, steps, c), (1, *self.output_shape))
