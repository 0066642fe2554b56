"""Keras 3's image augmentation layers: RandomFlip, RandomRotation, RandomTranslation, RandomZoom and
RandomContrast (channels-last, Keras' argument names, defaults and fill modes).

As in Keras they are the identity at inference (``predict``, ``evaluate``, validation) and transform in
training (``fit``) and, as Keras 3 does, when called directly on data without ``training=False``
(``layer(images)``, ``model(images)``): each image of a batch gets its own random transform. The draws
come from the layer's own generator (``seed=``, or a stream derived from the model's seed at build without
consuming it, so adding an augmentation layer leaves every other layer's initial weights as they were), so
a seeded run is bit-identical when repeated. The transforms are linear in the image, so ``backward`` passes
the gradient through the same transform (transposed), and a layer works anywhere in a model.

The deterministic parts are public, for tests and the views: :func:`rotation_matrices`,
:func:`translation_matrices`, :func:`zoom_matrices` (Keras' matrices, see
:mod:`nnplay.core.kernels.image`), :func:`affine_transform` and :func:`adjust_contrast`.

Shapes:
    input (H, W, C) -> output (H, W, C), unchanged.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import NnplayError, did_you_mean
from ..kernels import image as K
from .base import Layer, register
from .conv_args import check_keras_only, image_hint

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


# ------------------------------------------------------------------------------------------ transforms
def rotation_matrices(angles, height: int, width: int) -> np.ndarray:
    """Keras' rotation about the image centre by ``angles`` degrees (positive: counter-clockwise as
    displayed); one ``(a0, a1, a2, b0, b1, b2)`` row per angle."""
    theta = np.radians(np.asarray(angles, np.float64).reshape(-1))
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([c, -s, cx - cx * c + cy * s, s, c, cy - cx * s - cy * c], axis=1)


def translation_matrices(dx, dy) -> np.ndarray:
    """Shift right by ``dx`` and down by ``dy`` pixels (the output at (x, y) reads the input at (x - dx, y - dy))."""
    dx = np.asarray(dx, np.float64).reshape(-1)
    dy = np.asarray(dy, np.float64).reshape(-1)
    one, zero = np.ones_like(dx), np.zeros_like(dx)
    return np.stack([one, zero, -dx, zero, one, -dy], axis=1)


def zoom_matrices(zx, zy, height: int, width: int) -> np.ndarray:
    """Keras' zoom about the centre: the output reads the input at ``zx`` (``zy``) times its distance from the
    centre, so a factor above 1 zooms out and below 1 zooms in."""
    zx = np.asarray(zx, np.float64).reshape(-1)
    zy = np.asarray(zy, np.float64).reshape(-1)
    zero = np.zeros_like(zx)
    return np.stack([zx, zero, 0.5 * (width - 1) * (1.0 - zx), zero, zy, 0.5 * (height - 1) * (1.0 - zy)], axis=1)


def _codes(interpolation: str, fill_mode: str) -> tuple[int, int]:
    if interpolation not in K.INTERPOLATIONS:
        raise NnplayError(f"unknown interpolation {interpolation!r}"
                          + did_you_mean(str(interpolation), K.INTERPOLATIONS))
    if fill_mode not in K.FILL_MODES:
        raise NnplayError(f"unknown fill_mode {fill_mode!r}" + did_you_mean(str(fill_mode), K.FILL_MODES))
    return int(interpolation == "bilinear"), K.FILL_MODES.index(fill_mode)


def affine_transform(images, mats, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0.0) -> np.ndarray:
    """Resample each image through its matrix (Keras' ``ops.image.affine_transform`` with the first six
    entries of each transform; the same defaults).

    Shapes:
        images: (batch, H, W, C); mats: (batch, 6) or (6,) for all -> (batch, H, W, C).
    """
    x = np.ascontiguousarray(images)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    if x.ndim != 4:
        raise NnplayError(f"affine_transform needs a batch of images (batch, height, width, channels), "
                          f"got shape {x.shape}")
    m = np.asarray(mats, np.float64)
    m = np.ascontiguousarray(np.broadcast_to(m.reshape(-1, 6), (len(x), 6)) if m.size == 6 else m.reshape(-1, 6))
    if len(m) != len(x):
        raise NnplayError(f"affine_transform got {len(m)} matrices for {len(x)} images")
    bilinear, mode = _codes(interpolation, fill_mode)
    out = np.empty_like(x)
    K.affine_transform_forward(x, m, bilinear, mode, float(fill_value), out)
    return out


def adjust_contrast(images, factors, value_range=(0, 255)) -> np.ndarray:
    """``(x - mean) * factor + mean`` per image and channel (the mean over height and width), clipped to
    ``value_range``, as Keras' RandomContrast. ``factors``: one per image, or one for all."""
    x = np.asarray(images)
    f = np.asarray(factors, x.dtype).reshape(-1, 1, 1, 1)
    mean = x.mean(axis=(1, 2), keepdims=True, dtype=np.float64).astype(x.dtype)
    return np.clip((x - mean) * f + mean, value_range[0], value_range[1]).astype(x.dtype, copy=False)


