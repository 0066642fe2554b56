"""``keras.preprocessing.image``: ``ImageDataGenerator`` (Keras 2's augmentation API; Keras 3 keeps it only in
``tf.keras``, so ``from keras.preprocessing.image import ImageDataGenerator`` fails there) and ``flow(x, y,
batch_size)`` feeding ``fit``, for the tutorials written with it::

    datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, height_shift_range=0.1,
                                 horizontal_flip=True)
    datagen.fit(x_train)                     # only needed for featurewise_* and zca_whitening
    model.fit(datagen.flow(x_train, y_train, batch_size=32), epochs=10)

Channels-last. The arguments, their defaults and the geometry (rotation in degrees, shifts as fractions of
the side below 1 and pixels above, shear in degrees, two independent zooms, the transform about the image
centre) are Keras'; the transforms are resampled by nnplay's Numba kernel (:mod:`nnplay.core.kernels.image`)
one batch at a time in the training thread. Where nnplay differs:

* random draws come from a generator of the flow's own (``flow(seed=...)``, else the seed of
  ``keras.utils.set_random_seed``), not NumPy's global one, so a seeded run repeats exactly;
* ``fit`` shuffles the flow's samples with the model's shuffling stream (Keras lets the flow shuffle);
* ``interpolation_order`` is 0 or 1 (SciPy, which Keras resamples with, goes up to 5), and order 0 rounds
  a point exactly halfway between two pixels to the even one (SciPy: up);
* ``brightness_range`` multiplies the pixel values (Keras goes through an 8-bit PIL image);
* ``flow_from_directory`` and ``flow_from_dataframe`` read image files, which nnplay does not: load the
  images into an array and use ``flow``; ``save_to_dir`` is not supported.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from nnplay.core.errors import NnplayError
from nnplay.core.kernels import image as K
from nnplay.core.seeding import resolve_seed

from .iterator import NumpyArrayIterator

__all__ = ["ImageDataGenerator", "NumpyArrayIterator", "apply_affine_transform"]

_FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _non_negative(field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)) or value < 0:
        raise NnplayError(f"ImageDataGenerator: {field} must be a number >= 0, got {field}={value!r}")
    return value


def _shift_spec(field: str, value):
    """A shift range as Keras takes it: a float (a fraction of the side below 1, pixels above), an int (whole
    pixels), or a list of allowed values."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        if not arr.size or not np.isfinite(arr).all():
            raise NnplayError(f"ImageDataGenerator: {field} must be a number or a list of numbers, got "
                              f"{field}={value!r}")
        return arr
    return _non_negative(field, value)


def matrices(theta, tx, ty, shear, zx, zy, height: int, width: int) -> np.ndarray:
    """Keras 2's ``apply_affine_transform`` as the kernel's rows ``(a0, a1, a2, b0, b1, b2)``, one per image.

    ``theta`` and ``shear`` in degrees; ``tx`` shifts rows (height), ``ty`` columns (width), in pixels.
    Composed as Keras does: rotation, shift, shear, zoom, about ``(height / 2 - 0.5, width / 2 - 0.5)``, then
    the row and column axes swapped (Keras builds the matrix in (x, y) and indexes arrays (row, col))."""
    theta, shear = np.radians(np.asarray(theta, np.float64)), np.radians(np.asarray(shear, np.float64))
    n = theta.size
    one, zero = np.ones(n), np.zeros(n)

    def mat(rows):
        return np.stack([np.stack([np.broadcast_to(np.asarray(v, np.float64).reshape(-1), (n,)) for v in r], -1)
                         for r in rows], -2)

    c, s = np.cos(theta).reshape(-1), np.sin(theta).reshape(-1)
    m = mat([[c, -s, zero], [s, c, zero], [zero, zero, one]])
    m = m @ mat([[one, zero, tx], [zero, one, ty], [zero, zero, one]])
    m = m @ mat([[one, -np.sin(shear), zero], [zero, np.cos(shear), zero], [zero, zero, one]])
    m = m @ mat([[zx, zero, zero], [zero, zy, zero], [zero, zero, one]])
    ox, oy = height / 2.0 - 0.5, width / 2.0 - 0.5
    m = mat([[one, zero, ox], [zero, one, oy], [zero, zero, one]]) @ m @ \
        mat([[one, zero, -ox], [zero, one, -oy], [zero, zero, one]])
    m = m[:, [1, 0, 2]][:, :, [1, 0, 2]]          # rows and columns 0 and 1 swapped: (row, col) indexing
    # input (row, col) = m[:2, :2] @ output (row, col) + m[:2, 2]; the kernel wants x (col) and y (row)
    return np.stack([m[:, 1, 1], m[:, 1, 0], m[:, 1, 2], m[:, 0, 1], m[:, 0, 0], m[:, 0, 2]], axis=1)


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0, col_axis=1, channel_axis=2,
                           fill_mode="nearest", cval=0.0, order=1) -> np.ndarray:
    """Keras' ``apply_affine_transform`` of one channels-last image (H, W, C); see :func:`matrices`."""
    x = np.asarray(x)
    if x.ndim != 3 or (row_axis, col_axis, channel_axis) != (0, 1, 2):
        raise NnplayError(f"apply_affine_transform takes one channels-last image (height, width, channels) with "
                          f"row_axis=0, col_axis=1, channel_axis=2; got shape {x.shape}")
    return _resample(x[None], matrices(theta, tx, ty, shear, zx, zy, x.shape[0], x.shape[1]), fill_mode, cval,
                     order)[0]


