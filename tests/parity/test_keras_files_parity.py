"""``.keras`` files between nnplay and real Keras 3.15 (torch CPU backend), both ways, for every model family:
nnplay saves -> ``keras.saving.load_model`` -> the same predictions; Keras saves (random weights, trained
moving statistics) -> nnplay's ``load_model`` -> the same predictions; compile settings and optimizer state
survive both ways (the next training step gives the same weights). Skipped where Keras is not installed."""
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="parity tests need Keras 3: pip install -e \".[parity]\"")
pytest.importorskip("h5py")

from nnplay import keras as nk  # noqa: E402
from nnplay.core.errors import NnplayError  # noqa: E402

ATOL = 1e-5


def randomize(model, lib, seed=0):
    """Non-trivial weights: normal draws, variances kept positive."""
    rng = np.random.default_rng(seed)
    if lib is keras:
        names = [w.path.split("/")[-1] for w in model.weights]
    else:
        names = [n for _, n in model.all_weights()]
    weights = []
    for name, w in zip(names, model.get_weights()):
        value = rng.standard_normal(w.shape).astype(w.dtype) * 0.5
        weights.append(np.abs(value) + 0.5 if name == "moving_variance" else value)
    model.set_weights(weights)


def inputs_for(model_inputs, seed=1, tokens=None):
    rng = np.random.default_rng(seed)
    out = []
    for shape in model_inputs:
        if tokens:
            out.append(rng.integers(0, tokens, (5, *shape)).astype(np.float32))
        else:
            out.append(rng.standard_normal((5, *shape)).astype(np.float32))
    return out if len(out) > 1 else out[0]


def same(a, b):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    assert len(a) == len(b)
    worst = 0.0
    for p, q in zip(a, b):
        p, q = np.asarray(p), np.asarray(q)
        assert p.shape == q.shape
        worst = max(worst, float(np.abs(p - q).max()))
    assert worst < ATOL, worst
    return worst


# ------------------------------------------------------------------------------------------ families
def mlp(L):
    return L.Sequential([L.Input(shape=(6,)), L.layers.Dense(8, activation="relu"), L.layers.Dropout(0.2),
                         L.layers.Dense(4), L.layers.Activation("softmax")])


def cnn(L):
    ly = L.layers
    return L.Sequential([L.Input(shape=(12, 12, 3)), ly.Conv2D(4, 3, padding="same", activation="relu"),
                         ly.MaxPooling2D(3, strides=2, padding="same"),
                         ly.Conv2D(6, (3, 2), strides=2, use_bias=False), ly.BatchNormalization(),
                         ly.AveragePooling2D((1, 2), strides=1), ly.MaxPooling2D(2),
                         ly.Flatten(), ly.Dense(3)])


def cnn_global(L):
    ly = L.layers
    return L.Sequential([L.Input(shape=(8, 8, 2)), ly.Conv2D(3, 3, strides=2, padding="same"),
                         ly.GlobalAveragePooling2D(), ly.Reshape((3, 1)), ly.Conv1D(2, 2),
                         ly.GlobalMaxPooling1D(), ly.Dense(2)])


def conv1d(L):
    ly = L.layers
    return L.Sequential([L.Input(shape=(20, 3)), ly.Conv1D(4, 3, padding="causal", activation="tanh"),
                         ly.MaxPooling1D(2), ly.Conv1D(5, 3, strides=2, padding="same"), ly.AveragePooling1D(2),
                         ly.UpSampling1D(3), ly.Flatten(), ly.Dense(2)])


def autoencoder(L):
    ly = L.layers
    return L.Sequential([L.Input(shape=(8, 8, 1)), ly.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                         ly.Flatten(), ly.Dense(16, activation="relu"), ly.Reshape((4, 4, 1)),
                         ly.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
                         ly.Conv2DTranspose(2, 2, padding="valid"), ly.UpSampling2D(2),
                         ly.Conv2D(1, 3, activation="sigmoid")])


def recurrent(L):
    ly = L.layers
    return L.Sequential([L.Input(shape=(7, 3)), ly.SimpleRNN(4, return_sequences=True),
                         ly.LSTM(5, return_sequences=True), ly.GRU(4, return_sequences=True, reset_after=False),
                         ly.GRU(3, return_sequences=True), ly.TimeDistributed(ly.Dense(2, activation="relu")),
                         ly.Bidirectional(ly.LSTM(3, return_sequences=True)),
                         ly.Bidirectional(ly.GRU(2, return_sequences=True), merge_mode="sum"),
                         ly.Bidirectional(ly.SimpleRNN(2, return_sequences=True), merge_mode="mul"),
                         ly.Bidirectional(ly.LSTM(2), merge_mode="ave")])


def embedding(L):
    ly = L.layers
    return L.Sequential([L.Input(shape=(6,)), ly.Embedding(20, 4), ly.GaussianNoise(0.3),
                         ly.GaussianDropout(0.2), ly.GlobalAveragePooling1D(), ly.Dense(2)])


