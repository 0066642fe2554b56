"""nnplay against real Keras 3.15 (torch CPU backend), layer by layer and for whole models: the same weights
give the same outputs, and the same training (same initial weights, no shuffling) gives the same losses
and weights. Skipped where Keras is not installed."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="parity tests need Keras 3: pip install -e \".[parity]\"")

from nnplay import keras as nk  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5


def pair(make, input_shape, *, dtype="float32"):
    """The same one-layer model in Keras and nnplay (``make(lib)`` makes the layer from a keras module),
    nnplay's weights copied from Keras'."""
    km = keras.Sequential([keras.Input(shape=input_shape), make(keras)])
    nm = nk.Sequential([nk.Input(shape=input_shape), make(nk)])
    nm.build()
    nm.set_weights(km.get_weights())
    return km, nm


LAYERS = {
    "dense-relu": (lambda k: k.layers.Dense(5, activation="relu"), (4,)),
    "dense-softmax": (lambda k: k.layers.Dense(5, activation="softmax"), (4,)),
    "dense-gelu": (lambda k: k.layers.Dense(5, activation="gelu"), (4,)),
    "dense-selu-3d": (lambda k: k.layers.Dense(3, activation="selu"), (6, 4)),
    "conv2d-valid": (lambda k: k.layers.Conv2D(4, 3, activation="tanh"), (8, 8, 2)),
    "conv2d-same-stride2": (lambda k: k.layers.Conv2D(3, (3, 2), strides=2, padding="same"), (9, 7, 2)),
    "conv1d-same": (lambda k: k.layers.Conv1D(4, 3, padding="same", activation="relu"), (10, 3)),
    "conv1d-causal": (lambda k: k.layers.Conv1D(2, 3, padding="causal"), (10, 3)),
    "conv2d-transpose": (lambda k: k.layers.Conv2DTranspose(3, 3, strides=2, padding="same"), (5, 5, 2)),
    "conv2d-transpose-valid": (lambda k: k.layers.Conv2DTranspose(2, 3, strides=2), (4, 3, 2)),
    "conv2d-transpose-small-kernel": (lambda k: k.layers.Conv2DTranspose(2, (2, 1), strides=3), (3, 2, 2)),
    "maxpool2d": (lambda k: k.layers.MaxPooling2D(2), (6, 6, 3)),
    "avgpool2d-valid": (lambda k: k.layers.AveragePooling2D(2), (6, 6, 3)),
    "maxpool1d-same": (lambda k: k.layers.MaxPooling1D(3, padding="same"), (10, 2)),
    "global-avg-2d": (lambda k: k.layers.GlobalAveragePooling2D(), (4, 4, 3)),
    "global-max-1d": (lambda k: k.layers.GlobalMaxPooling1D(), (7, 3)),
    "upsampling2d": (lambda k: k.layers.UpSampling2D(2), (3, 3, 2)),
    "batchnorm": (lambda k: k.layers.BatchNormalization(), (5,)),
    "flatten": (lambda k: k.layers.Flatten(), (3, 4, 2)),
    "reshape": (lambda k: k.layers.Reshape((4, 6)), (24,)),
    "simple-rnn": (lambda k: k.layers.SimpleRNN(4), (6, 3)),
    "lstm-seq": (lambda k: k.layers.LSTM(4, return_sequences=True), (6, 3)),
    "gru": (lambda k: k.layers.GRU(4), (6, 3)),
    "bidirectional-lstm": (lambda k: k.layers.Bidirectional(k.layers.LSTM(3)), (5, 2)),
    "time-distributed": (lambda k: k.layers.TimeDistributed(k.layers.Dense(3)), (5, 4)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_outputs_and_one_training_step_match_keras(name):
    make, shape = LAYERS[name]
    km, nm = pair(make, shape)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, *shape)).astype(np.float32)
    np.testing.assert_allclose(nm.predict(x), km.predict(x, verbose=0), rtol=RTOL, atol=ATOL)
    if not km.trainable_weights:
        return
    y = rng.standard_normal((7, *km.output_shape[1:])).astype(np.float32)
    km.compile(keras.optimizers.SGD(0.1), "mse")
    nm.compile(nk.optimizers.SGD(0.1), "mse")
    lk, ln = km.train_on_batch(x, y), nm.train_on_batch(x, y)
    assert ln == pytest.approx(float(lk), rel=1e-4, abs=1e-6)
    for a, b in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_embedding_matches_keras():
    km, nm = pair(lambda k: k.layers.Embedding(20, 4), (6,))
    x = np.random.default_rng(1).integers(0, 20, (5, 6))
    np.testing.assert_allclose(nm.predict(x), km.predict(x, verbose=0), rtol=RTOL, atol=ATOL)


def fit_both(build, x, y, *, loss, optimizer, epochs=3, batch_size=8, compile_kw=None):
    """Train the same model (``build(lib)``) in both, from Keras' initial weights, without shuffling."""
    km, nm = build(keras), build(nk)
    nm.set_weights(km.get_weights())
    km.compile(optimizer(keras), loss, **(compile_kw or {}))
    nm.compile(optimizer(nk), loss, **(compile_kw or {}))
    hk = km.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0).history
    hn = nm.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0).history
    return km, nm, hk, hn


def assert_same_training(km, nm, hk, hn, rtol=1e-3):
    for key in hk:
        np.testing.assert_allclose(hn[key], hk[key], rtol=rtol, atol=1e-6, err_msg=key)
    for a, b in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-4)


