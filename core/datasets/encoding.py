"""Label and sequence encodings as ``keras.utils`` has them: ``to_categorical``, ``normalize``, ``pad_sequences``.

Each follows Keras 3.15 (``keras/src/utils/numerical_utils.py`` and ``sequence_utils.py``) value for value and
dtype for dtype on NumPy input. Where Keras fails with an obscure NumPy error, or silently does something
else than asked, nnplay raises one ``NnplayError`` that names the value and the fix instead:

- ``to_categorical``: a negative label is an error (Keras wraps -1 to the last class without a word), so is a
  label >= ``num_classes`` and a non-whole float label such as 1.7 (Keras truncates it to 1).
- ``normalize``: ``axis=0`` on an array of 2 or more dimensions divides along axis 0 (Keras' ``axis or -1``
  turns 0 into -1 and then divides the wrong axis or fails to broadcast). Lists are converted to NumPy and
  the result is a NumPy array (Keras hands lists to its backend and returns a backend tensor).
- ``pad_sequences``: a bad ``padding``/``truncating`` is reported even when every sequence is empty,
  ``maxlen=0`` gives an empty ``(n, 0)`` array for both truncating modes (Keras fails with "pre"), and
  ``dtype="object"`` / ``np.dtype(object)`` are accepted with a string ``value`` like ``dtype=object``.
"""
from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import NnplayError

__all__ = ["normalize", "pad_sequences", "to_categorical"]


def _count(name: str, value: Any, fix: str) -> int:
    """``value`` as an int >= 0 (NumPy integers accepted, bools and floats refused)."""
    if isinstance(value, (bool, np.bool_)):
        raise NnplayError(f"{name} must be an integer, got {name}={value!r}; {fix}")
    try:
        number = operator.index(value)
    except TypeError:
        raise NnplayError(f"{name} must be an integer, got {name}={value!r} ({type(value).__name__}); {fix}") from None
    if number < 0:
        raise NnplayError(f"{name} must be >= 0, got {name}={number}; {fix}")
    return number


def _position(flat_index: int, shape: tuple[int, ...]) -> str:
    where = np.unravel_index(flat_index, shape) if shape else ()
    return str(int(where[0])) if len(where) == 1 else str(tuple(int(i) for i in where))


