"""The NumPy tier of the convolution, pooling, upsampling and embedding layers against their kernels: the same
outputs, input gradients and weight gradients (written in place) for every option, and a small CNN that trains."""
import numpy as np
import pytest

from nnplay.core import tiers
from nnplay.core.layers import (AveragePooling1D, AveragePooling2D, Conv1D, Conv2D, Dense, Embedding, Flatten,
                                MaxPooling1D, MaxPooling2D, UpSampling2D)
from nnplay.core.layers import embedding as embedding_layer
from nnplay.core.models import Sequential
from nnplay.core.tiers import conv as T

RTOL, ATOL = 1e-4, 1e-5  # float32 rounding: the tiers sum in different orders


def run(make, shape, x, tier, dtype=np.float32, grad=None, need_grad_x=True, logits=False):
    """Build a fresh layer (the same weights every time), run forward + backward on ``tier``; returns
    (layer, out, grad_x, {weight name: gradient})."""
    layer = make()
    layer.build(shape, np.random.default_rng(0), dtype)
    for name in layer.params:  # non-zero biases; nothing may survive from before backward
        layer.params[name][...] = np.random.default_rng(1).standard_normal(layer.params[name].shape) * 0.5
        layer.grads[name][...] = np.nan
    layer.grad_is_logits = logits
    grads = dict(layer.grads)
    with tiers.running(tier):
        out = layer.forward(x, True)
        if grad is None:
            grad = np.random.default_rng(2).standard_normal(out.shape).astype(out.dtype)
        grad_x = layer.backward(grad, need_grad_x=need_grad_x)
    for name, g in grads.items():
        assert layer.grads[name] is g  # gradients are written into the bound arrays, never rebound
    if not isinstance(layer, Embedding):  # each tier ran its own code
        assert (layer.cache.get("tier") == "numpy") == (tier == tiers.NUMPY)
    return layer, out, grad_x, {name: g.copy() for name, g in grads.items()}


def assert_tiers_agree(make, shape, x, dtype=np.float32, rtol=RTOL, atol=ATOL, **kw):
    _, out_k, gx_k, gw_k = run(make, shape, x, tiers.KERNELS, dtype, **kw)
    _, out_n, gx_n, gw_n = run(make, shape, x, tiers.NUMPY, dtype, **kw)
    assert out_n.shape == out_k.shape and out_n.dtype == out_k.dtype
    np.testing.assert_allclose(out_n, out_k, rtol=rtol, atol=atol)
    if gx_k is None:
        assert gx_n is None
    else:
        assert gx_n.shape == gx_k.shape and gx_n.dtype == gx_k.dtype
        np.testing.assert_allclose(gx_n, gx_k, rtol=rtol, atol=atol)
    assert gw_n.keys() == gw_k.keys()
    for name in gw_k:
        assert np.isfinite(gw_k[name]).all()
        np.testing.assert_allclose(gw_n[name], gw_k[name], rtol=rtol, atol=atol, err_msg=name)