def regularized(L):
    ly, r, i = L.layers, L.regularizers, L.initializers
    return L.Sequential([L.Input(shape=(5,)),
                         ly.Dense(4, kernel_regularizer=r.L2(0.01), bias_regularizer=r.L1(0.02),
                                  activity_regularizer=r.L1L2(l1=0.01, l2=0.02), kernel_initializer=i.HeNormal(),
                                  bias_initializer=i.Constant(0.3)),
                         ly.Dense(2, kernel_initializer=i.RandomNormal(stddev=0.2))])


def functional(L):
    ly = L.layers
    a, b = L.Input(shape=(4,), name="a"), L.Input(shape=(3,), name="b")
    inner_seq = L.Sequential([L.Input(shape=(4,)), ly.Dense(5, activation="tanh"), ly.Dense(3)], name="inner_seq")
    ci = L.Input(shape=(3,))
    inner_fn = L.Model(ci, ly.Dense(3, activation="relu")(ci), name="inner_fn")
    shared = ly.Dense(3, name="shared")
    s1, s2 = shared(inner_seq(a)), shared(ly.Dense(3, name="lift")(b))
    merged = [ly.Add()([s1, s2]), ly.Subtract()([s1, s2]), ly.Multiply()([s1, s2]), ly.Average()([s1, s2]),
              ly.Maximum()([s1, s2]), ly.Minimum()([s1, s2])]
    h = ly.Concatenate(name="join")(merged)
    return L.Model([a, b], [ly.Dense(1, name="y1")(h), inner_fn(s2)], name="graph")


FAMILIES = {"mlp": mlp, "cnn": cnn, "cnn-global": cnn_global, "conv1d": conv1d, "autoencoder": autoencoder,
            "recurrent": recurrent, "embedding": embedding, "regularized": regularized, "functional": functional}


