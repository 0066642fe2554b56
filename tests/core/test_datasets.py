"""Tests for nnplay.core.datasets: shapes, dtypes, recipe facts, options and every user-error path."""
from __future__ import annotations

import gzip
import importlib.util
import json
import math
import re
import struct
import sys

import numpy as np
import pytest

from nnplay.core.datasets import (FEATURES, Dataset, dataset_info, decode, encode, list_datasets, load,
                                  parse_features)
from nnplay.core.datasets import text as text_mod
from nnplay.core.errors import NnplayError

PROCEDURAL_SMALL = {  # name -> small params used by the generic tests
    "circle": {}, "xor": {}, "gauss": {}, "spiral": {}, "reg-plane": {}, "reg-gauss": {},
    "moons": {}, "circles": {}, "blobs": {}, "curve1d": {}, "ring8": {}, "swissroll2d": {},
    "shapes": {"n_samples": 120}, "font-digits": {"n_samples": 100}, "wave1d": {"n_samples": 200},
    "sine-next": {"n_samples": 200}, "sine-mix": {"n_samples": 200}, "parity": {"n_samples": 200},
    "adding": {"n_samples": 200}, "first-symbol": {"n_samples": 200}, "copy": {"n_samples": 200},
    "grammar": {"n_chars": 5000}, "arith": {"n_samples": 500}, "pydoc": {"n_chars": 5000},
}
CLASSIFICATION = {"binary", "multiclass"}


def err(match: str, name: str, **params) -> str:
    """Load and expect an NnplayError whose one-line message matches ``match``; return the message."""
    with pytest.raises(NnplayError, match=match) as info:
        load(name, **params)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------------------------------
# Registry and generic contract
# --------------------------------------------------------------------------------------------------
def test_list_datasets_covers_everything():
    rows = list_datasets()
    names = [r[0] for r in rows]
    assert len(names) == len(set(names))
    for name in [*PROCEDURAL_SMALL, "csv", "npz", "idx", "text", "digits", "iris", "wine"]:
        assert name in names
    for name, desc, kind in rows:
        assert kind in {"2d", "image", "sequence", "text", "file", "extra"}
        assert desc and "\n" not in desc
    info = dataset_info("Spiral")
    assert info["name"] == "spiral"
    assert {p["name"] for p in info["params"]} == {"n_samples", "noise", "train_ratio", "features", "seed"}
    assert next(p for p in info["params"] if p["name"] == "noise")["range"] == "[0, 0.5]"


@pytest.mark.parametrize("name", sorted(PROCEDURAL_SMALL))
def test_generic_contract(name):
    ds = load(name, **PROCEDURAL_SMALL[name])
    assert isinstance(ds, Dataset) and ds.name == name
    x_train, y_train, x_test, y_test, description = ds
    assert x_train is ds.x_train and y_test is ds.y_test and description == ds.description
    assert ds.task in {"binary", "multiclass", "regression", "generative"}
    assert x_train.dtype in (np.float32, np.int32) and x_test.dtype == x_train.dtype
    assert len(x_train) == len(y_train) > 0 and len(x_test) == len(y_test) > 0
    assert x_train.shape[1:] == x_test.shape[1:] == ds.input_shape
    assert np.isfinite(x_train.astype(np.float64)).all()
    if ds.task in CLASSIFICATION:
        assert y_train.dtype == np.int64
        assert ds.n_classes >= 2 and len(ds.class_names) == ds.n_classes
        assert 0 <= min(y_train.min(), y_test.min()) and max(y_train.max(), y_test.max()) < ds.n_classes
        assert ds.output_dim == (1 if ds.task == "binary" else ds.n_classes)
    elif ds.task == "regression":
        assert y_train.dtype == np.float32 and y_train.ndim == 2 and ds.output_dim == y_train.shape[1]
    else:
        assert ds.output_dim == int(np.prod(ds.input_shape))
    json.dumps(ds.params)  # JSON-friendly
    assert ds.params["seed"] == 0 and "train_ratio" in ds.params
    assert name in repr(ds)


@pytest.mark.parametrize("name", sorted(PROCEDURAL_SMALL))
def test_seeds_reproducible_and_distinct(name):
    a = load(name, **PROCEDURAL_SMALL[name], seed=3)
    b = load(name, **PROCEDURAL_SMALL[name], seed=3)
    c = load(name, **PROCEDURAL_SMALL[name], seed=4)
    for u, v in zip(list(a)[:4], list(b)[:4]):
        assert u.dtype == v.dtype and np.array_equal(u, v)
    assert not (np.array_equal(a.x_train, c.x_train) and np.array_equal(a.y_train, c.y_train))


