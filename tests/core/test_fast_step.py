"""The one-kernel step of all-Dense models must equal the per-layer path exactly (same math, fewer calls)."""
import numpy as np
import pytest

from nnplay.core import Sequential
from nnplay.core.layers import Dense, Dropout
from nnplay.core.optimizers import SGD
from nnplay.core.regularizers import L2

CASES = [
    # (hidden activations, output units, output activation, loss, targets)
    (("tanh", "tanh"), 1, "sigmoid", "binary_crossentropy", "binary"),
    (("relu", "elu"), 4, "softmax", "sparse_categorical_crossentropy", "sparse"),
    (("gelu", "swish"), 4, "softmax", "categorical_crossentropy", "onehot"),
    (("leaky_relu", "softplus"), 2, "linear", "mse", "real"),
    (("selu", "softmax"), 3, "tanh", "mse", "real"),
]


def targets(kind, n, k, rng):
    if kind == "binary":
        return rng.integers(0, 2, n)
    if kind == "sparse":
        return rng.integers(0, k, n)
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.standard_normal((n, k))


@pytest.mark.parametrize("hidden, k, out_act, loss, kind", CASES)
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_fast_step_matches_layer_by_layer(hidden, k, out_act, loss, kind, batch):
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, 5))
    y = targets(kind, batch, k, rng)

    def make():
        m = Sequential([Dense(6, activation=hidden[0], input_shape=(5,)), Dense(40, activation=hidden[1]),
                        Dense(k, activation=out_act)], seed=3, dtype="float64")
        m.compile(optimizer=SGD(0.1), loss=loss)
        return m

    fast, slow = make(), make()
    assert fast._fast is not None
    slow._fast = None  # force the per-layer path
    xs, ys = fast.check_data(x, y)
    for _ in range(3):
        lf, of = fast.train_step(xs, ys)
        ls, os_ = slow.train_step(xs, ys)
        assert lf == pytest.approx(ls, rel=1e-12)
        assert np.allclose(of, os_, rtol=1e-12, atol=1e-14)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14)


def test_fast_step_with_weight_regularizer_and_fallbacks():
    m = Sequential([Dense(4, input_shape=(3,), kernel_regularizer=L2(0.1)), Dense(1)], seed=0)
    m.compile(optimizer="sgd", loss="mse")
    assert m._fast is not None
    m2 = Sequential([Dense(4, input_shape=(3,)), Dropout(0.2), Dense(1)], seed=0)
    m2.compile(optimizer="sgd", loss="mse")
    assert m2._fast is None           # dropout: the per-layer path
    m3 = Sequential([Dense(4, input_shape=(3,)), Dense(2, activation="softmax")], seed=0)
    m3.compile(optimizer="sgd", loss="mse")
    assert m3._fast is None           # softmax + mse: not fused


def test_regularized_fast_and_slow_paths_agree():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    models = []
    for fast in (True, False):
        m = Sequential([Dense(4, activation="tanh", input_shape=(3,), kernel_regularizer=L2(0.1)), Dense(1)],
                       seed=0, dtype="float64")
        m.compile(optimizer=SGD(0.05), loss="mse")
        if not fast:
            m._fast = None
        xs, ys = m.check_data(x, y)
        losses = [m.train_step(xs, ys)[0] for _ in range(3)]
        models.append((losses, m.get_weights()))
    assert np.allclose(models[0][0], models[1][0], rtol=1e-12)
    assert all(np.allclose(a, b) for a, b in zip(models[0][1], models[1][1]))


@pytest.mark.parametrize("loss, kind, k", [("sparse", "sparse", 4), ("onehot", "onehot", 3), ("binary", "binary", 1)])
def test_fast_step_takes_losses_given_logits_from_a_linear_last_layer(loss, kind, k):
    """Keras' ``from_logits=True`` with a linear last layer (as TensorFlow's tutorials write it): the fused
    step computes the softmax/sigmoid from the logits itself, and agrees with the per-layer path."""
    from nnplay.core import losses

    make_loss = {"sparse": losses.SparseCategoricalCrossentropy, "onehot": losses.CategoricalCrossentropy,
                 "binary": losses.BinaryCrossentropy}[loss]
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((9, 5)), targets(kind, 9, k, rng)

    def make():
        m = Sequential([Dense(6, activation="tanh", input_shape=(5,)), Dense(k)], seed=3, dtype="float64")
        m.compile(optimizer=SGD(0.1), loss=make_loss(from_logits=True))
        return m

    fast, slow = make(), make()
    assert fast._fast is not None
    slow._fast = None
    xs, ys = fast.check_data(x, y)
    for _ in range(3):
        lf, of = fast.train_step(xs, ys)
        ls, os_ = slow.train_step(xs, ys)
        assert lf == pytest.approx(ls, rel=1e-12)
        assert np.allclose(of, os_, rtol=1e-12, atol=1e-14)      # the outputs are the logits either way
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14)
    odd = Sequential([Dense(k, activation="softmax" if k > 1 else "sigmoid", input_shape=(5,))], seed=0)
    odd.compile(optimizer="sgd", loss=make_loss(from_logits=True))
    assert odd._fast is None          # logits that went through a softmax/sigmoid: the per-layer path's math
