"""One-line status (run state, epoch, losses, learning rate, speed, kernels) and health line."""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ..state import RunState

STATUS_STYLE = {"running": ("▶ running", "bold green"), "paused": ("⏸ paused", "bold yellow"),
                "ready": ("⏸ ready", "bold yellow"), "finished": ("■ finished", "bold cyan"),
                "stopped": ("■ stopped", "bold"), "diverged": ("✗ diverged", "bold red"),
                "error": ("✗ error", "bold red"), "building": ("… building", "bold"),
                "waiting": ("… waiting", "bold")}


def metric_key(history: dict) -> str | None:
    """The metric shown next to the loss: accuracy if there is one, else the first metric."""
    keys = [k for k in history if not k.startswith("val_") and k != "loss"]
    return "accuracy" if "accuracy" in keys else (keys[0] if keys else None)


def fmt_metric(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if key in ("accuracy", "precision", "recall", "f1") else f"{value:.4g}"


def fmt_rate(samples_per_s: float) -> str:
    if samples_per_s >= 1e6:
        return f"{samples_per_s / 1e6:.1f}M samples/s"
    if samples_per_s >= 1e3:
        return f"{samples_per_s / 1e3:.1f}k samples/s"
    return f"{samples_per_s:.0f} samples/s"


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run = RunState(status="building")
        self.title = ""
        self.kernels = ""
        self.show_speed = True
        self.gan = False

    def set_data(self, run: RunState, title: str, kernels: str, show_speed: bool = True, gan: bool = False) -> None:
        self.run, self.title, self.kernels, self.show_speed, self.gan = run, title, kernels, show_speed, gan
        self.refresh()

    def render(self) -> Text:
        run = self.run
        label, style = STATUS_STYLE.get(run.status, (run.status, "bold"))
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f" {label} ", style)
        t.append(f" {self.title} ", "bold")
        t.append(f" epoch {run.epoch}", "")
        if run.epochs:
            t.append(f"/{run.epochs}", "dim")
        if self.gan:
            self._gan_numbers(t, run)
        else:
            self._numbers(t, run)
        t.append("  lr ", "dim")
        t.append(f"{run.learning_rate:.3g}")
        if self.show_speed and run.samples_per_s and run.status == "running":
            t.append(f"  {fmt_rate(run.samples_per_s)}", "dim")
        if self.kernels:
            t.append(f"  {self.kernels}", "yellow" if "compil" in self.kernels else "dim")
        return t

    @staticmethod
    def _gan_numbers(t: Text, run: RunState) -> None:
        """Both players' losses (the generator's running loss before the first epoch ends) and D's view."""
        d, g = run.latest("d_loss"), run.latest("g_loss")
        if g is None:
            g = run.batch_loss
        t.append("  D loss ", "dim")
        t.append("—" if d is None else f"{d:.3f}")
        t.append(" G loss ", "dim")
        t.append("—" if g is None else f"{g:.3f}")
        if run.latest("d_real") is not None:
            t.append("  D(real) ", "dim")
            t.append(f"{run.latest('d_real'):.2f}")
            t.append(" D(fake) ", "dim")
            t.append(f"{run.latest('d_fake'):.2f}")

    @staticmethod
    def _numbers(t: Text, run: RunState) -> None:
        loss, vloss = run.latest("loss"), run.latest("val_loss")
        if loss is None and run.batch_loss is not None:
            loss = run.batch_loss
        t.append("  loss ", "dim")
        t.append("—" if loss is None else f"{loss:.4f}")
        if vloss is not None:
            t.append(" val ", "dim")
            t.append(f"{vloss:.4f}")
        key = metric_key(run.history)
        if key:
            t.append(f"  {'acc' if key == 'accuracy' else key} ", "dim")
            t.append(fmt_metric(key, run.latest(key)))
            if run.latest("val_" + key) is not None:
                t.append(" val ", "dim")
                t.append(fmt_metric(key, run.latest("val_" + key)))


class HealthLine(Widget):
    """The worst health finding, or the divergence / build error, in one line."""

    DEFAULT_CSS = """
    HealthLine { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.level, self.message = "ok", ""

    def set_data(self, level: str, message: str) -> None:
        if (level, message) != (self.level, self.message):
            self.level, self.message = level, message
            self.refresh()

    def render(self) -> Text:
        style = {"ok": "green", "warn": "yellow", "bad": "bold red", "info": "cyan"}.get(self.level, "")
        mark = {"ok": "✓", "warn": "!", "bad": "✗", "info": "i"}.get(self.level, " ")
        return Text(f" {mark} {self.message}", style=style, overflow="ellipsis", no_wrap=True)