def test_default_sizes_and_splits():
    assert (len(load("circle").x_train), len(load("circle").x_test)) == (250, 250)
    assert load("reg-gauss").x_train.shape == (600, 2)
    assert load("moons").x_train.shape == (400, 2)
    assert load("blobs").x_train.shape == (480, 2)
    assert load("sine-mix", n_samples=100).x_train.shape == (80, 50, 1)
    assert load("spiral", n_samples=100, train_ratio=0.29).x_train.shape == (29, 2)
    assert load("parity", n_samples=10, seq_len=4).input_shape == (4, 1)


# --------------------------------------------------------------------------------------------------
# TensorFlow Playground recipes
# --------------------------------------------------------------------------------------------------
def both(ds, key="points"):
    return (np.concatenate([ds.meta[f"{key}_train"], ds.meta[f"{key}_test"]]),
            np.concatenate([ds.y_train, ds.y_test]))


def test_circle_recipe():
    ds = load("circle", n_samples=1000)
    pts, y = both(ds)
    r = np.hypot(pts[:, 0], pts[:, 1])
    assert np.array_equal(y == 1, r < 2.5)
    assert r.max() <= 5.0 + 1e-5 and ((r < 2.5) | (r >= 3.5 - 1e-5)).all()
    assert y.sum() == 500
    noisy = load("circle", n_samples=1000, noise=0.5)
    pts_n, y_n = both(noisy)
    assert np.allclose(np.sort(np.hypot(*pts_n.T)), np.sort(np.hypot(*pts_n.T)))  # points themselves stay
    assert 0 < (y_n != (np.hypot(*pts_n.T) < 2.5)).sum() < 400  # noise flips some labels


def test_xor_recipe():
    pts, y = both(load("xor", n_samples=800))
    assert np.array_equal(y == 1, pts[:, 0] * pts[:, 1] >= 0)
    assert (np.abs(pts) >= 0.3 - 1e-6).all() and (np.abs(pts) <= 5.3 + 1e-5).all()


def test_gauss_recipe():
    pts, y = both(load("gauss", n_samples=4000))
    assert np.allclose(pts[y == 1].mean(0), [2, 2], atol=0.1)
    assert np.allclose(pts[y == 0].mean(0), [-2, -2], atol=0.1)
    assert abs(pts[y == 1].std() - math.sqrt(0.5)) < 0.05
    wide, yw = both(load("gauss", n_samples=4000, noise=0.5))
    assert abs(wide[yw == 1].std() - 2.0) < 0.08  # variance 0.5 + 7 * 0.5 = 4


def test_spiral_arms():
    pts, y = both(load("spiral", n_samples=600))
    r = np.hypot(pts[:, 0], pts[:, 1])
    t = 1.75 * 2 * np.pi * r / 5.0
    sign = np.where(y == 1, 1.0, -1.0)  # the second arm is turned by pi
    assert np.allclose(pts[:, 0], sign * r * np.sin(t), atol=1e-4)
    assert np.allclose(pts[:, 1], sign * r * np.cos(t), atol=1e-4)
    assert r.max() < 5.0


def test_reg_plane_and_reg_gauss():
    ds = load("reg-plane")
    pts, y = both(ds)
    assert np.allclose(y[:, 0], pts.sum(1) / 10, atol=1e-6)
    assert ds.task == "regression" and ds.meta["domain"] == (-6.0, 6.0)
    pts, y = both(load("reg-gauss"))
    centres = np.array([(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)])
    d = np.hypot(pts[:, None, 0] - centres[:, 0], pts[:, None, 1] - centres[:, 1])
    near = d.min(1) < 1.9
    assert np.array_equal(np.sign(y[near, 0]), centres[d[near].argmin(1), 2])
    assert (y[d.min(1) >= 2, 0] == 0).all() and np.abs(y).max() <= 1


def test_features_option_and_featurize():
    feats = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    ds = load("spiral", noise=0.1, features=feats)
    p = ds.meta["points_train"].astype(np.float64)
    expect = np.stack([p[:, 0], p[:, 1], p[:, 0] ** 2, p[:, 1] ** 2, p[:, 0] * p[:, 1], np.sin(p[:, 0]),
                       np.sin(p[:, 1])], axis=1)
    assert ds.x_train.shape == (250, 7) and np.allclose(ds.x_train, expect, atol=1e-5)
    assert ds.meta["feature_names"] == feats and ds.params["features"] == feats
    grid = np.stack(np.meshgrid(np.linspace(-6, 6, 5), np.linspace(-6, 6, 5)), -1).reshape(-1, 2)
    out = ds.featurize(grid)
    assert out.shape == (25, 7) and out.dtype == np.float32 and np.allclose(out[:, 4], grid[:, 0] * grid[:, 1])
    with pytest.raises(NnplayError, match=r"shape \(n, 2\)"):
        ds.featurize(np.zeros((3, 3)))
    assert parse_features(["x1sq", "x1x2", "sinx1", "X2²", "sin x2"]) == ("x1^2", "x1*x2", "sin(x1)", "x2^2",
                                                                           "sin(x2)")
    assert parse_features("x1, x2") == ("x1", "x2")
    assert load("xor", features="x1*x2").x_train.shape == (250, 1)
    assert len(FEATURES) == 7


