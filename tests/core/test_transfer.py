"""Transfer learning: ``[model.base]`` (a preset trained first and cached, or a saved model), frozen layers,
``[training.fine_tune]``, the Keras recipe in Python, and ``keras.applications`` (VGG16/VGG19) with small
stand-in weight files where Keras keeps them (never the real ones)."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from nnplay.core.errors import NnplayError
from nnplay.core.experiments import build_experiment
from nnplay.core.experiments import transfer
from nnplay.core.layers import Dense, GlobalAveragePooling2D
from nnplay.core.models import Sequential, load_model
from nnplay.core.presets import PresetError, load_preset, parse_preset, preset_from_dict, variant_preset
from nnplay.keras import applications

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from legacy_weights import write_legacy_weights  # noqa: E402

BASE = """
name = "tiny-base"
seed = 1
[data]
name = "font-digits"
n_samples = 300
noise = 0.2
[[model.layers]]
type = "conv2d"
filters = 4
kernel_size = 3
activation = "relu"
[[model.layers]]
type = "max_pooling2d"
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 16
activation = "relu"
[[model.layers]]
type = "dense"
units = 10
activation = "softmax"
[training]
loss = "sparse_categorical_crossentropy"
metrics = ["accuracy"]
epochs = 2
"""

TRANSFER = """
name = "tiny-transfer"
seed = 2
[data]
name = "digits-bold"
per_class = 2
n_test = 50
[model.base]
preset = "base.toml"
[[model.layers]]
type = "dense"
units = 10
activation = "softmax"
[training]
loss = "sparse_categorical_crossentropy"
metrics = ["accuracy"]
epochs = 4
batch_size = 8
[training.fine_tune]
after = 2
unfreeze = 2
learning_rate = 0.0001
"""


@pytest.fixture
def presets(tmp_path, monkeypatch):
    """The two presets side by side, and an empty cache folder for trained bases."""
    monkeypatch.setenv("NNPLAY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(transfer, "_memo", {})
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "transfer.toml").write_text(TRANSFER)
    return tmp_path


def weights_of(layers):
    return [w.copy() for layer in layers for w in (layer.weight(n) for _, n in layer.all_weights())]


def test_a_base_preset_is_trained_once_saved_and_reused(presets):
    p = load_preset(presets / "transfer.toml")
    shown = build_experiment(p, train_base=False)          # to show or check shapes: nothing trains
    assert shown.base.untrained and "not trained yet" in shown.base.describe()
    assert not (presets / "cache").exists() and shown.model.layers[3].output_shape == (16,)
    events = []
    exp = build_experiment(p, base_progress=events.append)
    base = exp.base
    assert base.trained_now and events and base.path and os.path.isfile(base.path)
    assert base.path.startswith(str(presets / "cache" / "bases" / "tiny-base-"))
    assert "test_accuracy" in base.metrics and "trained now" in base.describe()
    names = [layer.name for layer in exp.model.layers]
    assert names == ["conv2d", "max_pooling2d", "flatten", "dense", "dense_1"]   # the base's four, then the head
    assert exp.n_base_layers == 4
    for new, old in zip(exp.model.layers[:4], base.layers()[:4]):
        for a, b in zip(weights_of([new]), weights_of([old])):
            np.testing.assert_array_equal(a, b)
    assert not any(layer.trainable for layer in exp.model.layers[:4]) and exp.model.layers[4].trainable
    # a second process finds it in the cache folder: same weights, nothing trained
    transfer._memo.clear()
    again = build_experiment(p, base_progress=events.append)
    assert not again.base.trained_now and "loaded" in again.base.describe()
    for a, b in zip(again.model.get_weights()[:4], exp.model.get_weights()[:4]):
        np.testing.assert_array_equal(a, b)


def test_frozen_base_then_fine_tuning_and_bit_identical_reruns(presets):
    p = load_preset(presets / "transfer.toml")
    runs = []
    for _ in range(2):
        exp = build_experiment(p)
        frozen = weights_of(exp.model.layers[:4])
        trainer = exp.trainer()
        lrs, snapshots = [], []
        for ev in trainer.run():
            if type(ev).__name__ == "EpochEnded":
                lrs.append(ev.learning_rate)
                snapshots.append(weights_of(exp.model.layers[:4]))
        # epochs 1-2: the base does not move; from epoch 3 its top two layers (flatten, dense) train
        for a, b in zip(snapshots[1], frozen):
            np.testing.assert_array_equal(a, b)
        conv_k, conv_b, dense_k, dense_b = snapshots[-1]
        np.testing.assert_array_equal(conv_k, frozen[0])
        assert not np.array_equal(dense_k, frozen[2])
        assert lrs == [0.001, 0.001, 0.0001, 0.0001]
        assert exp.model.optimizer.iterations == 2 * trainer.steps        # a fresh optimizer at the switch
        runs.append((trainer.history.history, exp.evaluate(trainer)))
    assert runs[0] == runs[1]


def test_scratch_uses_the_same_layers_with_fresh_weights(presets):
    (presets / "scratch.toml").write_text(TRANSFER.replace('preset = "base.toml"\n',
                                                           'preset = "base.toml"\npretrained = false\n'))
    exp = build_experiment(load_preset(presets / "scratch.toml"))
    pre = build_experiment(load_preset(presets / "transfer.toml"))
    assert exp.base.model is pre.base.model                             # the base preset was trained once
    assert all(layer.trainable for layer in exp.model.layers)           # not pretrained: trainable by default
    assert exp.model.count_params() == pre.model.count_params()
    assert not np.array_equal(exp.model.get_weights()[0], pre.model.get_weights()[0])


def test_a_new_head_does_not_start_where_the_bases_own_head_started(presets):
    """With the base preset's seed the head would draw exactly the initial weights of the base's discarded
    top layer, which the base's features were trained to fit: an untrained head would already score well."""
    (presets / "same-seed.toml").write_text(TRANSFER.replace("seed = 2", "seed = 1"))
    exp = build_experiment(load_preset(presets / "same-seed.toml"))
    fresh_base = build_experiment(load_preset(presets / "base.toml"))      # built, not trained: initial weights
    head, base_head = exp.model.layers[-1], fresh_base.model.layers[-1]
    assert head.params["kernel"].shape == base_head.params["kernel"].shape
    assert not np.allclose(head.params["kernel"], base_head.params["kernel"])
    again = build_experiment(load_preset(presets / "same-seed.toml"))       # still seeded: the same every time
    np.testing.assert_array_equal(again.model.layers[-1].params["kernel"], head.params["kernel"])


