"""Data augmentation outside the model: the random transforms a preset's ``[data.augment]`` table asks for,
applied to each training batch (never to validation or test data), and a grid of what they make of one image.

    [data.augment]          # image data only
    flip = "horizontal"     # RandomFlip mode: "horizontal", "vertical" or "horizontal_and_vertical"
    rotation = 0.05         # RandomRotation factor: a fraction of a full turn (0.05 = up to 18 degrees)
    zoom = 0.1              # RandomZoom height_factor (the width follows)
    translation = 0.1       # RandomTranslation height_factor and width_factor
    contrast = 0.2          # RandomContrast factor (0.8 to 1.2 here: both ways, unlike the layer's one number)
    fill_mode = "reflect"   # what fills uncovered pixels: "reflect", "wrap", "constant", "nearest"
    interpolation = "bilinear"
    fill_value = 0.0        # for fill_mode = "constant"

The table becomes Keras' augmentation layers (:mod:`.preprocessing`) in that order; the model itself is
unchanged, so saving it keeps no augmentation (put the layers in ``[[model.layers]]`` for that).
"""
from __future__ import annotations

import numpy as np

from ..errors import NnplayError, did_you_mean
from .base import Layer, format_shape, layer_from_config
from .preprocessing import (FLIP_MODES, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
                            _number)

#: The transform keys in the order their layers run, then the keys shared by the geometric ones.
TRANSFORM_KEYS = ("flip", "rotation", "zoom", "translation", "contrast")
SHARED_KEYS = ("fill_mode", "interpolation", "fill_value", "value_range")
AUGMENT_KEYS = TRANSFORM_KEYS + SHARED_KEYS
#: What the playground's toggle switches on: mild shifts, turns and zooms that keep a digit or a shape
#: what it is (no flips: a flipped 2 or 7 is no digit).
DEFAULT_AUGMENT = {"rotation": 0.05, "zoom": 0.1, "translation": 0.1}


def augment_layers(table: dict) -> list[Layer]:
    """The augmentation layers ``table`` describes (see the module docstring), unbuilt; an empty table gives
    none. Raises :class:`NnplayError` naming the key for a bad one."""
    if not isinstance(table, dict):
        raise NnplayError(f"augment must be a table such as {{ rotation = 0.05, translation = 0.1 }}, got {table!r}")
    for key in table:
        if key not in AUGMENT_KEYS:
            raise NnplayError(f"augment: unknown key {key!r}" + did_you_mean(str(key), AUGMENT_KEYS))
    geo = {k: table[k] for k in ("fill_mode", "interpolation", "fill_value") if k in table}
    layers: list[Layer] = []
    for key in TRANSFORM_KEYS:
        if key not in table:
            continue
        value = table[key]
        try:
            if key == "flip":
                if value is False:
                    continue
                if value is True:
                    value = "horizontal"
                if value not in FLIP_MODES:
                    raise NnplayError(f"augment: flip={value!r}: unknown flip mode"
                                      + did_you_mean(str(value), FLIP_MODES) + "; or false for none")
                layers.append(RandomFlip(value))
            elif key == "rotation":
                layers.append(RandomRotation(value, **geo))
            elif key == "zoom":
                layers.append(RandomZoom(value, **geo))
            elif key == "translation":
                layers.append(RandomTranslation(value, value, **geo))
            else:
                f = _number("augment", "contrast", value)
                layers.append(RandomContrast((f, f), value_range=table.get("value_range", (0.0, 1.0))))
        except NnplayError as exc:
            msg = str(exc)
            if msg.startswith("augment: "):
                raise
            raise NnplayError(f"augment: {key}={value!r}: " + msg.split(": ", 1)[-1]) from None
    if not layers and any(k in table for k in SHARED_KEYS):
        raise NnplayError("augment: no transform is switched on; add e.g. rotation = 0.05 or translation = 0.1")
    return layers


class Augmenter:
    """Random transforms of training batches: augmentation layers built for one image shape, run in
    training mode on a stream of their own (seeded, so a rerun transforms every batch alike).

    ``augmenter(x)`` transforms a batch (what the trainer calls); :meth:`samples` shows what they make of one
    image without touching that stream (the playground calls it from another thread).
    """

    def __init__(self, table: dict, input_shape: tuple, seed: int = 0, layers: list | None = None):
        self.table = dict(table)
        self.input_shape = tuple(input_shape)
        if len(self.input_shape) != 3:
            raise NnplayError(f"augment transforms images (height, width, channels), but the data's samples have "
                              f"shape {format_shape(self.input_shape)}; remove [data.augment] or use image data")
        self.seed = int(seed)
        self.layers = augment_layers(table) if layers is None else layers
        if not self.layers:
            raise NnplayError("augment: no transform is switched on; add e.g. rotation = 0.05 or translation = 0.1")
        self._build(self.layers, np.random.default_rng(np.random.SeedSequence([self.seed, 0x617567])))

    @classmethod
    def from_model(cls, model, seed: int = 0) -> "Augmenter | None":
        """Copies of the augmentation layers a model starts with (``[[model.layers]]`` of type random_*), or None:
        what :meth:`samples` shows when the augmentation is part of the model."""
        leading = []
        for layer in getattr(model, "layers", []):
            if type(layer).__name__ == "InputLayer":
                continue
            if not getattr(layer, "augments_images", False):
                break
            leading.append(layer_from_config(layer.get_config()))
        if not leading or not model.input_shapes:
            return None
        return cls({}, model.input_shapes[0], seed, layers=leading)

    def _build(self, layers, rng) -> None:
        for layer in layers:
            layer.build(self.input_shape, rng, np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, True)
        return x

    def samples(self, image: np.ndarray, n: int = 8, seed: int = 0) -> np.ndarray:
        """``n`` random augmentations of one ``image`` (H, W, C), as a batch (n, H, W, C): what the network sees
        of it in training. Copies of the layers draw them (from ``seed``), so training is not disturbed."""
        image = np.asarray(image, np.float32)
        if image.shape != self.input_shape:
            raise NnplayError(f"samples: the image has shape {image.shape}, the augmentation is for "
                              f"{self.input_shape}")
        copies = [layer_from_config(layer.get_config()) for layer in self.layers]
        self._build(copies, np.random.default_rng(np.random.SeedSequence([int(seed), 0x67726964])))
        x = np.repeat(image[None], max(0, int(n)), axis=0)
        for layer in copies:
            x = layer.forward(x, True)
        return x

    def describe(self) -> str:
        """One line: ``augment: rotation 0.05, zoom 0.1, translation 0.1 (fill reflect)``."""
        if not self.table:                     # from a model's own layers
            return "augment: " + ", ".join(type(layer).__name__ for layer in self.layers) + " (in the model)"
        parts = [f"{k} {self.table[k]}" for k in TRANSFORM_KEYS if k in self.table and self.table[k] is not False]
        return "augment: " + ", ".join(parts) + f" (fill {self.table.get('fill_mode', 'reflect')})"