def test_feature_errors():
    msg = err("unknown feature", "circle", features=["x1", "x3^2"])
    assert "'x3^2'" in msg and "x1*x2" in msg and "sin(x1)" in msg
    assert "twice" in err("twice", "circle", features=["x1", "x"])
    assert "empty" in err("empty", "circle", features=[])


def test_domains():
    assert load("circle").meta["domain"] == (-6.0, 6.0)
    for name in ("moons", "circles", "blobs", "ring8", "swissroll2d"):
        ds = load(name)
        lo, hi = ds.meta["domain"]
        pts = ds.meta.get("points_train", ds.x_train)
        assert lo < pts.min() and pts.max() < hi and hi - lo < 2 * (pts.max() - pts.min())
    assert load("curve1d").featurize(np.linspace(-3, 3, 7)).shape == (7, 1)
    with pytest.raises(NnplayError, match="featurize"):
        load("parity", n_samples=10).featurize(np.zeros((2, 2)))


# --------------------------------------------------------------------------------------------------
# Other 2-D sets
# --------------------------------------------------------------------------------------------------
def test_moons_circles_blobs():
    pts, y = both(load("moons", noise=0))
    assert np.allclose(np.hypot(*pts[y == 0].T), 1, atol=1e-5) and (pts[y == 0, 1] >= -1e-6).all()
    assert np.allclose(np.hypot(pts[y == 1, 0] - 1, pts[y == 1, 1] - 0.5), 1, atol=1e-5)
    assert (pts[y == 1, 1] <= 0.5 + 1e-6).all()
    pts, y = both(load("circles", noise=0, factor=0.3))
    r = np.hypot(*pts.T)
    assert np.allclose(r[y == 0], 1, atol=1e-5) and np.allclose(r[y == 1], 0.3, atol=1e-5)
    ds = load("blobs", n_samples=602, centers=4)
    assert ds.n_classes == 4 and ds.task == "multiclass"
    counts = np.bincount(np.concatenate([ds.y_train, ds.y_test]))
    assert counts.tolist() == [151, 151, 150, 150]
    assert len(ds.meta["centers"]) == 4


def test_curve1d_ring8_swissroll():
    ds = load("curve1d", noise=0)
    assert np.allclose(ds.y_train[:, 0], np.sin(2 * ds.x_train[:, 0]), atol=1e-5)
    assert (np.abs(ds.x_train) <= np.pi).all()
    ring = load("ring8", std=0)
    ang = 2 * np.pi * ring.y_train / 8
    assert np.allclose(ring.x_train, 2 * np.stack([np.cos(ang), np.sin(ang)], 1), atol=1e-5)
    assert ring.task == "generative" and set(np.unique(ring.y_train)) == set(range(8))
    roll = load("swissroll2d", noise=0)
    r = np.hypot(*roll.x_train.T) * 10
    assert r.min() >= 1.5 * np.pi - 1e-3 and r.max() <= 4.5 * np.pi + 1e-3 and (roll.y_train == 0).all()


# --------------------------------------------------------------------------------------------------
# Images and wave1d
# --------------------------------------------------------------------------------------------------
def test_shapes_images():
    ds = load("shapes", n_samples=600)
    assert ds.x_train.shape == (480, 16, 16, 1) and ds.x_train.dtype == np.float32
    assert 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert ds.class_names == ["circle", "square", "triangle", "plus", "cross", "line"]
    assert np.bincount(np.concatenate([ds.y_train, ds.y_test])).tolist() == [100] * 6
    clean = load("shapes", n_samples=120, noise=0)
    ink = clean.x_train.sum(axis=(1, 2, 3))
    assert (ink > 3).all()  # every image has a visible outline
    assert ink[clean.y_train == 1].mean() > ink[clean.y_train == 5].mean()  # a square has more ink than a line
    assert load("shapes", n_samples=12, size=28).input_shape == (28, 28, 1)
    assert load("shapes", n_samples=12, size=8).input_shape == (8, 8, 1)
    err(r"size=40 is out of range; use a value in 8\.\.28", "shapes", size=40)


def test_noise_keeps_the_clean_data_and_split():
    clean, noisy = load("shapes", n_samples=60, noise=0), load("shapes", n_samples=60, noise=0.1)
    assert np.array_equal(clean.y_train, noisy.y_train)
    assert 0 < np.abs(clean.x_train - noisy.x_train).mean() < 0.1