def _int_labels(x: Any) -> np.ndarray:
    """Class labels as int64, as Keras converts them (``np.array(x, dtype="int64")``), minus its silent
    truncation of fractional floats."""
    try:
        arr = np.asarray(x)
    except ValueError as err:   # ragged nested lists
        raise NnplayError(f"to_categorical: the labels must form a regular array of class indices ({err}); "
                          "give every row the same length") from None
    if arr.dtype.kind == "c":
        raise NnplayError("to_categorical: the labels are complex numbers; give integer class indices "
                          "0..num_classes-1")
    if arr.dtype.kind == "f" and arr.size:
        bad = ~np.isfinite(arr) | (arr != np.trunc(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise NnplayError(f"to_categorical: class labels must be whole numbers, got {float(arr.flat[i])!r} at "
                              f"position {_position(i, arr.shape)}; it takes class indices, not probabilities or "
                              "one-hot rows (use y.argmax(axis=-1) for those)")
    try:
        return np.array(arr, dtype="int64")
    except (ValueError, TypeError, OverflowError) as err:
        raise NnplayError(f"to_categorical: the labels must be integer class indices, got dtype {arr.dtype} "
                          f"({err}); map them to 0..num_classes-1 first") from None


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels, like ``keras.utils.to_categorical``.

    Args:
        x: class indices 0..num_classes-1, any shape (array-like). A trailing axis of length 1 is dropped,
            so ``(n, 1)`` labels give ``(n, num_classes)``, as do ``(n,)`` labels.
        num_classes: the number of classes; None (or 0, as in Keras) infers ``max(x) + 1``.

    Returns:
        float64 array, the class axis last.

    Shapes:
        x: (n,) or (n, 1) -> (n, num_classes); (..., 1) -> (..., num_classes); (...,) -> (..., num_classes);
        a scalar -> (num_classes,).

    Raises:
        NnplayError: a negative, too large or fractional label; an empty ``x`` without ``num_classes``.
    """
    labels = _int_labels(x)
    shape = labels.shape
    # Keras drops a trailing axis of 1, but never the only axis: (1,) stays a batch of one label.
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if flat.size and flat.min() < 0:
        i = int(flat.argmin())
        raise NnplayError(f"to_categorical: class labels must be >= 0, got {int(flat[i])} at position "
                          f"{_position(i, labels.shape)}; shift them to 0..num_classes-1 (e.g. y - y.min())")
    n = 0 if num_classes is None else _count("num_classes", num_classes, "pass the number of classes, or None")
    if not n:                   # Keras: `if not num_classes` -> infer, so 0 means "infer" too
        if not flat.size:
            raise NnplayError("to_categorical: cannot infer num_classes from empty labels; pass num_classes=...")
        n = int(flat.max()) + 1
    elif flat.size and flat.max() >= n:
        i = int(flat.argmax())
        raise NnplayError(f"to_categorical: label {int(flat[i])} at position {_position(i, labels.shape)} is out "
                          f"of range for num_classes={n} (labels must be 0..{n - 1}); pass "
                          f"num_classes={int(flat[i]) + 1} or more, or None to infer it")
    categorical = np.zeros((flat.shape[0], n))
    categorical[np.arange(flat.shape[0]), flat] = 1
    return categorical.reshape(shape + (n,))


def normalize(x: Any, axis: int | tuple[int, ...] | None = -1, order: Any = 2) -> np.ndarray:
    """Divide ``x`` by its ``order``-norm along ``axis``, like ``keras.utils.normalize`` on a NumPy array.

    Zero norms count as 1, so all-zero rows stay zero. Integer input gives float64; float32 stays float32.
    As in Keras, a 1-D ``x`` comes back as one row, ``(1, n)``, and ``axis=None`` divides the whole array by
    ``np.linalg.norm(x, order)`` (a matrix norm for 2-D ``x``).

    Args:
        x: array-like of numbers.
        axis: the axis (or axes) to take the norm along.
        order: the norm order, as ``np.linalg.norm``'s ``ord`` (2, 1, np.inf, ...).

    Returns:
        A normalized copy of ``x``.

    Shapes:
        x: (..., n) -> same shape; (n,) -> (1, n).
    """
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.ndim == 0:
        raise NnplayError(f"normalize: x must be an array of at least 1 dimension, got the scalar {x!r}")
    try:
        norm = np.atleast_1d(np.linalg.norm(arr, order, axis))
    except (ValueError, TypeError) as err:
        raise NnplayError(f"normalize: cannot take the order={order!r} norm of an array of shape {arr.shape} "
                          f"along axis={axis!r} ({err}); use an axis within the array and an order such as 2, "
                          "1 or np.inf") from None
    norm[norm == 0] = 1
    # Keras writes `axis or -1`, meant for axis=None; nnplay keeps that for None and for 1-D input (whose
    # result is a (1, n) row in Keras), but divides along axis 0 when asked to.
    expand = -1 if axis is None or arr.ndim == 1 else axis
    return arr / np.expand_dims(norm, expand)


def _choice(name: str, value: Any) -> None:
    if not isinstance(value, str) or value not in ("pre", "post"):
        raise NnplayError(f"pad_sequences: {name} must be 'pre' or 'post', got {name}={value!r}")


def pad_sequences(sequences: Sequence, maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pad (and cut) sequences to one length, like ``keras.utils.pad_sequences``.

    Args:
        sequences: a list (anything with ``len``) of sequences: lists, tuples or arrays of tokens, or of
            equally shaped vectors. Empty sequences become all ``value``.
        maxlen: the output length; None pads to the longest sequence.
        dtype: the output dtype. Floats in int sequences are truncated by NumPy, as in Keras. Use ``object``
            (or a NumPy string dtype) for strings.
        padding: "pre" pads before each sequence, "post" after.
        truncating: "pre" drops the start of a too-long sequence, "post" its end.
        value: the padding value; a string needs ``dtype=object`` or a string dtype.

    Returns:
        An array of ``dtype``.

    Shapes:
        sequences: n sequences of lengths l_i, each item of shape s -> (n, maxlen, *s).
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise NnplayError("pad_sequences: sequences must be a list of sequences, got "
                          f"{type(sequences).__name__}; wrap a generator in list(...) and a single sequence in [...]")
    _choice("truncating", truncating)
    _choice("padding", padding)
    lengths: list[int] = []
    sample_shape: tuple[int, ...] = ()
    found = False
    # The item shape comes from the first non-empty sequence; the loop below checks every other one against it.
    for idx, s in enumerate(sequences):
        if isinstance(s, (str, bytes)):
            raise NnplayError(f"pad_sequences: the sequence at position {idx} is a string ({s!r}); pass a list "
                              "of tokens (e.g. text.split()) or of token ids")
        try:
            lengths.append(len(s))
        except TypeError:
            raise NnplayError(f"pad_sequences: sequences must be a list of sequences, but the item at position "
                              f"{idx} is {s!r} ({type(s).__name__}); wrap single values in a list") from None
        if not found and lengths[-1]:
            try:
                sample_shape = np.asarray(s).shape[1:]
            except ValueError as err:
                raise NnplayError(f"pad_sequences: the sequence at position {idx} has items of different "
                                  f"shapes ({err}); every timestep must have the same shape") from None
            found = True
    if maxlen is None:
        if not lengths:
            raise NnplayError("pad_sequences: no sequences and no maxlen; pass maxlen=... to get an empty "
                              "(0, maxlen) array")
        maxlen = max(lengths)
    else:
        maxlen = _count("maxlen", maxlen, "pass the output length, or None for the longest sequence")
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as err:
        raise NnplayError(f"pad_sequences: dtype={dtype!r} is not a NumPy dtype ({err}); use e.g. 'int32', "
                          "'float32' or object") from None
    if isinstance(value, str) and np_dtype.kind not in "OUS":
        raise NnplayError(f"pad_sequences: dtype {dtype} cannot hold the string value={value!r}; set dtype=object "
                          "for variable-length strings")
    try:
        x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as err:
        raise NnplayError(f"pad_sequences: value={value!r} cannot be stored in dtype {dtype} ({err}); pick a "
                          "value the dtype can hold") from None
    if maxlen == 0:             # nothing of any sequence fits (Keras' s[-0:] would keep it all and fail)
        return x
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        try:
            trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        except (TypeError, KeyError):
            raise NnplayError(f"pad_sequences: the sequence at position {idx} ({type(s).__name__}) cannot be "
                              "sliced; pass lists, tuples or arrays") from None
        try:
            trunc = np.asarray(trunc, dtype=dtype)
        except (ValueError, TypeError, OverflowError) as err:
            raise NnplayError(f"pad_sequences: the sequence at position {idx} cannot be converted to dtype "
                              f"{dtype} ({err}); pick a dtype that holds its items, e.g. object for strings") from None
        if trunc.shape[1:] != sample_shape:
            raise NnplayError(f"pad_sequences: the items of the sequence at position {idx} have shape "
                              f"{trunc.shape[1:]}, but those of the first non-empty sequence have shape "
                              f"{sample_shape}; every timestep must have the same shape")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        else:
            x[idx, -len(trunc):] = trunc
    return x
