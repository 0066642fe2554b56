"""``model.weights.h5``: the weights (and optimizer variables) in the HDF5 layout Keras 3 uses.

Each weight is the dataset ``<group>/vars/<i>`` of its :class:`~.keras_graph.Slot`; the optimizer's
variables are ``optimizer/vars/0..n``. Reading opens an in-memory copy and goes only where the config says
weights are, refusing anything that is not a plain stored array: links (soft or external), virtual or
external datasets, datasets that declare more data than they store (compressed "shape bombs"), and dtypes
other than floats (integers for the iteration count).

h5py is optional (the ``keras-files`` extra) and imported on first use.
"""
from __future__ import annotations

import io
import math

import numpy as np

from ..errors import NnplayError
from .keras_graph import ModelGraph, Slot, lookup

NEEDS_H5PY = 'reading/writing .keras files needs h5py: pip install "nnplay[keras-files]"'


def h5py_module():
    """h5py, or the one-line error saying how to install it."""
    try:
        import h5py
    except ImportError:
        raise NnplayError(NEEDS_H5PY) from None
    return h5py


def write_h5(slots: list[Slot], weights: dict, optimizer: list[np.ndarray] | None) -> bytes:
    """The bytes of ``model.weights.h5``: ``weights`` as :meth:`ModelGraph.split` arranges them."""
    h5py = h5py_module()
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for slot in slots:
            value = np.asarray(lookup(weights, slot.owner)[slot.index])
            if value.shape != slot.shape:
                raise NnplayError(f"weight {slot.index} of layer {'/'.join(slot.owner)!r} has shape {value.shape}, "
                                  f"its config makes it {slot.shape}")
            f.require_group(f"{slot.group}/vars").create_dataset(str(slot.var), data=value)
        if optimizer is not None:
            group = f.create_group("optimizer/vars")
            for i, value in enumerate(optimizer):
                group.create_dataset(str(i), data=value)
    return buf.getvalue()


def read_h5(data: bytes, graph: ModelGraph, slots: list[Slot], with_optimizer: bool):
    """``(weights by layer, optimizer arrays or None)`` from the bytes of ``model.weights.h5``."""
    h5py = h5py_module()
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except Exception:
        raise NnplayError("model.weights.h5 is not a readable HDF5 file") from None
    with f:
        weights = graph.blank()
        counts: dict[str, int] = {}
        for slot in slots:
            counts[slot.group] = counts.get(slot.group, 0) + 1
        for group, n in counts.items():
            vars_group = _get(h5py, f, f"{group}/vars", h5py.Group)
            if len(vars_group) != n:
                raise NnplayError(f"model.weights.h5 has {len(vars_group)} arrays in {group}, the config needs {n}")
        for slot in slots:
            path = f"{slot.group}/vars/{slot.var}"
            value = _array(h5py, f, path, "f", slot.shape, f"of layer {'/'.join(slot.owner)!r}")
            lookup(weights, slot.owner)[slot.index] = value
        optimizer = None
        if with_optimizer and _has(h5py, f, "optimizer/vars"):
            group = _get(h5py, f, "optimizer/vars", h5py.Group)
            optimizer = [_array(h5py, f, f"optimizer/vars/{i}", "fiu") for i in range(len(group))]
    return weights, optimizer


def _has(h5py, root, path: str) -> bool:
    obj = root
    for part in path.split("/"):
        if not isinstance(obj, h5py.Group) or obj.get(part, getlink=True) is None:
            return False
        obj = _step(h5py, obj, part, path)
    return True


def _step(h5py, obj, part: str, path: str):
    link = obj.get(part, getlink=True)
    if link is None:
        raise NnplayError(f"model.weights.h5 has no {path}; the weights do not match the config")
    if not isinstance(link, h5py.HardLink):
        raise NnplayError(f"model.weights.h5 has a {type(link).__name__} at {path}; nnplay reads plain stored "
                          f"arrays only")
    return obj[part]


def _get(h5py, root, path: str, kind):
    obj = root
    for part in path.split("/"):
        if not isinstance(obj, h5py.Group):
            raise NnplayError(f"model.weights.h5 has no group at {path}")
        obj = _step(h5py, obj, part, path)
    if not isinstance(obj, kind):
        raise NnplayError(f"model.weights.h5 has a {type(obj).__name__} at {path}, expected a {kind.__name__}")
    return obj


def _array(h5py, root, path: str, kinds: str, shape: tuple | None = None, owner: str = "") -> np.ndarray:
    """The dataset at ``path`` as an array, after checking its dtype, shape (when given) and storage."""
    ds = _get(h5py, root, path, h5py.Dataset)
    if ds.shape is None:
        raise NnplayError(f"model.weights.h5 has no array at {path}, only an empty dataset")
    if shape is not None and tuple(ds.shape) != shape:
        raise NnplayError(f"weight {path} {owner} has shape {tuple(ds.shape)} in model.weights.h5, but the config "
                          f"makes it {shape}")
    if ds.is_virtual or ds.external:
        raise NnplayError(f"model.weights.h5 stores {path} outside the file; nnplay reads plain stored arrays only")
    if ds.dtype.fields is not None or ds.dtype.kind not in kinds or ds.dtype.itemsize > 8:
        raise NnplayError(f"model.weights.h5 has {path} of dtype {ds.dtype}, expected "
                          f"{'a float' if kinds == 'f' else 'a number'}")
    nbytes = math.prod(ds.shape) * ds.dtype.itemsize
    if nbytes and ds.id.get_storage_size() < nbytes:
        raise NnplayError(f"model.weights.h5 declares {nbytes} bytes for {path} but stores "
                          f"{ds.id.get_storage_size()}; nnplay reads plain (uncompressed) arrays only")
    return np.asarray(ds[()])