def test_font_digits():
    ds = load("font-digits")
    assert ds.x_train.shape == (4000, 16, 16, 1) and ds.n_classes == 10
    assert 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert np.bincount(np.concatenate([ds.y_train, ds.y_test])).tolist() == [500] * 10
    clean = load("font-digits", n_samples=400, noise=0, size=28)
    assert clean.input_shape == (28, 28, 1)
    ink = clean.x_train.sum(axis=(1, 2, 3))
    assert ink[clean.y_train == 8].mean() > ink[clean.y_train == 1].mean() > 5
    # the same digit looks alike: nearest class mean classifies clean glyphs well
    means = np.stack([clean.x_train[clean.y_train == d].mean(0) for d in range(10)]).reshape(10, -1)
    pred = ((clean.x_test.reshape(len(clean.x_test), 1, -1) - means[None]) ** 2).sum(-1).argmin(1)
    assert (pred == clean.y_test).mean() > 0.7


def test_wave1d():
    ds = load("wave1d")
    assert ds.x_train.shape == (4000, 40, 1) and ds.x_test.shape == (1000, 40, 1)
    allx = np.concatenate([ds.x_train, ds.x_test])
    assert abs(allx.mean()) < 1e-3 and abs(allx.std() - 1) < 1e-3
    assert np.bincount(np.concatenate([ds.y_train, ds.y_test])).tolist() == [500] * 10
    x, xt = ds.x_train[:, :, 0], ds.x_test[:300, :, 0]
    nearest = ((xt[:, None] - x[None]) ** 2).sum(-1).argmin(1)
    assert (ds.y_train[nearest] == ds.y_test[:300]).mean() > 0.3  # well above chance (0.1)


# --------------------------------------------------------------------------------------------------
# Sequences
# --------------------------------------------------------------------------------------------------
def test_sine_next_continues_the_wave():
    ds = load("sine-next", n_samples=300)
    x, y = ds.x_train[:, :, 0].astype(np.float64), ds.y_train[:, 0]
    # a pure sinusoid obeys s[t+1] = 2 cos(w) s[t] - s[t-1]
    mid = x[:, 1:-1]
    c = ((x[:, 2:] + x[:, :-2]) * mid).sum(1) / (2 * (mid ** 2).sum(1))
    assert np.allclose(y, 2 * c * x[:, -1] - x[:, -2], atol=1e-4)
    w = np.arccos(np.clip(c, -1, 1))
    assert (w > 2 * np.pi / 20 - 1e-3).all() and (w < 2 * np.pi / 10 + 1e-3).all()
    noisy = load("sine-next", n_samples=300, noise=0.1)
    assert not np.allclose(noisy.x_train, ds.x_train) and np.array_equal(noisy.y_train, ds.y_train)


def test_sine_mix_and_parity():
    ds = load("sine-mix", n_samples=500)
    assert ds.x_train.shape == (400, 50, 1) and np.abs(ds.x_train).max() <= 0.75
    p = load("parity", n_samples=300, seq_len=12)
    assert np.array_equal(p.y_train, p.x_train[:, :, 0].sum(1).astype(int) % 2)
    assert set(np.unique(p.x_train)) == {0.0, 1.0} and p.task == "binary"
    q = load("parity", n_samples=300, per_step=True)
    assert q.y_train.shape == (240, 8)
    assert np.array_equal(q.y_train, np.cumsum(q.x_train[:, :, 0], 1).astype(int) % 2)


def test_adding_and_first_symbol():
    ds = load("adding", n_samples=400, seq_len=31)
    x = ds.x_train
    marks = x[:, :, 1]
    assert (marks.sum(1) == 2).all()
    assert (marks[:, :16].sum(1) == 1).all() and (marks[:, 16:].sum(1) == 1).all()
    assert np.allclose(ds.y_train[:, 0], (x[:, :, 0] * marks).sum(1), atol=1e-6)
    fs = load("first-symbol", n_samples=400, symbols=5, seq_len=7)
    assert fs.x_train.shape == (320, 7, 5) and (fs.x_train.sum(-1) == 1).all()
    assert np.array_equal(fs.y_train, fs.x_train[:, 0].argmax(-1)) and fs.n_classes == 5


def test_copy_task():
    ds = load("copy", n_samples=50, length=3, delay=6, symbols=4)
    x, y = ds.x_train, ds.y_train
    assert x.shape == y.shape == (40, 12) and x.dtype == np.int32
    assert np.array_equal(y[:, -3:], x[:, :3]) and (y[:, :-3] == 0).all()
    assert (x[:, 8] == 5).all() and (x[:, 3:8] == 0).all() and (x[:, 9:] == 0).all()
    assert ((1 <= x[:, :3]) & (x[:, :3] <= 4)).all() and ds.n_classes == 6
    oh = load("copy", n_samples=50, length=3, delay=6, symbols=4, one_hot=True)
    assert oh.x_train.shape == (40, 12, 6) and np.array_equal(oh.x_train.argmax(-1), x)


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------
def test_encode_decode():
    vocab = list(" abc")
    assert encode("cab a", vocab).tolist() == [3, 1, 2, 0, 1]
    assert decode([3, 1, 2], vocab) == "cab"
    assert decode(np.eye(4, dtype=np.float32)[[1, 2]], vocab) == "ab"
    with pytest.raises(NnplayError, match="'z' is not in the vocabulary"):
        encode("az", vocab)


