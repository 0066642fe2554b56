"""``nnplay run``: train a preset headless and report.

A run validates everything first (the preset, the overrides, every variant, the data, the layer shapes,
the memory), then trains each run in turn, consuming the trainer's events like the playground does, and
reports through :mod:`.reporters`. Exit codes (:mod:`.exits`): 0 success, 1 a stated target was missed (or
training diverged), 2 bad input, 128 + signal when stopped. Ctrl-C, SIGTERM and SIGHUP stop at the next
batch and still save what was trained (:mod:`.signals`). The ``--out`` folder is checked and locked before
training and receives all of a run's files at once at the end (:mod:`.outdir`).
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import time

import numpy as np

from .. import tiers
from ..errors import NnplayError
from ..experiments import Experiment, build_experiment
from ..models.npz_format import model_npz_bytes
from ..presets import Preset, apply_overrides, load_preset, parse_override_value, variant_preset
from ..training import BatchEnded, Diverged, EpochEnded, Finished
from ..training.tiered import Compiling, numpy_tier_enabled, start_warm_up
from . import signals
from .exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_TARGET_MISSED
from .outdir import OutDir
from .reporters import JsonReporter, RunResult, _finite, _write, make_reporter

STATUS_EXIT = {"success": EXIT_OK, "target_missed": EXIT_TARGET_MISSED, "diverged": EXIT_TARGET_MISSED,
               "interrupted": EXIT_INTERRUPTED}


def _overrides(args) -> list[tuple[dict, str]]:
    out = []
    sets = {}
    for item in getattr(args, "set", None) or []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise NnplayError(f"--set {item!r}: expected KEY=VALUE, e.g. --set training.optimizer.learning_rate=0.01")
        sets[key.strip()] = parse_override_value(value.strip())
    if sets:
        out.append((sets, "--set"))
    if getattr(args, "epochs", None) is not None:
        out.append(({"training.epochs": args.epochs}, "--epochs"))
    if getattr(args, "seed", None) is not None:
        out.append(({"seed": args.seed}, "--seed"))
    return out


def overrides_text(args) -> str:
    """The command line's changes to the preset, as ``key=value, ...`` ("" when there are none)."""
    from ..presets.toml_io import literal
    parts = [f"{k}={literal(v)}" for changes, _ in _overrides(args) for k, v in changes.items()]
    if getattr(args, "model", None):
        parts.append(f"the model from {args.model} instead of [model]")
    return ", ".join(parts)


def _saved_model(args):
    """``--model FILE``: a fresh copy of the saved model for each run (``None`` without the option)."""
    path = getattr(args, "model", None)
    if not path:
        return None
    from ..models import load_model
    return load_model(path, compile=False)


def resolve(args) -> tuple[Preset, list[tuple[str | None, Preset]]]:
    """The preset with the command-line overrides, and the runs it asks for (one per variant)."""
    preset = load_preset(args.preset)
    for overrides, label in _overrides(args):
        preset = apply_overrides(preset, overrides, label)
    chosen = getattr(args, "variant", None)
    if chosen and not preset.variants:
        raise NnplayError(f"--variant {chosen}: preset {preset.name!r} has no variants; leave --variant out")
    if preset.variants:
        picked = [(v.name, i) for i, v in enumerate(preset.variants) if not chosen or v.name == chosen]
        if not picked:
            variant_preset(preset, chosen)         # names the variants, with a did-you-mean
        return preset, [(name, variant_preset(preset, i)) for name, i in picked]
    return preset, [(None, preset)]


class _Interrupt(signals.Stopper):
    """Ctrl-C, SIGTERM or SIGHUP asks the running trainer to stop at the next batch (what was trained is then
    evaluated and saved); a second one quits at once."""

    def __init__(self, reporter):
        super().__init__(reporter.note)


