"""How a headless run reports: a rich progress display on a terminal, plain lines when piped, or JSON lines
with ``--json``; all three consume the trainer's events. Diagnostics go to stderr."""
from __future__ import annotations

import io
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field

from ..experiments import Experiment
from ..presets import Preset
from ..safety import sanitize
from ..training import BatchEnded, Diverged, EpochEnded, Finished, TrainingStarted

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def transfer_lines(exp) -> list[str]:
    """A [model.base]'s origin and score, and when fine-tuning starts (nothing without a base)."""
    lines = [exp.base.describe()] if getattr(exp, "base", None) is not None else []
    return lines + [cb.describe() for cb in exp.callbacks if type(cb).__name__ == "FineTune"]


def fmt_seconds(seconds: float) -> str:
    """``12.3s``, ``0.42s``, ``0.003s``: always some digits that are not zero (a fast run is not 0.0s)."""
    if seconds >= 10:
        return f"{seconds:.1f}s"
    return f"{seconds:.2g}s" if seconds >= 0.001 else "<0.001s"


@dataclass
class RunResult:
    """What one training run produced (one per variant)."""

    label: str | None
    status: str = "success"          #: success | target_missed | interrupted | diverged
    stop_reason: str = ""            #: the trainer's Finished.reason
    message: str = ""
    metrics: dict = field(default_factory=dict)
    target: dict | None = None
    epochs_run: int = 0
    seconds: float = 0.0
    history: dict = field(default_factory=dict)
    #: batches run on each tier ({"numpy": n, "kernels": m}); NumPy only while a cold start compiles
    tier_steps: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        target = None if self.target is None else _finite(self.target)
        return {"status": self.status, "metrics": _finite(self.metrics), "target": target,
                "epochs_run": self.epochs_run, "seconds": round(self.seconds, 3), "stop_reason": self.stop_reason,
                "message": self.message, "tier_steps": dict(self.tier_steps)}


def _finite(d: dict) -> dict:
    """JSON has no NaN/inf: those become null."""
    return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in d.items()}


def _write(out, text: str):
    """Write and flush; a closed pipe (``nnplay list | head``) silences the rest instead of a traceback."""
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, out.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        os.close(devnull)
    return out


def fmt(v) -> str:
    """Keras-style numbers: four decimals, scientific notation for very small or large values."""
    if v is None:
        return "nan"
    if not isinstance(v, float):
        return str(v)
    if v == 0 or not math.isfinite(v) or 1e-3 <= abs(v) < 1e5:
        return f"{v:.4f}"
    return f"{v:.3e}"


# ------------------------------------------------------------------------------------------ reporters
class PlainReporter:
    """Plain lines with no escape codes (stdout is not a terminal); diagnostics go to stderr."""

    def __init__(self, quiet: bool = False, out=None):
        self.quiet, self.out = quiet, out or sys.stdout

    def line(self, text: str = "") -> None:
        _write(self.out, sanitize(text) + "\n")       # names and descriptions come from files

    def note(self, text: str) -> None:
        print(sanitize(text, one_line=True), file=sys.stderr, flush=True)

    def start(self, preset: Preset, runs: list, overrides: str = "") -> None:
        if not self.quiet:
            first = preset.description.strip().splitlines()
            self.line(f"preset {preset.name}: {first[0] if first else ''}".rstrip(": "))
            if overrides:
                self.line(f"overrides: {overrides}")

    def start_run(self, label, exp: Experiment, index: int, total: int) -> None:
        if self.quiet:
            return
        ds, m = exp.dataset, exp.model
        if label:
            self.line(f"variant {index + 1}/{total}: {label}")
        self.line(f"data {ds.name}: {ds.n_train} train / {ds.n_test} test, input {list(ds.input_shape)}; "
                  f"model {m.count_params():,} parameters; seed {exp.preset.seed}")
        for line in transfer_lines(exp):
            self.line(line)

    def compiling(self):
        self.note("compiling kernels (first run only)...")
        return None

    def compiled(self, handle, seconds: float) -> None:
        self.note(f"kernels ready in {seconds:.1f}s")

    def event(self, ev, label) -> None:
        if isinstance(ev, EpochEnded) and not self.quiet:
            logs = " ".join(f"{k}={fmt(v)}" for k, v in ev.logs.items())
            self.line(f"epoch {ev.epoch + 1}/{ev.epochs} {logs}")
        elif isinstance(ev, Diverged):
            self.note(ev.message)
        elif isinstance(ev, Finished) and ev.message and ev.reason != "diverged" and not self.quiet:
            self.line(ev.message)

    def end_run(self, result: RunResult, exp: Experiment) -> None:
        prefix = f"{result.label}: " if result.label else ""
        for split in ("train", "val", "test"):
            vals = {k[len(split) + 1:]: v for k, v in result.metrics.items() if k.startswith(split + "_")}
            if vals:
                self.line(prefix + f"{split}: " + " ".join(f"{k}={fmt(v)}" for k, v in vals.items()))
        if result.target:
            t = result.target
            self.line(prefix + f"target {t['description']}: {'met' if t['met'] else 'missed'} "
                               f"({t['metric']}={fmt(t['value'])})")
        self.line(prefix + f"status: {result.status} ({result.epochs_run} epochs, {fmt_seconds(result.seconds)})")

    def summary(self, summary: dict, results: list) -> None:
        if len(results) > 1:
            self.line(f"status: {summary['status']} ({fmt_seconds(summary['seconds'])})")


