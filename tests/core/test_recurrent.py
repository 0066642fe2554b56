"""Recurrent layers, their kernels and wrappers: naive references, finite differences, Keras layout, learning."""
import sys
from pathlib import Path

import numpy as np
import pytest

from nnplay.core.errors import NnplayError
from nnplay.core.gradcheck import check_layer
from nnplay.core.kernels.activations import SIGMOID, TANH
from nnplay.core.kernels.blas import gemm
from nnplay.core.kernels.recurrent.rows import _act_row
from nnplay.core.layers import (GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN, TimeDistributed,
                                layer_from_config)
from nnplay.core.pacing import Pacer
from nnplay.core.models import Sequential, load_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import naive_recurrent as naive  # noqa: E402

TOL = 1e-5  # max relative error of the finite-difference checks (float64, eps 1e-6)

CELLS = {
    "simple_rnn": (SimpleRNN, {}),
    "lstm": (LSTM, {}),
    "gru": (GRU, {}),
    "gru_reset_before": (GRU, {"reset_after": False}),
}


def build(cls, kw, input_shape=(5, 3), dtype=np.float64, seed=0, scale=1.0):
    layer = cls(4, **kw)
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    rng = np.random.default_rng(seed + 100)
    for name, w in layer.params.items():  # random biases too, so every term is exercised
        w[...] = scale * rng.uniform(-0.8, 0.8, w.shape)
    return layer


def naive_run(layer, x, grad_out, masks):
    """Forward + backward of the naive reference with the layer's weights, activations and masks."""
    p = {k: v.astype(np.float64) for k, v in layer.params.items()}
    b = p.get("bias", np.zeros(layer.bias_shape()))
    common = dict(return_sequences=layer.return_sequences, go_backwards=layer.go_backwards,
                  mask_x=masks[0], mask_h=masks[1])
    if isinstance(layer, LSTM):
        out, tape = naive.lstm_forward(x, p["kernel"], p["recurrent_kernel"], b, layer.activation,
                                       layer.recurrent_activation, **common)
        return out, naive.lstm_backward(tape, grad_out)
    if isinstance(layer, GRU):
        out, tape = naive.gru_forward(x, p["kernel"], p["recurrent_kernel"], b, layer.activation,
                                      layer.recurrent_activation, layer.reset_after, **common)
        return out, naive.gru_backward(tape, grad_out)
    out, tape = naive.rnn_forward(x, p["kernel"], p["recurrent_kernel"], b, layer.activation, **common)
    return out, naive.rnn_backward(tape, grad_out)


def max_rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


# ---------------------------------------------------------------------------------- kernels vs naive
VARIANTS = {
    # name: (extra layer kwargs, dtype, training, n_chunks, parallel, tolerance)
    "float64": ({}, np.float64, False, 1, False, 1e-12),
    "backwards_dropout": ({"go_backwards": True, "dropout": 0.3, "recurrent_dropout": 0.4}, np.float64, True,
                          1, False, 1e-12),
    "chunks_threads": ({"dropout": 0.2, "recurrent_dropout": 0.2}, np.float64, True, 3, True, 1e-12),
    "chunks_serial": ({"go_backwards": True}, np.float64, False, 3, False, 1e-12),
    "float32": ({}, np.float32, False, 1, False, 2e-5),
    "float32_other_activations": ({"activation": "relu"}, np.float32, False, 2, True, 2e-5),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", list(CELLS))
def test_kernels_match_naive_reference(cell, return_sequences, variant):
    cls, kw = CELLS[cell]
    extra, dtype, training, n_chunks, parallel, tol = VARIANTS[variant]
    kw = {**kw, **extra, "return_sequences": return_sequences}
    if "relu" in kw.values() and cls is not SimpleRNN:
        kw["recurrent_activation"] = "hard_sigmoid"
    layer = build(cls, kw, dtype=dtype)
    layer.n_chunks = n_chunks
    layer.pacer.force = parallel
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5, 3))
    out = layer.forward(x.astype(dtype), training)
    grad_out = rng.standard_normal(out.shape)
    grad_x = layer.backward(grad_out.astype(dtype))
    masks = [layer.cache["mask_x"], layer.cache["mask_h"]]
    if training:
        assert masks[0].shape == (7, 3) and masks[1].shape == (7, 4)
    masks = [m if m.shape[0] else None for m in masks]
    ref_out, ref = naive_run(layer, x, grad_out, masks)
    assert out.dtype == dtype and out.shape == ref_out.shape
    assert max_rel(out, ref_out) < tol
    assert max_rel(grad_x, ref["x"]) < tol
    for name in ("kernel", "recurrent_kernel", "bias"):
        assert max_rel(layer.grads[name], ref[name]) < tol, name


