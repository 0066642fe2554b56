"""Where Keras 3.15 behaves differently from older Keras, nnplay follows Keras 3: lazy building, the batch axis
in build(), Embedding without input_length, trainable read at every step (also after compile, also inside a
frozen model), and activity penalties divided by the batch size and counted by evaluate()."""
import numpy as np
import pytest

from nnplay.core import Sequential
from nnplay.core.errors import NnplayError
from nnplay.core.layers import BatchNormalization, Dense, Embedding, Flatten, SimpleRNN
from nnplay.core.optimizers import SGD
from nnplay.core.regularizers import L1, L2


def test_a_model_without_input_shape_builds_on_its_first_data():
    model = Sequential([Dense(4, activation="relu"), Dense(1)], seed=0)
    model.compile("adam", "mse")                        # compile waits for the build
    assert not model.built
    rng = np.random.default_rng(0)
    hist = model.fit(rng.standard_normal((20, 3)), rng.standard_normal((20, 1)), epochs=2, verbose=0)
    assert model.built and model.input_shapes == [(3,)] and len(hist.history["loss"]) == 2
    assert model.count_params() == 3 * 4 + 4 + 5
    other = Sequential([Dense(2)])
    assert other(np.ones((5, 7))).shape == (5, 2) and other.input_shapes == [(7,)]


def test_build_accepts_the_batch_axis():
    model = Sequential([Dense(2)])
    model.build((None, 6))
    assert model.input_shapes == [(6,)] and model.count_params() == 14


def test_embedding_needs_no_input_length():
    model = Sequential([Embedding(50, 8), SimpleRNN(4), Dense(1, activation="sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).integers(0, 50, (16, 10))
    model.fit(x, np.arange(16) % 2, epochs=1, verbose=0)
    assert model.layers[0].output_shape == (10, 8)


def test_trainable_takes_effect_after_compile():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    model = Sequential([Dense(4, input_shape=(3,)), Dense(1)], seed=0)
    model.compile(SGD(0.1), "mse")
    first, second = model.layers
    first.trainable = False
    w_first, w_second = first.get_config(), None
    k0, k1 = first.params["kernel"].copy(), second.params["kernel"].copy()
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(first.params["kernel"], k0)      # frozen after compile: untouched
    assert not np.array_equal(second.params["kernel"], k1)
    first.trainable = True
    model.train_on_batch(x, y)
    assert not np.array_equal(first.params["kernel"], k0)
    assert w_first["name"] == first.name and w_second is None
    summary = model.summary(print_fn=None)
    assert "Non-trainable params: 0" in summary
    first.trainable = False
    assert "Non-trainable params: 16" in model.summary(print_fn=None)


def test_freezing_a_model_freezes_its_layers_and_its_batchnorm_runs_in_inference_mode():
    inner = Sequential([Dense(4, input_shape=(3,)), BatchNormalization()], seed=0)
    model = Sequential([inner, Dense(1)], seed=1)
    model.compile(SGD(0.1), "mse")
    inner.trainable = False
    assert all(not l.trainable for l in inner.layers)
    bn = inner.layers[1]
    mean = bn.state["moving_mean"].copy()
    model.fit(np.random.default_rng(2).standard_normal((16, 3)), np.zeros((16, 1)), epochs=1, verbose=0)
    np.testing.assert_array_equal(bn.state["moving_mean"], mean)    # frozen BN: moving stats unchanged
    inner.trainable = True
    assert all(l.trainable for l in inner.layers)


def test_activity_penalty_is_divided_by_the_batch_size_and_counted_by_evaluate():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 5)), rng.standard_normal((8, 1))
    model = Sequential([Dense(4, activation="relu", activity_regularizer=L1(0.01), kernel_regularizer=L2(0.01),
                              input_shape=(5,)), Dense(1)], seed=0, dtype="float64")
    model.compile(SGD(1e-3), "mse")
    k1, b1 = model.layers[0].params["kernel"], model.layers[0].params["bias"]
    k2, b2 = model.layers[1].params["kernel"], model.layers[1].params["bias"]
    h = np.maximum(x @ k1 + b1, 0)
    mse = np.mean((h @ k2 + b2 - y) ** 2)
    expected = mse + 0.01 * np.abs(h).sum() / 8 + 0.01 * np.sum(k1 ** 2)
    assert model.evaluate(x, y, batch_size=8) == pytest.approx(expected, rel=1e-12)
    assert model.train_on_batch(x, y) == pytest.approx(expected, rel=1e-12)     # the loss before its update
    # the gradient includes the divided term: a finite-difference check over the first kernel
    from nnplay.core.gradcheck import numeric_grad, rel_error
    xs, ys = model.check_data(x, y)
    P0 = model.P.copy()
    model.train_step(xs, ys)
    analytic = model.G.copy()
    model.P[...] = P0
    idx, num = numeric_grad(lambda: model.evaluate_prepared(xs, ys, 8)["loss"], model.P)
    assert rel_error(analytic[idx], num) < 1e-6


def test_compile_refuses_a_missing_optimizer_and_unknown_arguments():
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.raises(NnplayError, match="optimizer"):
        model.compile(optimizer=None, loss="mse")
    with pytest.raises(NnplayError, match="unknown argument 'lose'"):
        model.compile("sgd", loss="mse", lose="x")
    model.compile("sgd", "mse", run_eagerly=True, jit_compile=False)   # Keras switches with nothing to do here
    assert model.compiled
    flat = Sequential([Flatten(input_shape=(2, 2)), Dense(1)])
    flat.compile("sgd", "mse")
    with pytest.raises(NnplayError, match="shape"):
        flat.fit(np.ones((3, 5)), np.ones((3, 1)), verbose=0)
