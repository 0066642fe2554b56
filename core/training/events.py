"""What a trainer yields: small frozen dataclasses, the same for ``fit``, ``nnplay run`` and the playground."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingStarted:
    epochs: int
    steps_per_epoch: int
    n_train: int
    n_val: int
    initial_epoch: int = 0


@dataclass(frozen=True)
class BatchEnded:
    epoch: int            #: 0-based epoch
    batch: int            #: 0-based batch within the epoch
    steps: int            #: batches per epoch
    loss: float           #: running mean loss of this epoch so far
    batch_loss: float
    samples: int          #: samples seen in this epoch so far
    seconds: float        #: time since the epoch started
    learning_rate: float
    iteration: int        #: optimizer steps taken since the model was compiled
    tier: str = "kernels"  #: what ran this batch: "kernels", or "numpy" while they compile (a cold start)


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    epochs: int
    logs: dict
    seconds: float
    learning_rate: float
    samples_per_s: float
    tier: str = "kernels"  #: what ran the epoch's last batch (see BatchEnded.tier)


@dataclass(frozen=True)
class Paused:
    epoch: int
    batch: int


@dataclass(frozen=True)
class Resumed:
    epoch: int
    batch: int


@dataclass(frozen=True)
class Diverged:
    epoch: int
    batch: int
    loss: float
    layer: str | None
    weight: str | None
    message: str


@dataclass(frozen=True)
class Finished:
    reason: str           #: "completed", "early_stopped", "stopped" or "diverged"
    epochs_run: int
    logs: dict
    history: Any = field(repr=False)      #: the trainer's :class:`~.callbacks.History`
    message: str = ""
    #: batches run on each tier: {"numpy": n, "kernels": m} (NumPy only while a cold start compiles)
    tier_steps: dict = field(default_factory=dict)


Event = TrainingStarted | BatchEnded | EpochEnded | Paused | Resumed | Diverged | Finished
