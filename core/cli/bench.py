"""``nnplay bench``: training speed on the six reference workloads, through nnplay's public engine.

Each workload (W1-W6) is a Sequential model built from the same layers, losses and optimizer a learner
uses; a step is ``model.train_step`` (forward, backward, Adam update) on one fixed batch, exactly what
``fit`` runs per batch. The data and initial weights follow the reference definition: one
``np.random.default_rng(0)`` draws X, y, then each weight in order (Glorot-uniform, zero biases, LSTM
forget bias 0), in the canonical layout (conv inputs NCHW, the Dense after Flatten with rows in (C, H, W)
order), converted once to nnplay's channels-last layout — so ``--check`` losses can be compared with any
other implementation of the same definition.

Output: one JSON line per workload ``{"workload", "steps_per_s", "samples_per_s", "steps_per_s_min",
"steps_per_s_max", "impl", "threads", "other_load", "gflops", "peak_fraction"}``, after one line
``{"gemm_peak_gflops", "threads"}``: the machine's float32 product speed measured by the bench itself
(:func:`gemm_peak`), so ``peak_fraction`` (the step's :func:`step_flops` per second over it) says how close
a workload runs to the limit. steps/s is the median of ``--windows`` windows of at least ``--seconds``
each, after a warm-up of at least 20 steps and 0.5 s (which absorbs compilation; ``--compile`` measures
cold starts instead, see :mod:`.coldstart`).
"""
from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time

SEED = 0
WARMUP_STEPS, WARMUP_SECONDS = 20, 0.5

# name -> (id, batch, per-sample input shape (canonical), loss, classes)
SPECS = {
    "tiny-mlp": ("W1", 10, (2,), "bce", 2),
    "mnist-mlp": ("W2", 64, (784,), "cce", 10),
    "small-cnn": ("W3", 64, (1, 28, 28), "cce", 10),
    "digits-cnn": ("W4", 32, (1, 8, 8), "cce", 10),
    "rnn": ("W5", 32, (20, 1), "mse", None),
    "lstm": ("W6", 32, (20, 2), "bce", 2),
}
# weight shapes in generation order (canonical, Keras-style layouts); biases draw nothing
WEIGHTS = {
    "tiny-mlp": [(2, 8), (8,), (8, 8), (8,), (8, 1), (1,)],
    "mnist-mlp": [(784, 128), (128,), (128, 64), (64,), (64, 10), (10,)],
    "small-cnn": [(3, 3, 1, 16), (16,), (3, 3, 16, 32), (32,), (800, 10), (10,)],
    "digits-cnn": [(3, 3, 1, 8), (8,), (128, 10), (10,)],
    "rnn": [(1, 64), (64, 64), (64,), (64, 1), (1,)],
    "lstm": [(2, 256), (64, 256), (256,), (64, 1), (1,)],
}
FLATTEN_CHW = {"small-cnn": (32, 5, 5), "digits-cnn": (8, 4, 4)}


def make_problem(name: str, seed: int = SEED):
    """(X, y, weights) in the canonical layout, drawn in the reference order."""
    import numpy as np

    _, batch, shape, loss, classes = SPECS[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *shape), dtype=np.float32)
    if loss == "mse":
        y = rng.standard_normal((batch, 1), dtype=np.float32)
    else:
        y = rng.integers(0, classes, size=batch).astype(np.int64)
    weights = []
    for s in WEIGHTS[name]:
        if len(s) == 1:
            weights.append(np.zeros(s, np.float32))
            continue
        if len(s) == 2:
            fan_in, fan_out = s
        else:
            rf = s[0] * s[1]
            fan_in, fan_out = s[2] * rf, s[3] * rf
        lim = math.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-lim, lim, size=s).astype(np.float32))
    return x, y, weights


def build(name: str):
    """(model, x, y) ready for ``model.train_step(x, y)``."""
    import numpy as np

    from .. import layers as L
    from ..models import Sequential
    from ..optimizers import Adam

    x, y, w = make_problem(name)
    if name in FLATTEN_CHW:  # NCHW data -> NHWC; Dense rows (C, H, W) -> (H, W, C)
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        c, h, wd = FLATTEN_CHW[name]
        w[-2] = np.ascontiguousarray(w[-2].reshape(c, h, wd, -1).transpose(1, 2, 0, 3).reshape(c * h * wd, -1))
    shape = x.shape[1:]
    Dense = L.Dense
    if name == "tiny-mlp":
        layers = [Dense(8, "tanh", input_shape=shape), Dense(8, "tanh"), Dense(1, "sigmoid")]
    elif name == "mnist-mlp":
        layers = [Dense(128, "relu", input_shape=shape), Dense(64, "relu"), Dense(10, "softmax")]
    elif name == "small-cnn":
        layers = [L.Conv2D(16, 3, activation="relu", input_shape=shape), L.MaxPooling2D(2),
                  L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), Dense(10, "softmax")]
    elif name == "digits-cnn":
        layers = [L.Conv2D(8, 3, padding="same", activation="relu", input_shape=shape), L.MaxPooling2D(2),
                  L.Flatten(), Dense(10, "softmax")]
    elif name == "rnn":
        layers = [L.SimpleRNN(64, input_shape=shape), Dense(1)]
    else:
        layers = [L.LSTM(64, input_shape=shape), Dense(1, "sigmoid")]
    loss = {"bce": "binary_crossentropy", "cce": "sparse_categorical_crossentropy", "mse": "mse"}[SPECS[name][3]]
    model = Sequential(layers, seed=SEED)
    # epsilon on the bias-corrected sqrt(v_hat), as the reference definition (PyTorch) has it
    model.compile(optimizer=Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, epsilon_mode="paper"),
                  loss=loss)
    model.set_weights(w)
    x, y = model.check_data(x, y)
    return model, x, y


