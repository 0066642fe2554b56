"""The NumPy tier of SimpleRNN, LSTM and GRU (nnplay.core.tiers.recurrent) against their kernels: outputs,
grad_x, every weight gradient and the state views, same weights and inputs; and training on that tier."""
import numpy as np
import pytest

from nnplay.core import tiers
from nnplay.core.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN
from nnplay.core.models import Sequential
from nnplay.core.optimizers import Adam

CELLS = {
    "simple_rnn": (SimpleRNN, {}),
    "lstm": (LSTM, {}),
    "gru": (GRU, {}),
    "gru_reset_before": (GRU, {"reset_after": False}),
}

OPTIONS = {
    # name: (extra layer kwargs, dtype, training)
    "default": ({}, np.float32, False),
    "relu_hard_sigmoid": ({"activation": "relu", "recurrent_activation": "hard_sigmoid"}, np.float32, False),
    "backwards_dropout": ({"go_backwards": True, "dropout": 0.3, "recurrent_dropout": 0.4}, np.float32, True),
    "no_bias_sigmoid_tanh": ({"use_bias": False, "activation": "sigmoid", "recurrent_activation": "tanh"},
                             np.float32, True),
    "activity_regularizer": ({"activity_regularizer": "l2"}, np.float32, True),
    "float64_backwards": ({"go_backwards": True, "recurrent_dropout": 0.3}, np.float64, True),
}


def build(cls, kw, dtype, input_shape=(6, 3), units=4):
    layer = cls(units, seed=5, **kw)
    layer.build(input_shape, np.random.default_rng(0), dtype)
    rng = np.random.default_rng(100)
    for w in layer.params.values():  # random biases too, so every term is exercised
        w[...] = rng.uniform(-0.8, 0.8, w.shape)
    return layer


def run(layer, tier, x, grad_out, training, need_grad_x=True):
    """Forward + backward on ``tier``; the weight gradients start as garbage (they must be overwritten)."""
    layer._mask_rng = np.random.default_rng(layer.seed)   # the same dropout masks on both tiers
    for g in layer.grads.values():
        g[...] = 1e3
    with tiers.running(tier):
        out = layer.forward(x, training)
        assert (layer.cache.get("tier") == "numpy") == (tier == "numpy")
        grad_x = layer.backward(grad_out.reshape(out.shape), need_grad_x)
    extras = {k: v.copy() for k, v in layer.extras().items()}
    return out, grad_x, {k: g.copy() for k, g in layer.grads.items()}, extras


def assert_close(a, b, dtype, what):
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-9, 1e-11)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("options", list(OPTIONS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", list(CELLS))
def test_numpy_tier_matches_the_kernels(cell, return_sequences, options):
    cls, kw = CELLS[cell]
    extra, dtype, training = OPTIONS[options]
    kw = {**kw, **extra, "return_sequences": return_sequences}
    if cls is SimpleRNN:
        kw.pop("recurrent_activation", None)
    layer = build(cls, kw, dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 6, 3)).astype(dtype)
    grad_out = rng.standard_normal((7, 6 if return_sequences else 1, 4)).astype(dtype)
    ref_out, ref_gx, ref_grads, ref_extras = run(layer, "kernels", x, grad_out, training)
    out, gx, grads, extras = run(layer, "numpy", x, grad_out, training)
    assert out.dtype == ref_out.dtype == dtype and out.shape == ref_out.shape
    assert gx.dtype == dtype and gx.shape == x.shape
    assert_close(out, ref_out, dtype, "output")
    assert_close(gx, ref_gx, dtype, "grad_x")
    assert set(grads) == set(ref_grads) == set(layer.weight_names if layer.use_bias else layer.weight_names[:2])
    for name in grads:
        assert_close(grads[name], ref_grads[name], dtype, name)
    assert set(extras) == set(ref_extras) and extras
    for name in extras:
        assert_close(extras[name], ref_extras[name], dtype, name)


@pytest.mark.parametrize("cell", list(CELLS))
def test_need_grad_x_false_keeps_the_weight_gradients(cell):
    cls, kw = CELLS[cell]
    layer = build(cls, {**kw, "return_sequences": True}, np.float32)
    x = np.random.default_rng(2).standard_normal((5, 6, 3)).astype(np.float32)
    g = np.ones((5, 6, 4), np.float32)
    _, _, ref, _ = run(layer, "kernels", x, g, True)
    _, gx, grads, _ = run(layer, "numpy", x, g, True, need_grad_x=False)
    assert gx is None
    for name in grads:
        assert_close(grads[name], ref[name], np.float32, name)


@pytest.mark.parametrize("inner", [lambda: LSTM(4), lambda: GRU(4, return_sequences=True, reset_after=False)])
def test_bidirectional_runs_both_directions_on_the_numpy_tier(inner):
    layer = Bidirectional(inner())
    layer.build((6, 3), np.random.default_rng(0), np.float32)
    x = np.random.default_rng(3).standard_normal((5, 6, 3)).astype(np.float32)
    results = {}
    for tier in ("kernels", "numpy"):
        with tiers.running(tier):
            out = layer.forward(x, True)
            gx = layer.backward(np.cos(np.arange(out.size, dtype=np.float32)).reshape(out.shape))
        results[tier] = [out, gx, *(g.copy() for g in layer.grads.values())]
        assert all((inner_layer.cache.get("tier") == "numpy") == (tier == "numpy") for inner_layer in layer.inner)
    for a, b in zip(results["kernels"], results["numpy"]):
        assert_close(b, a, np.float32, "bidirectional")


@pytest.mark.parametrize("cell", list(CELLS))
def test_a_model_trains_on_the_numpy_tier(cell):
    cls, kw = CELLS[cell]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 2)).astype(np.float32)
    y = x[:, :, :1].sum(axis=1) * 0.5                   # a running sum: needs the recurrence
    losses = {}
    for tier in ("numpy", "kernels"):
        model = Sequential([cls(8, input_shape=(8, 2), **kw), Dense(1)], seed=0)
        model.compile(optimizer=Adam(0.02), loss="mse")
        with tiers.running(tier):
            losses[tier] = [model.train_on_batch(x, y) for _ in range(30)]
            assert (model.layers[0].cache.get("tier") == "numpy") == (tier == "numpy")
    assert all(np.isfinite(losses["numpy"])) and losses["numpy"][-1] < 0.2 * losses["numpy"][0]
    np.testing.assert_allclose(losses["numpy"], losses["kernels"], rtol=1e-3)
