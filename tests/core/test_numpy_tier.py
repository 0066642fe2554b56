"""The NumPy tier: each NumPy function against its kernel (optimizers, Dense, the all-Dense model), the
trainer's switch from NumPy to the kernels, and a cold start that trains at once."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from nnplay.core import layers as L
from nnplay.core import tiers
from nnplay.core.models import Sequential
from nnplay.core.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop

OPTIMIZERS = {
    "sgd": lambda **c: SGD(0.05, **c),
    "sgd-momentum": lambda **c: SGD(0.05, momentum=0.9, **c),
    "sgd-nesterov": lambda **c: SGD(0.05, momentum=0.9, nesterov=True, **c),
    "rmsprop": lambda **c: RMSprop(0.01, **c),
    "rmsprop-centered-momentum": lambda **c: RMSprop(0.01, momentum=0.5, centered=True, **c),
    "adam": lambda **c: Adam(0.01, **c),
    "adam-amsgrad": lambda **c: Adam(0.01, amsgrad=True, **c),
    "adamw": lambda **c: AdamW(0.01, weight_decay=0.1, **c),
    "adagrad": lambda **c: Adagrad(0.1, **c),
    "adadelta": lambda **c: Adadelta(1.0, **c),
    "nadam": lambda **c: Nadam(0.01, **c),
}
CLIPS = {"none": {}, "clipnorm": {"clipnorm": 0.5}, "global_clipnorm": {"global_clipnorm": 0.5},
         "clipvalue": {"clipvalue": 0.3}}


def _run_optimizer(make, clip, tier, dtype):
    rng = np.random.default_rng(1)
    p = rng.normal(size=40).astype(dtype)
    opt = make(**clip)
    opt.build([(0, 12), (12, 8), (25, 15)], p.size, dtype)      # 20..25 belongs to no variable: untouched
    with tiers.running(tier):
        for _ in range(6):
            opt.apply(p, (rng.normal(size=p.size) * 2).astype(dtype))
    return p, opt.get_state()


@pytest.mark.parametrize("clip", CLIPS)
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_optimizer_update_matches_its_kernel(name, clip, dtype):
    pk, sk = _run_optimizer(OPTIMIZERS[name], CLIPS[clip], tiers.KERNELS, dtype)
    pn, sn = _run_optimizer(OPTIMIZERS[name], CLIPS[clip], tiers.NUMPY, dtype)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(pn, pk, **tol)
    assert sn.keys() == sk.keys()
    for key in sk:
        np.testing.assert_allclose(sn[key], sk[key], **tol, err_msg=key)


def test_the_optimizer_tier_is_what_runs():
    """The NumPy tier calls the NumPy update (once per step), the kernel tier never does."""
    calls = []
    from nnplay.core.optimizers import rules

    real = rules.T.adam_step
    rules.T.adam_step = lambda *a: calls.append(1) or real(*a)
    try:
        _run_optimizer(OPTIMIZERS["adam"], {}, tiers.NUMPY, np.float32)
        _run_optimizer(OPTIMIZERS["adam"], {}, tiers.KERNELS, np.float32)
    finally:
        rules.T.adam_step = real
    assert len(calls) == 6


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid", "softmax", "elu", "gelu"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_forward_and_backward_match_the_kernel(activation, use_bias):
    rng = np.random.default_rng(2)
    layer = L.Dense(7, activation=activation, use_bias=use_bias)
    layer.build((5,), rng)
    layer.grads = {k: np.full_like(v, 1e3) for k, v in layer.params.items()}   # overwritten, never added to
    x = rng.normal(size=(6, 5)).astype(np.float32)
    g = rng.normal(size=(6, 7)).astype(np.float32)
    results = {}
    for tier in (tiers.KERNELS, tiers.NUMPY):
        with tiers.running(tier):
            out = layer.forward(x, True).copy()
            gx = layer.backward(g)
        results[tier] = (out, gx, {k: v.copy() for k, v in layer.grads.items()})
    (ok, gk, wk), (on, gn, wn) = results[tiers.KERNELS], results[tiers.NUMPY]
    np.testing.assert_allclose(on, ok, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gn, gk, rtol=1e-4, atol=1e-5)
    for k in wk:
        np.testing.assert_allclose(wn[k], wk[k], rtol=1e-4, atol=1e-5, err_msg=k)


def _mlp(loss, out_units, activation):
    m = Sequential([L.Dense(16, activation="relu", input_shape=(4,)), L.Dense(out_units, activation=activation)],
                   seed=3)
    m.compile(optimizer="adam", loss=loss)
    return m


@pytest.mark.parametrize("loss, units, activation", [("sparse_categorical_crossentropy", 3, "softmax"),
                                                     ("categorical_crossentropy", 3, "softmax"),
                                                     ("binary_crossentropy", 1, "sigmoid"), ("mse", 2, "linear")])
def test_an_all_dense_model_trains_the_same_on_both_tiers(loss, units, activation):
    """The one-kernel step of an all-Dense model and the layer-by-layer NumPy step give the same losses
    and weights to float rounding."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    if loss.startswith("sparse"):
        y = rng.integers(0, units, 32)
    elif loss == "categorical_crossentropy":
        y = np.eye(units, dtype=np.float32)[rng.integers(0, units, 32)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, (32, 1)).astype(np.float32)
    else:
        y = rng.normal(size=(32, units)).astype(np.float32)
    mk, mn = _mlp(loss, units, activation), _mlp(loss, units, activation)
    xb, yb = mk.check_data(x, y)
    losses = {tiers.KERNELS: [], tiers.NUMPY: []}
    for _ in range(10):
        losses[tiers.KERNELS].append(mk.train_step(xb, yb)[0])
        with tiers.running(tiers.NUMPY):
            losses[tiers.NUMPY].append(mn.train_step(xb, yb)[0])
    assert mk._fast is not None                       # the kernel tier took the one-kernel step
    np.testing.assert_allclose(losses[tiers.NUMPY], losses[tiers.KERNELS], rtol=1e-4)
    assert losses[tiers.NUMPY][-1] < losses[tiers.NUMPY][0]
    np.testing.assert_allclose(mn.P, mk.P, rtol=1e-4, atol=1e-5)
    with tiers.running(tiers.NUMPY):
        pn = mn.predict(x)
    np.testing.assert_allclose(pn, mk.predict(x), rtol=1e-4, atol=1e-5)