@pytest.mark.parametrize("cell", list(CELLS))
def test_threads_and_chunks_give_bit_identical_results(cell):
    cls, kw = CELLS[cell]
    results = []
    for parallel in (False, True):
        layer = build(cls, {**kw, "return_sequences": True}, input_shape=(6, 5), dtype=np.float32)
        layer.n_chunks = 2
        layer.pacer.force = parallel
        x = np.random.default_rng(1).standard_normal((32, 6, 5)).astype(np.float32)
        y = layer.forward(x, True)
        gx = layer.backward(np.ones_like(y))
        results.append([y, gx, *(g.copy() for g in layer.grads.values())])
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_need_grad_x_false_skips_the_input_gradient_but_not_the_weights():
    layer = build(LSTM, {})
    x = np.random.default_rng(1).standard_normal((3, 5, 3))
    g = np.ones((3, 4))
    layer.forward(x)
    full = layer.backward(g)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(x)
    assert layer.backward(g, need_grad_x=False) is None and full.shape == x.shape
    assert all(np.array_equal(grads[k], layer.grads[k]) for k in grads)


@pytest.mark.parametrize("shapes", [((7, 5), False, (5, 9), False), ((700, 40), True, (700, 30), False),
                                    ((300, 20), False, (90, 20), True), ((640, 64), True, (256, 640), True)])
def test_gemm_handles_transposes_strided_blocks_and_accumulation(shapes):
    (sa, ta, sb, tb) = shapes
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        a, b = rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)
        A, B = (a.T if ta else a), (b.T if tb else b)
        big = rng.standard_normal((A.shape[0] + 3, B.shape[1] + 5)).astype(dtype)
        c = big[2:2 + A.shape[0], 1:1 + B.shape[1]]      # a strided block of a bigger array
        before, start = big.copy(), c.copy()
        gemm(a, ta, b, tb, c, 1.0)
        want = start.astype(np.float64) + A.astype(np.float64) @ B.astype(np.float64)
        assert max_rel(c, want) < (1e-5 if dtype == np.float32 else 1e-12)
        outside = np.ones(big.shape, bool)
        outside[2:2 + A.shape[0], 1:1 + B.shape[1]] = False
        assert np.array_equal(big[outside], before[outside])
        gemm(a, ta, b, tb, c, 0.0)
        assert max_rel(c, A.astype(np.float64) @ B.astype(np.float64)) < (1e-5 if dtype == np.float32 else 1e-12)


def test_float32_tanh_and_sigmoid_approximations_are_close_to_exact():
    z = np.linspace(-30, 30, 20001).astype(np.float32)
    for code, exact in ((TANH, np.tanh), (SIGMOID, lambda v: 1 / (1 + np.exp(-v)))):
        a = np.empty_like(z)
        _act_row(z, a, code, 0.0, True)
        assert np.abs(a - exact(z.astype(np.float64))).max() < 5e-7
        assert a.min() >= (-1.0 if code == TANH else 0.0) and a.max() <= 1.0


