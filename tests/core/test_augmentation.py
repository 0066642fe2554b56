"""Data augmentation: the resampling kernel against a naive NumPy reference, every augmentation layer's
gradient against finite differences, Keras' semantics (identity at inference, fill modes, factors), seeded
bit-identical reruns, ``[data.augment]`` in presets, and Keras 2's ImageDataGenerator feeding ``fit``."""
import numpy as np
import pytest

from nnplay.core.errors import NnplayError
from nnplay.core.experiments import build_experiment
from nnplay.core.gradcheck import check_layer
from nnplay.core.kernels import image as K
from nnplay.core.layers import (Conv2D, Dense, Flatten, MaxPooling2D, RandomContrast, RandomFlip, RandomRotation,
                                RandomTranslation, RandomZoom, layer_from_config)
from nnplay.core.layers.augment import DEFAULT_AUGMENT, Augmenter, augment_layers
from nnplay.core.layers.preprocessing import (adjust_contrast, affine_transform, rotation_matrices,
                                              translation_matrices, zoom_matrices)
from nnplay.core.models import Sequential, load_model
from nnplay.core.presets import PresetError, apply_overrides, load_preset, parse_preset, preset_from_dict
from nnplay.keras.preprocessing.image import ImageDataGenerator

TOL = 1e-6
PAD_MODES = {"reflect": "symmetric", "wrap": "wrap", "nearest": "edge", "constant": "constant"}


# ------------------------------------------------------------------------------------------ naive reference
def naive_affine(x, mats, interpolation, fill_mode, fill_value=0.0):
    """Resample by padding the image far out with NumPy's own modes and reading it pixel by pixel."""
    n, h, w, c = x.shape
    p = 3 * max(h, w)
    kw = {"constant_values": fill_value} if fill_mode == "constant" else {}
    out = np.zeros_like(x, dtype=np.float64)
    for k in range(n):
        big = np.pad(x[k].astype(np.float64), ((p, p), (p, p), (0, 0)), mode=PAD_MODES[fill_mode], **kw)
        a0, a1, a2, b0, b1, b2 = mats[k]
        for i in range(h):
            for j in range(w):
                sx, sy = a0 * j + a1 * i + a2 + p, b0 * j + b1 * i + b2 + p
                if interpolation == "nearest":
                    out[k, i, j] = big[int(np.rint(sy)), int(np.rint(sx))]
                    continue
                x0, y0 = int(np.floor(sx)), int(np.floor(sy))
                fx, fy = sx - x0, sy - y0
                out[k, i, j] = ((1 - fy) * ((1 - fx) * big[y0, x0] + fx * big[y0, x0 + 1])
                                + fy * ((1 - fx) * big[y0 + 1, x0] + fx * big[y0 + 1, x0 + 1]))
    return out


def random_mats(rng, n, h, w):
    angle = rng.uniform(-np.pi, np.pi, n)
    scale = rng.uniform(0.6, 1.5, (n, 2))
    return np.stack([np.cos(angle) * scale[:, 0], -np.sin(angle), rng.uniform(-2 * w, 2 * w, n),
                     np.sin(angle), np.cos(angle) * scale[:, 1], rng.uniform(-2 * h, 2 * h, n)], axis=1)


@pytest.mark.parametrize("fill_mode", K.FILL_MODES)
@pytest.mark.parametrize("interpolation", K.INTERPOLATIONS)
def test_kernel_matches_the_naive_reference(fill_mode, interpolation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5, 7, 2))
    mats = random_mats(rng, 4, 5, 7)
    got = affine_transform(x, mats, interpolation, fill_mode, 0.25)
    np.testing.assert_allclose(got, naive_affine(x, mats, interpolation, fill_mode, 0.25), atol=1e-12)