class _ReadyAfter:
    """A stand-in for a background compilation: ready after ``n`` questions."""

    def __init__(self, n):
        self.n = n

    def ready(self):
        self.n -= 1
        return self.n < 0


def test_the_trainer_runs_numpy_until_the_kernels_are_ready_then_switches_for_good():
    from nnplay.core.training import BatchEnded, EpochEnded, Finished, Trainer

    rng = np.random.default_rng(5)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    m = _mlp("binary_crossentropy", 1, "sigmoid")
    seen = []
    real = m.train_step
    m.train_step = lambda xb, yb: seen.append(tiers.current()) or real(xb, yb)
    trainer = Trainer(m, x, y, epochs=3, batch_size=16, validation_split=0.25)
    trainer.compiling = _ReadyAfter(5)
    events = list(trainer.run())
    batch_tiers = [e.tier for e in events if isinstance(e, BatchEnded)]
    assert batch_tiers == seen == ["numpy"] * 5 + ["kernels"] * 4
    # 3 batches an epoch: the second epoch's last batch already ran the kernels
    assert [e.tier for e in events if isinstance(e, EpochEnded)] == ["numpy", "kernels", "kernels"]
    done = events[-1]
    assert isinstance(done, Finished) and done.tier_steps == {"numpy": 5, "kernels": 4}
    assert trainer.compiling is None