# ---------------------------------------------------------------------------------- finite differences
def assert_grads_ok(errors, tol=TOL):
    assert errors and all(np.isfinite(v) for v in errors.values())
    bad = {k: v for k, v in errors.items() if v >= tol}
    assert not bad, bad


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", list(CELLS))
def test_finite_differences(cell, return_sequences):
    cls, kw = CELLS[cell]
    layer = cls(4, return_sequences=return_sequences, **kw)
    errors = check_layer(layer, (5, 3), batch=3)
    assert set(errors) == {"x", "kernel", "recurrent_kernel", "bias"}
    assert_grads_ok(errors)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_finite_differences_batch_of_one_backwards_no_bias(cell):
    cls, kw = CELLS[cell]
    errors = check_layer(cls(3, go_backwards=True, use_bias=False, **kw), (4, 2), batch=1)
    assert set(errors) == {"x", "kernel", "recurrent_kernel"}
    assert_grads_ok(errors)


def test_finite_differences_with_dropout_configured_in_inference_mode():
    layer = LSTM(4, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    assert_grads_ok(check_layer(layer, (5, 3), batch=3, training=False))


def test_finite_differences_stack_of_two():
    stack = Sequential([LSTM(4, return_sequences=True), GRU(3)], dtype="float64")
    errors = check_layer(stack, (5, 3), batch=3)
    assert set(errors) == {"x", "lstm/kernel", "lstm/recurrent_kernel", "lstm/bias", "gru/kernel",
                           "gru/recurrent_kernel", "gru/bias"}
    assert_grads_ok(errors)


@pytest.mark.parametrize("layer", [lambda: Bidirectional(LSTM(4)),
                                   lambda: Bidirectional(GRU(3, return_sequences=True)),
                                   lambda: Bidirectional(SimpleRNN(3, return_sequences=True), merge_mode="mul"),
                                   lambda: Bidirectional(LSTM(3), merge_mode="ave")])
def test_finite_differences_bidirectional(layer):
    layer = layer()
    errors = check_layer(layer, (5, 3), batch=3)
    inner = layer.forward_layer.base_name
    assert {f"forward_{inner}/kernel", f"backward_{inner}/recurrent_kernel"} <= set(errors) and "x" in errors
    assert len(errors) == 7
    # Looser: with 7 arrays checked a few entries are ~1e-5 small, where the finite differences' own noise
    # (~3e-10 absolute at eps=1e-6) is already a relative 1e-5; a wrong term would be off by O(1).
    assert_grads_ok(errors, tol=5e-5)


def test_finite_differences_embedding_weights():
    x = np.array([[0, 3, 3, 1], [9, 0, 2, 3]])  # repeated indices must accumulate
    errors = check_layer(Embedding(10, 3), (4,), x=x, check_input=False)
    assert set(errors) == {"embeddings"}
    assert_grads_ok(errors)


def test_finite_differences_time_distributed_dense():
    errors = check_layer(TimeDistributed(Dense(3, activation="tanh")), (5, 4), batch=2)
    assert set(errors) == {"x", "dense/kernel", "dense/bias"}
    assert_grads_ok(errors)


# ---------------------------------------------------------------------------------- dropout masks
def test_dropout_masks_are_constant_over_time_and_inverted():
    n = 6
    layer = SimpleRNN(n, activation="linear", use_bias=False, dropout=0.5, recurrent_dropout=0.5,
                      return_sequences=True)
    layer.build((4, n), np.random.default_rng(0), np.float64)
    layer.params["kernel"][...] = np.eye(n)
    layer.params["recurrent_kernel"][...] = np.eye(n)
    x = np.zeros((50, 4, n))
    x[:, 0] = 1.0                                  # h_t = m_x * m_h**t if both masks stay fixed over time
    h = layer.forward(x, training=True)
    m_x, m_h = layer.cache["mask_x"], layer.cache["mask_h"]
    assert set(np.unique(m_x)) <= {0.0, 2.0} and set(np.unique(m_h)) <= {0.0, 2.0}
    assert 0.3 < (m_x == 0).mean() < 0.7 and 0.3 < (m_h == 0).mean() < 0.7
    for t in range(4):
        np.testing.assert_allclose(h[:, t], m_x * m_h ** t)
    x2 = np.ones((50, 4, n))                       # input dropout alone: the same units dropped at every step
    layer.params["recurrent_kernel"][...] = 0.0
    h2 = layer.forward(x2, training=True)
    assert np.array_equal(h2[:, 0], h2[:, 3]) and (h2 == 0).any()
    assert not np.array_equal(layer.cache["mask_x"], m_x)          # a fresh mask per batch
    np.testing.assert_allclose(layer.forward(x2, training=False), x2)  # inference: no dropout


# ---------------------------------------------------------------------------------- Keras layout and config
def test_keras_weight_layout():
    lstm = LSTM(5)
    lstm.build((7, 3), np.random.default_rng(0))
    assert [lstm.params[n].shape for n in lstm.weight_names] == [(3, 20), (5, 20), (20,)]
    assert np.array_equal(lstm.params["bias"], np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    no_forget = LSTM(5, unit_forget_bias=False)
    no_forget.build((7, 3), np.random.default_rng(0))
    assert not no_forget.params["bias"].any()
    gru = GRU(5)
    gru.build((7, 3), np.random.default_rng(0))
    assert [gru.params[n].shape for n in gru.weight_names] == [(3, 15), (5, 15), (2, 15)]
    gru_v1 = GRU(5, reset_after=False)
    gru_v1.build((7, 3), np.random.default_rng(0))
    assert gru_v1.params["bias"].shape == (15,)
    rnn = SimpleRNN(5)
    rnn.build((7, 3), np.random.default_rng(0))
    assert [rnn.params[n].shape for n in rnn.weight_names] == [(3, 5), (5, 5), (5,)]
    u = rnn.params["recurrent_kernel"].astype(np.float64)  # orthogonal by default
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-5)


def test_get_weights_order_in_a_model():
    model = Sequential([Embedding(20, 4, input_shape=(6,)), Bidirectional(LSTM(3, return_sequences=True)),
                        TimeDistributed(Dense(2)), GRU(5), Dense(1)], seed=0)
    model.build()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(20, 4), (4, 12), (3, 12), (12,), (4, 12), (3, 12), (12,), (6, 2), (2,), (2, 15), (5, 15),
                      (2, 15), (5, 1), (1,)]
    bi = model.layers[1]
    assert (bi.forward_layer.name, bi.backward_layer.name) == ("forward_lstm", "backward_lstm")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    assert model.layers[1].output_shape == (6, 6) and model.output_shape == (1,)


