"""Argument helpers the convolution and pooling layers share: pairs, paddings, output lengths, hints."""
from __future__ import annotations

import math

import numpy as np

from ..errors import NnplayError, did_you_mean

PADDINGS = ("valid", "same")


def as_pair(layer: str, field: str, value) -> tuple[int, int]:
    """An int or a pair of positive ints, as Keras' ``kernel_size``/``strides``/``pool_size``."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0 for v in pair)):
        raise NnplayError(f"{layer}: {field} must be a positive whole number or a pair of them, "
                          f"got {field}={value!r}")
    return int(pair[0]), int(pair[1])


def as_padding(layer: str, value, choices=PADDINGS) -> str:
    key = str(value).strip().lower() if isinstance(value, str) else value
    if key not in choices:
        raise NnplayError(f"{layer}: unknown padding {value!r}" + did_you_mean(str(value).lower(), choices))
    return key


def conv_length(size: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(output length, padding before) of one spatial axis; output <= 0 when a valid window cannot fit."""
    if padding == "valid":
        return (size - k) // s + 1 if size >= k else 0, 0
    if padding == "causal":
        return (size - 1) // s + 1, k - 1
    out = math.ceil(size / s)
    return out, max((out - 1) * s + k - size, 0) // 2


def check_keras_only(layer: str, data_format=None, dilation_rate=1) -> None:
    """Accept Keras arguments nnplay supports only at their defaults (so Keras code and configs load)."""
    if data_format not in (None, "channels_last"):
        raise NnplayError(f"{layer}: nnplay is channels-last only, got data_format={data_format!r}; "
                          f"transpose the data to (height, width, channels)")
    if dilation_rate not in (1, (1,), (1, 1), [1], [1, 1]):
        raise NnplayError(f"{layer}: dilated convolutions are not supported, got dilation_rate={dilation_rate!r}; "
                          f"use dilation_rate=1")


def image_hint(input_shape) -> str:
    """A concrete ``Reshape`` to suggest when a 2-D layer receives flat or 2-D data."""
    if len(input_shape) == 1:
        side = math.isqrt(input_shape[0])
        if side * side == input_shape[0]:
            return f"add Reshape(({side}, {side}, 1)) before it"
    if len(input_shape) == 2:
        return f"add Reshape(({input_shape[0]}, {input_shape[1]}, 1)) before it"
    return "add Reshape((h, w, c)) before it"


def single(value):
    """A 1-D layer's ``kernel_size=(3,)`` as 3 (ints pass through)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return value[0]
    return value
