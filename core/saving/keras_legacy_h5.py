"""Keras' legacy ``.h5`` weights (what ``keras.applications`` ships, e.g.
``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``): read in Keras' topological order.

The file lists its layers in the root attribute ``layer_names``; each layer's group lists its arrays in
``weight_names`` (long lists are split over ``layer_names0``, ``layer_names1``, ...). Keras matches the
layers that hold weights, in order, with the model's layers that have weights, in order; so does
:func:`read_legacy_weights`. Reading checks every array's declared shape against the model before reading
it (compressed arrays are fine: what they expand to is what the model needs anyway) and refuses links,
arrays stored outside the file and anything that is not a float array.
"""
from __future__ import annotations

import numpy as np

from ..errors import NnplayError
from .keras_h5 import h5py_module


def _names(h5py, group, key: str) -> list[str]:
    if key in group.attrs:
        raw = list(group.attrs[key])
    else:
        raw, i = [], 0
        while f"{key}{i}" in group.attrs:
            raw += list(group.attrs[f"{key}{i}"])
            i += 1
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in raw]


def _child(h5py, group, name: str, kind, what: str):
    link = group.get(name, getlink=True)
    if link is None:
        raise NnplayError(f"{what}: the file lists {name!r} but has no such entry")
    if not isinstance(link, h5py.HardLink):
        raise NnplayError(f"{what}: {name!r} is a {type(link).__name__}; nnplay reads plain stored arrays only")
    obj = group[name]
    if not isinstance(obj, kind):
        raise NnplayError(f"{what}: {name!r} is a {type(obj).__name__}, expected a {kind.__name__}")
    return obj


def read_legacy_weights(path, expected: list[list[tuple]], what: str = "weights file") -> list[list[np.ndarray]]:
    """The arrays of every layer with weights, in order, checked against ``expected`` (the shapes of each of
    the model's layers with weights, in order)."""
    h5py = h5py_module()
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise NnplayError(f"{what} {str(path)!r} is not a readable HDF5 file") from None
    with f:
        root = f["model_weights"] if isinstance(f.get("model_weights", getlink=True), h5py.HardLink) else f
        layers = []
        for name in _names(h5py, root, "layer_names"):
            group = _child(h5py, root, name, h5py.Group, what)
            weight_names = _names(h5py, group, "weight_names")
            if weight_names:
                layers.append((name, group, weight_names))
        if len(layers) != len(expected):
            raise NnplayError(f"{what} {str(path)!r} holds weights for {len(layers)} layers, the model has "
                              f"{len(expected)} layers with weights")
        out = []
        for (name, group, weight_names), shapes in zip(layers, expected):
            if len(weight_names) != len(shapes):
                raise NnplayError(f"{what}: layer {name!r} holds {len(weight_names)} arrays, the model's layer "
                                  f"has {len(shapes)}")
            arrays = []
            for wname, shape in zip(weight_names, shapes):
                ds = _child(h5py, group, wname, h5py.Dataset, what)
                if ds.is_virtual or ds.external:
                    raise NnplayError(f"{what}: {name}/{wname} is stored outside the file; nnplay reads plain "
                                      f"stored arrays only")
                if ds.dtype.kind != "f" or ds.dtype.fields is not None:
                    raise NnplayError(f"{what}: {name}/{wname} has dtype {ds.dtype}, expected floats")
                if tuple(ds.shape or ()) != tuple(shape):
                    raise NnplayError(f"{what}: {name}/{wname} has shape {tuple(ds.shape or ())}, the model's "
                                      f"layer needs {tuple(shape)}")
                arrays.append(np.asarray(ds[()], dtype=np.float32))
            out.append(arrays)
    return out
