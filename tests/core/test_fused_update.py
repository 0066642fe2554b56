"""The MLP step's fused Adam: a layer whose weight-gradient product runs in blocks updates its kernel in the
step, tile by tile, and the optimizer updates the rest. The numbers must be the optimizer's own (up to
rounding), threads must change no bit, and a step whose loss is not finite must update nothing."""
from __future__ import annotations

import numpy as np
import pytest

from nnplay.core import layers as L
from nnplay.core.models import Sequential
from nnplay.core.models.dense_chain import DenseChainStep
from nnplay.core.optimizers import SGD, Adam, AdamW
from nnplay.core.regularizers import L2

OPTIMIZERS = {
    "adam": lambda: Adam(1e-2),
    "adam-amsgrad-paper": lambda: Adam(1e-2, amsgrad=True, epsilon_mode="paper"),
    "adamw": lambda: AdamW(1e-2, weight_decay=0.05),
    "adam-clipvalue": lambda: Adam(1e-2, clipvalue=1e-3),
}


def _model(make_opt, fuse=True, parallel=False, dtype="float32", **dense):
    # 300 x 70 weights at batch 64: 1.3 M multiply-adds, split in blocks; the second layer is not
    model = Sequential([L.Dense(70, "relu", input_shape=(300,), **dense), L.Dense(10, "softmax")], seed=0,
                       dtype=dtype)
    model.compile(optimizer=make_opt(), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = model.check_data(rng.standard_normal((64, 300)), rng.integers(0, 10, 64))
    fast = model._fast
    assert isinstance(fast, DenseChainStep)
    fast._buffers(64)
    fast.parts, fast.pacer.force = 2, parallel
    fast.fuse_updates = fuse
    return model, x, y


def _train(model, x, y, steps=4):
    losses = []
    for _ in range(steps):
        losses.append(model.train_step(x, y)[0])
    return losses, model.get_weights(), model.optimizer.get_state()


@pytest.mark.parametrize("dtype", ["float32"])   # (float64 agreed to 1e-12; its split step costs ~30 s to compile)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_fused_update_is_the_optimizers_own(name, dtype):
    """Against the same model with the update apart (and its products cut by columns): equal up to rounding."""
    make = OPTIMIZERS[name]
    model, x, y = _model(make, fuse=True, dtype=dtype)
    fused = _train(model, x, y)
    assert model._fast.updated.tolist() == [[0, 300 * 70]]       # the first kernel, updated in the step
    model2, x2, y2 = _model(make, fuse=False, dtype=dtype)
    apart = _train(model2, x2, y2)
    assert model2._fast.updated is None
    # float32: the products' rounding differs (cut by rows, not columns), and Adam's normalised steps carry it
    # into the weights; a wrong update differs by ~lr (1e-2). float64 shows the formulas agree.
    tol = 1e-4 if dtype == "float32" else 1e-12
    assert np.allclose(fused[0], apart[0], rtol=tol)
    assert all(np.allclose(a, b, rtol=tol, atol=tol) for a, b in zip(fused[1], apart[1]))
    assert fused[2].keys() == apart[2].keys()
    # (slots near zero carry rounding noise of the larger gradients: compare at the scale of each slot)
    assert all(np.allclose(fused[2][k], apart[2][k], rtol=tol, atol=tol * np.abs(apart[2][k]).max())
               for k in fused[2])
    assert fused[2]["iterations"] == 4


def test_threads_change_no_bit_of_a_fused_update():
    serial = _train(*_model(OPTIMIZERS["adam"], parallel=False))
    threaded = _train(*_model(OPTIMIZERS["adam"], parallel=True))
    assert serial[0] == threaded[0]
    assert all(np.array_equal(a, b) for a, b in zip(serial[1], threaded[1]))
    assert all(np.array_equal(serial[2][k], threaded[2][k]) for k in serial[2])


def test_a_loss_that_is_not_finite_updates_nothing():
    model, x, y = _model(OPTIMIZERS["adam"])
    before = model.get_weights()
    x = x.copy()
    x[3, 5] = np.inf
    loss, _ = model.train_step(x, y)
    assert not np.isfinite(loss)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 0 and model._fast.updated is None


@pytest.mark.parametrize("case", ["sgd", "penalty"])
def test_no_fused_update_where_it_would_be_wrong(case):
    """SGD has no fused form; a weight penalty's gradient is added after the step, before any update."""
    if case == "sgd":
        model, x, y = _model(lambda: SGD(0.1))
    else:
        model, x, y = _model(OPTIMIZERS["adam"], kernel_regularizer=L2(0.01))
    _train(model, x, y, steps=2)
    assert model._fast.updated is None


def test_the_optimizer_leaves_what_the_step_updated():
    opt = Adam(0.1)
    opt.build([(0, 20_000), (20_000, 10), (20_010, 30)], 20_040, np.float32)
    p = np.ones(20_040, np.float32)
    opt.apply(p, np.ones_like(p), 2, False, done=np.array([[0, 20_000], [20_010, 30]]))
    assert (p[:20_000] == 1).all() and (p[20_010:] == 1).all() and (p[20_000:20_010] < 1).all()
    assert opt.iterations == 1
