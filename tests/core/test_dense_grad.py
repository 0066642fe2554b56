"""Finite-difference gradient checks (float64) for every activation, loss, and the Dense layer."""
import numpy as np
import pytest

from nnplay.core import activations, losses
from nnplay.core.gradcheck import check_layer, numeric_grad, rel_error
from nnplay.core.layers import Activation, Dense, Dropout

ACTS = list(activations.NAMES)
TOL = 1e-6


@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("batch", [1, 4])
def test_activation_layer_gradients(name, batch):
    layer = Activation(name)
    rng = np.random.default_rng(3)
    # keep inputs away from the kinks of relu / leaky / hard_sigmoid where the derivative is undefined
    x = rng.uniform(0.2, 2.5, (batch, 5)) * rng.choice([-1.0, 1.0], (batch, 5))
    errs = check_layer(layer, (5,), x=x)
    assert errs["x"] < TOL, errs


@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("batch", [1, 3])
def test_dense_gradients_every_activation(name, batch):
    layer = Dense(4, activation=name)
    errs = check_layer(layer, (6,), batch=batch, seed=batch)
    assert max(errs.values()) < 1e-5, errs


def test_dense_without_bias_and_on_3d_input():
    errs = check_layer(Dense(3, activation="tanh", use_bias=False), (5, 4), batch=2)
    assert max(errs.values()) < TOL, errs
    assert set(errs) == {"x", "kernel"}


def test_dense_big_enough_for_blas_path():
    # 32 x 64 x 48 multiply-adds is above the small-GEMM threshold, so np.dot (BLAS) runs
    errs = check_layer(Dense(48, activation="relu"), (64,), batch=32, max_checks=40)
    assert max(errs.values()) < 1e-5, errs


def test_dense_regularized_gradients_include_penalty():
    from nnplay.core import regularizers
    layer = Dense(3, activation="tanh", kernel_regularizer=regularizers.L2(0.1),
                  activity_regularizer=regularizers.L1(0.05))
    layer.build((4,), np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    R = rng.standard_normal((5, 3))

    def total():
        out = layer.forward(x)
        return float(np.sum(out * R)) + layer.penalty() + layer.cache["activity_penalty"]

    total()
    layer.backward(R.copy())
    layer.add_penalty_grads()
    idx, num = numeric_grad(total, layer.params["kernel"])
    assert rel_error(layer.grads["kernel"].ravel()[idx], num) < 1e-6


def test_dropout_is_identity_at_inference_and_scaled_in_training():
    layer = Dropout(0.5)
    layer.build((1000,), np.random.default_rng(0), np.float64)
    x = np.ones((4, 1000))
    assert np.array_equal(layer.forward(x, training=False), x)
    out = layer.forward(x, training=True)
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert 0.4 < (out == 0).mean() < 0.6
    g = layer.backward(np.ones_like(x))
    assert np.array_equal(g, out)   # gradient flows only through kept units, with the same scale


# ---------------------------------------------------------------- losses
REG = ["mse", "mae", "huber", "log_cosh"]


def _loss_check(loss, y, p):
    def f():
        return loss.value(y, p)
    idx, num = numeric_grad(f, p)
    return rel_error(loss.grad(y, p).ravel()[idx], num)


@pytest.mark.parametrize("name", REG)
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (2, 5, 2)])
def test_regression_loss_gradients(name, shape):
    rng = np.random.default_rng(0)
    loss = losses.get(name)
    p, y = rng.standard_normal(shape) * 2, rng.standard_normal(shape)
    # keep |p - y| away from the Huber/MAE kinks
    p = np.where(np.abs(p - y) < 0.05, p + 0.3, p)
    p = np.where(np.abs(np.abs(p - y) - 1.0) < 0.05, p + 0.2, p)
    assert _loss_check(loss, y, p) < 1e-6


