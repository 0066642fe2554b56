"""nnplay's augmentation against real Keras 3.15 (torch CPU backend). Keras' random numbers cannot be
reproduced, so each test lets Keras draw a transformation, reads its parameters (angles, shifts, zooms,
contrast factors, flips) and applies nnplay's transform with them: the images must match, and so must the
gradients torch takes through Keras' transform. ImageDataGenerator is compared on given parameters, and the
layers' configs travel both ways in .keras files. Skipped where Keras is not installed."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="parity tests need Keras 3: pip install -e \".[parity]\"")
torch = pytest.importorskip("torch")

from nnplay import keras as nk  # noqa: E402
from nnplay.core.layers import preprocessing as P  # noqa: E402
from nnplay.keras.preprocessing.image import ImageDataGenerator  # noqa: E402

FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def images(shape=(6, 11, 8, 3), seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def keras_draw(layer, x):
    """Keras' own transformation for ``x`` and the images it makes (as torch tensors, for gradients)."""
    xt = torch.tensor(x, requires_grad=True)
    t = layer.get_random_transformation(xt, training=True)
    return xt, t, layer.transform_images(xt, t, training=True)


def nnplay_params(kind, t, x):
    """The transformation Keras drew, as nnplay's layers take it (matrices, factors or flips)."""
    h, w = x.shape[1], x.shape[2]
    if kind == "rotation":
        return P.rotation_matrices(np.asarray(t["angle"]), h, w)
    if kind == "translation":
        tr = np.asarray(t["translations"])
        return P.translation_matrices(tr[:, 0], tr[:, 1])
    if kind == "zoom":
        return P.zoom_matrices(np.asarray(t["width_zoom"]), np.asarray(t["height_zoom"]), h, w)
    if kind == "contrast":
        return np.asarray(t["contrast_factor"], np.float64).reshape(-1)
    return np.asarray(t["flips"]).reshape(-1)