def shapes(model):
    return [tuple(t.shape[1:]) for t in model.inputs]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_nnplay_writes_keras_reads(family, tmp_path):
    nm = FAMILIES[family](nk)
    nm.build()
    randomize(nm, nk)
    path = nm.save(tmp_path / f"{family}.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # no "skipping variables" or other complaints
        km = keras.saving.load_model(path)
    x = inputs_for(nm.input_shapes, tokens=20 if family == "embedding" else None)
    same(km.predict(x, verbose=0), nm.predict(x))
    assert [w.shape for w in km.get_weights()] == [w.shape for w in nm.get_weights()] or family == "functional"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_keras_writes_nnplay_reads(family, tmp_path):
    km = FAMILIES[family](keras)
    randomize(km, keras)
    path = tmp_path / f"{family}.keras"
    km.save(path)
    nm = nk.models.load_model(path)
    x = inputs_for(shapes(km), tokens=20 if family == "embedding" else None)
    same(nm.predict(x), km.predict(x, verbose=0))
    assert nm.count_params() == km.count_params()


def test_trained_batchnorm_statistics_and_frozen_layers_both_ways(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((32, 12, 12, 3)).astype(np.float32), rng.standard_normal((32, 3)).astype(np.float32)
    km = cnn(keras)
    km.layers[0].trainable = False
    km.compile("adam", "mse")
    km.fit(x, y, epochs=1, batch_size=8, verbose=0)
    km.save(tmp_path / "k.keras")
    nm = nk.models.load_model(tmp_path / "k.keras")
    assert nm.layers[0].trainable is False
    same(nm.predict(x), km.predict(x, verbose=0))
    nm.fit(x, y, epochs=1, batch_size=8, verbose=0)
    nm.save(tmp_path / "n.keras")
    back = keras.saving.load_model(tmp_path / "n.keras")
    same(back.predict(x, verbose=0), nm.predict(x))


OPTIMIZERS = {
    "adam-amsgrad": lambda L: L.optimizers.Adam(0.01, amsgrad=True),
    "sgd-nesterov": lambda L: L.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "sgd-plain": lambda L: L.optimizers.SGD(0.05),
    "rmsprop-centered": lambda L: L.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda L: L.optimizers.Adagrad(0.05),
    "adadelta": lambda L: L.optimizers.Adadelta(1.0),
    "nadam": lambda L: L.optimizers.Nadam(0.01),
    "adamw": lambda L: L.optimizers.AdamW(0.01, weight_decay=0.01),
    "schedule": lambda L: L.optimizers.SGD(L.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5), momentum=0.5),
}


def compiled_mlp(L, name):
    model = L.Sequential([L.Input(shape=(6,)), L.layers.Dense(8, activation="tanh"), L.layers.Dense(3)])
    model.compile(optimizer=OPTIMIZERS[name](L), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data():
    rng = np.random.default_rng(4)
    return rng.standard_normal((16, 6)).astype(np.float32), rng.integers(0, 3, 16)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_compiled_models_and_optimizer_state_both_ways(name, tmp_path):
    x, y = data()
    # Keras trains and saves; nnplay goes on from the same state as Keras does
    km = compiled_mlp(keras, name)
    km.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    km.save(tmp_path / "k.keras")
    nm = nk.models.load_model(tmp_path / "k.keras")
    assert nm.compiled and type(nm.optimizer).__name__ == type(km.optimizer).__name__.replace("Torch", "")
    assert nm.optimizer.iterations == int(km.optimizer.iterations) == 4
    assert nm.metrics_names == ["loss", "accuracy"] and nm.loss.name == "sparse_categorical_crossentropy"
    km.train_on_batch(x, y)
    nm.train_on_batch(x, y)
    for p, q in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=ATOL)
    # nnplay trains and saves; Keras goes on from the same state as nnplay does
    nm = compiled_mlp(nk, name)
    nm.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    nm.save(tmp_path / "n.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = keras.saving.load_model(tmp_path / "n.keras")
    assert int(km.optimizer.iterations) == 4 and km.loss == "sparse_categorical_crossentropy"
    assert type(km.optimizer).__name__ == type(nm.optimizer).__name__
    km.train_on_batch(x, y)
    nm.train_on_batch(x, y)
    for p, q in zip(km.get_weights(), nm.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=ATOL)


def test_multi_output_compile_info_both_ways(tmp_path):
    def build(L):
        a, b = L.Input(shape=(3,), name="in_a"), L.Input(shape=(2,), name="in_b")
        h = L.layers.Concatenate()([a, b])
        model = L.Model([a, b], [L.layers.Dense(2, name="y1")(h), L.layers.Dense(1, activation="sigmoid",
                                                                                  name="y2")(h)])
        model.compile(optimizer=L.optimizers.RMSprop(0.01), loss={"y1": "mse", "y2": "binary_crossentropy"},
                      loss_weights={"y1": 1.0, "y2": 0.5}, metrics={"y1": ["mae"], "y2": ["accuracy"]})
        return model

    rng = np.random.default_rng(5)
    x = [rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)]
    y = [rng.standard_normal((8, 2)).astype(np.float32), rng.integers(0, 2, (8, 1)).astype(np.float32)]
    km = build(keras)
    km.fit(x, y, epochs=1, verbose=0)
    km.save(tmp_path / "k.keras")
    nm = nk.models.load_model(tmp_path / "k.keras")
    assert nm.heads.weights == [1.0, 0.5] and [l.name for l in nm.heads.losses] == ["mean_squared_error",
                                                                                  "binary_crossentropy"]
    assert nm.optimizer.iterations == 1
    k_eval = km.evaluate(x, y, verbose=0, return_dict=True)
    n_eval = nm.evaluate(x, y, return_dict=True)
    assert n_eval["loss"] == pytest.approx(k_eval["loss"], rel=1e-4)
    nm.save(tmp_path / "n.keras")
    back = keras.saving.load_model(tmp_path / "n.keras")
    assert back.evaluate(x, y, verbose=0, return_dict=True)["loss"] == pytest.approx(k_eval["loss"], rel=1e-4)


def test_regularizers_and_initializers_reach_keras_configs(tmp_path):
    nm = regularized(nk)
    nm.save(tmp_path / "r.keras")
    km = keras.saving.load_model(tmp_path / "r.keras")
    dense = km.layers[0]
    assert dense.kernel_regularizer.get_config() == {"l2": pytest.approx(0.01)}
    assert dense.bias_regularizer.get_config() == {"l1": pytest.approx(0.02)}
    assert dense.activity_regularizer.get_config() == {"l1": pytest.approx(0.01), "l2": pytest.approx(0.02)}
    assert type(dense.kernel_initializer).__name__ == "HeNormal"
    assert dense.bias_initializer.get_config() == {"value": 0.3}
    km.save(tmp_path / "k.keras")
    again = nk.models.load_model(tmp_path / "k.keras").layers[0].get_config()
    assert again["kernel_regularizer"] == {"type": "l2", "l2": pytest.approx(0.01)}
    assert again["kernel_initializer"] == "he_normal"
    assert again["bias_initializer"] == {"type": "constant", "value": 0.3}


def test_lambda_and_missing_layer_classes_from_keras_are_refused(tmp_path):
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(lambda t: t * 2)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(NnplayError, match="Lambda layer, whose function is Python code"):
        nk.models.load_model(tmp_path / "lambda.keras")
    model = keras.Sequential([keras.Input(shape=(4, 3)), keras.layers.LayerNormalization()])
    model.save(tmp_path / "ln.keras")
    with pytest.raises(NnplayError, match="LayerNormalization layer, which nnplay does not have"):
        nk.models.load_model(tmp_path / "ln.keras")


def test_nnplay_run_trains_a_model_keras_saved(tmp_path, capsys):
    """``nnplay run spiral --model m.keras`` on a file real Keras wrote: it trains and learns."""
    import json

    from nnplay.core.cli.main import main
    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(16, activation="tanh"),
                              keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    path = str(tmp_path / "from_keras.keras")
    model.save(path)
    assert main(["run", "spiral", "--model", path, "--epochs", "150", "--json"]) in (0, 1)
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["metrics"]["train_accuracy"] > 0.85
