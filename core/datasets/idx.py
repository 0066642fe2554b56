"""User IDX files: the format of MNIST and Fashion-MNIST (``*-idx3-ubyte[.gz]`` / ``*-idx1-ubyte[.gz]``).

Layout: a big-endian magic number (0x00000803 for images, 0x00000801 for labels, unsigned bytes), one
big-endian uint32 per dimension, then the values. Images are scaled to [0, 1] and get a channel axis.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from ..errors import NnplayError
from ..safety import file_read_limit, file_size, human_bytes, open_regular
from ._base import Dataset, as_i64, p_ratio, p_seed, register
from .files import finish_split, p_path

IDX_IMAGES, IDX_LABELS = 0x00000803, 0x00000801


def read_idx(path, expect: int, field: str) -> np.ndarray:
    """Read an unsigned-byte IDX file (optionally gzipped) and check its magic number and size.

    The header says how many values follow: that many are read (and inflated, for a .gz), never more, and
    only when they fit in the memory available.
    """
    if path is None:
        raise NnplayError(f"idx: {field} is required; pass {field}='your-file'")
    path = os.fspath(path)
    what = f"idx: {field}={path!r}"
    try:
        with open_regular(path, what) as f:
            gz = f.read(2) == b"\x1f\x8b"
            f.seek(0)
            stream = gzip.GzipFile(fileobj=f) if gz else f
            return _read_idx_stream(stream, None if gz else file_size(f), expect, field, path)
    except (OSError, EOFError, zlib.error) as exc:
        raise NnplayError(f"{what} is a damaged gzip file ({exc}); download it again") from None


def _read_idx_stream(stream, size: int | None, expect: int, field: str, path: str) -> np.ndarray:
    head = stream.read(4)
    if not head:
        raise NnplayError(f"idx: {field}={path!r} is empty; download the file again")
    if len(head) < 4:
        raise NnplayError(f"idx: {field}={path!r} is only {len(head)} bytes, too short for an IDX header")
    magic = int.from_bytes(head, "big")
    kind = "images" if expect == IDX_IMAGES else "labels"
    if magic != expect:
        raise NnplayError(f"idx: {field}={path!r} has magic number 0x{magic:08X}, but IDX {kind} files start "
                          f"with 0x{expect:08X}; check that {field} points at the {kind} file")
    ndim = head[3]
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise NnplayError(f"idx: {field}={path!r} ends inside its header; the file is truncated")
    dims = struct.unpack(">" + "I" * ndim, raw_dims)
    want = math.prod(dims)
    limit = file_read_limit()
    if want > limit:
        raise NnplayError(f"idx: {field}={path!r} claims {want:,} values {dims}, more than the {human_bytes(limit)} "
                          "nnplay can read with the memory available; the file is damaged or too big")
    got = (size - 4 - 4 * ndim) if size is not None else None
    if got is not None and got != want:
        raise NnplayError(f"idx: {field}={path!r} holds {got} bytes of values, but its header "
                          f"{dims} needs {want}; the file is truncated or damaged")
    data = stream.read(want + 1)
    if len(data) != want:
        raise NnplayError(f"idx: {field}={path!r} holds {len(data)}{'+' if len(data) > want else ''} bytes of "
                          f"values, but its header {dims} needs {want}; the file is truncated or damaged")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _idx_images(path, field) -> np.ndarray:
    a = read_idx(path, IDX_IMAGES, field)
    if a.shape[0] == 0:
        raise NnplayError(f"idx: {field}={path!r} holds no images")
    return (a.astype(np.float32) / 255.0)[..., None]


@register("idx", "your IDX files (MNIST / Fashion-MNIST *-ubyte[.gz]): images=, labels=, *_test=", "file",
          [p_path("images", help="IDX images file (magic 0x00000803)"),
           p_path("labels", False, "IDX labels file (magic 0x00000801)"),
           p_path("images_test", False, "IDX test images file"),
           p_path("labels_test", False, "IDX test labels file"),
           p_ratio(0.8), p_seed()])
def load_idx(p) -> Dataset:
    if p["images"] is None:
        raise NnplayError("idx: images is required; pass images='train-images-idx3-ubyte.gz'")
    x = _idx_images(p["images"], "images")
    y = None if p["labels"] is None else as_i64(read_idx(p["labels"], IDX_LABELS, "labels"))
    if p["labels_test"] is not None and p["images_test"] is None:
        raise NnplayError("idx: labels_test was given without images_test; give both, or neither")
    if p["labels_test"] is not None and y is None:
        raise NnplayError("idx: labels_test was given without labels; give labels for the training images too")
    if p["images_test"] is not None and y is not None and p["labels_test"] is None:
        raise NnplayError("idx: images_test was given without labels_test; give both, or neither")
    xt = None if p["images_test"] is None else _idx_images(p["images_test"], "images_test")
    yt = None if (p["labels_test"] is None or y is None) else as_i64(read_idx(p["labels_test"], IDX_LABELS,
                                                                             "labels_test"))
    for a, b, an, bn in ((x, y, "images", "labels"), (xt, yt, "images_test", "labels_test")):
        if a is not None and b is not None and len(a) != len(b):
            raise NnplayError(f"idx: {an} has {len(a)} images but {bn} has {len(b)} labels; "
                              "they must come from the same set")
    if xt is not None and xt.shape[1:] != x.shape[1:]:
        raise NnplayError(f"idx: images_test are {xt.shape[1:3]} but images are {x.shape[1:3]}; they must match")
    if y is None:
        task, k = "generative", None
        y = np.zeros(len(x), dtype=np.int64)
        yt = None if xt is None else np.zeros(len(xt), dtype=np.int64)
    else:
        k = max(2, int(max(y.max(), yt.max() if yt is not None else 0)) + 1)
        task = "binary" if k == 2 else "multiclass"
    names = None if k is None else [str(i) for i in range(k)]
    desc = f"idx: {os.path.basename(p['images'])}: {x.shape[1]}x{x.shape[2]} images, {task}" + (
        f" with {k} classes;" if k else ";")
    return finish_split("idx", x, y, p, desc, task, k, names, {"image": True, "path": p["images"]},
                        x_test=xt, y_test=yt)