def test_a_saved_model_as_base(presets):
    base_exp = build_experiment(load_preset(presets / "base.toml"))
    base_exp.model.save(presets / "base.npz")
    d = parse_preset(TRANSFER).to_dict()
    d["model"]["base"] = {"path": str(presets / "base.npz"), "layers": 3}
    exp = build_experiment(preset_from_dict(d))
    assert [layer.name for layer in exp.model.layers] == ["conv2d", "max_pooling2d", "flatten", "dense"]
    np.testing.assert_array_equal(exp.model.get_weights()[0], base_exp.model.get_weights()[0])


@pytest.mark.parametrize("change, match", [
    ({"model.base": {"preset": "a", "path": "b.npz"}}, r"model.base: give either preset"),
    ({"model.base": {"layers": 2}}, r"model.base: needs preset"),
    ({"model.base": {"preset": "x", "layer": 2}}, r"model.base.layer: unknown key \(did you mean 'layers'\?\)"),
    ({"model.base": {"preset": "x", "trainable": "no"}}, r"model.base.trainable: must be true or false"),
    ({"training.fine_tune": {"unfreeze": 1}}, r"training.fine_tune: missing key 'after'"),
])
def test_bad_base_and_fine_tune_tables_are_located(change, match):
    d = parse_preset(TRANSFER).to_dict()
    for key, value in change.items():
        section, name = key.split(".")
        d[section][name] = value
    with pytest.raises(PresetError, match=match):
        preset_from_dict(d, source="t.toml")


def test_fine_tune_needs_a_base_and_build_errors_are_located(presets):
    d = parse_preset(TRANSFER).to_dict()
    del d["model"]["base"]
    with pytest.raises(PresetError, match=r"training.fine_tune: unfreezes layers of \[model.base\]"):
        preset_from_dict(d)
    p = load_preset(presets / "transfer.toml")
    d = p.to_dict()
    d["model"]["base"]["layers"] = 9
    bad = preset_from_dict(d)
    bad.context.base_dir = str(presets)
    with pytest.raises(PresetError, match=r"model.base.layers: the base \(preset tiny-base\) has 5 layers"):
        build_experiment(bad)
    d["model"]["base"] = {"preset": "nope-not-a-preset"}
    with pytest.raises(PresetError, match=r"model.base.preset: unknown preset 'nope-not-a-preset'"):
        build_experiment(preset_from_dict(d))
    d["model"]["base"] = {"preset": "base.toml"}         # 16x16 images, but the data must match
    d["data"] = {"name": "digits-bold", "per_class": 1, "n_test": 20, "size": 20}
    bad = preset_from_dict(d)
    bad.context.base_dir = str(presets)
    with pytest.raises(PresetError, match=r"model.base: the base .* takes inputs of shape \[16, 16, 1\]"):
        build_experiment(bad)


