"""Work split over threads: products cut into blocks, conv/pool batches cut into sample ranges, the all-Dense
step's products cut into blocks. Cutting must not change the math, and running the pieces on threads must
not change a single bit; nnplay's processes run BLAS single-threaded so the pieces can run on threads."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnplay.core import layers as L
from nnplay.core.kernels.blas import split_gemm
from nnplay.core.models import Sequential
from nnplay.core.optimizers import Adam


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("m,n,k", [(37, 9, 20), (5, 40, 33), (64, 128, 300), (1, 3, 2)])
@pytest.mark.parametrize("parts", [1, 2, 3])
def test_split_gemm_matches_numpy_and_threads_change_no_bit(m, n, k, ta, tb, parts):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    ref = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    outs = []
    for parallel in (False, True):
        c = np.full((m, n), np.nan, np.float32)
        split_gemm(a, ta, b, tb, c, 0.0, parts, parallel)
        outs.append(c)
    assert np.allclose(outs[0], ref, rtol=1e-4, atol=1e-4)
    assert np.array_equal(outs[0], outs[1])
    c = np.ones((m, n), np.float32)
    split_gemm(a, ta, b, tb, c, 1.0, parts, True)          # beta = 1 adds to what is there
    assert np.allclose(c, ref + 1.0, rtol=1e-4, atol=1e-4)


def _run_layer(layer, x, n_chunks, parallel):
    layer.n_chunks = n_chunks
    layer.pacer.force = parallel
    y = layer.forward(x, True)
    gx = layer.backward(np.cos(np.arange(y.size, dtype=np.float32)).reshape(y.shape))
    return [y.copy(), gx.copy(), *(g.copy() for g in layer.grads.values())]


@pytest.mark.parametrize("make,shape", [
    (lambda: L.Conv2D(5, 3, activation="relu"), (9, 9, 2)),           # PLANE when whole, ROWS when cut
    (lambda: L.Conv2D(4, (3, 2), strides=2, padding="same", activation="tanh"), (8, 7, 3)),
    (lambda: L.Conv1D(3, 3, padding="causal"), (10, 2)),
    (lambda: L.MaxPooling2D(2), (8, 8, 3)),
    (lambda: L.MaxPooling2D(3, strides=2, padding="same"), (7, 7, 2)),
])
def test_sample_ranges_match_the_whole_batch_and_threads_change_no_bit(make, shape):
    x = np.random.default_rng(2).standard_normal((7, *shape)).astype(np.float32)
    runs = {}
    for n_chunks, parallel in ((1, False), (3, False), (3, True)):
        layer = make()
        layer.build(shape, np.random.default_rng(0))
        runs[n_chunks, parallel] = _run_layer(layer, x, n_chunks, parallel)
    for whole, cut in zip(runs[1, False], runs[3, False]):
        assert np.allclose(whole, cut, rtol=1e-5, atol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(runs[3, False], runs[3, True]))


def test_conv_layer_changes_scratch_when_the_chunk_count_changes():
    layer = L.Conv2D(4, 3)
    layer.build((6, 6, 1), np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, 6, 6, 1)).astype(np.float32)
    first = _run_layer(layer, x, 1, False)
    again = _run_layer(layer, x, 2, True)
    for a, b in zip(first, again):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-5)


def _mlp(parts, parallel):
    model = Sequential([L.Dense(64, "relu", input_shape=(300,)), L.Dense(10, "softmax")], seed=0)
    model.compile(optimizer=Adam(1e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    x, y = model.check_data(x, y)
    model._fast._buffers(64)
    model._fast.parts = parts
    model._fast.pacer.force = parallel
    losses = [model.train_step(x, y)[0] for _ in range(4)]
    assert model._fast.parts == parts           # the one-kernel step really ran with this split
    assert model._fast.parallel == (parts > 1 and parallel)    # and so did the optimizer's update
    return losses, model.get_weights()


def test_dense_step_split_into_blocks_matches_and_threads_change_no_bit():
    whole, w_whole = _mlp(1, False)
    cut, w_cut = _mlp(2, False)
    threaded, w_threaded = _mlp(2, True)
    assert np.allclose(whole, cut, rtol=1e-6)
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(w_whole, w_cut))
    assert cut == threaded and all(np.array_equal(a, b) for a, b in zip(w_cut, w_threaded))


def test_nnplay_processes_run_blas_single_threaded_and_split_work_themselves():
    code = ("from nnplay.core.system import set_threads, blas_threads\n"
            "set_threads(2)\n"
            "import numpy\n"
            "from nnplay.core.pacing import kernel_threads\n"
            "print(blas_threads(), kernel_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "2"]
    # a library user's process is left alone: BLAS keeps its threads and the kernels do not add more
    code = ("import os; os.environ['OPENBLAS_NUM_THREADS'] = '2'; os.environ['NUMBA_NUM_THREADS'] = '2'\n"
            "from nnplay.core.system import blas_threads\n"
            "from nnplay.core.pacing import kernel_threads\n"
            "print(blas_threads(), kernel_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "1"]


def test_dense_layer_split_into_blocks_matches_and_threads_change_no_bit():
    x = np.random.default_rng(3).standard_normal((64, 300)).astype(np.float32)
    runs = {}
    for n_chunks, parallel in ((1, False), (2, False), (2, True)):
        layer = L.Dense(64, "tanh")
        layer.build((300,), np.random.default_rng(0))
        runs[n_chunks, parallel] = _run_layer(layer, x, n_chunks, parallel)
    for whole, cut in zip(runs[1, False], runs[2, False]):
        assert np.allclose(whole, cut, rtol=1e-5, atol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(runs[2, False], runs[2, True]))


def test_a_plain_kernel_that_calls_a_parallel_one_loads_from_the_cache():
    # The all-Dense step is the first kernel this process runs, and it calls the parallel split_gemm; the
    # second process loads both from the cache. Numba aborts that load unless its thread pool is up first.
    code = ("from nnplay.core.system import set_threads\n"
            "set_threads(2)\n"
            "from nnplay.core.cli.bench import build\n"
            "m, x, y = build('mnist-mlp')\n"
            "print(round(float(m.train_step(x, y)[0]), 4))\n")
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
            for _ in range(2)]
    for out in outs:
        assert out.returncode == 0, out.stderr[-2000:]
        assert "NumbaPerformanceWarning" not in out.stderr
    assert outs[0].stdout == outs[1].stdout and outs[0].stdout.strip()


def _settle(pacer, cost, steps):
    """Drive ``pacer`` for ``steps`` training steps whose cost per mode comes from ``cost(step, parallel)``."""
    modes = []
    for i in range(steps):
        parallel = pacer.choose(training=True)
        modes.append(parallel)
        pacer.record(parallel, cost(i, parallel), 1)
    return modes


def test_pacer_rides_out_one_slow_step_but_follows_lasting_contention():
    from nnplay.core.pacing import Pacer
    pacer = Pacer(wait=10, burst=3)
    _settle(pacer, lambda i, par: 1.0 if par else 2.0, 300)          # threads win; serial re-timed rarely
    assert pacer.wait > 10
    modes = _settle(pacer, lambda i, par: (50.0 if i == 0 else 1.0) if par else 2.0, 20)
    assert all(modes[:15])                                           # one 50x hiccup does not flip the mode
    # lasting contention: threads become slow; serial takes over within a few steps and, although the
    # waits had grown, threads are re-timed soon after (they stay slow, so serial stays, re-timing backs off)
    modes = _settle(pacer, lambda i, par: 3.0 if par else 2.0, 60)
    first_serial = modes.index(False)
    assert first_serial < 15
    assert any(modes[first_serial:first_serial + 20])               # re-timed soon, not after the old wait
    assert sum(modes[first_serial:]) <= 16                           # 3 bursts of 5, each further apart
    modes = _settle(pacer, lambda i, par: 1.0 if par else 2.0, 60)  # contention gone: threads come back
    assert sum(modes[-30:]) >= 20


def test_a_threaded_run_uses_the_threaded_twin_and_a_serial_one_the_plain_kernel(monkeypatch):
    """Chunked kernels are compiled twice from one source: serial (no parallel machinery to compile, the
    cold-start cost most runs never need) and a parallel twin, which the pacer's threaded choice runs."""
    from nnplay.core import pacing
    from nnplay.core.kernels import _jit, batched
    from nnplay.core.kernels import recurrent as R

    for kernel in (R.lstm_forward, R.lstm_backward, R.gru_forward, R.gru_backward, R.rnn_forward,
                   R.rnn_backward, batched.conv2d_forward_chunks, batched.maxpool2d_backward_chunks):
        twin = _jit.threaded(kernel)
        assert not kernel.targetoptions.get("parallel") and twin.targetoptions["parallel"]
        assert twin.py_func.__name__ == kernel.py_func.__name__ + "_threads"
    calls = []
    real = pacing._call

    def spy(kernel, args, n, parallel):
        calls.append((kernel.py_func.__name__, n, parallel))
        real(kernel, args, n, parallel)
    monkeypatch.setattr(pacing, "_call", spy)
    x = np.random.default_rng(1).standard_normal((16, 5, 3)).astype(np.float32)
    for parallel in (False, True):
        layer = L.LSTM(8, return_sequences=True)
        layer.build((5, 3), np.random.default_rng(0))
        _run_layer(layer, x, 2, parallel)
    assert calls == [("lstm_forward", 2, False), ("lstm_backward", 2, False),
                     ("lstm_forward", 2, True), ("lstm_backward", 2, True)]
    assert _jit.threaded(R.lstm_forward).signatures and _jit.threaded(R.lstm_backward).signatures