def inputs(shape, batch=3, seed=5, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((batch, *shape)).astype(dtype)


# ------------------------------------------------------------------------------------------ convolution
# (input shape, Conv2D arguments)
CONV_CASES = [
    ((7, 6, 3), dict(filters=4, kernel_size=3)),
    ((7, 6, 3), dict(filters=4, kernel_size=3, padding="same", activation="relu")),
    ((7, 6, 3), dict(filters=4, kernel_size=3, strides=2, activation="relu")),
    ((7, 6, 3), dict(filters=4, kernel_size=3, strides=2, padding="same", use_bias=False)),
    ((8, 8, 2), dict(filters=5, kernel_size=2, strides=2, padding="same", activation="tanh")),
    ((8, 7, 2), dict(filters=3, kernel_size=2, padding="same", activation="sigmoid")),   # pad 0 before, 1 after
    ((9, 8, 1), dict(filters=3, kernel_size=(4, 3), strides=(3, 2), padding="same")),
    ((9, 8, 5), dict(filters=6, kernel_size=(3, 2), strides=(1, 2), use_bias=False, activation="relu")),
    ((6, 6, 4), dict(filters=3, kernel_size=1)),
    ((4, 4, 2), dict(filters=3, kernel_size=4, activation="elu")),                       # kernel = input
    ((10, 9, 1), dict(filters=8, kernel_size=3, strides=2, activation="relu")),          # rows left over
    ((16, 16, 16), dict(filters=8, kernel_size=3, padding="same", activation="relu")),   # ROWS, many channels
    ((5, 6, 3), dict(filters=4, kernel_size=3, padding="same", activation="softmax")),
    ((6, 5, 2), dict(filters=3, kernel_size=3, padding="same", activation="relu", activity_regularizer="l2")),
]


def conv_id(case):
    shape, kw = case
    return "x".join(map(str, shape)) + "-" + "-".join(f"{k}={v}" for k, v in kw.items() if k != "filters")


@pytest.mark.parametrize("case", CONV_CASES, ids=conv_id)
def test_conv2d_tiers_agree(case):
    shape, kw = case
    assert_tiers_agree(lambda: Conv2D(**kw), shape, inputs(shape))


@pytest.mark.parametrize("case", CONV_CASES[1:5], ids=conv_id)
def test_conv2d_tiers_agree_without_grad_x(case):
    shape, kw = case
    assert_tiers_agree(lambda: Conv2D(**kw), shape, inputs(shape), need_grad_x=False)


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_conv2d_tiers_agree_on_logit_gradients(activation):
    """With the fused cross-entropy the incoming gradient is dL/dz: no activation derivative is applied."""
    make = lambda: Conv2D(4, 3, padding="same", activation=activation)  # noqa: E731
    assert_tiers_agree(make, (5, 5, 2), inputs((5, 5, 2)), logits=True)


@pytest.mark.parametrize("case", CONV_CASES[:8:2], ids=conv_id)
def test_conv2d_tiers_agree_past_the_window_matrix_limit(case, monkeypatch):
    """Past MAX_COLS the NumPy tier loops over the kernel offsets instead of building the window matrix."""
    monkeypatch.setattr(T, "MAX_COLS", 0)
    shape, kw = case
    assert_tiers_agree(lambda: Conv2D(**kw), shape, inputs(shape))
    assert run(lambda: Conv2D(**kw), shape, inputs(shape), tiers.NUMPY)[0].cache["cols"] is None


def test_conv2d_tiers_agree_in_float64():
    make = lambda: Conv2D(5, 3, strides=2, padding="same", activation="tanh")  # noqa: E731
    assert_tiers_agree(make, (7, 8, 3), inputs((7, 8, 3), dtype=np.float64), np.float64, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=3, padding="same", activation="relu"),
                                dict(kernel_size=4, strides=2, padding="same"),
                                dict(kernel_size=3, padding="causal", activation="tanh"),
                                dict(kernel_size=2, strides=3, padding="causal", use_bias=False)],
                         ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_conv1d_tiers_agree(kw):
    assert_tiers_agree(lambda: Conv1D(4, **kw), (11, 3), inputs((11, 3)))


def test_conv2d_numpy_tier_logits_and_repeated_steps():
    """logits() and a second backward on the same forward read the NumPy tier's cache."""
    layer, out, gx, _ = run(lambda: Conv2D(3, 3, activation="relu"), (6, 6, 2), inputs((6, 6, 2)), tiers.NUMPY)
    np.testing.assert_array_equal(np.maximum(layer.logits(), 0), out)
    with tiers.running(tiers.NUMPY):
        again = layer.backward(np.random.default_rng(2).standard_normal(out.shape).astype(np.float32))
    np.testing.assert_array_equal(again, gx)


# ------------------------------------------------------------------------------------------ pooling
def relu_inputs(shape, batch=3, seed=7):
    """relu(noise) with an all-zero block: ties everywhere, as after a relu layer."""
    x = np.maximum(inputs(shape, batch, seed), 0)
    x[:, :3, :3] = 0.0
    return x


def negative_inputs(shape, batch=3, seed=8):
    """Only negative values: with "same" padding a padded cell would win if it were counted."""
    return -np.abs(inputs(shape, batch, seed)) - 0.1


def integer_inputs(shape, batch=3, seed=9):
    """Few distinct values: several maxima per window."""
    return np.random.default_rng(seed).integers(0, 3, (batch, *shape)).astype(np.float32)


POOL_KWARGS = [dict(pool_size=2), dict(pool_size=2, strides=1), dict(pool_size=3), dict(pool_size=3, strides=2),
               dict(pool_size=3, strides=1, padding="same"), dict(pool_size=2, padding="same"),
               dict(pool_size=3, strides=2, padding="same"), dict(pool_size=(2, 3), strides=(1, 2)),
               dict(pool_size=(3, 2), strides=(2, 1), padding="same")]
def nonfinite_inputs(shape, batch=3, seed=10):
    """Integers with NaN and -inf among them: the kernel passes over a NaN unless it comes first."""
    x = integer_inputs(shape, batch, seed)
    spots = np.random.default_rng(seed).random(x.shape)
    x[spots < 0.1] = np.nan
    x[spots > 0.9] = -np.inf
    x[0, :2, :2] = -np.inf  # a window of -inf only, padded before with "same"
    return x


POOL_INPUTS = {"noise": inputs, "relu": relu_inputs, "negative": negative_inputs, "integers": integer_inputs,
               "nonfinite": nonfinite_inputs}


def kw_id(kw):
    return "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("data", POOL_INPUTS)
@pytest.mark.parametrize("kw", POOL_KWARGS, ids=kw_id)
@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D], ids=lambda c: c.__name__)
def test_pool2d_tiers_agree(cls, kw, data):
    shape = (7, 8, 3)
    assert_tiers_agree(lambda: cls(**kw), shape, POOL_INPUTS[data](shape))


