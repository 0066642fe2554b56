"""Built-in and user datasets, Keras-style.

    from nnplay.core.datasets import load, list_datasets
    ds = load("spiral", n_samples=500, noise=0.1, features=["x1", "x2", "x1^2"], seed=0)
    x_train, y_train, x_test, y_test, description = ds

Conventions: float32 inputs; class labels are int64 indices of shape (n,); regression targets are float32
(n, 1); images are float32 in [0, 1] shaped (n, H, W, 1); sequences are (n, T, F). Every generator takes
``seed`` and the same parameters always give bit-identical arrays.

Credits: the 2-D playground sets follow TensorFlow Playground's recipes (Apache-2.0); wave1d follows the
MNIST-1D pipeline (Greydanus, Apache-2.0) with nnplay's own templates; sine-mix follows Geron's
*Hands-On Machine Learning*; arith follows the Keras addition_rnn example.
"""
from __future__ import annotations

import os

from ..errors import NnplayError
from . import digit_variants, extra, files, idx, images, sequences, text, toy2d  # noqa: F401  (registers the datasets)
from ._base import REGISTRY, TASKS, Dataset, Param, find
from .text import decode, encode
from .toy2d import FEATURES, make_featurizer, parse_features

__all__ = ["Dataset", "Param", "TASKS", "FEATURES", "load", "list_datasets", "dataset_info", "encode", "decode",
           "make_featurizer", "parse_features"]

KINDS = ("2d", "image", "sequence", "text", "file", "extra")

_FILE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".npz": "npz", ".txt": "text"}


def _file_kind(name) -> str | None:
    """For ``load("data.csv")``: the file loader a path-like name refers to, or None."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or name in REGISTRY:
        return None
    return _FILE_SUFFIXES.get(os.path.splitext(name.strip())[1].lower())


def load(name, **params) -> Dataset:
    """Generate or read the dataset ``name`` with the given parameters (see ``dataset_info(name)``).

    A path ending in .csv, .tsv, .npz or .txt is read with the matching file loader.
    Raises NnplayError (one line, naming the problem) for unknown names, parameters or bad values.
    """
    kind = _file_kind(name)
    if kind is not None:
        if "path" in params:
            raise NnplayError(f"load: {name!r} is already a file path; drop path={params['path']!r}")
        params["path"] = os.fspath(name)
        name = kind
    entry = find(name)
    return entry.build(entry.resolve(params))


def list_datasets() -> list[tuple[str, str, str]]:
    """(name, one-line description, kind) for every dataset; kind is one of KINDS."""
    order = {k: i for i, k in enumerate(KINDS)}
    entries = sorted(REGISTRY.values(), key=lambda e: order.get(e.kind, len(KINDS)))
    return [(e.name, e.summary, e.kind) for e in entries]


def dataset_info(name: str) -> dict:
    """Name, description, kind and parameters (name, default, allowed range, help) of one dataset."""
    e = find(name)
    params = [{"name": p.name, "default": list(p.default) if isinstance(p.default, tuple) else p.default,
               "range": p.range_text(), "help": p.help} for p in e.params]
    return {"name": e.name, "description": e.summary, "kind": e.kind, "params": params}