@pytest.mark.parametrize("fill_mode", K.FILL_MODES + ("scipy_constant", "scipy_wrap"))
@pytest.mark.parametrize("bilinear", [0, 1])
def test_kernel_backward_is_the_transpose_of_forward(fill_mode, bilinear):
    """Build the forward map as a dense matrix from unit images; backward must be its transpose."""
    rng = np.random.default_rng(1)
    h, w = 4, 5
    mode = {"scipy_constant": K.SCIPY_CONSTANT, "scipy_wrap": K.SCIPY_WRAP}.get(fill_mode) or \
        K.FILL_MODES.index(fill_mode)
    mats = random_mats(rng, 1, h, w)
    basis = np.eye(h * w).reshape(h * w, h, w, 1)
    dense = np.empty((h * w, h * w))
    for k in range(h * w):
        out = np.empty((1, h, w, 1))
        K.affine_transform_forward(basis[k:k + 1], mats, bilinear, mode, 0.0, out)   # fill 0: the linear part
        dense[:, k] = out.ravel()
    g = rng.standard_normal((1, h, w, 1))
    grad_x = np.empty_like(g)
    K.affine_transform_backward(g, mats, bilinear, mode, grad_x)
    np.testing.assert_allclose(grad_x.ravel(), dense.T @ g.ravel(), atol=1e-12)


def test_transforms_have_keras_geometry():
    x = np.random.default_rng(2).random((1, 5, 5, 1))
    # a positive angle turns counter-clockwise as displayed; 90 degrees about the centre is exact
    np.testing.assert_allclose(affine_transform(x, rotation_matrices([90], 5, 5)), np.rot90(x, 1, axes=(1, 2)),
                               atol=1e-12)
    shifted = affine_transform(x, translation_matrices([2], [1]), "nearest", "constant")
    np.testing.assert_array_equal(shifted[0, 1:, 2:], x[0, :-1, :-2])       # right by 2, down by 1
    assert not shifted[0, 0].any() and not shifted[0, :, :2].any()
    np.testing.assert_array_equal(affine_transform(x, zoom_matrices([1], [1], 5, 5)), x)
    zoomed_out = affine_transform(x, zoom_matrices([2], [2], 5, 5), "nearest", "constant")
    assert zoomed_out[0, 2, 2, 0] == x[0, 2, 2, 0] and zoomed_out[0, 1, 1, 0] == x[0, 0, 0, 0]


# ------------------------------------------------------------------------------------------ layers
def fixed(layer):
    """The layer drawing the same transforms in every forward (finite differences need them fixed)."""
    forward = layer.forward

    def again(x, training=False):
        layer.reseed(1234)
        return forward(x, training)

    layer.forward = again
    return layer


LAYERS = {
    "flip_h": lambda: RandomFlip("horizontal"),
    "flip_hv": lambda: RandomFlip(),
    "rotation": lambda: RandomRotation(0.3, fill_mode="constant", fill_value=0.4),
    "rotation_reflect": lambda: RandomRotation((-0.2, 0.5)),
    "rotation_nearest": lambda: RandomRotation(0.3, fill_mode="wrap", interpolation="nearest"),
    "translation": lambda: RandomTranslation(0.3, (-0.2, 0.4), fill_mode="nearest"),
    "zoom": lambda: RandomZoom(0.4, fill_mode="reflect"),
    "zoom_xy": lambda: RandomZoom((-0.5, -0.1), (0.1, 0.6), fill_mode="constant"),
    "contrast": lambda: RandomContrast((0.5, 0.5), value_range=(-10, 10)),
    "contrast_clipped": lambda: RandomContrast(0.9, value_range=(-0.5, 0.5)),
}


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradients_of_every_augmentation_layer(name, batch):
    for training in (True, False):
        # every transform is linear in x (piecewise, for a clipped contrast): a larger step only cuts rounding noise
        err = check_layer(fixed(LAYERS[name]()), (5, 6, 2), batch=batch, training=training, max_checks=None,
                          eps=1e-5)
        assert err["x"] < TOL, (name, training, err)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_identity_at_inference_and_a_transform_in_training(name):
    layer = LAYERS[name]()
    x = np.random.default_rng(3).random((16, 6, 6, 1)).astype(np.float32)
    assert np.array_equal(layer(x, training=False), x)                # Keras: inference does nothing
    for y in (layer(x, training=True), layer(x)):                     # Keras 3: a direct call transforms
        assert y.shape == x.shape and y.dtype == x.dtype and not np.array_equal(y, x)
    layer.forward(x, False)
    assert layer.backward(x) is x                                     # the identity passes the gradient on
    model = Sequential([LAYERS[name](), Flatten()], seed=0)
    model.build((6, 6, 1))
    assert np.array_equal(model.predict(x), x.reshape(16, -1)) and np.array_equal(model(x, training=False),
                                                                                  x.reshape(16, -1))
    assert not np.array_equal(model(x), x.reshape(16, -1))           # as a Keras model called on data