def _busy_seconds():
    try:
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:9]]
    except OSError:
        return None
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def measure(step, seconds: float, windows: int):
    """Per-window steps/s and the CPU share other processes used meanwhile (a noise indicator)."""
    pc = time.perf_counter
    t0, n = pc(), 0
    while n < WARMUP_STEPS or pc() - t0 < WARMUP_SECONDS:
        step()
        n += 1
    rates, other, ncpu = [], [], os.cpu_count() or 1
    for _ in range(windows):
        b0, c0, n, t0 = _busy_seconds(), time.process_time(), 0, pc()
        while True:
            step()
            n += 1
            elapsed = pc() - t0
            if elapsed >= seconds:
                break
        b1, c1 = _busy_seconds(), time.process_time()
        rates.append(n / elapsed)
        if b0 is not None:
            other.append(max(0.0, ((b1 - b0) - (c1 - c0)) / (elapsed * ncpu)))
    return rates, other


def step_flops(name: str) -> float:
    """Floating-point operations of one training step, counted the usual way: 2 per multiply-add of the
    forward pass's products (dense, convolution windows, recurrent input and state products), times 3 for
    forward + backward (each backward product is as big as its forward one, twice over)."""
    _, batch, shape, _, _ = SPECS[name]
    w = WEIGHTS[name]
    if name in FLATTEN_CHW:                       # conv: (kh, kw, C, F) 'valid' or 'same', then pool 2
        h = shape[1]
        macs = 0
        for s in (s for s in w if len(s) == 4):
            kh, kw, c, f = s
            out = h if name == "digits-cnn" else h - kh + 1
            macs += out * out * kh * kw * c * f
            h = out // 2
        macs += w[-2][0] * w[-2][1]
    elif name in ("rnn", "lstm"):                 # per time step: x_t @ W + h @ U, then the Dense head
        steps = shape[0]
        macs = steps * (w[0][0] * w[0][1] + w[1][0] * w[1][1]) + w[-2][0] * w[-2][1]
    else:
        macs = sum(a * b for a, b in (s for s in w if len(s) == 2))
    return 3 * 2 * batch * macs


def gemm_peak(threads: int, seconds: float = 0.6) -> float:
    """GFLOP/s of nnplay's own float32 product (the BLAS the kernels call, split over ``threads`` threads the
    way a big Dense layer is) on 1024 x 1024 matrices: the practical ceiling of any step on this machine."""
    import numpy as np

    from ..kernels.blas import split_gemm
    n = 1024
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    split_gemm(a, False, b, False, c, 0.0, threads, threads > 1)
    best, t_end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        split_gemm(a, False, b, False, c, 0.0, threads, threads > 1)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def default_threads() -> int:
    from ..system import cpu_count
    return cpu_count()


def cmd_bench(args) -> int:
    from ..errors import NnplayError

    names = args.workload or list(SPECS)
    if "all" in names:
        names = list(SPECS)
    for n in names:
        if n not in SPECS:
            from ..errors import did_you_mean
            raise NnplayError(f"unknown workload {n!r}" + did_you_mean(n, SPECS))
    threads = args.threads or default_threads()
    if threads < 1:
        raise NnplayError(f"--threads must be >= 1, got {threads}")
    if args.seconds <= 0 or args.windows < 1:
        raise NnplayError("--seconds must be > 0 and --windows >= 1")
    from ..system import set_threads, tune_allocator
    set_threads(threads)
    tune_allocator()
    if getattr(args, "compile", False):
        from .coldstart import cold_starts
        for rec in cold_starts(getattr(args, "family", None), threads):
            print(json.dumps(rec), flush=True)
        return 0
    peak = None if args.check else gemm_peak(threads)
    if peak is not None:
        print(json.dumps({"gemm_peak_gflops": round(peak, 1), "threads": threads}), flush=True)
    for name in names:
        model, x, y = build(name)
        if args.check:
            losses = [float(model.train_step(x, y)[0]) for _ in range(args.check)]
            print(json.dumps({"workload": name, "impl": "nnplay", "losses": losses}), flush=True)
            continue
        rates, other = measure(lambda: model.train_step(x, y), args.seconds, args.windows)
        med = statistics.median(rates)
        rec = {"workload": name, "steps_per_s": round(med, 2), "samples_per_s": round(med * SPECS[name][1], 1),
               "steps_per_s_min": round(min(rates), 2), "steps_per_s_max": round(max(rates), 2),
               "impl": "nnplay", "threads": threads}
        gflops = med * step_flops(name) / 1e9
        rec.update(gflops=round(gflops, 2), peak_fraction=round(gflops / peak, 3))
        if other:
            rec["other_load"] = round(statistics.median(other), 3)
        print(json.dumps(rec), flush=True)
    return 0