def _resample(x: np.ndarray, mats: np.ndarray, fill_mode: str, cval: float, order: int) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    out = np.empty_like(x)
    mode = {"constant": K.SCIPY_CONSTANT, "wrap": K.SCIPY_WRAP}.get(fill_mode) or K.FILL_MODES.index(fill_mode)
    K.affine_transform_forward(x, np.ascontiguousarray(mats), int(order == 1), mode, float(cval), out)
    return out


class ImageDataGenerator:
    """Random transforms and normalisation of image batches, with Keras' arguments and defaults (see the
    module docstring for where nnplay differs)."""

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None, shear_range=0.0,
                 zoom_range=0.0, channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        if data_format not in (None, "channels_last"):
            raise NnplayError(f"ImageDataGenerator: nnplay is channels-last only, got data_format={data_format!r}; "
                              f"transpose the images to (height, width, channels)")
        self.featurewise_center, self.samplewise_center = bool(featurewise_center), bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening, self.zca_epsilon = bool(zca_whitening), float(zca_epsilon)
        self.rotation_range = _non_negative("rotation_range", rotation_range)
        self.width_shift_range = _shift_spec("width_shift_range", width_shift_range)
        self.height_shift_range = _shift_spec("height_shift_range", height_shift_range)
        self.shear_range = _non_negative("shear_range", shear_range)
        self.channel_shift_range = _non_negative("channel_shift_range", channel_shift_range)
        if fill_mode not in _FILL_MODES:
            raise NnplayError(f"ImageDataGenerator: unknown fill_mode {fill_mode!r}; choose one of "
                              f"{', '.join(_FILL_MODES)}")
        self.fill_mode, self.cval = fill_mode, float(cval)
        self.horizontal_flip, self.vertical_flip = bool(horizontal_flip), bool(vertical_flip)
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        if interpolation_order not in (0, 1):
            raise NnplayError(f"ImageDataGenerator: interpolation_order must be 0 (nearest) or 1 (bilinear) in "
                              f"nnplay, got interpolation_order={interpolation_order!r}")
        self.interpolation_order = int(interpolation_order)
        self.data_format = "channels_last"
        self.dtype = np.dtype(dtype or "float32")
        if validation_split and not 0 < validation_split < 1:
            raise NnplayError(f"ImageDataGenerator: validation_split must be in (0, 1), got "
                              f"validation_split={validation_split!r}")
        self._validation_split = float(validation_split or 0.0)
        if isinstance(zoom_range, (int, float, np.integer, np.floating)) and not isinstance(zoom_range, bool):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif isinstance(zoom_range, (list, tuple)) and len(zoom_range) == 2 and \
                all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise NnplayError(f"ImageDataGenerator: zoom_range must be a number or a pair [lower, upper], got "
                              f"zoom_range={zoom_range!r}")
        if brightness_range is not None and (not isinstance(brightness_range, (list, tuple))
                                             or len(brightness_range) != 2):
            raise NnplayError(f"ImageDataGenerator: brightness_range must be a pair [lower, upper], got "
                              f"brightness_range={brightness_range!r}")
        self.brightness_range = brightness_range
        if self.zca_whitening and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                          "`featurewise_center`.", stacklevel=2)
        if self.zca_whitening and self.featurewise_std_normalization:
            self.featurewise_std_normalization = False
            warnings.warn("This ImageDataGenerator specifies `zca_whitening` which overrides setting of "
                          "`featurewise_std_normalization`.", stacklevel=2)
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.", stacklevel=2)
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.", stacklevel=2)
        self.mean = self.std = self.zca_whitening_matrix = None

    # ------------------------------------------------------------------ statistics
    def fit(self, x, augment=False, rounds=1, seed=None) -> None:
        """Compute what ``featurewise_center``, ``featurewise_std_normalization`` and ``zca_whitening`` need from
        ``x`` (batch, H, W, C); with ``augment``, from ``rounds`` randomly transformed copies."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise NnplayError(f"ImageDataGenerator.fit needs images of rank 4 (batch, height, width, channels), "
                              f"got shape {x.shape}")
        if x.shape[3] not in (1, 3, 4):
            warnings.warn(f"Expected images with 1, 3 or 4 channels on axis 3 (channels-last); got shape "
                          f"{x.shape} ({x.shape[3]} channels).", stacklevel=2)
        if self.rescale:
            x *= self.rescale
        if augment:
            rng = np.random.default_rng(resolve_seed(seed))
            x = np.concatenate([self._transform(x, rng) for _ in range(int(rounds))])
        if self.featurewise_center:
            self.mean = x.mean(axis=(0, 1, 2)).reshape(1, 1, -1)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = x.std(axis=(0, 1, 2)).reshape(1, 1, -1)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = x.reshape(len(x), -1)
            if flat.shape[1] > 12_288:
                raise NnplayError(f"ImageDataGenerator: zca_whitening on {flat.shape[1]} values per image needs a "
                                  f"{flat.shape[1]}x{flat.shape[1]} matrix; use smaller images")
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(len(x)) / (s + self.zca_epsilon))) @ u.T

    def standardize(self, x) -> np.ndarray:
        """The normalisation part, on one image (H, W, C) or a batch, in place where it can (as Keras)."""
        x = np.asarray(x)
        batch = x.ndim == 4
        if self.preprocessing_function is not None:
            x = np.stack([self.preprocessing_function(img) for img in x]) if batch else self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        axes = (1, 2, 3) if batch else None
        if self.samplewise_center:
            x -= np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=axes, keepdims=True) + 1e-6
        for flag, value, what in ((self.featurewise_center, self.mean, "featurewise_center"),
                                  (self.featurewise_std_normalization, self.std, "featurewise_std_normalization"),
                                  (self.zca_whitening, self.zca_whitening_matrix, "zca_whitening")):
            if flag and value is None:
                warnings.warn(f"This ImageDataGenerator specifies `{what}`, but it hasn't been fit on any training "
                              f"data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=2)
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= self.std + 1e-6
        if self.zca_whitening and self.zca_whitening_matrix is not None:
            shape = x.shape
            x = (x.reshape(-1, math.prod(shape[-3:])) @ self.zca_whitening_matrix).reshape(shape)
        return x

    # ------------------------------------------------------------------ random transforms
    def _shift(self, rng, spec, size: int, n: int) -> np.ndarray:
        if isinstance(spec, np.ndarray):
            values = rng.choice(spec, n) * rng.choice([-1.0, 1.0], n)
        elif not spec:
            return np.zeros(n)
        elif isinstance(spec, (int, np.integer)):
            values = rng.integers(0, spec, n) * rng.choice([-1.0, 1.0], n)
        else:
            values = rng.uniform(-spec, spec, n)
        return values * size if np.max(spec) < 1 else values.astype(np.float64)

    def get_random_transform(self, img_shape, seed=None, rng=None, n: int | None = None) -> dict:
        """Random parameters for one image of ``img_shape`` (H, W, C), as Keras' dict; with ``n``, arrays of ``n``."""
        rng = rng if rng is not None else np.random.default_rng(resolve_seed(seed))
        k = 1 if n is None else int(n)
        h, w = img_shape[0], img_shape[1]
        lo, hi = self.zoom_range
        zooms = np.ones((k, 2)) if lo == 1 and hi == 1 else rng.uniform(lo, hi, (k, 2))
        p = {"theta": rng.uniform(-self.rotation_range, self.rotation_range, k) if self.rotation_range else np.zeros(k),
             "tx": self._shift(rng, self.height_shift_range, h, k),
             "ty": self._shift(rng, self.width_shift_range, w, k),
             "shear": rng.uniform(-self.shear_range, self.shear_range, k) if self.shear_range else np.zeros(k),
             "zx": zooms[:, 0], "zy": zooms[:, 1],
             "flip_horizontal": (rng.random(k) < 0.5) & self.horizontal_flip,
             "flip_vertical": (rng.random(k) < 0.5) & self.vertical_flip,
             "channel_shift_intensity": rng.uniform(-self.channel_shift_range, self.channel_shift_range, k)
             if self.channel_shift_range else None,
             "brightness": rng.uniform(self.brightness_range[0], self.brightness_range[1], k)
             if self.brightness_range is not None else None}
        if n is None:
            p = {key: (None if v is None else v[0].item()) for key, v in p.items()}
        return p

    def apply_transform(self, x, transform_parameters: dict) -> np.ndarray:
        """Apply ``transform_parameters`` (Keras' dict, or arrays of one value per image) to one image (H, W, C)
        or a batch: the affine map, the channel shift, the flips, then the brightness."""
        x = np.asarray(x)
        batch = x.ndim == 4
        xb = x if batch else x[None]
        n, h, w = xb.shape[0], xb.shape[1], xb.shape[2]
        p = transform_parameters

        def get(key, default):
            v = p.get(key)
            return np.broadcast_to(np.asarray(default if v is None else v, np.float64).reshape(-1), (n,))

        mats = matrices(get("theta", 0), get("tx", 0), get("ty", 0), get("shear", 0), get("zx", 1), get("zy", 1), h, w)
        if np.array_equal(mats, np.broadcast_to([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], mats.shape)):
            out = np.array(xb, dtype=xb.dtype if xb.dtype.kind == "f" else np.float32)   # nothing to resample
        else:
            out = _resample(xb, mats, self.fill_mode, self.cval, self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            lo = out.min(axis=(1, 2, 3), keepdims=True)
            hi = out.max(axis=(1, 2, 3), keepdims=True)
            shift = get("channel_shift_intensity", 0).reshape(-1, 1, 1, 1).astype(out.dtype)
            out = np.clip(out + shift, lo, hi)
        for key, axis in (("flip_horizontal", 2), ("flip_vertical", 1)):
            flips = np.broadcast_to(np.asarray(False if p.get(key) is None else p[key]).reshape(-1), (n,)).astype(bool)
            if flips.any():
                out[flips] = np.flip(out[flips], axis=axis)
        if p.get("brightness") is not None:
            out = out * get("brightness", 1).reshape(-1, 1, 1, 1).astype(out.dtype)
        return out if batch else out[0]

    def random_transform(self, x, seed=None) -> np.ndarray:
        """One image (H, W, C) randomly transformed."""
        x = np.asarray(x)
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def _transform(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A batch, each image with its own random transform (the draws of a whole batch at once)."""
        return self.apply_transform(x, self.get_random_transform(x.shape[1:], rng=rng, n=len(x)))

    # ------------------------------------------------------------------ iterators
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", ignore_class_split=False, subset=None) -> "NumpyArrayIterator":
        """Batches of randomly transformed, standardized images (and their targets), for ``fit`` or a loop."""
        if save_to_dir is not None:
            raise NnplayError("flow: save_to_dir is not supported (nnplay writes no image files); look at the "
                              "batches with next(iterator) instead")
        if sample_weight is not None:
            raise NnplayError("flow: sample weights are not supported by nnplay; leave sample_weight out")
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, seed=seed, subset=subset,
                                  ignore_class_split=ignore_class_split)

    def flow_from_directory(self, directory, *args, **kwargs):
        raise NnplayError("flow_from_directory reads image files, which nnplay does not; load the images into an "
                          "array (n, height, width, channels) and use flow(x, y)")

    def flow_from_dataframe(self, dataframe, *args, **kwargs):
        raise NnplayError("flow_from_dataframe reads image files, which nnplay does not; load the images into an "
                          "array (n, height, width, channels) and use flow(x, y)")