def test_flip_modes_and_contrast_follow_keras():
    x = np.random.default_rng(4).random((400, 3, 4, 1)).astype(np.float32)
    both = RandomFlip(seed=0)(x, training=True)
    turned = np.all(both == x[:, ::-1, ::-1], axis=(1, 2, 3))
    kept = np.all(both == x, axis=(1, 2, 3))
    assert np.all(turned | kept) and 150 < turned.sum() < 250          # one draw decides both flips
    horizontal = RandomFlip("horizontal", seed=0)(x, training=True)
    assert np.all(np.all(horizontal == x[:, :, ::-1], axis=(1, 2, 3)) | np.all(horizontal == x, axis=(1, 2, 3)))
    # one number f draws factors in [1, 1 + f] (as Keras 3.15); a pair, sorted to (a, b), in [1 - a, 1 + b]
    layer = RandomContrast(0.5, value_range=(-100, 100), seed=0)
    y = layer(x, training=True)
    mean = x.mean(axis=(1, 2), keepdims=True)
    f = ((y - mean) / (x - mean))[:, 0, 0, 0]
    assert f.min() >= 1 - 1e-5 and f.max() <= 1.5 + 1e-5 and f.max() > 1.4
    f = (((RandomContrast((0.5, 0.3), value_range=(-100, 100), seed=0)(x, training=True)) - mean) / (x - mean))
    assert f.min() >= 0.7 - 1e-5 and f.max() <= 1.5 + 1e-5 and f.min() < 0.75 and f.max() > 1.45
    clipped = RandomContrast(1.0, value_range=(0.2, 0.8), seed=0)(x, training=True)
    assert clipped.min() >= 0.2 and clipped.max() <= 0.8
    np.testing.assert_allclose(adjust_contrast(x, 1.0, (0, 1)), x, atol=1e-6)


def test_rotation_angles_stay_within_the_factor():
    x = np.zeros((200, 9, 9, 1), np.float32)
    x[:, 4, 5:] = 1.0                                                  # a ray from the centre to the right
    layer = RandomRotation((0.05, 0.1), fill_mode="constant", interpolation="nearest", seed=1)
    y = layer(x, training=True)
    # every ray turned counter-clockwise by 18..36 degrees: its tip moves up, never down
    rows = np.array([np.argwhere(img[:, :, 0] > 0)[:, 0].min() for img in y])
    assert rows.max() <= 4 and rows.min() >= 1


@pytest.mark.parametrize("bad, match", [
    (lambda: RandomRotation(1.5), "factor must be a number or a pair"),
    (lambda: RandomRotation(0.1, fill_mode="mirror"), "unknown fill_mode 'mirror'"),
    (lambda: RandomRotation(0.1, interpolation="bicubic"), "unknown interpolation"),
    (lambda: RandomZoom(-1.0), r"height_factor must be a number or a pair \[lower, upper\] in \(-1, 1\]"),
    (lambda: RandomTranslation(0.1, [0.1, 0.2, 0.3]), "width_factor must be a number or a pair"),
    (lambda: RandomContrast(-0.1), r"factor must be a number or a pair \[lower, upper\] in \[0, 1\]"),
    (lambda: RandomContrast(0.1, value_range=(1, 0)), "low < high"),
    (lambda: RandomFlip("diagonal"), "unknown mode 'diagonal'"),
    (lambda: RandomFlip(data_format="channels_first"), "channels-last only"),
    (lambda: RandomFlip(seed=-1), "seed must be a whole number"),
])
def test_bad_arguments_are_one_line_errors(bad, match):
    with pytest.raises(NnplayError, match=match):
        bad()


def test_shape_errors_name_the_layer():
    model = Sequential([RandomRotation(0.1, input_shape=(784,)), Dense(10)])
    with pytest.raises(NnplayError, match=r"'random_rotation'.*images.*Reshape\(\(28, 28, 1\)\)"):
        model.build()


