"""Keras 3 ``.keras`` files without Keras: every model family nnplay writes comes back the same (predictions,
config, compile settings, optimizer state); what is written has the structure Keras reads; nnplay-only
layers are refused. (Broken and hostile files: tests/core/test_keras_files_hostile.py; real Keras reading
nnplay's files and the reverse: tests/parity/test_keras_files_parity.py.)"""
import io
import json
import sys
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="the keras-files extra: pip install -e \".[keras-files]\"")

from nnplay.core import Model, Sequential, load_model, set_seed  # noqa: E402
from nnplay.core import optimizers as opt  # noqa: E402
from nnplay.core.errors import NnplayError  # noqa: E402
from nnplay.core.layers import (  # noqa: E402
    GRU,
    LSTM,
    Activation,
    Add,
    Average,
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianDropout,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    Input,
    Maximum,
    MaxPooling1D,
    MaxPooling2D,
    Minimum,
    Multiply,
    Reshape,
    Sampling,
    SimpleRNN,
    Subtract,
    TimeDistributed,
    UpSampling1D,
    UpSampling2D,
)
from nnplay.core.saving import NEEDS_H5PY, read_keras_file  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    set_seed(0)
    yield
    set_seed(None)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def no_seed(cfg):
    """A model config without nnplay's seeds (a .keras file has no place for them)."""
    if isinstance(cfg, dict):
        return {k: no_seed(v) for k, v in cfg.items() if k != "seed" or cfg.get("type") not in ("sequential",
                                                                                              "functional")}
    if isinstance(cfg, list):
        return [no_seed(v) for v in cfg]
    return cfg


def round_trip(model, x, tmp_path, name="m.keras"):
    """Save as .keras, load back; the same predictions and config. Returns the loaded model."""
    path = model.save(tmp_path / name)
    assert path.suffix == ".keras"
    again = load_model(path)
    assert type(again) is type(model)
    before, after = model.predict(x), again.predict(x)
    assert all(np.isfinite(p).all() for p in (before if isinstance(before, list) else [before]))
    for p, q in zip(before if isinstance(before, list) else [before], after if isinstance(after, list) else [after]):
        np.testing.assert_allclose(q, p, rtol=1e-6, atol=1e-7)
    assert no_seed(again.get_config()) == no_seed(model.get_config())
    return again


def trained(model, x, y, loss="mse", optimizer="adam", **kw):
    model.compile(optimizer, loss, **kw)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model


# ------------------------------------------------------------------------------------------ families
def test_mlp_round_trips_with_compile_and_optimizer_state(tmp_path):
    x, y = rand(32, 4), np.random.default_rng(1).integers(0, 3, 32)
    model = Sequential([Input(shape=(4,)), Dense(8, activation="relu", name="hidden"), Dropout(0.3),
                        Dense(3), Activation("softmax")], name="mlp")
    trained(model, x, y, "sparse_categorical_crossentropy", opt.Adam(0.01, amsgrad=True), metrics=["accuracy"])
    again = round_trip(model, x, tmp_path)
    assert again.compiled and again.optimizer.get_config() == model.optimizer.get_config()
    assert again.loss.get_config() == model.loss.get_config() and again.metrics_names == model.metrics_names
    a, b = model.optimizer.get_state(), again.optimizer.get_state()
    assert set(a) == set(b) == {"iterations", "momentum", "velocity", "velocity_hat"}
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_training_goes_on_from_the_saved_optimizer_state(tmp_path):
    x, y = rand(32, 4), rand(32, 2)
    model = trained(Sequential([Input(shape=(4,)), Dense(8, activation="tanh"), Dense(2)]), x, y,
                    optimizer=opt.Adam(0.01))
    again = load_model(model.save(tmp_path / "t.keras"))
    for m in (model, again):
        m.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    for p, q in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_uncompiled_model_comes_back_uncompiled_and_compile_false_skips_compile(tmp_path):
    model = Sequential([Input(shape=(3,)), Dense(2)])
    again = round_trip(model, rand(4, 3), tmp_path)
    assert not again.compiled
    model.compile("sgd", "mse")
    path = model.save(tmp_path / "c.keras")
    assert load_model(path).compiled and not load_model(path, compile=False).compiled


