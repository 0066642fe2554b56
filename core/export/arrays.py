"""The arrays an export writes, as ``.npz`` bytes (plain arrays, never pickled objects):

* ``weights.npz``: every weight in Keras' layout, keyed ``layer/weight`` (``dense/kernel``,
  ``bidirectional/forward/recurrent_kernel``; a GAN's keys start with ``generator/`` or ``discriminator/``);
* ``check.npz``: ``inputs`` (test samples, or latent vectors for a GAN's generator) and ``outputs``, nnplay's
  predictions for them in inference mode;
* ``data.npz``: the preset's own train/test split as the model sees it (an autoencoder's targets are its
  inputs and are not stored twice; a GAN has only ``x_train``).
"""
from __future__ import annotations

import io

import numpy as np

from .graph import Graph, weight_entries

#: Samples (or latent vectors) in check.npz.
CHECK_SAMPLES = 16
#: data.npz is written only up to this size; bigger data is made with nnplay on request.
DATA_LIMIT = 50 * 1024 * 1024


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def weight_arrays(graph: Graph, prefix: str = "") -> dict[str, np.ndarray]:
    """Every weight of the graph's model, keyed as the scripts read them, in Keras' ``get_weights`` order."""
    out: dict[str, np.ndarray] = {}
    for layer in graph.layers:
        for key, value in weight_entries(layer, prefix):
            out[key] = np.array(value, copy=True)
    return out


def as_float32(x) -> np.ndarray:
    """Floating-point data as float32 (what the scripts' models compute in); indices stay integers."""
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype.kind == "f" and x.dtype != np.float32 else x


def check_arrays(model, dataset, gan_latent: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """A batch of inputs and the model's outputs for them (inference mode), as float32."""
    if gan_latent is not None:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((CHECK_SAMPLES, gan_latent)).astype(np.float32)
    else:
        source = dataset.x_test if len(dataset.x_test) else dataset.x_train
        x = as_float32(source[:CHECK_SAMPLES])
    y = as_float32(model.predict(x, batch_size=CHECK_SAMPLES))
    return {"inputs": x, "outputs": y}


def data_arrays(dataset, kind: str) -> dict[str, np.ndarray]:
    """The split as the model sees it: x_train, y_train, x_test, y_test (autoencoder: x only; GAN: x_train),
    floating-point arrays as float32."""
    keys = {"gan": ("x_train",), "autoencoder": ("x_train", "x_test")}.get(kind, ("x_train", "y_train", "x_test",
                                                                                 "y_test"))
    return {key: as_float32(getattr(dataset, key)) for key in keys}


def data_size(arrays: dict[str, np.ndarray]) -> int:
    return int(sum(np.asarray(a).nbytes for a in arrays.values()))