_COLD = textwrap.dedent("""
    import json, sys, threading
    from numba.core import event
    from nnplay.core.experiments import build_experiment
    from nnplay.core.training.tiered import start_warm_up
    from nnplay.core.presets import load_preset

    exp = build_experiment(load_preset("spiral"))
    here = []

    class Listener(event.Listener):
        def on_start(self, e):
            here.append(e.data["dispatcher"].py_func.__name__)

        def on_end(self, e):
            pass

    event.register("numba:compile", Listener())
    handle = start_warm_up(exp)
    trainer = exp.trainer(epochs=100000)
    trainer.compiling = handle
    for ev in trainer.run():
        if type(ev).__name__ == "BatchEnded" and ev.tier == "kernels":
            trainer.stop()
    print(json.dumps({"cold": handle is not None, "helper": handle.helper, "error": repr(handle.error),
                      "steps": trainer.tier_steps, "here": here}))
""")


def test_a_cold_start_trains_on_numpy_at_once_while_a_helper_compiles_then_switches(tmp_path):
    """spiral on an empty cache: training starts before any kernel is compiled, a helper process compiles
    them, this process only loads them (its one compile event is the one it handed over), and the trainer
    then runs the kernels. Later runs on that cache use the kernels from the first batch, so they repeat
    bit for bit, with or without the tier."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NNPLAY_NUMPY_TIER": "1",
           "NNPLAY_COMPILE_AHEAD": "1"}
    res = subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["cold"] and out["error"] == "None"
    assert out["steps"]["numpy"] > 0 and out["steps"]["kernels"] >= 1
    if (os.cpu_count() or 1) >= 2:
        assert out["helper"] is True
        assert out["here"] == ["mlp_train_step_whole"], out["here"]    # handed over before anything was typed
    runs = []
    for tier_on in ("1", "1", "0"):
        cmd = [sys.executable, "-m", "nnplay.core", "run", "spiral", "--epochs", "2", "--json"]
        res = subprocess.run(cmd, env={**env, "NNPLAY_NUMPY_TIER": tier_on}, capture_output=True, text=True,
                             timeout=600)
        assert res.returncode in (0, 1), res.stderr[-2000:]
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    assert [r["tier_steps"]["numpy"] for r in runs] == [0, 0, 0]
    assert runs[0]["metrics"] == runs[1]["metrics"] == runs[2]["metrics"]


def _run_alone(cmd, env) -> subprocess.CompletedProcess:
    """``cmd`` in a process group of its own, ended with it: a helper it leaves compiling must not slow the
    tests after this one."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_a_cold_nnplay_run_says_it_trains_on_numpy_and_reports_the_tier(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NNPLAY_NUMPY_TIER": "1"}
    res = _run_alone([sys.executable, "-m", "nnplay.core", "run", "spiral", "--epochs", "1", "--json"], env)
    assert res.returncode in (0, 1), res.stderr[-2000:]
    lines = [json.loads(line) for line in res.stdout.strip().splitlines()]
    assert lines[0]["event"] == "epoch" and lines[0]["tier"] == "numpy"
    assert lines[-1]["tier_steps"] == {"numpy": 25, "kernels": 0}
    assert "training on NumPy meanwhile" in res.stderr


def test_a_divergence_on_the_numpy_tier_is_diagnosed_on_it_too():
    """The replay that finds the layer that blew up runs on the batch's tier (on a cold cache the kernel
    tier would compile the layers' kernels just to write the message)."""
    from nnplay.core.training import Diverged, Trainer

    rng = np.random.default_rng(6)
    x = rng.normal(size=(64, 4)).astype(np.float32) * 1e3
    y = rng.normal(size=(64, 2)).astype(np.float32) * 1e3
    m = Sequential([L.Dense(8, input_shape=(4,)), L.Dense(2)], seed=0)
    m.compile(optimizer=SGD(1e3), loss="mse")
    replays = []
    real = m.forward
    m.forward = lambda *a, **k: replays.append(tiers.current()) or real(*a, **k)
    trainer = Trainer(m, x, y, epochs=5, batch_size=16)
    trainer.compiling = _ReadyAfter(10 ** 6)
    events = list(trainer.run())
    assert any(isinstance(e, Diverged) for e in events)
    assert replays and set(replays) == {"numpy"}