def _parse_subject_verb(sentence: str):
    lex = text_mod.LEXICON
    words = sentence.rstrip(".").lower().split()
    singular = {s for s, _ in lex["noun"]}
    plural = {p for _, p in lex["noun"]}
    i = 1 + (words[1] in lex["adj"])
    noun = words[i]
    i += 1
    if words[i] in lex["prep"]:
        i += 2  # preposition and determiner
        i += words[i] in lex["adj"]
        i += 1  # noun of the prepositional phrase
    verb = words[i]
    verbs_sg = {s for s, _ in lex["vi"] + lex["vt"]}
    verbs_pl = {p for _, p in lex["vi"] + lex["vt"]}
    assert noun in singular | plural and verb in verbs_sg | verbs_pl, sentence
    return words[0], noun in plural, verb in verbs_pl


def test_grammar_agreement_and_windows():
    ds = load("grammar", n_chars=20_000, seq_len=30, step=2)
    text = ds.meta["text"]
    assert len(text) == 20_000 and text == text_mod.grammar_text(20_000, 0)
    assert text != text_mod.grammar_text(20_000, 1)
    assert 25 <= len(ds.meta["vocab"]) <= 40 and ds.meta["vocab"] == sorted(set(text))
    sentences = [s.strip() + "." for line in text.split("\n")[:-1] for s in line.split(".") if s.strip()]
    assert len(sentences) > 100
    n_plural = n_pp = 0
    for s in sentences:
        assert s[0].isupper()
        det, noun_pl, verb_pl = _parse_subject_verb(s)
        assert noun_pl == verb_pl, s
        if det in ("a", "an", "one", "this", "every", "that"):
            assert not noun_pl, s
        if det in ("two", "three", "some", "these", "many", "those"):
            assert noun_pl, s
        n_plural += noun_pl
        n_pp += any(w in text_mod.LEXICON["prep"] for w in s.lower().split()[:5])
    assert 0.3 < n_plural / len(sentences) < 0.5 and n_pp > 20
    assert re.search(r"\ban [aeiou]", text) and not re.search(r"\ba [aeiou]", text)
    assert all(2 <= line.count(".") <= 5 for line in text.split("\n")[:-1])
    # windows are slices of the text and y is the next character
    vocab = ds.meta["vocab"]
    assert ds.x_train.shape[1] == 30 and ds.x_train.dtype == np.int32 and ds.y_train.dtype == np.int64
    train_text = text[:ds.meta["text_train_chars"]]
    for i in range(0, len(ds.x_train), 997):
        assert decode(ds.x_train[i], vocab) + vocab[ds.y_train[i]] in train_text
    oh = load("grammar", n_chars=20_000, seq_len=30, step=2, one_hot=True)
    assert oh.x_train.shape == (*ds.x_train.shape, len(vocab)) and oh.x_train.dtype == np.float32
    assert np.array_equal(oh.x_train.argmax(-1), ds.x_train)


def test_arith_qa_and_stream():
    ds = load("arith", n_samples=2000)
    vocab = ds.meta["vocab"]
    assert ds.x_train.shape == (1600, 7) and ds.y_train.shape == (1600, 4) and ds.n_classes == 12
    pairs = set()
    for q, a in zip(ds.x_train[:500], ds.y_train[:500]):
        query, answer = decode(q, vocab), decode(a, vocab)
        left, right = query.strip().split("+")
        assert int(left) + int(right) == int(answer) and len(query) == 7 and len(answer) == 4
        assert len(left) <= 3 and len(right) <= 3
        pairs.add(tuple(sorted((int(left), int(right)))))
    assert len(pairs) == 500
    rev = load("arith", n_samples=2000, reverse=True)
    assert decode(rev.x_train[0], vocab) == decode(ds.x_train[0], vocab)[::-1]
    st = load("arith", n_samples=300, mode="stream")
    assert st.params["seq_len"] == 20 and st.x_train.shape[1] == 20 and st.y_train.ndim == 1
    for line in st.meta["text"].strip().split("\n"):
        lhs, rhs = line.split("=")
        a, b = lhs.split("+")
        assert int(a) + int(b) == int(rhs)
    err("n_samples=100 is too many for digits=1", "arith", n_samples=100, digits=1)
    err("mode='steam' is not allowed.*did you mean 'stream'", "arith", mode="steam")


def test_pydoc(monkeypatch):
    if importlib.util.find_spec("pydoc_data") is not None:
        ds = load("pydoc", n_chars=20_000)
        assert len(ds.meta["text"]) == 20_000 and "python_version" in ds.meta
    monkeypatch.setitem(sys.modules, "pydoc_data.topics", None)
    err("pydoc_data.*use dataset 'grammar'", "pydoc")


