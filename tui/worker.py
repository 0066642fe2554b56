"""The training loop the TUI runs in a thread worker: the trainer's events in, throttled messages out.

It consumes the same ``Trainer.run()`` generator as the headless runner. It keeps the latest state and posts
:class:`Progress` at most every ``progress_every`` seconds and fresh :class:`Visuals` (forward passes over a
grid, in this thread) at most every ``visuals_every`` seconds, whatever the training speed. It never touches a
widget: ``post`` is the app's thread-safe ``post_message``.

While the trainer is paused the worker thread is parked inside the generator. Views that need a forward pass
then are computed by :meth:`TrainLoop.refresh_parked` from another thread; ``lock`` + ``parked`` make sure that
never overlaps a training step (the worker clears ``parked`` under the lock before the next batch runs).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from nnplay.core import tiers
from nnplay.core.models.gan import GANBatchEnded
from nnplay.core.training import (BatchEnded, Diverged, EpochEnded, Finished, Paused, Resumed,
                                 TrainingStarted)

from . import probes
from .messages import Progress, Snapshot, VisualsReady


class TrainLoop:
    """One run of one trainer; starts paused."""

    def __init__(self, experiment, run_id: int, post: Callable, *, initial_epoch: int = 0, epochs: int | None = None,
                 history: dict | None = None, progress_every: float = 0.1, visuals_every: float = 0.5,
                 compiling=None):
        self.experiment = experiment
        self.run_id = run_id
        self.post = post
        self.progress_every = progress_every
        self.visuals_every = visuals_every
        self.trainer = experiment.trainer(initial_epoch=initial_epoch,
                                          epochs=initial_epoch + (epochs or experiment.epochs))
        self.trainer.pause()
        self.trainer.compiling = self.compiling = compiling   # NumPy tier until the kernels are ready
        self.lock = threading.Lock()
        self.parked = False
        # what the UI is looking at (plain attributes: written by the UI thread, read here)
        self.view = "output"
        self.grid = (48, 48)
        self.layer = 0
        self.sample = 0
        self.max_epochs_per_s: float | None = None   #: the learner's pace (None: full speed)
        # run state, owned by this thread
        self.status = "paused"
        # Append-only: snapshots share these lists instead of copying a long run's history 10 times a second
        # (readers see a consistent prefix; the UI only reads them).
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self.epoch = initial_epoch
        self.batch = self.iteration = 0
        self.steps = self.trainer.steps
        self.batch_loss: float | None = None
        self.batch_losses: deque[float] = deque(maxlen=240)
        self.message = ""
        self.trained = bool(history)
        self.samples_total = 0
        self._epoch_base = 0               # samples of the epochs completed in this run
        self.samples_per_s = 0.0
        self.active_seconds = 0.0          # time spent training (pauses excluded), for the average speed
        self._active_since: float | None = None
        self._last_pace_post = 0.0
        self._window = (time.perf_counter(), 0)

    # ------------------------------------------------------------------ the loop (worker thread)
    def run(self, cancelled: Callable[[], bool]) -> None:
        trainer, clock, losses = self.trainer, time.perf_counter, self.batch_losses
        last_post = last_vis = 0.0
        last_check = epoch_start = clock()
        check_every = since_check = 0
        last = None
        for ev in trainer.run():
            kind = type(ev)
            if kind is BatchEnded or kind is GANBatchEnded:
                # The hot path: a tiny model runs a batch in ~25 µs, so per batch only remember the event;
                # read the clock, post and check for cancellation every few milliseconds.
                last = ev
                losses.append(ev.batch_loss)
                since_check += 1
                if since_check < check_every:
                    continue
                since_check = 0
                now = clock()
                gap, last_check = now - last_check, now
                if gap < 0.002:
                    check_every = max(1, 2 * check_every)
                elif gap > 0.01:
                    check_every = max(1, check_every // 2)
                self._take(last)
                if now - last_post >= self.progress_every:
                    self._post_progress(now)
                    last_post = now
                    if now - last_vis >= self.visuals_every:
                        self._post_visuals()
                        last_vis = clock()
                if cancelled():
                    trainer.stop()
                continue
            if last is not None:
                self._take(last)
            if kind is EpochEnded:
                if last is not None:
                    self._epoch_base += last.samples
                    last = None
                self.epoch = ev.epoch + 1
                self._log(ev.logs)
                if self.max_epochs_per_s:
                    epoch_start = self._pace(epoch_start, cancelled)
            elif kind is Paused:
                self._stop_clock()
                self.status = "paused"
                with self.lock:
                    self.parked = True
                self._post_progress(time.perf_counter())
                self._post_visuals()
            elif kind is Resumed:
                with self.lock:
                    self.parked = False
                self.status = "running"
                self._window = (time.perf_counter(), self.samples_total)
                self._active_since = self._window[0]
            elif kind is TrainingStarted:
                self.steps = ev.steps_per_epoch
                self.status = "paused" if trainer.paused else "running"
                if not trainer.paused:
                    self._active_since = time.perf_counter()
            elif kind is Diverged:
                self.status, self.message = "diverged", ev.message
            elif kind is Finished:
                self._stop_clock()
                if ev.reason != "diverged":
                    self.status = "stopped" if ev.reason == "stopped" else "finished"
                    self.message = ev.message
            if cancelled():
                trainer.stop()
        if last is not None:
            self._take(last)
        with self.lock:
            self.parked = True
        if not cancelled():
            self._post_progress(time.perf_counter())
            self._post_visuals()

    # ------------------------------------------------------------------ requests (UI thread)
    def refresh_parked(self) -> bool:
        """Compute and post visuals now if the trainer is parked (call from a worker thread, not the UI)."""
        with self.lock:
            if not self.parked:
                return False
            self._post_visuals()
        return True

    def _log(self, logs: dict) -> None:
        hist = self.history
        if any(k not in hist for k in logs):
            # new keys: swap in a new dict in one step, so a reader never iterates a dict that is growing
            hist = self.history = {**hist, **{k: [] for k in logs if k not in hist}}
        for k, v in logs.items():
            hist[k].append(float(v))

    def _take(self, ev: BatchEnded) -> None:
        """Adopt the state of the latest batch (called every few milliseconds, not every batch)."""
        self.batch, self.iteration, self.batch_loss = ev.batch + 1, ev.iteration, ev.batch_loss
        self.samples_total = self._epoch_base + ev.samples
        self.trained = True

    def _pace(self, epoch_start: float, cancelled: Callable[[], bool]) -> float:
        """Wait out the rest of this epoch's time slot (in short naps, so pause and stop stay quick)."""
        end = epoch_start + 1.0 / self.max_epochs_per_s
        while (left := end - time.perf_counter()) > 0 and not cancelled() and not self.trainer.paused \
                and self.max_epochs_per_s:
            time.sleep(min(left, 0.02))
            if time.perf_counter() - self._last_pace_post > self.progress_every:
                self._post_progress(time.perf_counter())
                self._last_pace_post = time.perf_counter()
        return time.perf_counter()

    def _stop_clock(self) -> None:
        if self._active_since is not None:
            self.active_seconds += time.perf_counter() - self._active_since
            self._active_since = None

    def average_rate(self, now: float) -> float:
        seconds = self.active_seconds + (now - self._active_since if self._active_since is not None else 0.0)
        return self.samples_total / seconds if seconds > 0 else 0.0

    # ------------------------------------------------------------------ posting
    def _post_progress(self, now: float) -> None:
        t0, n0 = self._window
        if now - t0 > 0.05 and self.status == "running":
            rate = (self.samples_total - n0) / (now - t0)
            self.samples_per_s = rate if self.samples_per_s == 0 else 0.5 * self.samples_per_s + 0.5 * rate
            self._window = (now, self.samples_total)
        snap = Snapshot(self.run_id, self.status, self.epoch, self.trainer.epochs, self.batch, self.steps,
                        self.iteration, float(self.trainer.learning_rate), self.samples_per_s, self.batch_loss,
                        self.history, tuple(self.batch_losses), self.message,
                        self.average_rate(now), self.samples_total, tiers.while_compiling(self.compiling))
        self.post(Progress(snap))

    def _post_visuals(self) -> None:
        exp = self.experiment
        try:
            with tiers.running(tiers.while_compiling(self.compiling)):   # no kernel compiles here meanwhile
                vis = probes.compute(exp.model, exp.dataset, self.run_id, self.view, self.grid, self.layer,
                                 self.sample, self.trained, gan=self.trainer if exp.kind == "gan" else None,
                                 augment=getattr(exp, "augment", None))
        except Exception as exc:  # a view must never kill training; show why it is empty instead
            vis = probes.Visuals(run_id=self.run_id, health=(("warn", f"view unavailable: {exc}"),))
        self.post(VisualsReady(vis))
