"""``nnplay bench --compile``: the cold start a new user meets, per preset family.

For each family one shipped preset runs as ``nnplay run PRESET --epochs 1 -q`` in a fresh process, each time
with an empty kernel cache of its own (as on a fresh install, a new Python or Numba, or a CI machine):

* ``cold_s``: as a user meets it, training on the NumPy tier while a helper compiles the kernels;
* ``compile_s``: with ``NNPLAY_NUMPY_TIER=0``, waiting until every kernel the preset needs is compiled;
* ``warm_s``: again with the cache the ``compile_s`` run wrote.

Each run's whole process group is ended after it, so a helper still compiling for a finished run never
competes with the next measurement. Output: one JSON line per family ``{"family", "preset", "cold_s",
"compile_s", "warm_s", "threads"}`` (wall seconds from process start to exit).
"""
from __future__ import annotations

import contextlib
import os
import signal
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


def _run_once(preset: str, cache: str, threads: int, numpy_tier: bool = True) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "NNPLAY_NUMPY_TIER": "1" if numpy_tier else "0"}
    cmd = [sys.executable, "-m", "nnplay.core", "run", preset, "--epochs", "1", "-q", "--threads", str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, stderr = proc.communicate()
    finally:
        wall = time.perf_counter() - t0
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)      # a helper still compiling for this run
    res = subprocess.CompletedProcess(cmd, proc.returncode, "", stderr)
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
        with tempfile.TemporaryDirectory(prefix="nnplay-cold-") as cache:
            compiled = _run_once(preset, cache, threads, numpy_tier=False)
            warm = _run_once(preset, cache, threads)
        yield {"family": family, "preset": preset, "cold_s": round(cold, 2), "compile_s": round(compiled, 2),
               "warm_s": round(warm, 2), "threads": threads}
