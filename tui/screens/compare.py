"""The compare screen: several setups trained side by side (a preset's variants, or A and B), their curves
overlaid in one plot each, and their numbers in one table with the best of each column marked."""
from __future__ import annotations

import math
from dataclasses import replace

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from ..compare import CompareDone, CompareProgress, CompareRun, CompareState
from ..widgets.plots import CurvePlot

#: metrics where smaller is better (the rest: larger is better)
_SMALLER = ("loss", "mae", "mse", "error", "crossentropy", "hinge", "log_cosh", "huber")


def smaller_is_better(key: str) -> bool:
    return any(part in key for part in _SMALLER)


def curve_key(history: dict, metric: bool) -> str | None:
    """The quantity to plot: validation loss (else training loss), or the first other metric, val_ first."""
    keys = list(history)
    if not metric:
        return "val_loss" if "val_loss" in keys else ("loss" if "loss" in keys else (keys[0] if keys else None))
    others = [k for k in keys if not k.endswith("loss") and k != "learning_rate"]
    return next((k for k in others if k.startswith("val_")), others[0] if others else None)


def compare_table(state: CompareState, color: bool) -> Table:
    """One row per setup: epochs, status, the numbers (final metrics when done, else the last epoch's);
    the best value of each column marked ★ (and green); for two setups a row B − A."""
    done = bool(state.metrics)
    rows = []
    for i, label in enumerate(state.labels):
        if done:      # validation on the test split repeats the test numbers: show them once
            m = state.metrics[i]
            values = {k: v for k, v in m.items() if not (k.startswith("val_") and f"test_{k[4:]}" in m)}
        else:
            values = {k: v[-1] for k, v in state.histories[i].items() if v and k != "learning_rate"}
        rows.append(values)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for col in ["setup", "epochs", "status", *keys] + (["target"] if done and any(
            t is not None for t in state.targets) else []):
        table.add_column(col, justify="left" if col in ("setup", "status", "target") else "right")
    best = {}
    for k in keys:
        vals = [r[k] for r in rows if k in r and isinstance(r[k], float) and math.isfinite(r[k])]
        if len(vals) > 1:
            best[k] = min(vals) if smaller_is_better(k) else max(vals)
    for i, (label, r) in enumerate(zip(state.labels, rows)):
        n = len(next(iter(state.histories[i].values()), ()))
        cells = [Text(label, style="bold"), f"{n}/{state.epochs[i]}", state.status[i]]
        for k in keys:
            v = r.get(k)
            if v is None:
                cells.append("")
            elif best.get(k) == v:
                cells.append(Text(f"★ {v:.4g}", style="bold green" if color else "bold"))
            else:
                cells.append(f"{v:.4g}")
        if done and any(t is not None for t in state.targets):
            t = state.targets[i]
            cells.append("" if t is None else ("✓ met" if t else "✗ missed"))
        table.add_row(*cells)
    if len(rows) == 2:
        a, b = rows
        cells = [Text(f"{state.labels[1]} − {state.labels[0]}", style="dim"), "", ""]
        for k in keys:
            if k in a and k in b and math.isfinite(a[k]) and math.isfinite(b[k]):
                d = b[k] - a[k]
                better = d < 0 if smaller_is_better(k) else d > 0
                style = ("green" if better else "red") if color and d else ""
                cells.append(Text(f"{d:+.3g}", style=style))
            else:
                cells.append("")
        if done and any(t is not None for t in state.targets):
            cells.append("")
        table.add_row(*cells)
    return table


class CompareScreen(Screen[None]):
    """Trains ``entries`` (``(label, setup)``) side by side; escape stops and goes back."""

    BINDINGS = [Binding("space", "toggle", "Run/Pause"), Binding("escape,q", "close", "Back to the playground")]

    def __init__(self, entries: list[tuple[str, dict]], title: str) -> None:
        super().__init__()
        self.entries, self.title_text = entries, title
        self.state: CompareState | None = None
        self.done = False

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title_text, style="bold"), id="compare-head")
        with Vertical(id="compare-body"):
            with Horizontal(id="compare-plots"):
                yield CurvePlot("loss", id="compare-loss")
                yield CurvePlot("metric", id="compare-metric")
            yield Static("building…", id="compare-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.run = CompareRun(self.entries, 1, self.post_message)
        self._train(self.run)

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _train(self, run: CompareRun) -> None:
        worker = get_current_worker()
        run.run(lambda: worker.is_cancelled)

    @on(CompareProgress)
    def progress(self, event: CompareProgress) -> None:
        self.show(event.state)

    @on(CompareDone)
    def finished(self, event: CompareDone) -> None:
        self.done = True
        self.show(event.state)

    def show(self, state: CompareState) -> None:
        self.state = state
        color = getattr(getattr(self.app, "options", None), "color", True)
        for plot_id, metric in (("#compare-loss", False), ("#compare-metric", True)):
            key = next((curve_key(h, metric) for h in state.histories if h), None)
            series = {label: tuple(h.get(key, ())) for label, h in zip(state.labels, state.histories)} if key else {}
            self.query_one(plot_id, CurvePlot).replot(series, key or ("metric" if metric else "loss"), color)
        running = [s for s in state.status if s in ("building", "running")]
        head = Text.assemble((self.title_text, "bold"), "  ",
                             ("done" if self.done else "paused (space resumes)" if state.paused else
                              f"training {len(running)} of {len(state.labels)}", "dim"))
        self.query_one("#compare-head", Static).update(head)
        failed = [f"{label}: {msg}" for label, msg, st in zip(state.labels, state.messages, state.status)
                  if st in ("failed", "diverged") and msg]
        body = compare_table(state, color)
        if failed:
            body = Group(body, *[Text(line, style="red" if color else "") for line in failed])
        self.query_one("#compare-table", Static).update(body)

    def action_toggle(self) -> None:
        if not self.done:
            self.run.paused = not self.run.paused
            if self.state is not None:
                self.show(replace(self.state, paused=self.run.paused))

    def action_close(self) -> None:
        self.workers.cancel_group(self, "compare")
        self.app.pop_screen()