def _warm_up(exp: Experiment, reporter) -> Compiling | None:
    """Compile the kernels (or load them from the cache). On a cold cache the run trains on the NumPy tier
    at once while they compile in the background: the handle of that compilation is returned. With
    NNPLAY_NUMPY_TIER=0 the run waits for them instead, with a notice while Numba compiles."""
    # --quiet keeps stdout to the summary; a wait of many seconds is still said on a terminal's stderr
    tell = not reporter.quiet or _stderr_is_terminal()
    if numpy_tier_enabled():
        handle = start_warm_up(exp)
        if handle is not None and tell:
            reporter.note("compiling kernels in the background (first run only); training on NumPy meanwhile")
        return handle
    state = {"handle": None, "compiled": False}

    def on_compile():
        if not state["compiled"]:
            state["compiled"] = True
            state["handle"] = reporter.compiling() if tell else None

    try:
        from numba.core import event as nb_event

        class Watch(nb_event.Listener):
            def on_start(self, event):
                on_compile()

            def on_end(self, event):
                pass

        with nb_event.install_listener("numba:compile", Watch()):
            seconds = exp.warm_up()
    except ImportError:  # pragma: no cover - numba is a dependency
        seconds = exp.warm_up()
    if state["compiled"] and tell:
        reporter.compiled(state["handle"], seconds)
    return None


def _tier_while(compiling: Compiling | None):
    """Run on NumPy while ``compiling`` is not ready (nothing compiles in this thread meanwhile)."""
    return tiers.running(tiers.while_compiling(compiling))


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):     # closed or replaced stderr
        return False


def _train(label, exp: Experiment, reporter, stopper: _Interrupt, compiling: Compiling | None = None) -> RunResult:
    """Drive one trainer to the end, then evaluate every split and check the target. While ``compiling``
    is not ready, batches run on the NumPy tier."""
    result = RunResult(label)
    trainer = exp.trainer()
    trainer.compiling = compiling
    tier = tiers.NUMPY if compiling is not None else tiers.KERNELS
    finished, lrs, secs = None, [], []
    t0 = time.perf_counter()
    # A blow-up is reported by the trainer (Diverged), not as NumPy overflow warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        stopper.trainer = trainer
        try:
            if stopper.hit:
                trainer.stop()
            for ev in trainer.run():
                if isinstance(ev, BatchEnded) and ev.tier != tier:
                    tier = ev.tier
                    reporter.note(f"kernels compiled in {compiling.seconds:.1f}s; training runs on them from "
                                  f"epoch {ev.epoch + 1}, batch {ev.batch + 1}")
                reporter.event(ev, label)
                if isinstance(ev, EpochEnded):
                    lrs.append(ev.learning_rate)
                    secs.append(ev.seconds)
                elif isinstance(ev, Diverged):
                    result.message = ev.message
                elif isinstance(ev, Finished):
                    finished = ev
        finally:
            stopper.trainer = None
        result.seconds = time.perf_counter() - t0
        with _tier_while(compiling):
            result.metrics = exp.evaluate(trainer)
    result.stop_reason = finished.reason if finished else "stopped"
    result.message = result.message or (finished.message if finished else "")
    result.epochs_run = len(trainer.history.epoch)
    result.tier_steps = dict(trainer.tier_steps)
    result.history = {k: list(v) for k, v in trainer.history.history.items()}
    result.history.update(learning_rate=lrs, seconds=secs)
    if exp.target is not None:
        t = exp.target
        value = result.metrics.get(t.metric)
        result.target = {"metric": t.metric, "min": t.min, "max": t.max, "value": value, "met": t.check(value),
                         "description": t.describe()}
    if stopper.hit:
        result.status = "interrupted"
    elif result.stop_reason == "diverged":
        result.status = "diverged"
    elif result.target is not None and not result.target["met"]:
        result.status = "target_missed"
    return result


def _history_csv(history: dict) -> str:
    keys = list(history)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["epoch", *keys])
    n = max((len(history[k]) for k in keys), default=0)
    for i in range(n):
        w.writerow([i + 1, *[repr(float(history[k][i])) if i < len(history[k]) else "" for k in keys]])
    return buf.getvalue()


