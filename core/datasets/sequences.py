"""Sequence tasks for RNN / LSTM / GRU demos; inputs are (n, T, features) float32."""
from __future__ import annotations

import numpy as np

from ._base import Param, as_f32, as_i64, build_split, p_noise, p_ratio, p_samples, p_seed, register


def p_steps(default: int, lo: int = 2, hi: int = 1000) -> Param:
    return Param("seq_len", default, "int", lo=lo, hi=hi, help="time steps per sequence")


@register("sine-next", "predict the next value of a sine wave from 20 steps (sequence regression)", "sequence",
          [p_samples(5000), p_steps(20), p_noise(0.0, 1.0, "std of the Gaussian noise on the inputs"),
           p_ratio(0.8), p_seed()])
def _sine_next(p):
    rng, n, T = np.random.default_rng(p["seed"]), p["n_samples"], p["seq_len"]
    period = rng.uniform(10, 20, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    s = np.sin(2 * np.pi * np.arange(T + 1)[None, :] / period + phase)
    x = s[:, :T] + rng.normal(0.0, p["noise"], (n, T))  # drawn even at noise 0: same waves and split
    desc = (f"sine-next: {T} steps of sin(2 pi t / P + phi), P in [10, 20]; target is the clean next value; "
            f"input noise {p['noise']}; {{n_train}} train / {{n_test}} test.")
    return build_split("sine-next", "regression", as_f32(x[..., None]), as_f32(s[:, T:T + 1]), rng, p, desc,
                       meta={"sequence": True})


@register("sine-mix", "sum of two random sines plus noise, predict the next value (Geron)", "sequence",
          [p_samples(10000), p_steps(50), p_ratio(0.8), p_seed()])
def _sine_mix(p):
    rng, n, T = np.random.default_rng(p["seed"]), p["n_samples"], p["seq_len"]
    f1, f2, o1, o2 = rng.random((4, n, 1))
    t = np.linspace(0, 1, T + 1)[None, :]
    s = 0.5 * np.sin((t - o1) * (f1 * 10 + 10)) + 0.2 * np.sin((t - o2) * (f2 * 20 + 20))
    s = s + 0.1 * (rng.random((n, T + 1)) - 0.5)
    desc = (f"sine-mix: {T} steps of two mixed sines plus uniform noise (Geron, Hands-On ML ch. 15); "
            "target is the next value; {n_train} train / {n_test} test.")
    return build_split("sine-mix", "regression", as_f32(s[:, :T, None]), as_f32(s[:, T:T + 1]), rng, p, desc,
                       meta={"sequence": True})


@register("parity", "parity (XOR) of 8 random bits (sequence binary)", "sequence",
          [p_samples(4000), p_steps(8, lo=1, hi=64),
           Param("per_step", False, "bool", help="label every step with the running parity (easier)"),
           p_ratio(0.8), p_seed()])
def _parity(p):
    rng, n, T = np.random.default_rng(p["seed"]), p["n_samples"], p["seq_len"]
    bits = rng.integers(0, 2, (n, T))
    running = np.cumsum(bits, axis=1) % 2
    y = running if p["per_step"] else running[:, -1]
    target = "the running parity at every step" if p["per_step"] else "the parity of all bits"
    desc = f"parity: {T} random bits, target is {target}; {{n_train}} train / {{n_test}} test."
    return build_split("parity", "binary", as_f32(bits[..., None]), as_i64(y), rng, p, desc, n_classes=2,
                       class_names=["even", "odd"], meta={"sequence": True, "per_step": p["per_step"]})


@register("adding", "add the two marked values in a 30-step sequence (sequence regression)", "sequence",
          [p_samples(4000), p_steps(30), p_ratio(0.8), p_seed()])
def _adding(p):
    rng, n, T = np.random.default_rng(p["seed"]), p["n_samples"], p["seq_len"]
    values = rng.random((n, T))
    half = (T + 1) // 2  # first mark in t < T/2, second in t >= T/2
    first = rng.integers(0, half, n)
    second = rng.integers(half, T, n)
    marks = np.zeros((n, T))
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    desc = (f"adding: {T} steps of (value, marker); target is the sum of the two marked values "
            "(predicting 1.0 scores MSE ~0.167; solved below 0.01); {n_train} train / {n_test} test.")
    return build_split("adding", "regression", as_f32(np.stack([values, marks], axis=2)), as_f32(y[:, None]),
                       rng, p, desc, meta={"sequence": True, "channels": ["value", "marker"]})


@register("first-symbol", "remember the first of 20 one-hot symbols (RNN vs LSTM memory test)", "sequence",
          [p_samples(4000), p_steps(20), Param("symbols", 4, "int", lo=2, hi=64, help="number of symbols K"),
           p_ratio(0.8), p_seed()])
def _first_symbol(p):
    rng, n, T, K = np.random.default_rng(p["seed"]), p["n_samples"], p["seq_len"], p["symbols"]
    seq = rng.integers(0, K, (n, T))
    x = np.eye(K, dtype=np.float32)[seq]
    desc = (f"first-symbol: {T} one-hot symbols out of {K}; target is the symbol at t=0 (chance {100 / K:.0f}%); "
            "{n_train} train / {n_test} test.")
    return build_split("first-symbol", "multiclass", x, as_i64(seq[:, 0]), rng, p, desc, n_classes=K,
                       class_names=[f"symbol {i}" for i in range(K)], meta={"sequence": True})


@register("copy", "copy 5 symbols after a 20-step delay (sequence to sequence)", "sequence",
          [p_samples(2000), Param("length", 5, "int", lo=1, hi=50, help="symbols to remember (L)"),
           Param("delay", 20, "int", lo=1, hi=1000, help="blank steps before the go marker (T)"),
           Param("symbols", 8, "int", lo=2, hi=64, help="alphabet size K (symbols are 1..K)"),
           Param("one_hot", False, "bool", help="x as float32 one-hot (n, steps, K+2) instead of int32 indices"),
           p_ratio(0.8), p_seed()])
def _copy(p):
    rng, n, L, T, K = (np.random.default_rng(p["seed"]), p["n_samples"], p["length"], p["delay"], p["symbols"])
    steps = L + T + L
    sym = rng.integers(1, K + 1, (n, L))
    x = np.zeros((n, steps), dtype=np.int32)
    x[:, :L] = sym
    x[:, L + T - 1] = K + 1  # the go marker
    y = np.zeros((n, steps), dtype=np.int64)
    y[:, L + T:] = sym
    if p["one_hot"]:
        x = np.eye(K + 2, dtype=np.float32)[x]
    baseline = L * np.log(K) / (T + 2 * L)
    desc = (f"copy: {L} symbols from 1..{K}, {T} blanks with a go marker ({K + 1}) at step {L + T - 1}, "
            f"then output them; per-step targets; memoryless cross-entropy {baseline:.3f}; "
            "{n_train} train / {n_test} test.")
    return build_split("copy", "multiclass", x, y, rng, p, desc, n_classes=K + 2,
                       class_names=["blank"] + [str(i) for i in range(1, K + 1)] + ["go"],
                       meta={"sequence": True, "per_step": True, "baseline_loss": float(baseline)})
