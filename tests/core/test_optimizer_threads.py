"""The optimizer update cut in parts (after a step that cut its big products in blocks): each big variable
cut in parts, the small ones whole in the first. Running the parts on threads must not change a bit, the cut
only rounding; nothing outside the updated variables is touched, and a norm clip keeps the update whole."""
from __future__ import annotations

import numpy as np
import pytest

from nnplay.core.kernels import optim_threads
from nnplay.core.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop
from nnplay.core.optimizers.parts import THREAD_SPLIT

BIG = THREAD_SPLIT + 1001
# a big variable, a small one, a gap nobody updates, a second big one and a small one touching it
SEGMENTS = [(0, BIG), (BIG, 30), (BIG + 50, BIG + 7), (2 * BIG + 57, 5)]
SIZE = 2 * BIG + 70

OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "sgd-nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop-centered": lambda: RMSprop(0.01, momentum=0.5, centered=True),
    "adam-amsgrad": lambda: Adam(0.01, amsgrad=True),
    "adamw": lambda: AdamW(0.01, weight_decay=0.05),
    "adagrad": lambda: Adagrad(0.1),
    "adadelta": lambda: Adadelta(1.0),
    "nadam": lambda: Nadam(0.01),
    "adam-clipvalue": lambda: Adam(0.01, clipvalue=0.3),
}


def _train(make, parts, parallel, dtype, steps=3):
    opt = make()
    rng = np.random.default_rng(7)
    p = rng.standard_normal(SIZE).astype(dtype)
    opt.build(SEGMENTS, SIZE, dtype)
    for t in range(steps):
        g = (rng.standard_normal(SIZE) * (t + 1)).astype(dtype)
        opt.apply(p, g, parts, parallel)
    return p, opt.get_state()


@pytest.fixture
def calls(monkeypatch):
    """The threaded update kernels that ran, by name."""
    seen = []
    for name in ("sgd_step", "rmsprop_step", "adam_step", "adagrad_step", "adadelta_step", "nadam_step"):
        real = getattr(optim_threads, name)

        def spy(*args, _real=real, _name=name):
            seen.append(_name)
            _real(*args)
        monkeypatch.setattr(optim_threads, name, spy)
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_update_cut_in_parts_changes_no_bit_on_threads(name, parts, dtype, calls):
    p1, s1 = _train(OPTIMIZERS[name], 1, False, dtype)
    pk, sk = _train(OPTIMIZERS[name], parts, False, dtype)
    assert not calls
    pt, st = _train(OPTIMIZERS[name], parts, True, dtype)
    assert len(calls) == 3                      # every step ran on threads
    assert np.array_equal(pk, pt)
    assert sk.keys() == st.keys() and all(np.array_equal(sk[k], st[k]) for k in sk)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.allclose(p1, pk, rtol=tol, atol=tol)
    assert all(np.allclose(s1[k], sk[k], rtol=tol, atol=tol) for k in s1)
    p0 = np.random.default_rng(7).standard_normal(SIZE).astype(dtype)
    gap = slice(BIG + 30, BIG + 50)
    assert np.array_equal(pt[gap], p0[gap]) and not np.array_equal(pt[:BIG], p0[:BIG])


@pytest.mark.parametrize("clip", [{"clipnorm": 0.5}, {"global_clipnorm": 0.5}])
def test_a_norm_clip_keeps_the_update_whole(clip, calls):
    """A norm over a variable cut in parts is no part's own: the update stays whole (and so the same)."""
    p1, _ = _train(lambda: Adam(0.01, **clip), 1, False, np.float32)
    p2, _ = _train(lambda: Adam(0.01, **clip), 2, True, np.float32)
    assert not calls and np.array_equal(p1, p2)


def test_the_parts_cut_big_variables_like_a_products_rows_and_keep_small_ones_whole():
    opt = Adam()
    opt.build(SEGMENTS, SIZE, np.float32)
    opt._threads = 2
    parts = opt._thread_parts()
    half, half2 = BIG // 2, (BIG + 7) // 2
    assert parts.tolist() == [
        [[0, half], [BIG, 30], [BIG + 50, half2], [2 * BIG + 57, 5]],
        [[half, BIG - half], [BIG + 50 + half2, BIG + 7 - half2], [0, 0], [0, 0]],   # padded
    ]
    opt._threads = 3
    assert opt._thread_parts()[:, 0].tolist() == [[0, BIG // 3], [BIG // 3, 2 * BIG // 3 - BIG // 3],
                                                   [2 * BIG // 3, BIG - 2 * BIG // 3]]