def _stage_run(outdir: OutDir, label, preset: Preset, exp: Experiment, result: RunResult) -> None:
    """One run's files, kept until the whole command is done (see :class:`.outdir.OutDir`)."""
    folder = label or ""
    outdir.stage(os.path.join(folder, "preset.toml"), preset.to_toml())
    outdir.stage(os.path.join(folder, "history.csv"), _history_csv(result.history))
    outdir.stage(os.path.join(folder, "model.npz"), model_npz_bytes(exp.model))
    outdir.stage(os.path.join(folder, "metrics.json"),
                 json.dumps({"preset": preset.name, **result.as_dict()}, indent=2, allow_nan=False) + "\n")


def _size_hint(experiments) -> int:
    """About how many bytes a run's files take: each model with its optimizer state, its history, margin."""
    return sum(16 * exp.model.count_params() + 200 * p.training.epochs + (64 << 10) for _, p, exp in experiments)


def _overall(results: list[RunResult]) -> str:
    for status in ("interrupted", "diverged", "target_missed"):
        if any(r.status == status for r in results):
            return status
    return "success"


def _summary(preset: Preset, results: list[RunResult], seconds: float) -> dict:
    summary = {"event": "summary", "preset": preset.name, "status": _overall(results)}
    if len(results) == 1 and results[0].label is None:
        summary.update(results[0].as_dict())
    else:
        r_dicts = [{"variant": r.label, **r.as_dict()} for r in results]
        summary["metrics"] = {f"{r.label}/{k}": v for r in results for k, v in _finite(r.metrics).items()}
        targets = [r.target for r in results if r.target]
        summary["target"] = {"met": all(t["met"] for t in targets)} if targets else None
        summary["epochs_run"] = sum(r.epochs_run for r in results)
        summary["variants"] = r_dicts
    summary["seconds"] = round(seconds, 3)
    return summary


def cmd_run(args) -> int:
    t_start = time.perf_counter()
    preset, runs = resolve(args)
    # Everything is built (data, shapes, memory) and the --out folder checked and locked before anything
    # trains; no file is written until the end.
    experiments = [(label, p, build_experiment(p, model=_saved_model(args))) for label, p in runs]
    out = getattr(args, "out", None)
    outdir = OutDir(out, [label for label, _ in runs]) if out else None
    with outdir if outdir is not None else contextlib.nullcontext():
        if outdir is not None:
            outdir.prepare(_size_hint(experiments))
        return _run_all(args, preset, runs, experiments, outdir, t_start)


def _run_all(args, preset: Preset, runs, experiments, outdir: OutDir | None, t_start: float) -> int:
    reporter = make_reporter(args)
    reporter.start(preset, runs, overrides_text(args))
    results: list[RunResult] = []
    with _Interrupt(reporter) as stopper:
        for i, (label, p, exp) in enumerate(experiments):
            if stopper.hit:
                break
            reporter.start_run(label, exp, i, len(experiments))
            compiling = _warm_up(exp, reporter)
            result = _train(label, exp, reporter, stopper, compiling)
            results.append(result)
            if outdir is not None:
                _stage_run(outdir, label, p, exp, result)
            reporter.end_run(result, exp)
            with _tier_while(compiling):
                text = exp.render()      # generative presets: reconstructions or samples as text
            if text and not reporter.quiet and not isinstance(reporter, JsonReporter):
                _write(sys.stdout, text + "\n")
    if stopper.hit and not results:
        return signals.exit_code(stopper.signum)
    summary = _summary(preset, results, time.perf_counter() - t_start)
    if outdir is not None and (len(results) > 1 or results[0].label):
        outdir.stage("preset.toml", preset.to_toml())
        outdir.stage("metrics.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
    reporter.summary(summary, results)
    if outdir is not None:
        outdir.publish()             # every file of the run at once, after the results were reported
    if summary["status"] == "interrupted":
        return signals.exit_code(stopper.signum)
    return STATUS_EXIT[summary["status"]]