def test_run_ranges_runs_the_ranges_at_once_in_order_and_waits_for_all_when_one_fails():
    import threading
    import time

    from nnplay.core.pacing import run_ranges

    both = threading.Barrier(2, timeout=10)    # passes only when two ranges run at the same time

    def meet(k):
        both.wait()
        return k, threading.current_thread().name

    out = run_ranges(meet, 2, True)
    assert [k for k, _ in out] == [0, 1] and out[0][1] != out[1][1]
    assert [k for k, _ in run_ranges(lambda k: (k, None), 3, False)] == [0, 1, 2]
    done = []

    def fail_first(k):
        if k == 0:
            raise ValueError("range 0")
        time.sleep(0.2)
        done.append(k)

    with pytest.raises(ValueError):
        run_ranges(fail_first, 2, True)
    assert done == [1]                          # the other range had finished before the error came out


def test_run_ranges_works_in_a_forked_child_after_the_parent_used_threads():
    code = """
import os, sys
from nnplay.core.pacing import run_ranges
run_ranges(lambda k: k, 2, True)               # the parent's pool of worker threads exists now
pid = os.fork()
if pid == 0:
    os._exit(0 if run_ranges(lambda k: k * 2, 2, True) == [0, 2] else 1)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    res = subprocess.run([sys.executable, "-c", code], timeout=60, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-1000:]