class JsonReporter(PlainReporter):
    """One JSON object per line on stdout: an ``epoch`` event per epoch, then one ``summary``."""

    def emit(self, obj: dict) -> None:
        _write(self.out, json.dumps(obj, allow_nan=False) + "\n")

    def start(self, preset, runs, overrides=""):
        pass

    def start_run(self, label, exp, index, total):
        pass

    def event(self, ev, label) -> None:
        if isinstance(ev, EpochEnded) and not self.quiet:
            obj = {"event": "epoch", "epoch": ev.epoch + 1, "epochs": ev.epochs}
            if label:
                obj["variant"] = label
            obj.update(_finite({k: float(v) for k, v in ev.logs.items()}))
            obj.update(seconds=round(ev.seconds, 4), learning_rate=ev.learning_rate, tier=ev.tier)
            self.emit(obj)
        elif isinstance(ev, Diverged):
            self.note(ev.message)

    def end_run(self, result, exp):
        pass

    def summary(self, summary: dict, results: list) -> None:
        self.emit(summary)


class HumanReporter:
    """A terminal: rich progress bars with ETA and live metrics, a results table and a loss plot."""

    def __init__(self, quiet: bool = False):
        from rich.console import Console

        self.quiet = quiet
        self.no_color = bool(os.environ.get("NO_COLOR"))
        self.console = Console(highlight=False, no_color=self.no_color)
        self.err = Console(stderr=True, highlight=False, no_color=self.no_color)
        self.progress = None

    def note(self, text: str) -> None:
        (self.progress.console if self.progress else self.err).print(sanitize(text, one_line=True), markup=False)

    def start(self, preset: Preset, runs: list, overrides: str = "") -> None:
        if self.quiet:
            return
        from rich.markup import escape

        # a preset's name and description come from a file: no escape sequences, no markup reach the terminal
        self.console.rule(f"[bold]{escape(sanitize(preset.name, one_line=True))}")
        if preset.description:
            self.console.print(sanitize(preset.description.strip()), markup=False)
        if overrides:
            from rich.markup import escape
            self.console.print(f"[bold]overrides:[/] {escape(overrides)}", highlight=False)

    def start_run(self, label, exp: Experiment, index: int, total: int) -> None:
        if self.quiet:
            return
        ds, m = exp.dataset, exp.model
        if label:
            self.console.rule(f"variant {index + 1}/{total}: [bold]{label}", style="dim")
        tr = exp.preset.training
        self.console.print(f"[dim]data[/] {ds.name}: {ds.n_train} train / {ds.n_test} test, input "
                           f"{list(ds.input_shape)}   [dim]model[/] {m.count_params():,} parameters   "
                           f"[dim]optimizer[/] {tr.optimizer.get('name')}   [dim]seed[/] {exp.preset.seed}")
        for line in transfer_lines(exp):
            self.console.print(line, style="dim", markup=False, highlight=False)

    def compiling(self):
        status = self.console.status("compiling kernels (first run only)…", spinner="dots")
        status.start()
        return status

    def compiled(self, handle, seconds: float) -> None:
        if handle is not None:
            handle.stop()
            if not self.quiet:
                self.console.print(f"[dim]kernels compiled in {seconds:.1f}s (cached for the next runs)")

    def _progress(self, ev: TrainingStarted):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=30), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[logs]}"),
                                 console=self.console, transient=True)
        self.progress.start()
        self.total_task = self.progress.add_task("total", total=ev.epochs - ev.initial_epoch, logs="")
        self.batch_task = self.progress.add_task("epoch", total=ev.steps_per_epoch, logs="")
        self.every = max(1, math.ceil((ev.epochs - ev.initial_epoch) / 20))
        self.last_draw = 0.0

    def event(self, ev, label) -> None:
        if self.quiet:
            return
        if isinstance(ev, TrainingStarted):
            self._progress(ev)
        elif isinstance(ev, BatchEnded) and self.progress is not None:
            now = time.perf_counter()
            if now - self.last_draw > 0.05 or ev.batch == ev.steps - 1:
                self.last_draw = now
                self.progress.update(self.batch_task, completed=ev.batch + 1, total=ev.steps,
                                     description=f"epoch {ev.epoch + 1}", logs=f"loss {ev.loss:.4f}")
        elif isinstance(ev, EpochEnded) and self.progress is not None:
            logs = " - ".join(f"{k}: {fmt(v)}" for k, v in ev.logs.items())
            self.progress.update(self.total_task, advance=1, logs=logs)
            self.progress.update(self.batch_task, completed=0)
            n = ev.epoch + 1
            if n % self.every == 0 or n == ev.epochs or n == 1 or ev.seconds > 1.0:
                took = f"{ev.seconds:.1f}s" if ev.seconds >= 1 else f"{ev.seconds * 1000:.0f}ms"
                self.progress.console.print(f"[dim]Epoch {n}/{ev.epochs}[/] {took} - {logs}", highlight=False)
        elif isinstance(ev, Diverged):
            self.note(ev.message)
        elif isinstance(ev, Finished):
            if self.progress is not None:
                self.progress.stop()
                self.progress = None
            if ev.message and ev.reason != "diverged":
                self.console.print(ev.message, markup=False)

    def _table(self, result: RunResult):
        from rich.table import Table

        table = Table(title=None, show_edge=False, header_style="bold")
        splits = [s for s in ("train", "val", "test") if any(k.startswith(s + "_") for k in result.metrics)]
        names = list(dict.fromkeys(k.split("_", 1)[1] for k in result.metrics))
        table.add_column("")
        for s in splits:
            table.add_column(s, justify="right")
        for n in names:
            table.add_row(n, *[fmt(result.metrics[f"{s}_{n}"]) if f"{s}_{n}" in result.metrics else "" for s in splits])
        return table

    def _plot(self, series: dict) -> str | None:
        import plotext as plt

        series = {k: v for k, v in series.items() if v}
        if not series or max(len(v) for v in series.values()) < 2:
            return None
        plt.clear_figure()
        plt.plotsize(min(self.console.width, 100), 15)
        if self.no_color:
            plt.theme("clear")
        else:   # keep the terminal's own background and text colours
            plt.canvas_color("default")
            plt.axes_color("default")
            plt.ticks_color("default")
        markers = ["hd", "dot", "x", "+", "o", "*"]
        for i, (name, values) in enumerate(series.items()):
            ys = [v if math.isfinite(v) else float("nan") for v in values]
            plt.plot(list(range(1, len(ys) + 1)), ys, label=name, marker=markers[i % len(markers)])
        n = max(len(v) for v in series.values())
        plt.xticks(sorted({1, n, *(round(1 + i * (n - 1) / 5) for i in range(6))}))
        plt.xlabel("epoch")
        text = plt.build()
        plt.clear_figure()
        return _ANSI.sub("", text) if self.no_color else text

    def _print_plot(self, series: dict) -> None:
        from rich.text import Text

        text = self._plot(series)
        if text:
            self.console.print(Text.from_ansi(text) if not self.no_color else Text(text))

    def end_run(self, result: RunResult, exp: Experiment) -> None:
        self.console.print(self._table(result))
        if result.target:
            t = result.target
            ok = t["met"]
            mark = "[green]✓ target met[/]" if ok else "[red]✗ target missed[/]"
            self.console.print(f"{mark}: {t['description']} (got {fmt(t['value'])})")
        if not self.quiet and not result.label:   # variants share one plot in the comparison
            h = result.history
            self._print_plot({k: h.get(k, []) for k in ("loss", "val_loss")})
        style = {"success": "green", "target_missed": "red", "diverged": "red", "interrupted": "yellow"}
        self.console.print(f"[{style[result.status]}]{result.status}[/] after {result.epochs_run} epochs in "
                           f"{fmt_seconds(result.seconds)}")

    def summary(self, summary: dict, results: list) -> None:
        if len(results) < 2:
            return
        from rich.table import Table

        self.console.rule("[bold]comparison")
        keys = list(dict.fromkeys(k for r in results for k in r.metrics if not k.startswith("val_")))
        table = Table(show_edge=False, header_style="bold")
        for col in ["variant", "epochs", *keys, "target", "status"]:
            table.add_column(col, justify="left" if col in ("variant", "target", "status") else "right")
        for r in results:
            t = r.target
            target = "" if not t else f"{'✓' if t['met'] else '✗'} {t['description']}"
            table.add_row(r.label, str(r.epochs_run), *[fmt(r.metrics[k]) if k in r.metrics else "" for k in keys],
                          target, r.status)
        self.console.print(table)
        if not self.quiet:
            self._print_plot({f"{r.label} loss": r.history.get("loss", []) for r in results})
        self.console.print(f"overall: {summary['status']} in {fmt_seconds(summary['seconds'])}")


def make_reporter(args):
    quiet = bool(getattr(args, "quiet", False))
    if getattr(args, "json", False):
        return JsonReporter(quiet)
    if sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        return HumanReporter(quiet)
    return PlainReporter(quiet)
