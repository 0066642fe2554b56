"""Padding arithmetic for the PyTorch scripts: Keras' (TensorFlow's) 'same' rule and Conv2DTranspose crops,
worked out at export time from the shapes nnplay already knows."""
from __future__ import annotations


def same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) of one spatial axis with padding='same': the output has ceil(size / s) cells and the
    extra padded cell, if any, goes at the end (bottom / right)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def transpose_crops(size: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(crop before, crop after) of a full transposed convolution ((size - 1) * s + k cells) that gives
    Keras' output: for 'valid' (size * s + max(k - s, 0) cells) nothing, or k - s when k < s; for 'same'
    (size * s cells) k - s cells, the extra one at the end. A negative crop after means extending with cells
    that hold only the bias (k < s)."""
    if padding == "valid":
        return (0, k - s) if k < s else (0, 0)
    total = k - s
    if total < 0:
        return 0, total
    return total // 2, total - total // 2
