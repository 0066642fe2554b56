"""Messages that travel up: from the worker threads to the app, and from widgets to the app."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one moment, as the worker saw it (immutable, safe to hand across threads)."""

    run_id: int
    status: str                 #: running | paused | finished | diverged | stopped
    epoch: int                  #: epochs completed
    epochs: int
    batch: int
    steps: int
    iteration: int
    learning_rate: float
    samples_per_s: float
    batch_loss: float | None
    history: dict               #: key -> per-epoch values; the worker's append-only lists, shared read-only
    batch_losses: tuple         #: recent batch losses (for the sparkline)
    message: str = ""
    average_samples_per_s: float = 0.0     #: over all training time of this run (pauses excluded)
    samples_total: int = 0
    tier: str = "kernels"       #: what runs the batches: "kernels", or "numpy" while they compile


class Progress(Message):
    """Throttled run progress; a newer one replaces an older one still in the queue (it is cumulative)."""

    def __init__(self, snap: Snapshot) -> None:
        super().__init__()
        self.snap = snap

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress)


class VisualsReady(Message):
    """Fresh pictures for the views (boundary, thumbnails, norms, health, ...)."""

    def __init__(self, visuals: Any) -> None:
        super().__init__()
        self.visuals = visuals

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, VisualsReady)


class Built(Message):
    """A new experiment is ready to train (from the build worker), with the setup it was built from."""

    def __init__(self, experiment: Any, setup: dict, data_reused: bool, notes: list[str], build_id: int = 0,
                 compiling: Any = None) -> None:
        super().__init__()
        self.build_id = build_id
        #: the kernels still compiling in the background (a cold start): the run trains on NumPy until ready
        self.compiling = compiling
        self.experiment = experiment
        self.setup = setup
        self.data_reused = data_reused
        self.notes = notes


class BuildFailed(Message):
    def __init__(self, error: str, build_id: int = 0) -> None:
        super().__init__()
        self.error = error
        self.build_id = build_id


@dataclass(frozen=True)
class KernelStats:
    """One warm-up: when it ran (``time.perf_counter``), and the process's kernel counts when it ended
    (compiled: cache misses, cached: loaded from the cache; totals, so overlapping warm-ups count once)."""

    started: float
    ended: float
    compiled: int
    cached: int
    error: str = ""


class KernelsWarm(Message):
    def __init__(self, stats: KernelStats) -> None:
        super().__init__()
        self.stats = stats


class SettingChanged(Message):
    """A widget changed one setting of the setup (dotted key, new value)."""

    def __init__(self, key: str, value: Any) -> None:
        super().__init__()
        self.key = key
        self.value = value


class EditRequested(Message):
    """A widget wants the value of ``key`` typed in (opens the value input)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


class StackChanged(Message):
    """The layer stack editor changed the list of layers."""

    def __init__(self, layers: list[dict], cursor: int, note: str = "") -> None:
        super().__init__()
        self.layers = layers
        self.cursor = cursor
        self.note = note


class LayerEditRequested(Message):
    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index


class GridResized(Message):
    """The boundary picture changed size: its grid must be computed again."""