@pytest.mark.parametrize("batch", [1, 6])
def test_binary_crossentropy_gradients_plain_and_fused(batch):
    rng = np.random.default_rng(batch)
    loss = losses.get("binary_crossentropy")
    z = rng.standard_normal((batch, 2))
    y = rng.integers(0, 2, (batch, 2)).astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    assert _loss_check(loss, y, p) < 1e-6
    value, gz = loss.fused(y, z)
    assert value == pytest.approx(loss.value(y, p), rel=1e-9)

    def f():
        return loss.fused(y, z)[0]
    idx, num = numeric_grad(f, z)
    assert rel_error(gz.ravel()[idx], num) < 1e-6


@pytest.mark.parametrize("batch", [1, 5])
def test_categorical_crossentropies_plain_and_fused(batch):
    rng = np.random.default_rng(batch)
    z = rng.standard_normal((batch, 4))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, batch)
    onehot = np.eye(4)[labels]
    cce, scce = losses.get("categorical_crossentropy"), losses.get("sparse_categorical_crossentropy")
    assert _loss_check(cce, onehot, p) < 1e-6
    assert _loss_check(scce, labels, p) < 1e-6
    for loss, y in ((cce, onehot), (scce, labels)):
        value, gz = loss.fused(y, z)
        assert value == pytest.approx(loss.value(y, p), rel=1e-9)
        idx, num = numeric_grad(lambda: loss.fused(y, z)[0], z)
        assert rel_error(gz.ravel()[idx], num) < 1e-6


@pytest.mark.parametrize("batch", [1, 5])
def test_crossentropies_given_logits_have_the_gradient_of_their_value(batch):
    """``from_logits=True``: value and gradient taken on the logits themselves (the sparse one used to fail
    with an IndexError: its gradient went through the one-hot form into the sparse ``fused``)."""
    rng = np.random.default_rng(batch)
    z = rng.standard_normal((batch, 4))
    labels = rng.integers(0, 4, batch)
    cases = ((losses.CategoricalCrossentropy(from_logits=True), np.eye(4)[labels]),
             (losses.SparseCategoricalCrossentropy(from_logits=True), labels),
             (losses.BinaryCrossentropy(from_logits=True), rng.integers(0, 2, (batch, 4)).astype(np.float64)))
    for loss, y in cases:
        assert _loss_check(loss, y, z) < 1e-6


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
def test_hinge_gradients(name):
    rng = np.random.default_rng(0)
    loss = losses.get(name)
    p = rng.uniform(-2, 2, (6, 1))
    p = np.where(np.abs(np.abs(p) - 1) < 0.05, p * 1.2, p)
    y = loss.prepare_targets(rng.integers(0, 2, 6), (6, 1))
    assert set(np.unique(y)) <= {-1.0, 1.0}
    assert _loss_check(loss, y, p) < 1e-6


def test_loss_values_match_keras_formulas():
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    p = np.array([[0.1, 0.8], [0.6, 0.3]])
    assert losses.get("mse")(y, p) == pytest.approx(np.mean((y - p) ** 2))
    # Keras BCE: mean over last axis, then over the batch; probabilities clipped at 1e-7
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert losses.get("binary_crossentropy")(y, p) == pytest.approx(bce)
    # CCE: probabilities renormalised per row, summed over classes
    q = p / p.sum(axis=1, keepdims=True)
    assert losses.get("categorical_crossentropy")(y, p) == pytest.approx(-(y * np.log(q)).sum(axis=1).mean())
    assert losses.get("binary_crossentropy")(np.array([[1.0]]), np.array([[0.0]])) == pytest.approx(-np.log(1e-7))
    # huber with delta 1: 0.5 e^2 inside, |e| - 0.5 outside
    assert losses.get("huber")(np.array([[0.0, 0.0]]), np.array([[0.5, 3.0]])) == pytest.approx((0.125 + 2.5) / 2)


def test_unknown_names_suggest_the_close_one():
    from nnplay.core.errors import NnplayError
    with pytest.raises(NnplayError, match="did you mean 'relu'"):
        activations.get("reluu")
    with pytest.raises(NnplayError, match="did you mean 'binary_crossentropy'"):
        losses.get("binary_crosentropy")
