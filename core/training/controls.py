"""Requests honoured between batches (pause, resume, step, stop, a live learning rate), shared by every trainer.

The trainer owns the live learning rate: :attr:`TrainingControls.learning_rate` is the rate its optimizers use
(or the one requested for the next batch), and :func:`clamp_learning_rate` is the one range any live change
is held to.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

from .. import tiers
from ..checks import positive
from .events import Event, Paused, Resumed

#: The range a learning rate changed live (``set_learning_rate``, the playground's keys) is held to.
LR_MIN, LR_MAX = 1e-6, 10.0


def clamp_learning_rate(lr) -> float:
    """``lr`` as a positive finite number held to [LR_MIN, LR_MAX], rounded to 3 significant digits."""
    x = positive("learning rate", "learning_rate", lr)
    return float(f"{min(LR_MAX, max(LR_MIN, x)):.3g}")


class TrainingControls:
    """Requests honoured between batches, from any thread: pause, resume, step, stop, live learning rate.

    Shared by :class:`~.trainer.Trainer` and the GAN trainer. A subclass calls :meth:`_init_controls`, names
    its optimizers in :meth:`_optimizers`, and in its loop runs ``if (yield from self._before_batch(epoch,
    batch)): break`` before each batch and :meth:`_after_batch` after it.
    """

    #: While a cold start compiles the kernels in the background: an object whose ``ready()`` says when they
    #: are done (set by whoever started the compiling); until then batches run on the NumPy tier.
    compiling = None

    def _init_controls(self) -> None:
        self.tier_steps = {tiers.NUMPY: 0, tiers.KERNELS: 0}
        self._running = threading.Event()
        self._running.set()
        self._stop = False
        self._step_once = False
        self._pending_lr: float | None = None

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._step_once = False
        self._running.set()

    def step(self) -> None:
        """Run exactly one more batch, then pause."""
        self._step_once = True
        self._running.set()

    def stop(self) -> None:
        self._stop = True
        self._running.set()

    def set_learning_rate(self, lr: float) -> float:
        """Use ``lr`` (held to the live range, see :func:`clamp_learning_rate`) from the next batch on, for
        every optimizer this trainer steps (replacing a schedule). Returns the rate that will be used."""
        self._pending_lr = clamp_learning_rate(lr)
        return self._pending_lr

    @property
    def learning_rate(self) -> float:
        """The live learning rate: the one requested for the next batch, else the one the optimizers use."""
        pending = self._pending_lr
        return pending if pending is not None else float(self._optimizers()[0].current_learning_rate())

    def _optimizers(self) -> tuple:
        """The optimizers a live learning rate applies to (the first one's rate is reported)."""
        raise NotImplementedError

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def _wait_if_paused(self, epoch: int, batch: int) -> Iterator[Event]:
        if not self._running.is_set():
            yield Paused(epoch, batch)
            while not self._running.wait(0.1):
                pass
            if not self._stop:
                yield Resumed(epoch, batch)

    def _before_batch(self, epoch: int, batch: int) -> Iterator[Event]:
        """The control step before each batch: wait while paused (yielding Paused/Resumed), then apply a
        requested learning rate. Its value (``yield from``) is True when the run should stop instead."""
        yield from self._wait_if_paused(epoch, batch)
        if self._stop:
            return True
        lr, self._pending_lr = self._pending_lr, None
        if lr is not None:
            for opt in self._optimizers():
                opt.set_learning_rate(lr)
        return False

    def _batch_tier(self) -> str:
        """The tier the next batch runs on (counted in :attr:`tier_steps`): NumPy until the kernels are ready,
        then the kernels for good."""
        tier = tiers.while_compiling(self.compiling)
        if tier == tiers.KERNELS:
            self.compiling = None
        self.tier_steps[tier] += 1
        return tier

    def _after_batch(self) -> None:
        if self._step_once:
            self._step_once = False
            self._running.clear()