@pytest.mark.parametrize("data", POOL_INPUTS)
@pytest.mark.parametrize("kw", [dict(pool_size=2), dict(pool_size=3, strides=2, padding="same"),
                                dict(pool_size=3, strides=1), dict(pool_size=2, padding="same")], ids=kw_id)
@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D], ids=lambda c: c.__name__)
def test_pool1d_tiers_agree(cls, kw, data):
    shape = (9, 3)
    assert_tiers_agree(lambda: cls(**kw), shape, POOL_INPUTS[data](shape))


def test_maxpool_numpy_tier_routes_ties_to_the_first_maximum():
    """All-equal windows: the gradient goes to each window's top-left cell, as the kernel sends it."""
    _, _, grad_x, _ = run(lambda: MaxPooling2D(2, strides=1), (3, 3, 1), np.ones((1, 3, 3, 1), np.float32),
                          tiers.NUMPY, grad=np.ones((1, 2, 2, 1), np.float32))
    np.testing.assert_array_equal(grad_x[0, :, :, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize("kw", [dict(pool_size=2), dict(pool_size=3, strides=1, padding="same")], ids=kw_id)
def test_maxpool_tiers_agree_on_infinite_gradients(kw):
    """An infinite gradient reaches its winning cell only (no 0 * inf on the others)."""
    x = integer_inputs((6, 6, 2))
    grad = np.random.default_rng(4).standard_normal((3, *MaxPooling2D(**kw).compute_output_shape((6, 6, 2))))
    grad = grad.astype(np.float32)
    grad[0, 1, 1, 0], grad[1, 0, 0, 1] = np.inf, -np.inf
    assert_tiers_agree(lambda: MaxPooling2D(**kw), (6, 6, 2), x, grad=grad)


def test_pool_numpy_tier_keeps_float64():
    x = inputs((6, 5, 2), dtype=np.float64)
    for cls in (MaxPooling2D, AveragePooling2D):
        assert_tiers_agree(lambda: cls(3, strides=2, padding="same"), (6, 5, 2), x, np.float64, rtol=1e-12, atol=0)


@pytest.mark.parametrize("size", [(2, 2), (2, 3), (1, 2)])
def test_upsampling2d_tiers_agree(size):
    assert_tiers_agree(lambda: UpSampling2D(size), (3, 4, 2), inputs((3, 4, 2)))


# ------------------------------------------------------------------------------------------ embedding
@pytest.mark.parametrize("idx_shape", [(6,), (2, 3)])
def test_embedding_tiers_agree(idx_shape, monkeypatch):
    idx = np.random.default_rng(3).integers(0, 5, (4, *idx_shape))  # repeated indices, some rows unused
    idx[0, 0] = idx[1, 0] = 2
    make = lambda: Embedding(7, 3)  # noqa: E731
    _, out_k, _, gw_k = run(make, idx_shape, idx, tiers.KERNELS)

    def no_kernel(*args):
        raise AssertionError("the NumPy tier ran the kernel")

    monkeypatch.setattr(embedding_layer, "embedding_backward", no_kernel)
    layer, out_n, gx_n, gw_n = run(make, idx_shape, idx, tiers.NUMPY)
    np.testing.assert_array_equal(out_n, out_k)
    np.testing.assert_allclose(gw_n["embeddings"], gw_k["embeddings"], rtol=RTOL, atol=ATOL)
    assert not gw_n["embeddings"][[5, 6]].any()
    np.testing.assert_array_equal(gx_n, np.zeros(idx.shape, np.float32))


# ------------------------------------------------------------------------------------------ training
def test_small_cnn_trains_on_the_numpy_tier():
    """Conv2D -> MaxPooling2D -> Flatten -> Dense softmax: the loss falls over a few steps, step for step as
    on the kernels (the gradients reach the model's flat buffer)."""
    from nnplay.core.optimizers import Adam

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 64)
    x = rng.standard_normal((64, 8, 8, 1)).astype(np.float32) * 0.3
    x[y == 0, :4] += 1.0   # class 0 is bright on top, class 1 at the bottom
    x[y == 1, 4:] += 1.0
    losses = {}
    for tier in (tiers.KERNELS, tiers.NUMPY):
        model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(2), Flatten(),
                            Dense(2, activation="softmax")], seed=0)
        model.compile(optimizer=Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy")
        with tiers.running(tier):
            losses[tier] = [model.train_on_batch(x, y) for _ in range(10)]
        assert (model.layers[0].cache.get("tier") == "numpy") == (tier == tiers.NUMPY)
        assert model.layers[1].cache.get("tier") == model.layers[0].cache.get("tier")
    steps = losses[tiers.NUMPY]
    assert all(np.isfinite(steps)) and all(b < a for a, b in zip(steps, steps[1:])), steps
    assert steps[-1] < 0.5 * steps[0], steps
    np.testing.assert_allclose(steps, losses[tiers.KERNELS], rtol=1e-3)