def test_text_limits(monkeypatch):
    monkeypatch.setattr(text_mod, "ONE_HOT_LIMIT", 1000)
    err(r"one_hot=True would need .* MB.*Embedding", "grammar", n_chars=5000, one_hot=True)
    err("too few for seq_len=900", "grammar", n_chars=1000, seq_len=900)


# --------------------------------------------------------------------------------------------------
# Parameter errors
# --------------------------------------------------------------------------------------------------
def test_unknown_dataset_and_parameter():
    assert "did you mean 'spiral'" in err("unknown dataset 'spirl'", "spirl")
    assert load("Reg_Plane", n_samples=10).name == "reg-plane"
    msg = err("has no parameter 'nosie'", "spiral", nosie=0.1)
    assert "did you mean 'noise'" in msg and "n_samples, noise, train_ratio, features, seed" in msg
    assert "choose from" in err("has no parameter 'zzz'", "circle", zzz=1)


@pytest.mark.parametrize("params, match", [
    ({"noise": 0.7}, r"spiral: noise=0\.7 is out of range; use a value in \[0, 0\.5\]"),
    ({"noise": -0.1}, r"noise=-0\.1 is out of range"),
    ({"n_samples": 0}, r"n_samples=0 is out of range; use a value in 2\.\.1_000_000"),
    ({"n_samples": 2_000_000}, r"n_samples=2000000 is out of range"),
    ({"train_ratio": 1.0}, r"train_ratio=1\.0 is out of range; use a value in \(0, 1\)"),
    ({"train_ratio": 0}, r"train_ratio=0 is out of range"),
    ({"n_samples": 2.5}, r"n_samples=2\.5 must be a whole number"),
    ({"n_samples": True}, r"n_samples=True must be a whole number"),
    ({"noise": "lots"}, r"noise='lots' must be a number"),
    ({"n_samples": 3, "train_ratio": 0.2}, r"leave an empty train or test set"),
])
def test_bad_values(params, match):
    err(match, "spiral", **params)


def test_string_values_are_converted():
    ds = load("spiral", n_samples="100", noise="0.2", seed="5")
    assert ds.params["n_samples"] == 100 and ds.params["noise"] == 0.2 and ds.params["seed"] == 5
    assert load("parity", n_samples=10, per_step="true").params["per_step"] is True
    err("per_step='maybe' must be true or false", "parity", per_step="maybe")