def test_configs_round_trip_with_keras_names():
    for make in LAYERS.values():
        layer = make()
        cfg = layer.get_config()
        again = layer_from_config(cfg)
        assert type(again) is type(layer) and again.get_config() == cfg
    assert RandomZoom(0.1).get_config() == {"type": "random_zoom", "name": "random_zoom", "height_factor": 0.1,
                                            "fill_mode": "reflect", "interpolation": "bilinear", "fill_value": 0.0}


# ------------------------------------------------------------------------------------------ seeds
def small_cnn(seed, augment=True):
    aug = [RandomFlip("horizontal"), RandomRotation(0.1), RandomZoom(0.1), RandomTranslation(0.1, 0.1),
           RandomContrast(0.2, value_range=(0, 1))] if augment else []
    model = Sequential([*aug, Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                        Dense(3, activation="softmax")], seed=seed)
    model.build((8, 8, 1))
    return model


def test_adding_augmentation_layers_leaves_the_other_weights_as_they_were():
    plain, augmented = small_cnn(5, augment=False), small_cnn(5)
    for a, b in zip(plain.get_weights(), augmented.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_seeded_training_with_augmentation_is_bit_identical(tmp_path):
    rng = np.random.default_rng(6)
    x, y = rng.random((64, 8, 8, 1)).astype(np.float32), rng.integers(0, 3, 64)
    runs = []
    for _ in range(2):
        model = small_cnn(7)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        runs.append((model.get_weights(), history.history["loss"]))
    assert runs[0][1] == runs[1][1]
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    # saved and loaded, the layers keep their config (and are the identity in predict)
    model.save(tmp_path / "aug.npz")
    again = load_model(tmp_path / "aug.npz")
    np.testing.assert_array_equal(again.predict(x[:4]), model.predict(x[:4]))


def test_keras_file_round_trip(tmp_path):
    pytest.importorskip("h5py")
    model = small_cnn(8)
    model.save(tmp_path / "aug.keras")
    again = load_model(tmp_path / "aug.keras")
    assert [l.get_config() for l in again.layers[:5]] == [l.get_config() for l in model.layers[:5]]


# ------------------------------------------------------------------------------------------ [data.augment]
AUG_PRESET = """
name = "aug"
seed = 3
[data]
name = "digits-shifted"
n_train = 40
n_test = 40
[data.augment]
rotation = 0.05
translation = 0.1
zoom = 0.1
flip = "horizontal"
contrast = 0.2
[[model.layers]]
type = "conv2d"
filters = 4
kernel_size = 3
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 10
activation = "softmax"
[training]
loss = "sparse_categorical_crossentropy"
metrics = ["accuracy"]
epochs = 2
batch_size = 8
"""


def test_a_preset_augments_training_batches_only_and_reruns_identically():
    p = parse_preset(AUG_PRESET)
    assert p.data.augment["rotation"] == 0.05 and "augment" not in p.data.params
    assert parse_preset(p.to_toml()) == p
    results = []
    for _ in range(2):
        exp = build_experiment(p)
        assert [type(l).__name__ for l in exp.augment.layers] == ["RandomFlip", "RandomRotation", "RandomZoom",
                                                                  "RandomTranslation", "RandomContrast"]
        assert not any(type(l).__name__.startswith("Random") for l in exp.model.layers)   # the model is unchanged
        exp.warm_up()                                      # compiles on copies: the stream is untouched
        trainer = exp.trainer()
        list(trainer.run())
        results.append((trainer.history.history, exp.evaluate(trainer)))
    assert results[0] == results[1]
    plain = build_experiment(apply_overrides(p, {"data": {"name": "digits-shifted", "n_train": 40, "n_test": 40}}))
    trainer = plain.trainer()
    list(trainer.run())
    assert trainer.history.history != results[0][0]


def test_augmented_samples_of_one_image_for_the_views():
    aug = Augmenter(DEFAULT_AUGMENT, (16, 16, 1), seed=0)
    image = np.random.default_rng(9).random((16, 16, 1)).astype(np.float32)
    state = aug.layers[0].rng.bit_generator.state
    grid = aug.samples(image, 8, seed=1)
    assert grid.shape == (8, 16, 16, 1) and len({g.tobytes() for g in grid}) == 8
    np.testing.assert_array_equal(grid, aug.samples(image, 8, seed=1))
    assert aug.layers[0].rng.bit_generator.state == state          # training's stream is not disturbed
    assert aug.describe() == "augment: rotation 0.05, zoom 0.1, translation 0.1 (fill reflect)"
    model = small_cnn(0)                                   # augmentation as the model's first layers
    inside = Augmenter.from_model(model, seed=2)
    assert [type(l) for l in inside.layers] == [type(l) for l in model.layers[:5]]
    assert inside.samples(image[:8, :8], 3).shape == (3, 8, 8, 1) and "(in the model)" in inside.describe()
    assert Augmenter.from_model(small_cnn(0, augment=False)) is None


@pytest.mark.parametrize("table, match", [
    ({"rotaton": 0.1}, r"data.augment.rotaton: unknown key \(did you mean 'rotation'\?\)"),
    ({"rotation": 2}, r"data.augment.rotation: rotation=2: factor must be"),
    ({"flip": "sideways"}, r"data.augment.flip: flip='sideways': unknown flip mode"),
    ({"fill_mode": "wrap"}, "no transform is switched on"),
])
def test_bad_augment_tables_are_located(table, match):
    d = parse_preset(AUG_PRESET).to_dict()
    d["data"]["augment"] = table
    with pytest.raises(PresetError, match=match):
        preset_from_dict(d, source="aug.toml")


def test_augment_needs_image_data():
    p = load_preset("moons")
    p = apply_overrides(p, {"data.augment": {"rotation": 0.1}})
    with pytest.raises(PresetError, match=r"data.augment: .*images \(height, width, channels\)"):
        build_experiment(p)
    assert augment_layers({}) == []


def test_the_augment_digits_preset_states_both_outcomes():
    p = load_preset("augment-digits")
    names = [v.name for v in p.variants]
    assert names == ["plain", "augmented"]
    assert p.data.augment is None and p.variants[1].set["data.augment"]["translation"] == 0.2


# ------------------------------------------------------------------------------------------ ImageDataGenerator
def test_image_data_generator_flow_feeds_fit_and_repeats_when_seeded():
    rng = np.random.default_rng(10)
    x, y = rng.random((50, 8, 8, 3)).astype(np.float32), rng.integers(0, 3, 50)
    gen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, height_shift_range=0.1,
                             horizontal_flip=True, zoom_range=0.1, shear_range=5, channel_shift_range=0.1)
    flow = gen.flow(x, y, batch_size=16, seed=0)
    assert len(flow) == 4
    xb, yb = flow[3]
    assert xb.shape == (2, 8, 8, 3) and yb.shape == (2,)
    xb, yb = next(flow)
    assert xb.shape == (16, 8, 8, 3) and not np.array_equal(xb, x[:16])
    runs = []
    for _ in range(2):
        model = Sequential([Conv2D(4, 3, activation="relu"), Flatten(), Dense(3, activation="softmax")], seed=1)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        h = model.fit(gen.flow(x, y, batch_size=16, seed=0), epochs=2, verbose=0, steps_per_epoch=3)
        runs.append(h.history["loss"])
    assert runs[0] == runs[1] and len(runs[0]) == 2
    with pytest.raises(NnplayError, match="flow already holds the targets"):
        model.fit(gen.flow(x, y), y)


def test_image_data_generator_statistics_and_transforms():
    rng = np.random.default_rng(11)
    x = rng.random((30, 6, 6, 3)).astype(np.float32) * 4 + 1
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(x)
    z = gen.standardize(x.copy())
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1, atol=1e-4)
    gen = ImageDataGenerator(rotation_range=90)
    turned = gen.apply_transform(x[0], {"theta": 90})
    np.testing.assert_allclose(turned, np.rot90(x[0], 1), atol=1e-5)
    np.testing.assert_array_equal(gen.apply_transform(x[0], {"flip_horizontal": True}), x[0][:, ::-1])
    assert set(gen.get_random_transform((6, 6, 3), seed=0)) >= {"theta", "tx", "ty", "zx", "zy", "brightness"}
    with pytest.raises(NnplayError, match="flow_from_directory reads image files"):
        gen.flow_from_directory("images/")
    with pytest.raises(NnplayError, match="interpolation_order must be 0"):
        ImageDataGenerator(interpolation_order=3)