_FIT = textwrap.dedent("""
    import json
    import numpy as np
    from numba.core import event
    from nnplay import keras

    here = []

    class Listener(event.Listener):
        def on_start(self, e):
            f = e.data["dispatcher"].py_func
            here.append(f.__module__ + "." + f.__name__)

        def on_end(self, e):
            pass

    event.register("numba:compile", Listener())
    rng = np.random.default_rng(0)
    x, y = rng.random((256, 6, 3)), rng.integers(0, 2, (256, 1))
    model = keras.Sequential([keras.layers.LSTM(8, input_shape=(6, 3)), keras.layers.Dense(1, "sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=1)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    model.predict(x[:5])
    print(json.dumps({"here": here, "loss": history.history["loss"], "logs": logs}))
""")


def test_a_cold_keras_fit_trains_on_numpy_at_once_and_evaluates_there_until_the_kernels_are_ready(tmp_path):
    """A tutorial script on a fresh install: fit starts at once (the LSTM's kernels take ~20 s to compile),
    and the evaluate and predict after it run on the NumPy tier too instead of compiling in the script's
    thread: the script's process compiles nothing but the one kernel it handed to the helper."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NNPLAY_NUMPY_TIER": "1",
           "NNPLAY_COMPILE_AHEAD": "1"}
    done = _run_alone([sys.executable, "-c", _FIT], env)         # the helper may still be compiling
    assert done.returncode == 0, done.stderr[-2000:]
    res = json.loads(done.stdout.strip().splitlines()[-1])
    assert "training on NumPy meanwhile" in done.stderr
    assert len(res["loss"]) == 2 and all(np.isfinite(res["loss"])) and 0 <= res["logs"]["accuracy"] <= 1
    if (os.cpu_count() or 1) >= 2:
        assert len(res["here"]) == 1, res["here"]


def test_only_the_first_fit_of_a_model_warms_its_kernels(monkeypatch):
    from nnplay.core.models import fitting

    monkeypatch.setenv("NNPLAY_NUMPY_TIER", "1")
    starts = []
    monkeypatch.setattr(fitting, "start_warm_up", lambda warm: starts.append(warm) or None)
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(32, 4)).astype(np.float32), rng.normal(size=(32, 2)).astype(np.float32)
    m = _mlp("mse", 2, "linear")
    m.fit(x, y, epochs=1, verbose=0)
    m.fit(x, y, epochs=1, verbose=0)
    assert len(starts) == 1
    monkeypatch.setenv("NNPLAY_NUMPY_TIER", "0")
    other = _mlp("mse", 2, "linear")
    other.fit(x, y, epochs=1, verbose=0)
    assert len(starts) == 1


def test_a_helper_that_fails_hangs_or_is_interrupted_is_told_apart(monkeypatch):
    """Failed or hung (killed after the timeout): the caller compiles itself; ended by a signal (Ctrl-C
    reaches the whole process group): the run is stopping and nothing more is compiled."""
    from nnplay.core.training import compile_ahead

    spec = json.dumps({"class": "Nope"})
    assert compile_ahead.compile_all(spec) is False                  # the real helper, on a model it cannot build

    def helper(code):
        monkeypatch.setattr(compile_ahead, "_helper_argv", lambda: [sys.executable, "-c", code])
    monkeypatch.setattr(compile_ahead, "HELPER_TIMEOUT", 0.5)
    helper("import time; time.sleep(30)")
    assert compile_ahead.compile_all(spec) is False
    helper("import os, signal, time; os.kill(os.getpid(), signal.SIGINT); time.sleep(5)")
    assert compile_ahead.compile_all(spec) is None
    # ready: the caller goes on at once while the helper keeps compiling (the threaded twins)
    helper("import sys, time; sys.stdin.read(); print('ready', flush=True); time.sleep(30)")
    t0 = time.perf_counter()
    assert compile_ahead.compile_all(spec) is True
    assert time.perf_counter() - t0 < 20
    compile_ahead._helpers[-1].kill()
