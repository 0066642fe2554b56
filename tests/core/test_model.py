"""The Keras-style model API: build, compile, fit, evaluate, predict, weights, save/load, seeds, errors."""
import math

import numpy as np
import pytest

from nnplay.core import Sequential, load_model, set_seed
from nnplay.core.errors import NnplayError
from nnplay.core.layers import Dense, Dropout, Flatten, Input
from nnplay.core.optimizers import SGD, Adam


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)).astype(np.float32) + np.where(y[:, None] == 1, 1.5, -1.5)
    return x, y


def small_model(seed=0, **kw):
    return Sequential([Dense(8, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=seed, **kw)


def test_fit_returns_keras_history_and_learns():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer=Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(hist.history["loss"]) == 15
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.5
    loss, acc = model.evaluate(x, y)
    assert acc > 0.9
    p = model.predict(x[:5])
    assert p.shape == (5, 1) and np.all((p >= 0) & (p <= 1))


def test_get_weights_in_keras_order_and_layout():
    model = Sequential([Input(shape=(3,)), Dense(4), Dense(2, use_bias=False)], seed=0)
    model.build()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 4), (4,), (4, 2)]
    assert [l.name for l in model.layers] == ["dense", "dense_1"]
    new = [np.full(s, i, np.float32) for i, s in enumerate(shapes)]
    model.set_weights(new)
    out = model.predict(np.ones((1, 3), np.float32))
    # (1*0*3 + 1) * 2 summed over 4 hidden units, bias-free last layer
    assert np.allclose(out, 4 * 1.0 * 2)
    with pytest.raises(NnplayError, match="set_weights got 2 arrays"):
        model.set_weights(new[:2])


def test_glorot_uniform_default_and_zero_bias():
    model = Sequential([Dense(300, input_shape=(200,))], seed=0)
    model.build()
    k, b = model.get_weights()
    limit = math.sqrt(6 / (200 + 300))
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.95 * limit
    assert np.all(b == 0)


def train_once(seed, dropout=True):
    x, y = blobs(seed=1)
    layers = [Dense(16, activation="tanh", input_shape=(2,))]
    if dropout:
        layers.append(Dropout(0.3))
    layers.append(Dense(1, activation="sigmoid"))
    model = Sequential(layers, seed=seed)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    return model.get_weights()


def test_same_seed_is_bit_identical_and_another_seed_differs():
    a, b, c = train_once(7), train_once(7), train_once(8)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))


def test_global_seed_applies_to_unseeded_models():
    set_seed(123)
    try:
        m1, m2 = Sequential([Dense(3, input_shape=(2,))]), Sequential([Dense(3, input_shape=(2,))])
        m1.build(), m2.build()
        assert np.array_equal(m1.get_weights()[0], m2.get_weights()[0])
    finally:
        set_seed(None)


def test_save_and_load_round_trip(tmp_path):
    x, y = blobs()
    model = small_model()
    model.compile(optimizer=Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    path = model.save(tmp_path / "m.npz")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    loaded = load_model(path)
    assert np.allclose(loaded.predict(x), model.predict(x))
    # optimizer state travels too: one more identical step on both gives identical weights
    model.train_on_batch(x[:8], y[:8])
    loaded.train_on_batch(x[:8], y[:8])
    assert all(np.allclose(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))


def test_corrupt_or_missing_checkpoint_gives_one_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(NnplayError, match="not a readable nnplay model"):
        load_model(bad)
    with pytest.raises(NnplayError, match="does not exist"):
        load_model(tmp_path / "missing.npz")
    # a pickled object array must never be loaded
    np.savez(tmp_path / "pickled.npz", __meta__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(NnplayError, match="not a readable nnplay model"):
        load_model(tmp_path / "pickled.npz")


@pytest.mark.parametrize("make, match", [
    (lambda: Dense(0), "units must be a positive whole number, got units=0"),
    (lambda: Dense(-3), "units=-3"),
    (lambda: Dense(4, activation="sigmoidd"), "did you mean 'sigmoid'"),
    (lambda: Dropout(1.5), "rate must be in"),
    (lambda: Dense(4, unitz=3), "unknown argument 'unitz'"),
])
def test_bad_layer_arguments(make, match):
    with pytest.raises(NnplayError, match=match):
        make()


def test_bad_compile_and_data():
    model = small_model()
    with pytest.raises(NnplayError, match="did you mean 'adam'"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(NnplayError, match="did you mean 'mse'"):
        model.compile(optimizer="sgd", loss="mes")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, y = blobs()
    with pytest.raises(NnplayError, match="different lengths: 200 samples but 199"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(NnplayError, match=r"samples of shape \(3,\), but the model's input is \(2,\)"):
        model.fit(np.zeros((10, 3)), np.zeros(10), verbose=0)
    xn = x.copy()
    xn[3, 1] = np.nan
    with pytest.raises(NnplayError, match="NaN or infinite"):
        model.fit(xn, y, verbose=0)
    with pytest.raises(NnplayError, match="sparse_categorical_crossentropy"):
        m = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
        m.compile(optimizer="sgd", loss="categorical_crossentropy")
        m.fit(x, y, verbose=0)
    with pytest.raises(NnplayError, match="outside 0..2"):
        m = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        m.fit(x, y + 2, verbose=0)


def test_model_without_input_shape_explains_the_fix():
    with pytest.raises(NnplayError, match="input_shape"):
        Sequential([Dense(3)]).build()


def test_fused_softmax_output_trains_multiclass():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    centers = np.array([[0, 3], [3, -2], [-3, -2]], np.float32)
    x = (centers[y] + rng.standard_normal((300, 2))).astype(np.float32)
    model = Sequential([Dense(16, activation="relu", input_shape=(2,)), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model._fused is model.layers[-1]
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert model.evaluate(x, y)[1] > 0.9


def test_regularization_is_part_of_the_reported_loss():
    from nnplay.core.regularizers import L2
    x, y = blobs()
    model = Sequential([Dense(4, input_shape=(2,), kernel_regularizer=L2(0.5)), Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    plain = model.loss(y.reshape(-1, 1).astype(np.float32), model.predict(x))
    k = model.get_weights()[0]
    assert model.evaluate(x, y) == pytest.approx(plain + 0.5 * float(np.sum(k.astype(np.float64) ** 2)), rel=1e-5)


def test_summary_lists_layers_shapes_and_params():
    model = Sequential([Input(shape=(4, 4)), Flatten(), Dense(10), Dense(2)])
    text = model.summary(print_fn=None)
    assert "flatten (Flatten)" in text and "(None, 16)" in text
    assert "Total params: 192" in text  # 16*10+10 + 10*2+2


def test_train_on_batch_returns_metrics_when_compiled_with_them():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    out = model.train_on_batch(x[:32], y[:32])
    assert isinstance(out, list) and len(out) == 2 and 0 <= out[1] <= 1