# ------------------------------------------------------------------------------------------ arguments
def _number(layer: str, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise NnplayError(f"{layer}: {field} must be a finite number, got {field}={value!r}")
    return float(value)


def _bounds(layer: str, field: str, value, lo: float, hi: float, lo_open: bool = False,
            single_from_zero: bool = False) -> tuple[float, float]:
    """(lower, upper) from a number (``-|f|..|f|``, or ``0..f`` with ``single_from_zero``) or a pair, each
    end checked to lie in [lo, hi] (``(lo, hi]`` with ``lo_open``)."""
    rng_text = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
    pair = isinstance(value, (tuple, list))
    if pair and len(value) != 2:
        raise NnplayError(f"{layer}: {field} must be a number or a pair [lower, upper] in {rng_text}, "
                          f"got {field}={value!r}")
    ends = [_number(layer, field, v) for v in (value if pair else [value])]
    for v in ends:
        if v > hi or v < lo or (lo_open and v == lo):
            raise NnplayError(f"{layer}: {field} must be a number or a pair [lower, upper] in {rng_text}, "
                              f"got {field}={value!r}")
    if pair:
        a, b = sorted(ends)
        return a, b
    f = abs(ends[0])
    return (0.0, f) if single_from_zero else (-f, f)


def _choice(layer: str, field: str, value, choices) -> str:
    if value not in choices:
        raise NnplayError(f"{layer}: unknown {field} {value!r}" + did_you_mean(str(value), choices)
                          + f"; choose one of {', '.join(choices)}")
    return value


def _stored(value):
    """A factor as the user gave it (lists kept as tuples), for get_config."""
    return tuple(value) if isinstance(value, list) else value


def child_stream(rng: np.random.Generator, seed=None) -> np.random.Generator:
    """The generator an augmentation layer draws from: ``seed`` when given, else a child of ``rng``'s seed
    sequence. Spawning a child does not advance ``rng``, so the weights drawn after it do not change."""
    if seed is not None:
        return np.random.default_rng(seed)
    seq = getattr(getattr(rng, "bit_generator", None), "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return np.random.default_rng(seq.spawn(1)[0])
    return np.random.default_rng(rng.integers(2**63))


# ------------------------------------------------------------------------------------------ layers
class _ImagePreprocessing(Layer):
    """Identity at inference; in training one random transform per image from the layer's own stream."""

    #: Read by the views and the playground: these layers change data, not weights.
    augments_images = True

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._cls = type(self).__name__
        check_keras_only(self._cls, data_format)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise NnplayError(f"{self._cls}: seed must be a whole number >= 0 or None, got seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise self.shape_error(input_shape, f"{self._cls} transforms images (height, width, channels)",
                                   image_hint(input_shape))
        return input_shape

    def build(self, input_shape, rng, dtype=np.float32):
        super().build(input_shape, child_stream(rng, self.seed), dtype)

    def reseed(self, seed: int) -> None:
        """Restart the stream (gradient checks draw the same transforms in every forward)."""
        self.rng = np.random.default_rng(seed)

    def __call__(self, inputs, training=None, **kwargs):
        # Keras 3: called directly on data without training=..., these layers transform (their call's
        # default is training=True); inside predict, evaluate and validation they are the identity
        return super().__call__(inputs, training=True if training is None else training, **kwargs)

    def forward(self, x, training=False):
        if training is None:            # a model called directly on data (model(x)): Keras' default for these
            training = True
        if not training or len(x) == 0:
            self.cache = {"params": None}
            return x
        params = self.draw(self.rng, len(x), x.shape[1], x.shape[2])
        self.cache = {"params": params}
        return self.apply(x, params)

    def backward(self, grad_out, need_grad_x=True):
        if not need_grad_x:
            return None
        params = self.cache.get("params")
        return grad_out if params is None else self.apply_backward(np.ascontiguousarray(grad_out), params)

    # subclasses: what one batch draws, the transform, and its transpose
    def draw(self, rng: np.random.Generator, n: int, height: int, width: int):
        raise NotImplementedError

    def apply(self, x: np.ndarray, params) -> np.ndarray:
        raise NotImplementedError

    def apply_backward(self, grad_out: np.ndarray, params) -> np.ndarray:
        raise NotImplementedError


@register
class RandomFlip(_ImagePreprocessing):
    """Flips each image with probability 1/2 in training (Keras' RandomFlip). ``mode``: "horizontal"
    (left-right), "vertical" (top-bottom) or "horizontal_and_vertical" (the default), where, as in Keras 3,
    one draw decides both flips: an image is turned by 180 degrees or left as it is."""

    config_keys = ("mode", "seed")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = _choice("RandomFlip", "mode", mode, FLIP_MODES)

    def draw(self, rng, n, height, width):
        return rng.uniform(size=n) <= 0.5

    def apply(self, x, flips):
        out = np.array(x)
        if self.mode != "vertical":
            out[flips] = out[flips][:, :, ::-1]
        if self.mode != "horizontal":
            out[flips] = out[flips][:, ::-1]
        return out

    apply_backward = apply      # a flip is its own transpose


class _Affine(_ImagePreprocessing):
    """A random affine resampling per image (rotation, translation, zoom), through the Numba kernel."""

    def _affine_args(self, fill_mode, interpolation, fill_value) -> None:
        self.fill_mode = _choice(self._cls, "fill_mode", fill_mode, K.FILL_MODES)
        self.interpolation = _choice(self._cls, "interpolation", interpolation, K.INTERPOLATIONS)
        self.fill_value = _number(self._cls, "fill_value", fill_value)
        self._bilinear, self._mode = _codes(self.interpolation, self.fill_mode)

    def apply(self, x, mats):
        x = np.ascontiguousarray(x)
        out = np.empty_like(x)
        K.affine_transform_forward(x, mats, self._bilinear, self._mode, self.fill_value, out)
        return out

    def apply_backward(self, grad_out, mats):
        grad_x = np.empty_like(grad_out)
        K.affine_transform_backward(grad_out, mats, self._bilinear, self._mode, grad_x)
        return grad_x


@register
class RandomRotation(_Affine):
    """Rotates each image about its centre in training by a random angle (Keras' RandomRotation).

    ``factor``: a fraction of a full turn; ``0.1`` draws angles in [-36, 36] degrees, ``(-0.05, 0.1)`` in
    [-18, 36]; positive is counter-clockwise. ``fill_mode`` ("reflect", "wrap", "constant", "nearest") says
    what fills the corners the rotation uncovers; ``interpolation`` is "bilinear" or "nearest".
    """

    config_keys = ("factor", "fill_mode", "interpolation", "seed", "fill_value")

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._lo, self._hi = _bounds("RandomRotation", "factor", factor, -1.0, 1.0)
        self.factor = _stored(factor)
        self._affine_args(fill_mode, interpolation, fill_value)

    def draw(self, rng, n, height, width):
        angles = rng.uniform(self._lo * 360.0, self._hi * 360.0, n)
        return rotation_matrices(angles, height, width)


@register
class RandomTranslation(_Affine):
    """Shifts each image in training by a random fraction of its height and width (Keras'
    RandomTranslation): ``height_factor=0.1`` draws vertical shifts in [-10%, 10%] of the height, a pair
    ``(lower, upper)`` a range; positive moves the image down (right, for ``width_factor``)."""

    config_keys = ("height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value")

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._h = _bounds("RandomTranslation", "height_factor", height_factor, -1.0, 1.0)
        self._w = _bounds("RandomTranslation", "width_factor", width_factor, -1.0, 1.0)
        self.height_factor, self.width_factor = _stored(height_factor), _stored(width_factor)
        self._affine_args(fill_mode, interpolation, fill_value)

    def draw(self, rng, n, height, width):
        dy = rng.uniform(self._h[0], self._h[1], n) * height
        dx = rng.uniform(self._w[0], self._w[1], n) * width
        return translation_matrices(dx, dy)


@register
class RandomZoom(_Affine):
    """Zooms each image in training about its centre (Keras' RandomZoom). ``height_factor=0.2`` draws a
    vertical zoom in [-20%, +20%]: positive zooms out (the image shrinks), negative zooms in. Without
    ``width_factor`` the width zooms by the same draw (the aspect ratio is kept)."""

    config_keys = ("height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value")

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._h = _bounds("RandomZoom", "height_factor", height_factor, -1.0, 1.0, lo_open=True)
        self._w = None if width_factor is None else _bounds("RandomZoom", "width_factor", width_factor, -1.0, 1.0,
                                                            lo_open=True)
        self.height_factor, self.width_factor = _stored(height_factor), _stored(width_factor)
        self._affine_args(fill_mode, interpolation, fill_value)

    def draw(self, rng, n, height, width):
        zy = rng.uniform(1.0 + self._h[0], 1.0 + self._h[1], n)
        zx = zy if self._w is None else rng.uniform(1.0 + self._w[0], 1.0 + self._w[1], n)
        return zoom_matrices(zx, zy, height, width)


@register
class RandomContrast(_ImagePreprocessing):
    """Scales each image's contrast in training (Keras' RandomContrast): per image and channel,
    ``(x - mean) * f + mean`` clipped to ``value_range``, with ``f`` drawn from ``[1 - lower, 1 + upper]``.

    ``factor`` is a number or a pair ``(lower, upper)`` in [0, 1]. As Keras 3.15 does (its docstring says
    otherwise), one number ``f`` draws from ``[1, 1 + f]``: give ``(f, f)`` for ``[1 - f, 1 + f]``.
    ``value_range`` is what the images hold: Keras' default ``(0, 255)``; nnplay's images are ``(0, 1)``.
    """

    config_keys = ("factor", "value_range", "seed")

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._lo, self._hi = _bounds("RandomContrast", "factor", factor, 0.0, 1.0, single_from_zero=True)
        self.factor = _stored(factor)
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise NnplayError(f"RandomContrast: value_range must be a pair [low, high], got "
                              f"value_range={value_range!r}")
        low, high = (_number("RandomContrast", "value_range", v) for v in value_range)
        if not low < high:
            raise NnplayError(f"RandomContrast: value_range must be [low, high] with low < high, got "
                              f"value_range={value_range!r}")
        self.value_range = tuple(value_range)
        self._range = (low, high)

    def draw(self, rng, n, height, width):
        return rng.uniform(1.0 - self._lo, 1.0 + self._hi, n)

    def apply(self, x, factors):
        f = factors.astype(x.dtype).reshape(-1, 1, 1, 1)
        mean = x.mean(axis=(1, 2), keepdims=True, dtype=np.float64).astype(x.dtype)
        raw = (x - mean) * f + mean
        out = np.clip(raw, self._range[0], self._range[1])
        self.cache["inside"] = out == raw
        return out

    def apply_backward(self, grad_out, factors):
        f = factors.astype(grad_out.dtype).reshape(-1, 1, 1, 1)
        g = grad_out * self.cache["inside"]
        # out = f * x + (1 - f) * mean(x): each input pixel also moves every output of its channel by 1/(H*W)
        return f * g + (1 - f) * g.mean(axis=(1, 2), keepdims=True)