# --------------------------------------------------------------------------------------------------
# User files
# --------------------------------------------------------------------------------------------------
def test_csv_loading(tmp_path):
    f = tmp_path / "pets.csv"
    f.write_text("weight,height,kind\n" + "".join(f"{i},{i * 2.5},{'cat' if i % 3 else 'dog'}\n" for i in range(40)))
    ds = load("csv", path=f, target="kind")
    assert ds.task == "binary" and ds.class_names == ["cat", "dog"] and ds.x_train.shape == (32, 2)
    assert ds.meta["feature_names"] == ["weight", "height"] and ds.x_train.dtype == np.float32
    assert np.allclose(ds.x_train[:, 1], ds.x_train[:, 0] * 2.5)
    f2 = tmp_path / "nohead.csv"
    f2.write_text("".join(f"{i};{i % 4};{i * 0.1:.2f}\n" for i in range(50)))
    ds2 = load(str(f2))  # path routing, ';' guessed, last column (floats) -> regression
    assert ds2.task == "regression" and ds2.y_train.shape == (40, 1) and ds2.x_train.shape == (40, 2)
    ds3 = load("csv", path=f2, target=1)
    assert ds3.task == "multiclass" and ds3.n_classes == 4 and ds3.class_names == ["0", "1", "2", "3"]
    assert np.array_equal(ds3.y_train, (ds3.x_train[:, 0].round().astype(int)) % 4)
    assert load("csv", path=f2, target=1, task="regression").task == "regression"
    tabbed = tmp_path / "tabbed.tsv"
    tabbed.write_text("".join(f"{i}\t{i % 2}\n" for i in range(10)))
    assert load(tabbed, delimiter="tab").x_train.shape == (8, 1)
    numeric_head = tmp_path / "numeric_head.csv"
    numeric_head.write_text("1,2,3\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(10)))
    assert len(load("csv", path=numeric_head).x_train) + len(load("csv", path=numeric_head).x_test) == 11
    assert len(load("csv", path=numeric_head, header=True).x_test) == 2
    f3 = tmp_path / "pm.csv"
    f3.write_text("a,b\n" + "".join(f"{i},{1 if i % 2 else -1}\n" for i in range(20)))
    ds4 = load("csv", path=f3)
    assert ds4.task == "binary" and ds4.class_names == ["-1", "1"] and set(ds4.y_train.tolist()) == {0, 1}


def test_csv_errors(tmp_path):
    missing = tmp_path / "missing.csv"
    assert str(missing) in err("does not exist", "csv", path=missing)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\n1,2,3\n4,5,6\n7,8\n")
    err("line 4 has 2 fields but line 1 has 3", "csv", path=ragged)
    text_cell = tmp_path / "cell.csv"
    text_cell.write_text("a,b,c\n1,2,3\n4,five,6\n")
    err(r"line 3, column 2 \(b\): 'five' is not a number", "csv", path=text_cell)
    blank = tmp_path / "blank.csv"
    blank.write_text("a,b,c\n1,,3\n4,5,6\n")
    err(r"line 2, column 2 \(b\): is empty", "csv", path=blank)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n  \n")
    err("is empty", "csv", path=empty)
    head_only = tmp_path / "head.csv"
    head_only.write_text("a,b,label\n")
    err("has a header but no data rows", "csv", path=head_only)
    good = tmp_path / "good.csv"
    good.write_text("x,y,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    assert "did you mean 'label'" in err("target='lable' is not a column", "csv", path=good, target="lable")
    err("target=7 is out of range", "csv", path=good, target=7)
    err("path is required", "csv")
    err("'not-a-task' is not allowed", "csv", path=good, task="not-a-task")
    three = tmp_path / "three.csv"
    three.write_text("a,b\n1,0\n2,1\n3,2\n4,0\n")
    err("task='binary' needs exactly 2 label values, found 3", "csv", path=three, task="binary")
    err("delimiter='::' must be a single character", "csv", path=good, delimiter="::")
    err("header='sometimes' must be 'auto', true or false", "csv", path=good, header="sometimes")
    nan = tmp_path / "nan.csv"
    nan.write_text("a,b,c\n1,2,0\n3,nan,1\n")
    err(r"line 3, column 2 \(b\): 'nan' is not a finite number", "csv", path=nan)
    words = tmp_path / "words.csv"
    words.write_text("a,kind\n1,cat\n2,dog\n3,cat\n")
    err(r"line 2, column 2 \(kind\): 'cat' is not a number, but task='regression'", "csv", path=words,
        task="regression")


def test_npz_loading(tmp_path):
    rng = np.random.default_rng(0)
    keras = tmp_path / "mnist.npz"
    np.savez(keras, x_train=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), y_train=np.arange(30) % 10,
             x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), y_test=np.arange(10))
    ds = load("npz", path=keras)
    assert ds.x_train.shape == (30, 28, 28, 1) and ds.x_test.shape == (10, 28, 28, 1)
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert ds.task == "multiclass" and ds.n_classes == 10 and np.array_equal(ds.y_test, np.arange(10))
    big_x = tmp_path / "upper.npz"
    np.savez(big_x, X=rng.normal(size=(50, 3)), y=rng.normal(size=50))
    ds2 = load(big_x)
    assert ds2.task == "regression" and ds2.x_train.shape == (40, 3) and ds2.y_train.shape == (40, 1)
    onehot = tmp_path / "onehot.npz"
    np.savez(onehot, x=rng.normal(size=(20, 2)), y=np.eye(3)[np.arange(20) % 3])
    assert load(onehot).n_classes == 3
    only_x = tmp_path / "only_x.npz"
    np.savez(only_x, x=rng.normal(size=(20, 2)))
    assert load(only_x).task == "generative"


def test_npz_errors(tmp_path):
    err("does not exist", "npz", path=tmp_path / "nope.npz")
    mismatch = tmp_path / "mismatch.npz"
    np.savez(mismatch, x=np.zeros((5, 2)), y=np.zeros(4))
    err("x has 5 samples but y has 4 labels", "npz", path=mismatch)
    objects = tmp_path / "objects.npz"
    np.savez(objects, x=np.array([{"a": 1}, None], dtype=object), y=np.arange(2))
    err("holds Python objects.*never unpickles", "npz", path=objects)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x80\x04 definitely not a zip")
    err("is not an .npz archive", "npz", path=garbage)
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, np.zeros(3))
    err("single .npy array", "npz", path=single)
    nokeys = tmp_path / "nokeys.npz"
    np.savez(nokeys, data=np.zeros((3, 2)), labels=np.zeros(3))
    err(r"has no input array; name it 'x' \(found: data, labels\)", "npz", path=nokeys)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    err("is empty", "npz", path=empty)