GEOMETRIC = {
    "rotation": (lambda lib, fm, it: lib.layers.RandomRotation((-0.3, 0.4), fill_mode=fm, interpolation=it,
                                                               fill_value=0.5, seed=1)),
    "translation": (lambda lib, fm, it: lib.layers.RandomTranslation(0.3, (-0.2, 0.4), fill_mode=fm,
                                                                     interpolation=it, fill_value=0.5, seed=1)),
    "zoom": (lambda lib, fm, it: lib.layers.RandomZoom((-0.4, 0.3), (-0.2, 0.5), fill_mode=fm, interpolation=it,
                                                       fill_value=0.5, seed=1)),
}


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("kind", sorted(GEOMETRIC))
def test_geometric_layers_transform_and_differentiate_as_keras(kind, fill_mode, interpolation):
    x = images()
    k_layer = GEOMETRIC[kind](keras, fill_mode, interpolation)
    n_layer = GEOMETRIC[kind](nk, fill_mode, interpolation)
    n_layer.build(x.shape[1:], np.random.default_rng(0))
    xt, t, k_out = keras_draw(k_layer, x)
    params = nnplay_params(kind, t, x)
    n_out = n_layer.apply(x, params)
    np.testing.assert_allclose(n_out, k_out.detach().numpy(), atol=2e-6)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    (k_out * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(n_layer.apply_backward(g, params), xt.grad.numpy(), atol=1e-5)


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_flips_as_keras(mode):
    x = images((40, 5, 6, 2))
    xt, t, k_out = keras_draw(keras.layers.RandomFlip(mode, seed=2), x)
    layer = nk.layers.RandomFlip(mode)
    np.testing.assert_array_equal(layer.apply(x, nnplay_params("flip", t, x)), k_out.detach().numpy())


@pytest.mark.parametrize("factor, value_range", [(0.5, (0, 1)), ((0.3, 0.6), (0, 255)), (0.9, (0.2, 0.7))])
def test_contrast_as_keras_with_its_gradient(factor, value_range):
    x = images()
    k_layer = keras.layers.RandomContrast(factor, value_range=value_range, seed=3)
    n_layer = nk.layers.RandomContrast(factor, value_range=value_range)
    n_layer.build(x.shape[1:], np.random.default_rng(0))
    xt, t, k_out = keras_draw(k_layer, x)
    f = nnplay_params("contrast", t, x)
    assert np.all(f >= 1 - n_layer._lo - 1e-6) and np.all(f <= 1 + n_layer._hi + 1e-6)   # the same range
    n_layer.cache = {}
    np.testing.assert_allclose(n_layer.apply(x, f), k_out.detach().numpy(), atol=2e-6)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    (k_out * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(n_layer.apply_backward(g, f), xt.grad.numpy(), atol=1e-5)


def test_when_each_framework_transforms():
    """Identity at inference (training=False, predict); transformed in training and, in Keras 3, when a layer
    or a model is called directly on data without training=False."""
    x = images()
    for make in (lambda lib: lib.layers.RandomRotation(0.2), lambda lib: lib.layers.RandomZoom(0.2),
                 lambda lib: lib.layers.RandomContrast(0.2, value_range=(0, 1)), lambda lib: lib.layers.RandomFlip(),
                 lambda lib: lib.layers.RandomTranslation(0.1, 0.1)):
        for lib in (keras, nk):
            model = lib.Sequential([lib.Input(shape=x.shape[1:]), make(lib), lib.layers.Dropout(0.5)])
            np.testing.assert_array_equal(np.asarray(make(lib)(x, training=False)), x)
            np.testing.assert_array_equal(np.asarray(model.predict(x, verbose=0)), x)
            assert not np.array_equal(np.asarray(make(lib)(x)), x)
            called = np.asarray(model(x))                     # augmented, but no dropout (about half zeros)
            assert not np.array_equal(called, x) and (called == 0).mean() < 0.1, lib.__name__


def test_augmentation_layers_travel_both_ways_in_keras_files(tmp_path):
    pytest.importorskip("h5py")
    model = nk.Sequential([nk.Input(shape=(12, 12, 1)), nk.layers.RandomFlip("horizontal", seed=3),
                           nk.layers.RandomRotation(0.1, fill_mode="constant"),
                           nk.layers.RandomTranslation(0.1, (-0.2, 0.1)), nk.layers.RandomZoom(0.2, 0.1),
                           nk.layers.RandomContrast(0.3, value_range=(0, 1)), nk.layers.Conv2D(2, 3),
                           nk.layers.Flatten(), nk.layers.Dense(2)], seed=0)
    model.save(tmp_path / "n.keras")
    k_model = keras.saving.load_model(tmp_path / "n.keras")
    assert [type(l).__name__ for l in k_model.layers[:5]] == ["RandomFlip", "RandomRotation", "RandomTranslation",
                                                              "RandomZoom", "RandomContrast"]
    assert k_model.layers[4].factor == (0, 0.3) and k_model.layers[1].fill_mode == "constant"
    k_model.save(tmp_path / "k.keras")
    again = nk.models.load_model(tmp_path / "k.keras")
    # Keras writes factors as the ranges they mean (0.1 -> [-0.1, 0.1]); the ranges are what must survive
    for new, old in zip(again.layers[:5], model.layers[:5]):
        assert type(new) is type(old)
        for attr in ("_lo", "_hi", "_h", "_w", "mode", "fill_mode", "interpolation", "value_range", "seed"):
            if hasattr(old, attr):
                assert np.allclose(getattr(new, attr), getattr(old, attr)) if attr.startswith("_") else \
                    tuple(np.ravel(getattr(new, attr))) == tuple(np.ravel(getattr(old, attr))), (old.name, attr)
    x = images((3, 12, 12, 1))
    np.testing.assert_allclose(again.predict(x), np.asarray(k_model.predict(x, verbose=0)), atol=1e-5)


# ------------------------------------------------------------------------------------------ ImageDataGenerator
PARAMS = [dict(theta=17.0), dict(tx=2.3, ty=-1.7), dict(zx=0.8, zy=1.2), dict(shear=12.0),
          dict(theta=-25.0, tx=1.0, ty=2.0, shear=5.0, zx=1.1, zy=0.9), dict(flip_horizontal=True, theta=10.0),
          dict(channel_shift_intensity=0.2, flip_vertical=True)]


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "constant", "wrap"])
@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "-".join(p))
def test_image_data_generator_transforms_as_keras(fill_mode, params):
    from keras.src.legacy.preprocessing.image import ImageDataGenerator as KerasGenerator

    x = images((1, 9, 13, 3))[0]                      # not square: Keras swaps the centre's axes, and so must we
    k = KerasGenerator(fill_mode=fill_mode, cval=0.3).apply_transform(x, params)
    n = ImageDataGenerator(fill_mode=fill_mode, cval=0.3).apply_transform(x, params)
    differ = np.abs(k - n).max(axis=2) > 1e-5
    # a point landing exactly on the border may fall either side of it in SciPy's and nnplay's rounding
    assert differ.sum() <= (1 if fill_mode in ("constant", "wrap") else 0), np.argwhere(differ)