def test_cnn_with_padding_strides_pooling_and_trained_batchnorm(tmp_path):
    x = rand(16, 12, 12, 3)
    model = Sequential([Input(shape=(12, 12, 3)),
                        Conv2D(4, 3, padding="same", activation="relu", kernel_regularizer="l2"),
                        MaxPooling2D(3, strides=2, padding="same"),
                        Conv2D(6, (3, 2), strides=2, padding="valid", use_bias=False),
                        BatchNormalization(momentum=0.5), AveragePooling2D((1, 2), strides=1, padding="same"),
                        MaxPooling2D(2), Conv2D(4, 1), GlobalMaxPooling2D(keepdims=True), Flatten(), Dense(2)])
    trained(model, x, rand(16, 2), optimizer=opt.SGD(0.005, momentum=0.9, nesterov=True))
    assert not np.allclose(model.layers[3].state["moving_mean"], 0)       # moving statistics were trained
    round_trip(model, x, tmp_path)
    model2 = Sequential([Input(shape=(8, 8, 1)), Conv2D(2, 3), GlobalAveragePooling2D(), Dense(1)])
    round_trip(model2, rand(3, 8, 8, 1), tmp_path, "g.keras")


def test_conv1d_pooling1d_and_a_conv_autoencoder(tmp_path):
    x = rand(8, 20, 3)
    model = Sequential([Input(shape=(20, 3)), Conv1D(4, 3, padding="causal", activation="tanh"), MaxPooling1D(2),
                        Conv1D(5, 3, strides=2, padding="same"), AveragePooling1D(2, padding="same"),
                        UpSampling1D(3), GlobalMaxPooling1D(), Dense(2)])
    trained(model, x, rand(8, 2), optimizer="rmsprop")
    round_trip(model, x, tmp_path)
    images = rand(6, 8, 8, 1)
    autoencoder = Sequential([Input(shape=(8, 8, 1)), Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                              Flatten(), Dense(16, activation="relu"), Reshape((4, 4, 1)),
                              Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
                              Conv2DTranspose(2, 2, strides=1, padding="valid"), UpSampling2D((1, 1)),
                              Conv2D(1, 2, activation="sigmoid")])
    trained(autoencoder, images, 1 / (1 + np.exp(-images)), "binary_crossentropy")
    round_trip(autoencoder, images, tmp_path, "ae.keras")


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_recurrent_layers_bidirectional_and_time_distributed(tmp_path, merge_mode):
    x = rand(5, 7, 3)
    model = Sequential([Input(shape=(7, 3)), SimpleRNN(4, return_sequences=True, go_backwards=True),
                        LSTM(5, return_sequences=True, recurrent_regularizer="l1", unit_forget_bias=False),
                        GRU(4, return_sequences=True, reset_after=False),
                        Bidirectional(GRU(3, return_sequences=True), merge_mode=merge_mode),
                        TimeDistributed(Dense(2, activation="relu")),
                        Bidirectional(LSTM(2, recurrent_activation="hard_sigmoid"), name="last")])
    trained(model, x, rand(5, 4), optimizer=opt.Nadam(0.01))
    again = round_trip(model, x, tmp_path)
    assert again.optimizer.get_state()["u_product"] == pytest.approx(model.optimizer.get_state()["u_product"],
                                                                     rel=1e-6)


def test_embedding_and_noise_layers(tmp_path):
    tokens = np.random.default_rng(2).integers(0, 20, (8, 6))
    model = Sequential([Input(shape=(6,)), Embedding(20, 4, embeddings_regularizer={"type": "l1_l2", "l1": 0.01,
                                                                                   "l2": 0.02}),
                        GaussianNoise(0.3), GaussianDropout(0.2, seed=3), GlobalAveragePooling1D(),
                        Dense(1, kernel_initializer={"type": "random_normal", "mean": 0.0, "stddev": 0.1},
                              bias_initializer={"type": "constant", "value": 0.5}, activity_regularizer="l2")])
    trained(model, tokens, rand(8, 1), optimizer=opt.Adagrad(0.1))
    round_trip(model, tokens, tmp_path)


def test_functional_models_with_merges_shared_layers_and_nested_models(tmp_path):
    a, b = Input(shape=(4,), name="a"), Input(shape=(3,), name="b")
    inner_seq = Sequential([Input(shape=(4,)), Dense(5, activation="tanh"), Dense(3)], name="inner_seq")
    ci = Input(shape=(3,))
    inner_fn = Model(ci, Dense(3, activation="relu", name="inside")(ci), name="inner_fn")
    shared = Dense(3, name="shared")
    lifted = Dense(3, name="lift")(b)
    s1, s2 = shared(inner_seq(a)), shared(lifted)                  # one layer, two calls
    merged = [Add()([s1, s2]), Subtract()([s1, s2]), Multiply()([s1, s2]), Average()([s1, s2]),
              Maximum()([s1, s2]), Minimum()([s1, s2])]
    h = Concatenate(name="join")(merged)
    out1 = Dense(1, name="y1")(h)
    out2 = inner_fn(s2)                                            # a nested functional model as an output
    model = Model([a, b], [out1, out2], name="graph")
    x = [rand(10, 4), rand(10, 3, seed=1)]
    trained(model, x, [rand(10, 1), rand(10, 3)], ["mse", "mae"], opt.AdamW(0.01), loss_weights=[1.0, 0.5],
            metrics={"y1": ["mae"]})
    again = round_trip(model, x, tmp_path)
    assert again.heads.weights == [1.0, 0.5] and again.metrics_names == model.metrics_names
    assert len(again.get_layer("shared")._inbound_nodes) == 2
    # one input, one output, called as a layer twice
    inp = Input(shape=(4,))
    twice = Model(inp, Dense(2)(Concatenate()([inner_seq(inp), Dense(3)(inp)])))
    round_trip(twice, x[0], tmp_path, "twice.keras")


