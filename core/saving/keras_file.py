"""The ``.keras`` file: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``, as Keras 3
writes it.

Writing builds the whole zip in memory and renames it into place (``fileio.atomic_write_bytes``).
Reading opens only regular files (never a pipe or device, which could block), reads each member by its
exact name with a size limit checked before and during the read (so a zip bomb stops at the limit), parses
the config into nnplay's form before touching the weights (whose size limit follows from the config), and
turns every failure into one :class:`NnplayError` line naming the file. Nothing is unpickled or executed:
configs are JSON mapped through an allow-list of Keras classes, weights are plain HDF5 arrays.
"""
from __future__ import annotations

import io
import json
import math
import os
import stat
import time
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import __version__
from ..errors import NnplayError
from ..fileio import atomic_write_bytes
from .keras_compile import (
    compile_from_keras,
    compile_to_keras,
    optimizer_from_keras,
    optimizer_to_keras,
)
from .keras_graph import ModelGraph
from .keras_h5 import h5py_module, read_h5, write_h5
from .keras_model_config import check_model_writable, model_from_keras, model_to_keras
from .keras_objects import KERAS_VERSION

CONFIG_LIMIT = 16 << 20       #: config.json, bytes
METADATA_LIMIT = 1 << 20      #: metadata.json, bytes
#: model.weights.h5 may hold, besides 8 bytes per weight value and up to 3 optimizer slots per trainable
#: value, this much HDF5 bookkeeping per array and in all.
H5_PER_ARRAY, H5_BASE = 16 << 10, 1 << 20


class KerasFile(NamedTuple):
    """What :func:`read_keras_file` returns."""

    config: dict               #: nnplay's model config (``Sequential``/``Functional.from_config`` take it)
    weights: dict              #: ``{layer name: [arrays] or {nested model's layers}}``
    compile_info: dict | None  #: as nnplay's ``.npz`` keeps it (optimizer, loss, metrics, loss_weights)
    optimizer_state: dict | None  #: ``{"iterations", "learning_rate", "slots": {name: like weights}, "extra"}``


def write_keras_file(path, model_config: dict, weights: list, compile_info: dict | None = None,
                     optimizer_state: dict | None = None) -> Path:
    """Write a model (its ``get_config()``, ``get_weights()``, and when compiled what ``compile`` was given
    and the optimizer's state split by weight) as a Keras 3 ``.keras`` file; returns the path."""
    path = Path(path)
    if path.suffix != ".keras":
        raise NnplayError(f"a Keras model file must end in .keras, got {str(path)!r}")
    if path.is_dir():
        raise NnplayError(f"{str(path)!r} is a folder; give a file name such as {str(path / 'model.keras')!r}")
    h5py_module()
    check_model_writable(model_config)
    graph = ModelGraph(model_config)
    config = model_to_keras(graph)
    config["compile_config"] = compile_to_keras(compile_info) if compile_info else {}
    slots = graph.slots()
    optimizer = None
    if compile_info and optimizer_state:
        optimizer = optimizer_to_keras(compile_info, optimizer_state, slots, graph)
    h5 = write_h5(slots, graph.split(weights), optimizer)
    metadata = {"keras_version": KERAS_VERSION, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S"),
                "nnplay_version": __version__}
    buf = io.BytesIO()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in (("metadata.json", json.dumps(metadata)), ("config.json", json.dumps(config, default=_plain)),
                           ("model.weights.h5", h5)):
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
    return atomic_write_bytes(path, buf.getvalue())


def read_keras_file(path, compile: bool = True) -> KerasFile:
    """Read a ``.keras`` file Keras 3 (or nnplay) saved: the model config in nnplay's form, the weights by
    layer, and with ``compile`` the compile settings and optimizer state. One :class:`NnplayError` line for
    anything nnplay cannot read."""
    path = Path(path)
    h5py_module()
    where = str(path)
    try:
        with _open_regular(path) as raw, zipfile.ZipFile(raw) as zf:
            members = _members(zf)
            text = _read(zf, members, "config.json", CONFIG_LIMIT)
            try:
                config = json.loads(text)
            except (ValueError, RecursionError) as exc:
                raise NnplayError(f"config.json is not valid JSON ({getattr(exc, 'msg', type(exc).__name__)})")
            model_config = model_from_keras(config)
            graph = ModelGraph(model_config)
            slots = graph.slots()
            compile_info = None
            if compile:
                compile_info = compile_from_keras(config.get("compile_config"), *_outputs(config, model_config))
            values = sum(math.prod(s.shape) for s in slots)
            trainable = sum(math.prod(s.shape) for s in slots if s.trainable)
            limit = 8 * (values + 3 * trainable) + H5_PER_ARRAY * (4 * len(slots) + 8) + H5_BASE
            h5 = _read(zf, members, "model.weights.h5", limit)
        weights, optimizer = read_h5(h5, graph, slots, compile_info is not None)
        state = None
        if optimizer:
            state = optimizer_from_keras(optimizer, compile_info, slots, graph, where)
    except NnplayError as exc:
        raise NnplayError(f"{where!r}: {_line(exc)}") from None
    except zipfile.BadZipFile as exc:
        raise NnplayError(f"{where!r} is not a readable .keras file ({_line(exc)}): it is not a zip archive, or is "
                          f"truncated or damaged; nnplay reads the .keras files Keras 3 saves") from None
    except Exception as exc:            # anything else a hostile or damaged file provokes: one line
        raise NnplayError(f"{where!r} could not be read as a .keras file ({type(exc).__name__}: "
                          f"{_line(exc)[:200]})") from None
    return KerasFile(model_config, weights, compile_info, state)


def _open_regular(path: Path):
    """The file opened for reading, if it is a regular file (a FIFO or device could block or never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise NnplayError("the file does not exist; check the path") from None
    except OSError as exc:
        raise NnplayError(f"cannot open it: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NnplayError("it is not a regular file (a folder, pipe or device); give the path of a .keras file")
    return os.fdopen(fd, "rb")


def _members(zf: zipfile.ZipFile) -> dict:
    members: dict = {}
    for info in zf.infolist():
        if info.filename in members:
            raise NnplayError(f"the archive holds {info.filename} twice")
        members[info.filename] = info
    if "config.json" not in members:
        found = ", ".join(sorted(members)[:5]) or "nothing"
        raise NnplayError(f"the archive has no config.json (it holds {found}); it is not a Keras 3 .keras file")
    if "model.weights.h5" not in members:
        raise NnplayError("the archive has no model.weights.h5; nnplay reads .keras files with HDF5 weights, as "
                          "keras.Model.save writes them")
    return members


def _read(zf: zipfile.ZipFile, members: dict, name: str, limit: int) -> bytes:
    """A member's bytes, refusing more than ``limit`` (declared or actually decompressed)."""
    info = members[name]
    if info.file_size > limit:
        raise NnplayError(f"{name} is {info.file_size} bytes, more than the {limit} this model can need")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise NnplayError(f"{name} unpacks to more than the {limit} bytes this model can need")
    return data


def _outputs(config: dict, model_config: dict) -> tuple[list[str], dict]:
    """(nnplay's output names, {Keras dict output key: output layer name})."""
    if model_config["type"] == "sequential":
        return [model_config["layers"][-1]["name"]], {}
    names = [ref[0] for ref in model_config["output_layers"]]
    raw = config["config"].get("output_layers")
    aliases = {k: v[0] for k, v in raw.items() if isinstance(v, list) and v} if isinstance(raw, dict) else {}
    return names, aliases


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _plain(value):
    """JSON for the numpy scalars a config may hold."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
