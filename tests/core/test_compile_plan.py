"""The compile plan: which kernels a model makes Numba compile on a cold start (not how long it takes).

Every compiled kernel costs a cold start (a fresh install, a new Python or Numba, every CI run) between a
tenth of a second and several seconds. These tests run a whole scenario in a fresh process with an empty
kernel cache and record Numba's compile events: the kernels compiled, each at most once, and none of the
paths the model does not take.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

# The child records every compilation: the kernel, and whether another kernel's compilation asked for it.
_CHILD = textwrap.dedent("""
    import json, sys
    from numba.core import event

    compiled, depth = [], [0]

    class Listener(event.Listener):
        def on_start(self, e):
            f = e.data["dispatcher"].py_func
            compiled.append((f.__module__.rsplit(".", 1)[-1] + "." + f.__name__, depth[0]))
            depth[0] += 1

        def on_end(self, e):
            depth[0] -= 1

    event.register("numba:compile", Listener())
    from nnplay.core.experiments import build_experiment
    from nnplay.core.presets import load_preset

    exp = build_experiment(load_preset(sys.argv[1]))
    exp.warm_up()
    for _ in exp.trainer(epochs=2).run():
        pass
    exp.model.predict(exp.fit_kwargs["x"][:3000], batch_size=4096)   # the playground's decision map
    exp.evaluate()
    print(json.dumps(compiled))
