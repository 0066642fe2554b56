"""``nnplay bench --compile``: the cold start a new user meets, per preset family.

For each family one shipped preset runs as ``nnplay run PRESET --epochs 1 -q`` in a fresh process: first with
an empty kernel cache of its own (cold: everything that preset needs is compiled, as on a fresh install, a
new Python or Numba, or a CI machine), then again with the cache that run wrote (warm). Each family starts
from an empty cache, so a figure is what that preset costs when it is the first thing run.

Output: one JSON line per family ``{"family", "preset", "cold_s", "warm_s", "threads"}`` (wall seconds from
process start to exit).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from ..errors import NnplayError, did_you_mean

#: family -> the shipped preset that stands for it
FAMILIES = {
    "mlp": "spiral",
    "cnn": "cnn-font-digits",
    "rnn": "rnn-sine",
    "lstm": "lstm-sine",
    "gru": "gru-parity",
    "autoencoder": "autoencoder",
    "gan": "gan-ring",
}


def _run_once(preset: str, cache: str, threads: int) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    cmd = [sys.executable, "-m", "nnplay.core", "run", preset, "--epochs", "1", "-q", "--threads", str(threads)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode not in (0, 1):     # 1: the preset's target was missed after one epoch, as expected
        last = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"
        raise NnplayError(f"bench --compile: {preset} failed: {last}")
    return wall


def cold_starts(families, threads: int):
    """Yield one record per family (all when ``families`` is empty), cold then warm."""
    names = list(families or FAMILIES)
    for f in names:
        if f not in FAMILIES:
            raise NnplayError(f"unknown family {f!r}" + did_you_mean(f, FAMILIES)
                              + f" (one of {', '.join(FAMILIES)})")
    for family in names:
        preset = FAMILIES[family]
        with tempfile.TemporaryDirectory(prefix="nnplay-cold-") as cache:
            cold = _run_once(preset, cache, threads)
            warm = _run_once(preset, cache, threads)
        yield {"family": family, "preset": preset, "cold_s": round(cold, 2), "warm_s": round(warm, 2),
               "threads": threads}
