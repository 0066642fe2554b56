"""pad_sequences, to_categorical and normalize against real Keras 3.15 on random inputs (skipped where Keras is
not installed)."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="parity tests need Keras 3: pip install -e \".[parity]\"")

from nnplay.core.datasets.encoding import normalize, pad_sequences, to_categorical  # noqa: E402


def test_parity_with_keras_on_random_inputs():
    rng = np.random.default_rng(0)
    for _ in range(60):
        vectors = rng.random() < 0.25
        seqs = [rng.integers(-9, 99, (int(rng.integers(0, 8)),) + ((3,) if vectors else ())).tolist()
                for _ in range(int(rng.integers(1, 6)))]
        if not any(seqs):
            seqs.append([7] if not vectors else [[7, 7, 7]])
        kwargs = {"maxlen": [None, 1, 3, 10][rng.integers(4)], "padding": ["pre", "post"][rng.integers(2)],
                  "truncating": ["pre", "post"][rng.integers(2)], "value": int(rng.integers(-3, 3)),
                  "dtype": ["int32", "int64", "float32"][rng.integers(3)]}
        ours, theirs = pad_sequences(seqs, **kwargs), keras.utils.pad_sequences(seqs, **kwargs)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (seqs, kwargs)
        np.testing.assert_array_equal(ours, theirs)

        shape = [(5,), (5, 1), (2, 3), (2, 3, 1), (1,), (4, 1, 2)][rng.integers(6)]
        labels = rng.integers(0, 6, shape)
        num_classes = None if rng.random() < 0.5 else int(labels.max()) + 1 + int(rng.integers(0, 3))
        ours, theirs = to_categorical(labels, num_classes), keras.utils.to_categorical(labels, num_classes)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)

        x = rng.normal(size=[(4, 3), (2, 3, 4), (5,)][rng.integers(3)]).astype(["float32", "float64"][rng.integers(2)])
        x[0] = 0.0
        axis = -1 if x.ndim == 1 else [-1, 1, -2][rng.integers(3)]
        order = [2, 1, np.inf][rng.integers(3)]
        ours, theirs = normalize(x, axis=axis, order=order), keras.utils.normalize(x, axis=axis, order=order)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