def test_functional_autoencoder_trains_like_keras():
    def build(k):
        inp = k.Input(shape=(16,))
        code = k.layers.Dense(4, activation="relu")(inp)
        return k.Model(inp, k.layers.Dense(16, activation="sigmoid")(code))
    x = np.random.default_rng(2).random((32, 16)).astype(np.float32)
    assert_same_training(*fit_both(build, x, x, loss="binary_crossentropy",
                                   optimizer=lambda k: k.optimizers.Adam(0.01)))


def test_two_input_concatenate_model_trains_like_keras():
    def build(k):
        a, b = k.Input(shape=(4,)), k.Input(shape=(3,))
        h = k.layers.Concatenate()([k.layers.Dense(6, activation="tanh")(a), k.layers.Dense(5)(b)])
        return k.Model([a, b], k.layers.Dense(1, activation="sigmoid")(h))
    rng = np.random.default_rng(3)
    x = [rng.standard_normal((32, 4)).astype(np.float32), rng.standard_normal((32, 3)).astype(np.float32)]
    y = rng.integers(0, 2, (32, 1))
    assert_same_training(*fit_both(build, x, y, loss="binary_crossentropy",
                                   optimizer=lambda k: k.optimizers.SGD(0.1, momentum=0.9),
                                   compile_kw={"metrics": ["accuracy"]}))


def test_residual_add_block_trains_like_keras():
    def build(k):
        inp = k.Input(shape=(6,))
        h = k.layers.Dense(6, activation="relu")(inp)
        h = k.layers.Add()([k.layers.Dense(6)(h), inp])
        return k.Model(inp, k.layers.Dense(2)(h))
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((32, 6)).astype(np.float32), rng.standard_normal((32, 2)).astype(np.float32)
    assert_same_training(*fit_both(build, x, y, loss="mse", optimizer=lambda k: k.optimizers.RMSprop(0.01)))


def test_shared_layer_model_trains_like_keras():
    def build(k):
        a, b = k.Input(shape=(5,)), k.Input(shape=(5,))
        shared = k.layers.Dense(4, activation="tanh")
        merged = k.layers.Subtract()([shared(a), shared(b)])
        return k.Model([a, b], k.layers.Dense(1, activation="sigmoid")(merged))
    rng = np.random.default_rng(5)
    x = [rng.standard_normal((32, 5)).astype(np.float32), rng.standard_normal((32, 5)).astype(np.float32)]
    y = rng.integers(0, 2, (32, 1))
    km, nm, hk, hn = fit_both(build, x, y, loss="binary_crossentropy", optimizer=lambda k: k.optimizers.Adam(0.01))
    assert len(nm.get_weights()) == len(km.get_weights()) == 4
    assert_same_training(km, nm, hk, hn)


def test_two_outputs_with_loss_weights_train_like_keras():
    def build(k):
        inp = k.Input(shape=(4,))
        h = k.layers.Dense(8, activation="relu")(inp)
        return k.Model(inp, [k.layers.Dense(1, activation="sigmoid", name="cls")(h),
                             k.layers.Dense(2, name="reg")(h)])
    rng = np.random.default_rng(6)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = [rng.integers(0, 2, (32, 1)), rng.standard_normal((32, 2)).astype(np.float32)]
    km, nm, hk, hn = fit_both(build, x, y, loss=["binary_crossentropy", "mse"],
                              optimizer=lambda k: k.optimizers.Adam(0.01),
                              compile_kw={"loss_weights": [1.0, 0.5], "metrics": [["accuracy"], ["mae"]]})
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"} <= set(hn)
    for key in ("loss", "cls_loss", "reg_loss", "reg_mae"):
        np.testing.assert_allclose(hn[key], hk[key], rtol=1e-3, atol=1e-6, err_msg=key)


def test_activity_regularizer_counts_as_in_keras():
    def build(k):
        return k.Sequential([k.Input(shape=(5,)),
                             k.layers.Dense(4, activation="relu", activity_regularizer=k.regularizers.L1(0.01)),
                             k.layers.Dense(1)])
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((24, 5)).astype(np.float32), rng.standard_normal((24, 1)).astype(np.float32)
    km, nm, hk, hn = fit_both(build, x, y, loss="mse", optimizer=lambda k: k.optimizers.SGD(0.05))
    assert_same_training(km, nm, hk, hn)
    assert nm.evaluate(x, y, batch_size=8) == pytest.approx(km.evaluate(x, y, batch_size=8, verbose=0), rel=1e-4)


def test_trainable_after_compile_freezes_as_in_keras():
    def build(k):
        return k.Sequential([k.Input(shape=(3,)), k.layers.Dense(4), k.layers.Dense(1)])
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)
    km, nm = build(keras), build(nk)
    nm.set_weights(km.get_weights())
    for m, k in ((km, keras), (nm, nk)):
        m.compile(k.optimizers.SGD(0.1), "mse")
        m.layers[0].trainable = False          # after compile: Keras 3 freezes it from the next step
        m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_summary_parameter_counts_match_for_a_graph():
    def build(k):
        a, b = k.Input(shape=(4,), name="input_a"), k.Input(shape=(3,), name="input_b")
        c = k.layers.Concatenate()([k.layers.Dense(8, activation="relu")(a), k.layers.Dense(5)(b)])
        return k.Model([a, b], k.layers.Dense(1, activation="sigmoid")(c))
    km, nm = build(keras), build(nk)
    assert nm.count_params() == km.count_params() == 74
    assert [type(l).__name__ for l in nm.layers] == [type(l).__name__ for l in km.layers]
