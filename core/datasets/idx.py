"""User IDX files: the format of MNIST and Fashion-MNIST (``*-idx3-ubyte[.gz]`` / ``*-idx1-ubyte[.gz]``).

Layout: a big-endian magic number (0x00000803 for images, 0x00000801 for labels, unsigned bytes), one
big-endian uint32 per dimension, then the values. Images are scaled to [0, 1] and get a channel axis.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zipfile

import numpy as np

from ..errors import NnplayError
from ._base import as_i64, p_ratio, p_seed, register
from .files import finish_split, p_path, read_bytes

IDX_IMAGES, IDX_LABELS = 0x00000803, 0x00000801


def read_idx(path, expect: int, field: str) -> np.ndarray:
    """Read an unsigned-byte IDX file (optionally gzipped) and check its magic number and size."""
    data = read_bytes(path, "idx", field)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise NnplayError(f"idx: {field}={path!r} is a damaged gzip file ({exc}); download it again") from None
    if not data:
        raise NnplayError(f"idx: {field}={path!r} is empty; download the file again")
    if len(data) < 4:
        raise NnplayError(f"idx: {field}={path!r} is only {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    kind = "images" if expect == IDX_IMAGES else "labels"
    if magic != expect:
        raise NnplayError(f"idx: {field}={path!r} has magic number 0x{magic:08X}, but IDX {kind} files start "
                          f"with 0x{expect:08X}; check that {field} points at the {kind} file")
    ndim = data[3]
    head = 4 + 4 * ndim
    if len(data) < head:
        raise NnplayError(f"idx: {field}={path!r} ends inside its header; the file is truncated")
    dims = struct.unpack(">" + "I" * ndim, data[4:head])
    want = math.prod(dims)
    if len(data) - head != want:
        raise NnplayError(f"idx: {field}={path!r} holds {len(data) - head} bytes of values, but its header "
                          f"{dims} needs {want}; the file is truncated or damaged")
    return np.frombuffer(data, dtype=np.uint8, offset=head).reshape(dims)


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