def test_float64_models_and_learning_rate_schedules(tmp_path):
    x = rand(8, 3).astype(np.float64)
    model = Sequential([Input(shape=(3,)), Dense(2)], dtype="float64")
    schedule = opt.schedules.CosineDecay(0.1, 100, alpha=0.1)
    trained(model, x, rand(8, 2), optimizer=opt.RMSprop(schedule, momentum=0.5, centered=True))
    again = round_trip(model, x, tmp_path)
    assert again.model_dtype == np.float64 and again.get_weights()[0].dtype == np.float64
    assert again.optimizer.get_config()["learning_rate"] == schedule.get_config()
    assert again.optimizer.iterations == model.optimizer.iterations
    step = Sequential([Input(shape=(3,)), Dense(1)])
    step.compile(opt.SGD(opt.schedules.StepDecay(0.1, 0.5, 2)), "mse")
    path = step.save(tmp_path / "step.keras")
    lr = json.loads(zipfile.ZipFile(path).read("config.json"))["compile_config"]["optimizer"]["config"]["learning_rate"]
    assert lr["class_name"] == "ExponentialDecay" and lr["config"]["staircase"] is True
    loaded = load_model(path).optimizer.learning_rate
    assert [loaded(s) for s in range(6)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_adadelta_and_frozen_layers_keep_their_optimizer_state(tmp_path):
    x, y = rand(16, 3), rand(16, 1)
    model = Sequential([Input(shape=(3,)), Dense(4, name="frozen"), BatchNormalization(), Dense(1)])
    model.layers[0].trainable = False
    trained(model, x, y, optimizer=opt.Adadelta(1.0))
    again = load_model(model.save(tmp_path / "f.keras"))
    assert again.layers[0].trainable is False
    for key, value in model.optimizer.get_state().items():
        keep = np.asarray(value)
        if keep.ndim:                                   # the frozen layer's slots are not stored (as Keras)
            keep = keep.copy()
            keep[:4 * 3 + 4] = 0
        np.testing.assert_array_equal(again.optimizer.get_state()[key], keep)


# ------------------------------------------------------------------------------------------ the file itself
def test_written_file_has_keras_structure(tmp_path):
    a = Input(shape=(2,), name="a")
    h = Dense(3, name="first")(a)
    model = Model(a, Dense(1, name="second")(Dense(3, name="mid")(h)))
    model.compile("adam", "mse")
    path = model.save(tmp_path / "s.keras")
    zf = zipfile.ZipFile(path)
    assert zf.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    meta = json.loads(zf.read("metadata.json"))
    assert meta["keras_version"].startswith("3.") and "@" in meta["date_saved"]
    config = json.loads(zf.read("config.json"))
    assert {"module", "class_name", "config", "registered_name", "compile_config"} <= set(config)
    assert (config["module"], config["class_name"], config["registered_name"]) == \
        ("keras.src.models.functional", "Functional", "Functional")
    entries = config["config"]["layers"]
    assert [e["name"] for e in entries] == ["a", "first", "mid", "second"]
    for entry in entries:
        assert {"module", "class_name", "config", "registered_name", "name", "inbound_nodes"} <= set(entry)
    dense = entries[1]
    assert dense["module"] == "keras.layers" and dense["build_config"] == {"input_shape": [None, 2]}
    assert dense["config"]["kernel_initializer"]["class_name"] == "GlorotUniform"
    node = entries[2]["inbound_nodes"][0]
    assert node["kwargs"] == {} and node["args"][0]["config"] == {"shape": [None, 3], "dtype": "float32",
                                                                  "keras_history": ["first", 0, 0]}
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["loss"] == "mean_squared_error"
    with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
        # groups are named by class and numbered in Keras' layer order, not by layer name
        np.testing.assert_array_equal(f["layers/dense_1/vars/0"][()], model.get_layer("mid").params["kernel"])
        assert f["optimizer/vars/0"][()] == 0 and len(f["optimizer/vars"]) == 2 + 2 * 6


def test_sequential_config_starts_with_an_input_layer_and_wrappers_nest(tmp_path):
    model = Sequential([Input(shape=(5, 2)), Bidirectional(LSTM(3)), Dense(1)])
    config = json.loads(zipfile.ZipFile(model.save(tmp_path / "b.keras")).read("config.json"))
    layers = config["config"]["layers"]
    assert layers[0]["class_name"] == "InputLayer" and layers[0]["config"]["batch_shape"] == [None, 5, 2]
    assert layers[1]["config"]["layer"]["class_name"] == "LSTM" and config["compile_config"] == {}
    # the backward copy is written out, as Keras writes it (its loader would otherwise make it, see _backward_copy)
    forward, backward = layers[1]["config"]["layer"]["config"], layers[1]["config"]["backward_layer"]["config"]
    assert (forward["go_backwards"], backward["go_backwards"]) == (False, True)
    assert backward["name"] == "backward_" + forward["name"]
    assert {k: v for k, v in backward.items() if k not in ("name", "go_backwards")} == \
        {k: v for k, v in forward.items() if k not in ("name", "go_backwards")}
    again = load_model(tmp_path / "b.keras")
    assert again.get_config()["layers"][0] == model.get_config()["layers"][0]   # read back: no backward_layer
    with h5py.File(io.BytesIO(zipfile.ZipFile(tmp_path / "b.keras").read("model.weights.h5")), "r") as f:
        assert f["layers/bidirectional/backward_layer/cell/vars/1"].shape == (3, 12)


def test_nnplay_only_layers_and_options_are_refused_on_write(tmp_path):
    vae = Sequential([Input(shape=(4,)), Dense(4), Sampling(name="z")])
    with pytest.raises(NnplayError, match=r"layer 'z' \(Sampling\) exists only in nnplay.*model.npz.*nnplay export"):
        vae.save(tmp_path / "v.keras")
    assert not (tmp_path / "v.keras").exists()
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(opt.Adam(epsilon_mode="paper"), "mse")
    with pytest.raises(NnplayError, match="epsilon_mode='paper'"):
        model.save(tmp_path / "p.keras")


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = Sequential([Input(shape=(2,)), Dense(1)]).save(tmp_path / "keep.keras")
    before = path.read_bytes()
    with pytest.raises(NnplayError):
        Sequential([Input(shape=(4,)), Dense(4), Sampling()]).save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["keep.keras"]


def test_other_suffixes_still_save_npz(tmp_path):
    model = Sequential([Input(shape=(2,)), Dense(1)])
    assert model.save(tmp_path / "m").name == "m.npz"
    assert model.save(tmp_path / "m.npz").suffix == ".npz"


def test_without_h5py_one_line_says_how_to_install(tmp_path, monkeypatch):
    path = Sequential([Input(shape=(2,)), Dense(1)]).save(tmp_path / "m.keras")
    monkeypatch.setitem(sys.modules, "h5py", None)              # import h5py now raises ImportError
    for action in (lambda: load_model(path), lambda: Sequential([Input(shape=(2,)), Dense(1)]).save(tmp_path / "n.keras")):
        with pytest.raises(NnplayError) as err:
            action()
        assert str(err.value) == NEEDS_H5PY
    assert NEEDS_H5PY == 'reading/writing .keras files needs h5py: pip install "nnplay[keras-files]"'


def test_read_keras_file_gives_config_weights_by_layer_and_compile(tmp_path):
    model = Sequential([Input(shape=(3,)), Dense(2, name="d")], name="small")
    model.compile(opt.SGD(0.1, momentum=0.5), "mse", metrics=["mae"])
    model.fit(rand(8, 3), rand(8, 2), epochs=1, verbose=0)
    read = read_keras_file(model.save(tmp_path / "r.keras"))
    assert read.config["name"] == "small" and read.config["input_shape"] == [3]
    np.testing.assert_array_equal(read.weights["d"][0], model.get_weights()[0])
    assert read.compile_info["optimizer"] == {"name": "sgd", "learning_rate": 0.1, "momentum": 0.5}
    assert read.compile_info["metrics"] == ["mae"] and read.optimizer_state["iterations"] == 1
    np.testing.assert_array_equal(read.optimizer_state["slots"]["momentum"]["d"][1],
                                  model.optimizer.get_state()["momentum"][6:8])
    assert read_keras_file(tmp_path / "r.keras", compile=False).compile_info is None
