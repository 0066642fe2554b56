"""Regularizer penalties (Keras' formulas) and gradients checked by finite differences in float64."""
import numpy as np
import pytest

from nnplay.core import regularizers
from nnplay.core.errors import NnplayError
from nnplay.core.regularizers import L1, L1L2, L2

W = np.array([[0.5, -1.5, 2.0], [-0.25, 0.75, -3.0]])


def numeric_grad(f, w, h=1e-6):
    g = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        wp, wm = w.copy(), w.copy()
        wp[idx] += h
        wm[idx] -= h
        g[idx] = (f(wp) - f(wm)) / (2 * h)
    return g


def test_penalties_match_keras_formulas():
    # l1: 0.01 * (0.5 + 1.5 + 2 + 0.25 + 0.75 + 3) = 0.08
    assert L1()(W) == pytest.approx(0.08, rel=1e-14)
    # l2: 0.01 * (0.25 + 2.25 + 4 + 0.0625 + 0.5625 + 9) = 0.16125 (no 1/2)
    assert L2()(W) == pytest.approx(0.16125, rel=1e-14)
    assert L1L2(l1=0.1, l2=0.2)(W) == pytest.approx(0.1 * 8.0 + 0.2 * 16.125, rel=1e-14)
    assert L1L2()(W) == 0.0
    assert isinstance(L2()(W.astype(np.float32)), float)


@pytest.mark.parametrize("reg", [L1(0.3), L2(0.7), L1L2(l1=0.2, l2=0.05), L1L2(l2=0.4)])
def test_gradients_match_finite_differences(reg):
    rng = np.random.default_rng(0)
    w = rng.uniform(0.1, 2.0, (4, 3)) * rng.choice([-1.0, 1.0], (4, 3))   # away from the kink at 0
    got = reg.grad(w)
    assert got.shape == w.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, numeric_grad(reg, w), rtol=1e-7, atol=1e-9)


def test_l1_gradient_is_zero_at_zero_and_dtype_is_kept():
    w = np.array([-2.0, 0.0, 3.0], dtype=np.float32)
    g = L1(0.5).grad(w)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [-0.5, 0.0, 0.5])
    g2 = L2(0.5).grad(w)
    assert g2.dtype == np.float32
    np.testing.assert_array_equal(g2, [-2.0, 0.0, 3.0])


def test_get_accepts_names_dicts_objects_and_none():
    assert regularizers.get(None) is None
    r = L2(0.3)
    assert regularizers.get(r) is r
    assert regularizers.get("l1") == L1(0.01)
    assert regularizers.get("L2") == L2(0.01)
    assert regularizers.get("l1_l2") == L1L2(l1=0.01, l2=0.01)      # Keras' documented defaults
    assert regularizers.get({"type": "l2", "l2": 0.001}) == L2(0.001)
    assert regularizers.get({"type": "L1L2", "l1": 0.1}) == L1L2(l1=0.1)
    assert regularizers.get({"class_name": "L1", "config": {"l1": 0.2}}) == L1(0.2)
    assert regularizers.l1 is L1 and regularizers.l2 is L2 and regularizers.l1_l2 is L1L2


@pytest.mark.parametrize("reg", [L1(0.3), L2(0.001), L1L2(0.1, 0.2)])
def test_config_round_trip(reg):
    cfg = reg.get_config()
    assert regularizers.get(cfg) == reg
    assert regularizers.get(cfg)(W) == reg(W)


@pytest.mark.parametrize("make, match", [
    (lambda: regularizers.get("l3"), "unknown regularizer 'l3'"),
    (lambda: regularizers.get("l1l3"), "did you mean"),
    (lambda: regularizers.get({"type": "l22", "l2": 0.1}), "did you mean 'l2'"),
    (lambda: regularizers.get({"type": "l2", "l1": 0.1}), "L2: unknown argument 'l1'"),
    (lambda: regularizers.get({"l2": 0.1}), "needs a 'type'"),
    (lambda: regularizers.get(0.1), "regularizer must be"),
    (lambda: L2(-0.1), "L2: l2 must be a non-negative number, got l2=-0.1"),
    (lambda: L1("big"), "L1: l1 must be a non-negative number, got l1='big'"),
    (lambda: L1L2(l1=float("inf")), "l1=inf"),
])
def test_bad_identifiers_and_values(make, match):
    with pytest.raises(NnplayError) as exc:
        make()
    assert match in str(exc.value)
