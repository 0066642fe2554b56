"""keras.applications against real Keras 3.15 (torch CPU backend): the same architecture (layer names,
shapes, parameter counts) and, loaded from one small stand-in of Keras' legacy weight file, the same
outputs. Skipped where Keras or h5py is not installed."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="parity tests need Keras 3: pip install -e \".[parity]\"")
pytest.importorskip("h5py")

from nnplay.keras import applications  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from legacy_weights import write_legacy_weights  # noqa: E402


@pytest.mark.parametrize("name", ["VGG16", "VGG19"])
@pytest.mark.parametrize("include_top, pooling", [(False, None), (False, "avg"), (True, None)])
def test_vgg_architecture_and_stand_in_weights_as_keras(name, include_top, pooling, tmp_path):
    kw = dict(include_top=include_top, pooling=pooling, input_shape=(32, 32, 3))
    if include_top:
        kw["classes"] = 7
    ours = getattr(applications, name)(weights=None, **kw)
    path = tmp_path / "weights.h5"
    write_legacy_weights(path, ours)
    theirs = getattr(keras.applications, name)(weights=str(path), **kw)
    ours = getattr(applications, name)(weights=str(path), **kw)
    # named layers alike (an unnamed pooling layer takes Keras' process-wide counter there, nnplay's per model)
    assert [l.name for l in ours.layers[1:]][:-1] == [l.name for l in theirs.layers[1:]][:-1]
    assert [type(l).__name__ for l in ours.layers[1:]] == [type(l).__name__ for l in theirs.layers[1:]]
    assert ours.count_params() == theirs.count_params()
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    a, b = ours.predict(x), np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3 * np.abs(b).max())


def test_preprocess_input_as_keras():
    x = np.random.default_rng(1).random((2, 4, 4, 3)).astype(np.float32) * 255
    np.testing.assert_allclose(applications.vgg16.preprocess_input(x.copy()),
                               np.asarray(keras.applications.vgg16.preprocess_input(x.copy())), rtol=1e-6)
