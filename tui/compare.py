"""Compare mode: train several setups side by side (a preset's variants, or A and B) on the same data and
initial seed, one epoch of each in turn, so their curves grow together.

:class:`CompareRun` runs in a thread worker and consumes each setup's trainer events like the playground's
own loop does; it never touches a widget and posts :class:`CompareProgress` (throttled, cumulative) and one
:class:`CompareDone` with every setup's final metrics. :func:`compare_entries` makes the list of setups.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

from textual.message import Message

from nnplay.core.errors import NnplayError

from . import session


@dataclass(frozen=True)
class CompareState:
    """Where every setup stands (copies: safe to hand across threads)."""

    run_id: int
    labels: tuple[str, ...]
    histories: tuple[dict, ...]          #: per setup: key -> per-epoch values
    epochs: tuple[int, ...]              #: the epochs each setup asks for
    status: tuple[str, ...]              #: per setup: building | running | finished | diverged | failed
    messages: tuple[str, ...] = ()       #: per setup: why it failed or stopped ("" otherwise)
    metrics: tuple[dict, ...] = ()       #: per setup, once done: train_/val_/test_ metrics
    targets: tuple = ()                  #: per setup: None (no target) or whether it was met
    paused: bool = False


class CompareProgress(Message):
    def __init__(self, state: CompareState) -> None:
        super().__init__()
        self.state = state

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CompareProgress)


class CompareDone(Message):
    def __init__(self, state: CompareState) -> None:
        super().__init__()
        self.state = state


def compare_entries(setup: dict) -> list[tuple[str, dict]]:
    """``(label, setup)`` for every variant of ``setup``'s preset ([] when it has none)."""
    from nnplay.core.presets import variant_preset
    variants = setup.get("variants") or []
    if not variants:
        return []
    preset = session.to_preset(setup)
    return [(v.name, variant_preset(preset, i).to_dict()) for i, v in enumerate(preset.variants)]


@dataclass
class CompareRun:
    """Train ``entries`` (``(label, setup)``) one epoch each in turn until all are done or cancelled."""

    entries: list[tuple[str, dict]]
    run_id: int
    post: Callable
    post_every: float = 0.1
    paused: bool = False
    histories: list[dict] = field(default_factory=list)

    def run(self, cancelled: Callable[[], bool]) -> None:
        n = len(self.entries)
        self.labels = tuple(label for label, _ in self.entries)
        self.histories = [{} for _ in range(n)]
        self.status, self.messages = ["building"] * n, [""] * n
        self.epochs = [int(s.get("training", {}).get("epochs") or 0) for _, s in self.entries]
        exps, gens, trainers = [None] * n, [None] * n, [None] * n
        for i, (_, setup) in enumerate(self.entries):
            try:
                exps[i] = session.build_experiment(copy.deepcopy(setup))
            except NnplayError as exc:
                self.status[i], self.messages[i] = "failed", str(exc)
                continue
            trainers[i] = exps[i].trainer()
            self.epochs[i] = trainers[i].epochs
            gens[i] = trainers[i].run()
            self.status[i] = "running"
        self._post()
        active = [i for i in range(n) if gens[i] is not None]
        last = 0.0
        while active and not cancelled():
            if self.paused:
                time.sleep(0.05)
                continue
            for i in list(active):
                if not self._advance(i, gens[i]):
                    active.remove(i)
            now = time.perf_counter()
            if now - last >= self.post_every:
                last = now
                self._post()
        if cancelled():
            return
        metrics, targets = [], []
        for i, exp in enumerate(exps):
            if exp is None:
                metrics.append({})
                targets.append(None)
                continue
            if self.status[i] == "running":
                self.status[i] = "finished"
            m = exp.evaluate(trainers[i])
            metrics.append(m)
            targets.append(exp.target_met(m))
        self.post(CompareDone(self._state(metrics=tuple(metrics), targets=tuple(targets))))

    def _advance(self, i: int, events) -> bool:
        """Run setup ``i`` to the end of its next epoch; False once its trainer has finished."""
        from nnplay.core.training import Diverged, EpochEnded
        for ev in events:
            if isinstance(ev, EpochEnded):
                for key, value in ev.logs.items():
                    self.histories[i].setdefault(key, []).append(float(value))
                return True
            if isinstance(ev, Diverged):
                self.status[i], self.messages[i] = "diverged", ev.message
        return False

    def _state(self, **extra) -> CompareState:
        return CompareState(self.run_id, self.labels, tuple({k: list(v) for k, v in h.items()}
                                                            for h in self.histories),
                            tuple(self.epochs), tuple(self.status), tuple(self.messages), paused=self.paused,
                            **extra)

    def _post(self) -> None:
        self.post(CompareProgress(self._state()))
