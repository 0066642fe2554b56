"""``nnplay bench``: the FLOP count behind its GFLOP/s column, its peak line, and ``--compile``'s families."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nnplay.core.cli import bench, coldstart


def test_step_flops_count_every_product_of_the_forward_pass_three_times():
    # mnist-mlp: 64 x (784*128 + 128*64 + 64*10) multiply-adds forward
    assert bench.step_flops("mnist-mlp") == 3 * 2 * 64 * (784 * 128 + 128 * 64 + 64 * 10)
    # small-cnn: 26x26 windows of 3x3x1 -> 16, pool, 11x11 windows of 3x3x16 -> 32, pool, 800 -> 10
    assert bench.step_flops("small-cnn") == 3 * 2 * 64 * (26 * 26 * 9 * 16 + 11 * 11 * 144 * 32 + 800 * 10)
    # digits-cnn pads ('same'): 8x8 windows
    assert bench.step_flops("digits-cnn") == 3 * 2 * 32 * (8 * 8 * 9 * 8 + 128 * 10)
    # recurrent: every time step multiplies the input and the state
    assert bench.step_flops("lstm") == 3 * 2 * 32 * (20 * (2 * 256 + 64 * 256) + 64)
    assert bench.step_flops("rnn") == 3 * 2 * 32 * (20 * (64 + 64 * 64) + 64)


def test_bench_prints_the_machines_peak_and_each_workloads_share_of_it():
    res = subprocess.run([sys.executable, "-m", "nnplay.core", "bench", "--workload", "tiny-mlp", "--threads", "1",
                          "--seconds", "0.05", "--windows", "1"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    peak = lines[0]["gemm_peak_gflops"]
    assert peak > 1.0 and lines[0]["threads"] == 1
    rec = lines[1]
    assert rec["workload"] == "tiny-mlp"
    expected = rec["steps_per_s"] * bench.step_flops("tiny-mlp") / 1e9
    assert rec["gflops"] == pytest.approx(expected, rel=0.01, abs=0.01)
    assert rec["peak_fraction"] == pytest.approx(rec["gflops"] / peak, rel=0.05, abs=0.002)


def test_compile_names_an_unknown_family_in_one_line():
    res = subprocess.run([sys.executable, "-m", "nnplay.core", "bench", "--compile", "--family", "lstmm"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "lstmm" in res.stderr and "lstm" in res.stderr


def test_compile_runs_each_family_cold_then_compiling_then_warm_in_fresh_caches(monkeypatch):
    calls = []

    def fake_run(preset, cache, threads, numpy_tier=True):
        calls.append((preset, cache, numpy_tier))
        return {0: 2.0, 1: 9.0, 2: 0.5}[(len(calls) - 1) % 3]
    monkeypatch.setattr(coldstart, "_run_once", fake_run)
    recs = list(coldstart.cold_starts(["mlp", "gru"], 2))
    assert [(r["family"], r["preset"], r["cold_s"], r["compile_s"], r["warm_s"]) for r in recs] == [
        ("mlp", "spiral", 2.0, 9.0, 0.5), ("gru", "gru-parity", 2.0, 9.0, 0.5)]
    assert [tier for _, _, tier in calls] == [True, False, True] * 2
    caches = [c for _, c, _ in calls]
    # the tiered run and the compiling run each get an empty cache; warm reuses the compiling run's only
    assert caches[0] != caches[1] == caches[2] and caches[3] != caches[4] == caches[5] != caches[0]
