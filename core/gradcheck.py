"""Central finite-difference gradient checks, used by the test-suite (and handy when writing a layer).

Everything runs in float64: float32 finite differences are too noisy to tell a bug from rounding.
"""
from __future__ import annotations

import numpy as np


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6, max_checks: int | None = None, rng=None):
    """d f() / d x by central differences, perturbing ``x`` in place.

    Returns (indices checked, numeric gradients at those indices). With ``max_checks`` a random subset
    of entries is checked (big weights), always including the first and last.
    """
    flat = x.reshape(-1)
    n = flat.size
    if max_checks is None or max_checks >= n:
        idx = np.arange(n)
    else:
        rng = rng or np.random.default_rng(0)
        idx = np.unique(np.concatenate([[0, n - 1], rng.choice(n, max_checks - 2, replace=False)]))
    out = np.empty(len(idx))
    for j, i in enumerate(idx):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        out[j] = (fp - fm) / (2 * eps)
    return idx, out


def rel_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Max of |a - n| / max(|a| + |n|, 1e-7) over entries: scale-free, robust near zero."""
    a, n = np.asarray(analytic, np.float64).ravel(), np.asarray(numeric, np.float64).ravel()
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-7), initial=0.0))


def check_layer(layer, input_shape: tuple, batch: int = 3, seed: int = 0, eps: float = 1e-6,
                max_checks: int | None = 60, x: np.ndarray | None = None, training: bool = False,
                check_input: bool = True) -> dict[str, float]:
    """Gradient-check a layer: L = sum(forward(x) * R) for a fixed random R.

    Returns ``{"x": err, "<weight name>": err, ...}`` (max relative error per array).
    """
    rng = np.random.default_rng(seed)
    if not layer.built:
        layer.build(tuple(input_shape), np.random.default_rng(seed + 1), np.float64)
    if x is None:
        x = rng.standard_normal((batch, *input_shape))
    x = np.ascontiguousarray(x, dtype=np.float64) if x.dtype.kind == "f" else x
    out = layer.forward(x, training)
    R = rng.standard_normal(out.shape)

    def loss():
        return float(np.sum(layer.forward(x, training) * R))

    slots = layer.trainable_weights()
    label = {(id(o), n): (n if o is layer else f"{o.name}/{n}") for o, n in slots}
    layer.forward(x, training)
    for o, n in slots:
        o.grads[n][...] = 0.0
    grad_x = layer.backward(R.copy(), need_grad_x=check_input)
    analytic = {label[id(o), n]: o.grads[n].copy() for o, n in slots}
    errors = {}
    if check_input and x.dtype.kind == "f":
        idx, num = numeric_grad(loss, x, eps, max_checks, rng)
        errors["x"] = rel_error(np.asarray(grad_x).reshape(-1)[idx], num)
    for o, n in slots:
        name = label[id(o), n]
        idx, num = numeric_grad(loss, o.params[n], eps, max_checks, rng)
        errors[name] = rel_error(analytic[name].reshape(-1)[idx], num)
    return errors