def test_the_shipped_transfer_presets():
    p = load_preset("transfer-digits-bold")
    assert p.model.base == {"preset": "transfer-digits-base", "layers": 6}
    assert [v.name for v in p.variants] == ["frozen-base", "scratch"]
    assert variant_preset(p, "scratch").model.base["pretrained"] is False
    assert transfer.base_preset(p).name == "transfer-digits-base"


# ------------------------------------------------------------------------------------------ the Keras recipe
def test_the_keras_recipe_freeze_a_base_train_a_head_then_fine_tune():
    from nnplay import keras

    rng = np.random.default_rng(0)
    x, y = rng.random((32, 8, 8, 1)).astype(np.float32), rng.integers(0, 2, 32)
    base = keras.Sequential([keras.layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                             keras.layers.MaxPooling2D(2)], seed=0)
    base.trainable = False
    model = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid")],
                             seed=1)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    frozen = [w.copy() for w in base.get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(a, b)
    summary = model.summary(print_fn=None)
    assert "Trainable params: 5" in summary and "Non-trainable params: 40" in summary
    base.trainable = True                             # unfreeze, recompile with a small learning rate
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(base.get_weights()[0], frozen[0])


# ------------------------------------------------------------------------------------------ keras.applications
@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def test_vgg_architectures_with_keras_parameter_counts(keras_home):
    assert applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params() == 14_714_688
    assert applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params() == 20_024_384
    small = applications.VGG16(weights=None, input_shape=(32, 32, 3), classes=10)
    assert small.count_params() == 14_714_688 + 512 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 10 + 10
    names = [layer.name for layer in small.layers]
    assert names[:4] == ["input_layer", "block1_conv1", "block1_conv2", "block1_pool"]
    assert names[-4:] == ["flatten", "fc1", "fc2", "predictions"] and small.name == "vgg16"
    pooled = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
    assert pooled.output_shape == (512,)


def test_imagenet_weights_load_only_from_where_keras_keeps_them(keras_home):
    with pytest.raises(NnplayError, match=r"VGG16: the ImageNet weights are not in .*keras/models/"
                                          r"vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, and nnplay never "
                                          r"downloads"):
        applications.VGG16(include_top=False, input_shape=(32, 32, 3))
    pytest.importorskip("h5py")
    (keras_home / "models").mkdir(parents=True)
    stand_in = keras_home / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    write_legacy_weights(stand_in, applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)))
    assert stand_in.stat().st_size < 3_000_000
    model = applications.VGG16(include_top=False, input_shape=(48, 48, 3))      # the weights fit any size
    kernel = model.get_layer("block1_conv1").params["kernel"]
    assert kernel.shape == (3, 3, 3, 64) and np.all(model.get_layer("block5_conv3").params["bias"] == 0.01)
    again = applications.VGG16(weights=str(stand_in), include_top=False, input_shape=(32, 32, 3))
    np.testing.assert_array_equal(again.get_weights()[0], kernel)
    with pytest.raises(NnplayError, match=r"holds weights for 13 layers, the model has 16"):
        applications.VGG19(weights=str(stand_in), include_top=False, input_shape=(32, 32, 3))
    with pytest.raises(NnplayError, match=r"input_shape must be \(224, 224, 3\)"):
        applications.VGG16(input_shape=(32, 32, 3))
    x = np.full((1, 2, 2, 3), 100.0, np.float32)
    x[..., 0] = 200.0
    out = applications.vgg16.preprocess_input(x)
    np.testing.assert_allclose(out[0, 0, 0], [100 - 103.939, 100 - 116.779, 200 - 123.68], rtol=1e-6)


def test_transfer_from_a_loaded_vgg_base(keras_home):
    base = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    base.trainable = False
    model = Sequential([base, GlobalAveragePooling2D(), Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trainable = sum(o.params[n].size for o, n in model.trainable_weights())
    assert trainable == 512 * 2 + 2 and model.count_params() == 14_714_688 + 1026
    rng = np.random.default_rng(0)
    before = base.get_weights()[0].copy()
    model.fit(rng.random((4, 32, 32, 3)).astype(np.float32), rng.integers(0, 2, 4), epochs=1, verbose=0)
    np.testing.assert_array_equal(base.get_weights()[0], before)
    path = keras_home / "m.npz"
    keras_home.mkdir(parents=True, exist_ok=True)
    model.save(path)
    assert load_model(path).count_params() == model.count_params()