def _write_idx(path, arr, magic, gz=False):
    head = struct.pack(">I", magic) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    data = head + np.asarray(arr, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_idx_loading_and_errors(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (40, 28, 28))
    tr_x = _write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs, 0x803, gz=True)
    tr_y = _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(40) % 10, 0x801, gz=True)
    te_x = _write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs[:10], 0x803)
    te_y = _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(10), 0x801)
    ds = load("idx", images=tr_x, labels=tr_y, images_test=te_x, labels_test=te_y)
    assert ds.x_train.shape == (40, 28, 28, 1) and ds.x_test.shape == (10, 28, 28, 1)
    assert np.allclose(ds.x_train[..., 0], imgs / 255.0) and ds.x_train.max() <= 1
    assert ds.n_classes == 10 and np.array_equal(ds.y_train, np.arange(40) % 10)
    split = load("idx", images=tr_x, labels=tr_y)
    assert split.x_train.shape == (32, 28, 28, 1) and split.x_test.shape == (8, 28, 28, 1)
    msg = err("has magic number 0x00000801, but IDX images files start with 0x00000803", "idx", images=tr_y,
              labels=tr_y)
    assert str(tr_y) in msg
    err("images has 40 images but labels has 10 labels", "idx", images=tr_x, labels=te_y)
    trunc = tmp_path / "trunc"
    trunc.write_bytes(te_x.read_bytes()[:-5])
    err("truncated or damaged", "idx", images=trunc)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    err("is empty", "idx", images=empty)
    err("images_test was given without labels_test", "idx", images=tr_x, labels=tr_y, images_test=te_x)
    err("does not exist", "idx", images=tmp_path / "nothing")


def test_text_file(tmp_path):
    f = tmp_path / "story.txt"
    f.write_text("The quick brown fox jumps over the lazy dog.\r\n" * 40, encoding="utf-8")
    ds = load("text", path=f, seq_len=12, step=1)
    assert ds.x_train.shape[1] == 12 and "\r" not in ds.meta["vocab"] and ds.meta["truncated"] is False
    capped = load("text", path=f, max_bytes=1000, seq_len=12)
    assert capped.meta["text"] == f.read_bytes()[:1000].decode().replace("\r\n", "\n")
    assert capped.meta["truncated"] is True
    assert "first 1_000 bytes" in capped.description
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 ".encode("latin-1") * 300)
    err(r"is not UTF-8 \(byte 0xe9 at offset 3\)", "text", path=bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    err("is empty", "text", path=empty)
    short = tmp_path / "short.txt"
    short.write_text("tiny text")
    err("too few for seq_len=40", "text", path=short)


# --------------------------------------------------------------------------------------------------
# Optional scikit-learn data, read without importing scikit-learn
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def fake_sklearn(tmp_path, monkeypatch):
    if "sklearn" in sys.modules:
        pytest.skip("scikit-learn is already imported in this process")
    pkg = tmp_path / "site" / "sklearn"
    data = pkg / "datasets" / "data"
    data.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('nnplay must not import scikit-learn')\n")
    rng = np.random.default_rng(0)
    pix = rng.integers(0, 17, (30, 64))
    rows = [",".join(map(str, r)) + f",{i % 10}" for i, r in enumerate(pix)]
    (data / "digits.csv.gz").write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    iris = ["15,4,setosa,versicolor,virginica"] + [f"{5 + i * 0.1:.1f},3.0,{1 + i % 3}.4,0.2,{i % 3}"
                                                   for i in range(15)]
    (data / "iris.csv").write_text("\n".join(iris) + "\n")
    wine = ["12,13,class_0,class_1,class_2"] + [",".join(["1.5"] * 12 + [str(100 + i)]) + f",{i % 3}"
                                                for i in range(12)]
    (data / "wine_data.csv").write_text("\n".join(wine) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return pix


def test_digits_iris_wine_from_fake_sklearn(fake_sklearn):
    ds = load("digits")
    assert ds.x_train.shape == (24, 8, 8, 1) and ds.x_test.shape == (6, 8, 8, 1)
    allx = np.concatenate([ds.x_train, ds.x_test]).reshape(30, 64)
    assert sorted(map(tuple, allx * 16)) == sorted(map(tuple, fake_sklearn.astype(np.float32)))
    assert 0 <= allx.min() and allx.max() <= 1 and ds.n_classes == 10
    iris = load("iris", train_ratio=0.6)
    assert iris.class_names == ["setosa", "versicolor", "virginica"] and iris.x_train.shape == (9, 4)
    assert np.allclose(iris.x_train.mean(0)[0], 0, atol=1e-5)  # standardised with train statistics
    raw = load("iris", standardize=False)
    assert raw.x_train.min() >= 0.2 and raw.meta["feature_names"][0] == "sepal length (cm)"
    wine = load("wine")
    assert wine.x_train.shape[1] == 13 and wine.n_classes == 3
    assert "sklearn" not in sys.modules


def test_extra_missing_says_how_to_install(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    assert 'pip install "nnplay[datasets]"' in err("not installed", "digits")
    pkg = tmp_path / "site" / "sklearn"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    monkeypatch.setattr(importlib.util, "find_spec", real)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    if "sklearn" not in sys.modules:
        assert "has no digits.csv.gz" in err("has no digits.csv.gz", "digits")
