"""Small stand-ins for Keras' legacy ``.h5`` weight files (what ``keras.applications`` downloads): the same
layout, written with h5py for any nnplay model, filled with a short repeating pattern and gzip-compressed,
so a VGG16's 14.7 million weights take well under a megabyte. Tests never touch the real files."""
from __future__ import annotations

import numpy as np


def pattern(shape, fan_in: int, salt: int = 0) -> np.ndarray:
    """Deterministic values with period 13 (they compress to nothing), scaled like He initialisation."""
    n = int(np.prod(shape))
    base = (((np.arange(n, dtype=np.int64) * 7 + salt) % 13) - 6) / 6.0          # mean 0, variance ~0.39
    return (base * np.sqrt(2.0 / max(fan_in, 1) / 0.39)).reshape(shape).astype(np.float32)


def write_legacy_weights(path, model) -> None:
    """Keras' legacy weights layout for ``model``: root attribute ``layer_names``, one group per layer with
    ``weight_names`` and its arrays (Keras 2 names: ``<layer>_W_1:0``, ``<layer>_b_1:0``)."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for i, layer in enumerate(model.layers):
            group = f.create_group(layer.name)
            weights = layer.all_weights()
            names = [f"{layer.name}_{'W' if n == 'kernel' else 'b'}_1:0" for _, n in weights]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for name, (owner, wname) in zip(names, weights):
                shape = owner.weight(wname).shape
                fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
                value = pattern(shape, fan_in, salt=i) if wname == "kernel" else np.full(shape, 0.01, np.float32)
                group.create_dataset(name, data=value, compression="gzip", compression_opts=1, shuffle=True)