def test_config_round_trip_and_registry():
    layer = layer_from_config({"type": "lstm", "units": 8, "return_sequences": True, "dropout": 0.1})
    assert isinstance(layer, LSTM) and layer.units == 8 and layer.return_sequences and layer.dropout == 0.1
    for original in (SimpleRNN(3, activation="relu", go_backwards=True, kernel_regularizer={"type": "l2", "l2": 0.01}),
                     GRU(4, reset_after=False, recurrent_dropout=0.2), LSTM(2, unit_forget_bias=False),
                     Bidirectional(GRU(3, return_sequences=True), merge_mode="sum", name="bi"),
                     TimeDistributed(Dense(2, activation="relu")), Embedding(50, 8, name="emb")):
        cfg = original.get_config()
        again = layer_from_config(cfg)
        assert type(again) is type(original) and again.get_config() == cfg
    assert layer_from_config({"type": "simple_rnn", "units": 2}).units == 2
    assert layer_from_config({"type": "SimpleRNN", "units": 2}).units == 2
    bi = layer_from_config({"type": "bidirectional", "layer": {"type": "gru", "units": 3}})
    assert isinstance(bi.forward_layer, GRU) and isinstance(bi.backward_layer, GRU)


def test_save_and_load_keep_predictions(tmp_path):
    model = Sequential([Embedding(12, 4, input_shape=(5,)), Bidirectional(GRU(3, return_sequences=True)),
                        TimeDistributed(Dense(2)), LSTM(3), Dense(1)], seed=1)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).integers(0, 12, (6, 5))
    model.train_on_batch(x, np.ones((6, 1)))
    path = model.save(tmp_path / "m.npz")
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_extras_expose_states_and_gates():
    lstm = build(LSTM, {"return_sequences": False}, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    out = lstm.forward(x)
    views = lstm.extras()
    assert views["hidden"].shape == (2, 5, 4) and views["cell"].shape == (2, 5, 4)
    assert views["gates"].shape == (2, 5, 4, 4)
    np.testing.assert_allclose(views["hidden"][:, -1], out)
    i, f, c_bar, o = (views["gates"][:, :, k] for k in range(4))
    np.testing.assert_allclose(views["hidden"], o * np.tanh(views["cell"]))
    np.testing.assert_allclose(views["cell"][:, 1:], f[:, 1:] * views["cell"][:, :-1] + i[:, 1:] * c_bar[:, 1:])
    gru = build(GRU, {"return_sequences": True})
    out = gru.forward(x)
    assert gru.extras()["gates"].shape == (2, 5, 3, 4)
    np.testing.assert_allclose(gru.extras()["hidden"], out)
    rnn = build(SimpleRNN, {})
    rnn.forward(x)
    assert set(rnn.extras()) == {"hidden"}


def test_pacer_prefers_the_faster_mode_and_backs_off_when_threads_are_slow():
    pacer = Pacer(wait=10, burst=3)
    assert pacer.choose(training=False) is False       # inference before any measurement: serial
    cost = {True: 5.0, False: 1.0}                      # threads slow (a busy machine)
    modes = []
    for _ in range(300):
        parallel = pacer.choose(training=True)
        modes.append(parallel)
        pacer.record(parallel, cost[parallel], 1)
    assert modes[:8] == [True] * 8 and modes[8:12] == [False] * 4  # warm-up + burst each, then serial
    assert sum(modes[12:]) <= 12 and pacer.wait >= 160  # threads re-timed rarely, less and less often
    assert pacer.choose(training=False) is False
    cost = {True: 0.5, False: 1.0}                      # the machine became idle: threads take over
    for _ in range(2000):
        parallel = pacer.choose(training=True)
        pacer.record(parallel, cost[parallel], 1)
    assert pacer.choose(training=True) is True and pacer.choose(training=False) is True
    pacer.force = False
    assert pacer.choose(training=True) is False


# ---------------------------------------------------------------------------------- user errors
def test_recurrent_layer_fed_2d_input_names_the_fix():
    model = Sequential([Dense(8, input_shape=(4,)), LSTM(3)])
    with pytest.raises(NnplayError) as err:
        model.build()
    msg = str(err.value)
    assert "LSTM" in msg and "(None, 8)" in msg and "(timesteps, features)" in msg and "Reshape((8, 1))" in msg
    assert "return_sequences=True" in msg
    with pytest.raises(NnplayError, match=r"Reshape\(\(28, 28\)\)"):
        Sequential([GRU(3, input_shape=(28, 28, 1))]).build()
    with pytest.raises(NnplayError, match="TimeDistributed"):
        Sequential([TimeDistributed(Dense(2), input_shape=(4,))]).build()


def test_embedding_rejects_fractions_and_out_of_range_indices():
    emb = Embedding(10, 3)
    emb.build((4,), np.random.default_rng(0), np.float32)
    np.testing.assert_array_equal(emb.forward(np.array([[1.0, 2.0, 9.0, 0.0]])),
                                  emb.params["embeddings"][[[1, 2, 9, 0]]])
    with pytest.raises(NnplayError, match=r"integer indices, got 2\.5"):
        emb.forward(np.array([[1.0, 2.5, 3.0, 0.0]]))
    with pytest.raises(NnplayError, match=r"index 12.*input_dim=10"):
        emb.forward(np.array([[1, 12, 3, 0]]))
    with pytest.raises(NnplayError, match=r"index -1"):
        emb.forward(np.array([[1, -1, 3, 0]]))
    with pytest.raises(NnplayError, match="integer indices"):
        emb.forward(np.array([[1, np.nan, 3, 0]]))
    model = Sequential([Embedding(10, 3, input_shape=(4,)), LSTM(2)])
    with pytest.raises(NnplayError, match=r"index 11.*input_dim=10"):
        model.predict(np.array([[1, 2, 3, 11]]))


def test_bad_arguments_are_rejected_with_the_value():
    with pytest.raises(NnplayError, match="units"):
        LSTM(0)
    with pytest.raises(NnplayError, match="dropout"):
        GRU(3, dropout=1.5)
    with pytest.raises(NnplayError, match="return_state"):
        LSTM(3, return_state=True)
    with pytest.raises(NnplayError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(NnplayError, match="recurrent layer"):
        Bidirectional(Dense(3))
    layer = LSTM(3)
    layer.build((5, 2), np.random.default_rng(0))
    with pytest.raises(NnplayError, match=r"\(batch, timesteps, 2\)"):
        layer.forward(np.zeros((4, 5, 3), np.float32))


# ---------------------------------------------------------------------------------- learning
def fit(model, x, y, epochs, lr, loss, **opt):
    from nnplay.core.optimizers import Adam

    for layer in model.layers:  # one chunk: the same arithmetic on any number of cores
        layer.n_chunks = 1
    model.compile(optimizer=Adam(lr, **opt), loss=loss, metrics=[] if loss == "mse" else ["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def test_lstm_predicts_the_next_value_of_a_sine():
    from nnplay.core.datasets import load

    x, y, xt, yt, _ = load("sine-next", n_samples=2000, seed=0)
    model = fit(Sequential([LSTM(16, input_shape=x.shape[1:]), Dense(1)], seed=0), x, y, 10, 0.01, "mse")
    assert model.evaluate(xt, yt) < 0.01


@pytest.mark.parametrize("cls, epochs, seed", [(LSTM, 20, 0), (LSTM, 20, 1), (GRU, 20, 0), (SimpleRNN, 10, 0)])
def test_recurrent_layers_remember_the_first_symbol(cls, epochs, seed):
    # 20 one-hot steps out of 4 symbols; the target is the first one. Measured over 4 seeds at this budget:
    # LSTM 3/4 and GRU 4/4 reach 100%, the others stall near 50%; a SimpleRNN with orthogonal recurrent
    # weights also carries the symbol across 20 steps (4/4, in half the epochs), so it is no weaker here.
    from nnplay.core.datasets import load

    x, y, xt, yt, _ = load("first-symbol", n_samples=4000, seq_len=20, symbols=4, seed=0)
    model = Sequential([cls(32, input_shape=x.shape[1:]), Dense(4, activation="softmax")], seed=seed)
    fit(model, x, y, epochs, 0.003, "sparse_categorical_crossentropy", global_clipnorm=1.0)
    assert model.evaluate(xt, yt)[1] >= 0.95


def test_lstm_remembers_40_steps_where_a_simple_rnn_of_the_same_size_does_not():
    # The memory-first-symbol preset's setting: 8 units, first of 40 symbols. Measured over 8 seeds: the
    # LSTM solves it 7 times, the SimpleRNN once (it stays near chance otherwise).
    from nnplay.core.datasets import load

    x, y, xt, yt, _ = load("first-symbol", n_samples=4000, seq_len=40, symbols=4, seed=0)
    acc = {}
    for cls, lr in ((LSTM, 0.005), (SimpleRNN, 0.003)):
        acc[cls] = []
        for seed in range(3):
            model = Sequential([cls(8, input_shape=x.shape[1:]), Dense(4, activation="softmax")], seed=seed)
            fit(model, x, y, 30, lr, "sparse_categorical_crossentropy")
            acc[cls].append(model.evaluate(xt, yt)[1])
    assert np.median(acc[LSTM]) >= 0.95, acc
    assert np.mean(acc[LSTM]) - np.mean(acc[SimpleRNN]) >= 0.15, acc