""")


def compile_events(preset: str, tmp_path) -> list[tuple[str, int]]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NUMBA_NUM_THREADS": "2",
           "NNPLAY_COMPILE_AHEAD": "0"}     # this process's own plan (a helper would fill the cache beside it)
    res = subprocess.run([sys.executable, "-c", _CHILD, preset], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return [tuple(e) for e in json.loads(res.stdout.strip().splitlines()[-1])]


def test_an_mlp_compiles_one_step_kernel_and_one_optimizer_kernel(tmp_path):
    """spiral (Dense only, Adam, the playground's first model): training, validation, evaluate and a big
    predict all run one fused kernel, compiled once; nothing for layers, threads or other losses."""
    events = compile_events("spiral", tmp_path)
    names = [n for n, _ in events]
    top = sorted(n for n, d in events if d == 0)
    assert top == ["mlp.mlp_train_step_whole", "optim.adam_step"], top
    twice = sorted({n for n in names if names.count(n) > 1 and not n.startswith(("arrayobj.", "builtins."))})
    assert not twice, f"compiled more than once: {twice}"
    for absent in ("dense.dense_forward", "dense.dense_backward", "blas.split_gemm", "dense.matmul_split",
                   "activations.act_forward", "activations.act_backward", "mlp_update.grad_and_update",
                   "mlp_update.forward_by_rows", "optim_threads.adam_step"):
        assert absent not in names
    # the whole plan is small: the step, its products and epilogues, the optimizer and its clipping helpers
    # (four of them, the step's entry with every product whole, the two product calls and Adam's range update,
    # only route between this path and the big-model one)
    assert len([n for n in names if not n.startswith(("arrayobj.", "builtins."))]) <= 24, names


def test_a_cnn_compiles_one_chain_kernel_and_one_optimizer_kernel(tmp_path):
    """cnn-font-digits (Conv2D, MaxPooling2D, Flatten, Dense): training, validation, evaluate and the big
    predict all run the one-kernel chain step; no layer's own kernel, chunked or threaded, is compiled."""
    events = compile_events("cnn-font-digits", tmp_path)
    top = sorted(n for n, d in events if d == 0)
    assert top == ["conv_chain.conv_chain_range", "optim.adam_step"], top
    names = [n for n, _ in events]
    assert not [n for n in names if n.startswith("batched.") or n.endswith("_threads")], names
    assert names.count("conv_chain.conv_chain_range") == 1


_AHEAD = textwrap.dedent("""
    import json, sys
    from numba.core import event
    from nnplay.core.experiments import build_experiment
    from nnplay.core.training import compile_ahead
    from nnplay.core.presets import load_preset

    compiled = []

    class Listener(event.Listener):
        def on_start(self, e):
            compiled.append(e.data["dispatcher"].py_func.__name__)

        def on_end(self, e):
            pass

    exp = build_experiment(load_preset(sys.argv[1]))
    compile_ahead.DELAY = 0.0
    helper = compile_ahead.CompileAhead(exp.model).start()
    helper.timer.join()
    helper.proc.wait(timeout=600)          # let it finish: what it compiled is in the cache now
    status = helper.proc.returncode
    event.register("numba:compile", Listener())
    exp.warm_up()
    print(json.dumps({"status": status, "compiled": compiled}))
""")


def test_a_helper_process_compiles_from_the_other_end_into_the_shared_cache(tmp_path):
    """spiral on an empty cache: the helper compiles the optimizer's update, so this process loads it."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NUMBA_NUM_THREADS": "2",
           "NNPLAY_COMPILE_AHEAD": "1"}     # a served playground earlier in this process turns it off
    res = subprocess.run([sys.executable, "-c", _AHEAD, "spiral"], env=env, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["status"] == 0
    assert "mlp_train_step" in out["compiled"] and "adam_step" not in out["compiled"]


def test_no_helper_on_a_warm_cache_when_turned_off_or_for_an_uncompiled_model(monkeypatch):
    from nnplay.core import layers as L
    from nnplay.core.training import compile_ahead
    from nnplay.core.models import Sequential

    model = Sequential([L.Dense(2, input_shape=(3,))])
    assert compile_ahead._describe(model) is None                  # not compiled: nothing to rebuild
    model.compile(optimizer="adam", loss="mse")
    helper = compile_ahead.CompileAhead(model).start()
    helper.stop()                                                  # the warm-up ended before the delay
    assert helper.proc is None
    monkeypatch.setenv("NNPLAY_COMPILE_AHEAD", "0")
    off = compile_ahead.CompileAhead(model).start()
    assert off.timer is None
    off.stop()


def test_after_ready_the_helper_cuts_the_layers_a_run_cuts_later_big_dense_included(monkeypatch):
    """A second run of an MLP preset stalled ~10 s compiling Dense's split products for its 256-sample
    evaluation batches: the helper now compiles them too, for the Dense layers big enough to be split."""
    import nnplay.core.layers.core as core_layers
    from nnplay.core import keras
    from nnplay.core.layers.core import Dense
    from nnplay.core.models.compile_helper import cut_later

    monkeypatch.setattr(core_layers, "kernel_threads", lambda: 2)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                              keras.layers.Dense(128, name="big"), keras.layers.Dense(3, name="small")])
    model.compile(optimizer="adam", loss="mse")
    model._ensure_bound()                     # as the helper does: the weights live in the flat buffer
    names = [layer.name for layer in cut_later(model, Dense)]
    assert names[0].startswith("conv2d") and "big" in names and "small" not in names
    monkeypatch.setattr(core_layers, "kernel_threads", lambda: 1)     # one thread: nothing is ever cut
    assert [layer.name for layer in cut_later(model, Dense)] == names[:1]


def test_a_gan_hands_its_compiling_to_a_helper_that_rebuilds_both_players():
    """A GAN's cold start compiled in its warm-up thread, beside the NumPy training and slowed by it through
    the GIL (gan-digits took 17.8 s cold, 5.5 s with a helper). The description carries both players and
    their optimizers; the real helper rebuilds them from it and says ready."""
    import numpy as np

    from nnplay.core.experiments import build_experiment
    from nnplay.core.models.compile_helper import warm_gan
    from nnplay.core.presets import apply_overrides, load_preset
    from nnplay.core.training import compile_ahead

    exp = build_experiment(apply_overrides(load_preset("gan-ring"), {"training.epochs": 1}))
    spec = exp.helper_spec()
    assert spec is not None
    gan = json.loads(spec)["gan"]
    assert gan["generator"]["name"] == "generator" and gan["discriminator"]["name"] == "discriminator"
    before = [w.copy() for w in exp.gan.generator.get_weights() + exp.gan.discriminator.get_weights()]
    copy = warm_gan(gan)                       # what the helper does first, here: a copy, the GAN untouched
    assert copy.generator is not exp.gan.generator
    after = exp.gan.generator.get_weights() + exp.gan.discriminator.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    try:
        assert compile_ahead.compile_all(spec) is True
    finally:
        compile_ahead._helpers[-1].kill()     # its later work (cut batches, threads) is not this test's
