"""Two-dimensional toy sets: the TensorFlow Playground sets, sklearn-style sets and GAN toys.

The playground recipes follow TensorFlow Playground (Apache-2.0); they are written here from the
published formulas and match the originals in distribution, not value for value.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..errors import NnplayError, did_you_mean
from ._base import (Dataset, Param, as_f32, as_i64, jsonable, p_noise, p_ratio, p_samples, p_seed,
                    register, split_indices)

PLAYGROUND_DOMAIN = (-6.0, 6.0)
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")

_FEATURE_FN = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] ** 2,
    "x2^2": lambda p: p[:, 1] ** 2,
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin(x1)": lambda p: np.sin(p[:, 0]),
    "sin(x2)": lambda p: np.sin(p[:, 1]),
}


def _spelling(s: str) -> str:
    s = s.strip().lower()
    for a, b in (("²", "^2"), ("**", "^"), ("×", "*"), ("·", "*")):
        s = s.replace(a, b)
    return "".join(ch for ch in s if ch not in " _()[]")


_ALIASES = {_spelling(f): f for f in FEATURES}
_ALIASES.update({
    "x": "x1", "y": "x2", "x^2": "x1^2", "y^2": "x2^2",
    "x1sq": "x1^2", "x1squared": "x1^2", "x1*x1": "x1^2", "x1x1": "x1^2", "xsq": "x1^2",
    "x2sq": "x2^2", "x2squared": "x2^2", "x2*x2": "x2^2", "x2x2": "x2^2", "ysq": "x2^2",
    "x1x2": "x1*x2", "x2*x1": "x1*x2", "x2x1": "x1*x2", "xy": "x1*x2", "x*y": "x1*x2",
    "sinx": "sin(x1)", "siny": "sin(x2)",
})


def parse_features(value, dataset: str = "features") -> tuple:
    """Turn a list (or comma-separated string) of feature spellings into canonical names."""
    if isinstance(value, str):
        items = [s for s in re.split(r"[,;]", value) if s.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise NnplayError(f"{dataset}: features={value!r} must be a list such as ['x1', 'x2', 'x1^2']")
    if not items:
        raise NnplayError(f"{dataset}: features={value!r} is empty; pick at least one of {', '.join(FEATURES)}")
    out: list[str] = []
    for item in items:
        canon = _ALIASES.get(_spelling(item)) if isinstance(item, str) else None
        if canon is None:
            hint = did_you_mean(str(item), FEATURES)
            hint = "" if hint.startswith(" (choose") else hint
            raise NnplayError(
                f"{dataset}: features has unknown feature {item!r}{hint}; valid features are {', '.join(FEATURES)}"
            )
        if canon in out:
            raise NnplayError(f"{dataset}: features lists {canon!r} twice; list each feature once")
        out.append(canon)
    return tuple(out)


def make_featurizer(names):
    """Return ``f(points (n, 2)) -> (n, len(names)) float32`` computing the named features."""
    names = tuple(names)

    def featurize(points) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2:
            raise NnplayError(f"featurize: points must have shape (n, 2), got {p.shape}")
        return np.stack([_FEATURE_FN[n](p) for n in names], axis=1).astype(np.float32)

    return featurize


def _curve_featurize(points) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
    if p.ndim != 2 or p.shape[1] != 1:
        raise NnplayError(f"featurize: curve1d points must have shape (n,) or (n, 1), got {p.shape}")
    return p.astype(np.float32)


def data_domain(points: np.ndarray, pad: float = 0.1) -> tuple:
    """A square (lo, hi) range that covers every point, padded by ``pad`` of its span."""
    lo, hi = float(points.min()), float(points.max())
    margin = pad * (hi - lo) if hi > lo else 0.5
    return (math.floor((lo - margin) * 100) / 100, math.ceil((hi + margin) * 100) / 100)


def p_features() -> Param:
    return Param("features", ("x1", "x2"), "custom", convert=parse_features,
                 help="input features computed from the point: " + ", ".join(FEATURES))


def _finish(name, p, rng, pts, y, task, text, domain=None, **kw) -> Dataset:
    feats = p.get("features", ("x1", "x2"))
    fz = make_featurizer(feats)
    tr, te = split_indices(rng, len(pts), p["train_ratio"], name)
    x = fz(pts)
    y = as_f32(y).reshape(-1, 1) if task == "regression" else as_i64(y)
    meta = {"domain": domain if domain is not None else data_domain(pts),
            "feature_names": list(feats),
            "points_train": as_f32(pts[tr]), "points_test": as_f32(pts[te])}
    meta.update(kw.pop("meta", {}))
    desc = f"{name}: {text}; {len(tr)} train / {len(te)} test points; features {', '.join(feats)}."
    return Dataset(name, task, x[tr], y[tr], x[te], y[te], desc, meta=meta, params=jsonable(p),
                   featurizer=fz, **kw)


# --------------------------------------------------------------------------------------------------
# TensorFlow Playground sets
# --------------------------------------------------------------------------------------------------
def _playground_params(n: int):
    return [p_samples(n), p_noise(0.0, 0.5, "playground noise (0..0.5; the app's slider / 100)"),
            p_ratio(0.5), p_features(), p_seed()]


_PM = ["-1", "+1"]
_PG = {"domain": PLAYGROUND_DOMAIN}


@register("circle", "TF Playground: a disc inside a ring (binary)", "2d", _playground_params(500))
def _circle(p) -> Dataset:
    rng, n, noise, R = np.random.default_rng(p["seed"]), p["n_samples"], p["noise"], 5.0
    n_in = n - n // 2
    r = np.concatenate([rng.uniform(0, R / 2, n_in), rng.uniform(0.7 * R, R, n // 2)])
    theta = rng.uniform(0, 2 * np.pi, n)
    pts = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    shift = rng.uniform(-R, R, (n, 2)) * noise
    y = np.hypot(pts[:, 0] + shift[:, 0], pts[:, 1] + shift[:, 1]) < R / 2
    return _finish("circle", p, rng, pts, y, "binary",
                   f"inner disc (1) vs outer ring (0), TensorFlow Playground recipe; label noise {p['noise']}",
                   n_classes=2, class_names=_PM, **_PG)


@register("xor", "TF Playground: the four quadrants, same sign vs opposite sign (binary)", "2d",
          _playground_params(500))
def _xor(p) -> Dataset:
    rng, n, noise = np.random.default_rng(p["seed"]), p["n_samples"], p["noise"]
    pts = rng.uniform(-5, 5, (n, 2))
    pts += np.where(pts > 0, 0.3, -0.3)
    shift = rng.uniform(-5, 5, (n, 2)) * noise
    y = (pts[:, 0] + shift[:, 0]) * (pts[:, 1] + shift[:, 1]) >= 0
    return _finish("xor", p, rng, pts, y, "binary",
                   f"label 1 where x1*x2 >= 0, TensorFlow Playground recipe; label noise {p['noise']}",
                   n_classes=2, class_names=_PM, **_PG)


@register("gauss", "TF Playground: two Gaussian clusters at (2,2) and (-2,-2) (binary)", "2d",
          _playground_params(500))
def _gauss(p) -> Dataset:
    rng, n = np.random.default_rng(p["seed"]), p["n_samples"]
    sigma = math.sqrt(0.5 + 7.0 * p["noise"])
    n_pos = n - n // 2
    pts = np.concatenate([rng.normal(2.0, sigma, (n_pos, 2)), rng.normal(-2.0, sigma, (n // 2, 2))])
    y = np.arange(n) < n_pos
    return _finish("gauss", p, rng, pts, y, "binary",
                   f"clusters around (2,2) (1) and (-2,-2) (0), TensorFlow Playground recipe; std {sigma:.3g}",
                   n_classes=2, class_names=_PM, **_PG)


@register("spiral", "TF Playground: two interleaved spiral arms (binary)", "2d", _playground_params(500))
def _spiral(p) -> Dataset:
    rng, n, noise = np.random.default_rng(p["seed"]), p["n_samples"], p["noise"]
    parts = []
    for m, delta in ((n - n // 2, 0.0), (n // 2, np.pi)):
        i = np.arange(m)
        r = 5.0 * i / max(m, 1)
        t = 1.75 * 2 * np.pi * i / max(m, 1) + delta
        jitter = rng.uniform(-1, 1, (m, 2)) * noise
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + jitter)
    pts = np.concatenate(parts)
    y = np.arange(n) < n - n // 2
    return _finish("spiral", p, rng, pts, y, "binary",
                   f"two spiral arms (1: angle offset 0, 0: offset pi), TensorFlow Playground recipe; noise {noise}",
                   n_classes=2, class_names=_PM, **_PG)


@register("reg-plane", "TF Playground: target (x1 + x2) / 10 on a plane (regression)", "2d",
          _playground_params(1200))
def _reg_plane(p) -> Dataset:
    rng, n, noise = np.random.default_rng(p["seed"]), p["n_samples"], p["noise"]
    pts = rng.uniform(-6, 6, (n, 2))
    shift = rng.uniform(-6, 6, (n, 2)) * noise
    y = (pts + shift).sum(axis=1) / 10.0
    return _finish("reg-plane", p, rng, pts, y, "regression",
                   f"target (x1 + x2) / 10 in about [-1.2, 1.2], TensorFlow Playground recipe; noise {noise}",
                   meta={"target_range": (-1.0, 1.0)}, **_PG)


_REG_GAUSS_CENTRES = np.array([(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1),
                               (4, -2.5, -1)], dtype=np.float64)


@register("reg-gauss", "TF Playground: six signed Gaussian bumps (regression)", "2d", _playground_params(1200))
def _reg_gauss(p) -> Dataset:
    rng, n, noise = np.random.default_rng(p["seed"]), p["n_samples"], p["noise"]
    pts = rng.uniform(-6, 6, (n, 2))
    q = pts + rng.uniform(-6, 6, (n, 2)) * noise
    c = _REG_GAUSS_CENTRES
    d = np.hypot(q[:, None, 0] - c[None, :, 0], q[:, None, 1] - c[None, :, 1])
    v = c[None, :, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    y = v[np.arange(n), np.abs(v).argmax(axis=1)]
    return _finish("reg-gauss", p, rng, pts, y, "regression",
                   f"six +/- bumps of radius 2, target in [-1, 1], TensorFlow Playground recipe; noise {noise}",
                   meta={"target_range": (-1.0, 1.0)}, **_PG)


# --------------------------------------------------------------------------------------------------
# sklearn-style sets
# --------------------------------------------------------------------------------------------------
@register("moons", "two interleaving half circles (binary)", "2d",
          [p_samples(500), p_noise(0.1, 1.0, "std of the Gaussian noise added to the points"), p_ratio(0.8),
           p_features(), p_seed()])
def _moons(p) -> Dataset:
    rng, n = np.random.default_rng(p["seed"]), p["n_samples"]
    n_out = n // 2
    n_in = n - n_out
    s_out, s_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    pts = np.concatenate([np.stack([np.cos(s_out), np.sin(s_out)], 1),
                          np.stack([1 - np.cos(s_in), 1 - np.sin(s_in) - 0.5], 1)])
    pts = pts + rng.normal(0.0, p["noise"], pts.shape)
    y = np.arange(n) >= n_out
    return _finish("moons", p, rng, pts, y, "binary", f"outer moon (0) and inner moon (1); noise {p['noise']}",
                   n_classes=2, class_names=["outer", "inner"])


@register("circles", "a small circle inside a large one (binary)", "2d",
          [p_samples(500), p_noise(0.05, 1.0, "std of the Gaussian noise added to the points"),
           Param("factor", 0.5, "float", lo=0.0, hi=1.0, open_lo=True, open_hi=True,
                 help="radius of the inner circle relative to the outer one"),
           p_ratio(0.8), p_features(), p_seed()])
def _circles(p) -> Dataset:
    rng, n = np.random.default_rng(p["seed"]), p["n_samples"]
    n_out = n // 2
    n_in = n - n_out
    s_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    s_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    pts = np.concatenate([np.stack([np.cos(s_out), np.sin(s_out)], 1),
                          p["factor"] * np.stack([np.cos(s_in), np.sin(s_in)], 1)])
    pts = pts + rng.normal(0.0, p["noise"], pts.shape)
    y = np.arange(n) >= n_out
    return _finish("circles", p, rng, pts, y, "binary",
                   f"outer circle (0) and inner circle (1) of radius {p['factor']}; noise {p['noise']}",
                   n_classes=2, class_names=["outer", "inner"])


@register("blobs", "Gaussian clusters around random centres (multiclass)", "2d",
          [p_samples(600), Param("centers", 3, "int", lo=2, hi=20, help="number of clusters (classes)"),
           Param("std", 1.0, "float", lo=0.0, hi=10.0, open_lo=True, help="cluster standard deviation"),
           p_ratio(0.8), p_features(), p_seed()])
def _blobs(p) -> Dataset:
    rng, n, k = np.random.default_rng(p["seed"]), p["n_samples"], p["centers"]
    if n < k:
        raise NnplayError(f"blobs: n_samples={n} is smaller than centers={k}; use n_samples >= centers")
    centres = rng.uniform(-10, 10, (k, 2))
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    y = np.repeat(np.arange(k), sizes)
    pts = centres[y] + rng.normal(0.0, p["std"], (n, 2))
    return _finish("blobs", p, rng, pts, y, "multiclass", f"{k} Gaussian clusters with std {p['std']}",
                   n_classes=k, class_names=[f"blob {i}" for i in range(k)],
                   meta={"centers": centres.round(4).tolist()})


# --------------------------------------------------------------------------------------------------
# 1-D regression and GAN toys
# --------------------------------------------------------------------------------------------------
@register("curve1d", "y = sin(2x) + noise on [-pi, pi] (1-D regression)", "2d",
          [p_samples(256), p_noise(0.1, 1.0, "std of the Gaussian noise on y"), p_ratio(0.8), p_seed()])
def _curve1d(p) -> Dataset:
    rng, n = np.random.default_rng(p["seed"]), p["n_samples"]
    x = rng.uniform(-np.pi, np.pi, n)
    y = np.sin(2 * x) + rng.normal(0.0, p["noise"], n)
    tr, te = split_indices(rng, n, p["train_ratio"], "curve1d")
    X, Y = as_f32(x[:, None]), as_f32(y[:, None])
    desc = (f"curve1d: y = sin(2x) + N(0, {p['noise']}^2), x uniform in [-pi, pi]; "
            f"{len(tr)} train / {len(te)} test points.")
    return Dataset("curve1d", "regression", X[tr], Y[tr], X[te], Y[te], desc,
                   meta={"domain": (-math.pi, math.pi), "feature_names": ["x"]},
                   params=jsonable(p), featurizer=_curve_featurize)


@register("ring8", "GAN toy: Gaussian modes on a circle (y = mode index)", "2d",
          [p_samples(2000), Param("modes", 8, "int", lo=2, hi=64, help="number of Gaussian modes"),
           Param("radius", 2.0, "float", lo=0.0, hi=100.0, open_lo=True, help="radius of the ring"),
           Param("std", 0.05, "float", lo=0.0, hi=10.0, help="std of each mode"), p_ratio(0.8), p_seed()])
def _ring8(p) -> Dataset:
    rng, n, k = np.random.default_rng(p["seed"]), p["n_samples"], p["modes"]
    angles = 2 * np.pi * np.arange(k) / k
    centres = p["radius"] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    mode = rng.integers(0, k, n)
    pts = centres[mode] + rng.normal(0.0, p["std"], (n, 2))
    tr, te = split_indices(rng, n, p["train_ratio"], "ring8")
    X, Y = as_f32(pts), as_i64(mode)
    desc = (f"ring8: {k} Gaussian modes (std {p['std']}) on a circle of radius {p['radius']}; "
            f"{len(tr)} train / {len(te)} test points; y is the mode index (for mode coverage).")
    return Dataset("ring8", "generative", X[tr], Y[tr], X[te], Y[te], desc,
                   meta={"domain": data_domain(pts), "modes": centres.round(6).tolist(), "n_modes": k,
                         "feature_names": ["x1", "x2"]},
                   params=jsonable(p), featurizer=make_featurizer(("x1", "x2")))


@register("swissroll2d", "GAN toy: a 2-D swiss roll spiral", "2d",
          [p_samples(2000), p_noise(0.05, 1.0, "std of the Gaussian noise added to the points"), p_ratio(0.8),
           p_seed()])
def _swissroll(p) -> Dataset:
    rng, n = np.random.default_rng(p["seed"]), p["n_samples"]
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    pts = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 10.0 + rng.normal(0.0, p["noise"], (n, 2))
    tr, te = split_indices(rng, n, p["train_ratio"], "swissroll2d")
    X, Y = as_f32(pts), np.zeros(n, dtype=np.int64)
    desc = (f"swissroll2d: t = 1.5pi(1 + 2u), points (t cos t, t sin t) / 10 + N(0, {p['noise']}^2); "
            f"{len(tr)} train / {len(te)} test points; y is all zeros.")
    return Dataset("swissroll2d", "generative", X[tr], Y[tr], X[te], Y[te], desc,
                   meta={"domain": data_domain(pts), "feature_names": ["x1", "x2"]},
                   params=jsonable(p), featurizer=make_featurizer(("x1", "x2")))
