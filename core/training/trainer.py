"""``Trainer.run()``: training as a generator of events.

The headless runner, ``fit`` and the TUI worker all consume the same generator, so what a script sees and
what a learner sees cannot disagree. Between batches the trainer honours requests made from any thread:
:meth:`Trainer.pause`, :meth:`~Trainer.resume`, :meth:`~Trainer.step` (one batch, then pause),
:meth:`~Trainer.stop` and :meth:`~Trainer.set_learning_rate`.
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator

import numpy as np

from .. import tiers
from ..errors import NnplayError
from . import callbacks as callbacks_mod
from . import data
from .callbacks import History
from .controls import TrainingControls
from .events import BatchEnded, Diverged, EpochEnded, Event, Finished, TrainingStarted


def _split_validation(x, y, split):
    if not 0.0 <= split < 1.0:
        raise NnplayError(f"validation_split must be in [0, 1), got {split!r}")
    n = data.count(x)
    n_val = data.validation_count(n, split)
    if split and n_val == 0:
        raise NnplayError(f"validation_split={split} leaves no validation samples out of {n}; "
                          f"use a larger split or more data")
    if not n_val:
        return x, y, None
    # Keras takes the last fraction, before any shuffling.
    (x, x_val), (y, y_val) = data.head_tail(x, n_val), data.head_tail(y, n_val)
    return x, y, (x_val, y_val)


class Trainer(TrainingControls):
    """Trains ``model`` on ``(x, y)``; iterate :meth:`run` to drive it."""

    def __init__(self, model, x, y, *, epochs: int = 1, batch_size: int | None = 32,
                 validation_split: float = 0.0, validation_data=None, shuffle: bool = True, callbacks=None,
                 initial_epoch: int = 0, snapshot: bool = True, augment=None):
        if not callable(getattr(model, "train_step", None)):
            raise NnplayError(f"Trainer needs an nnplay model (Sequential or Model), got {type(model).__name__}")
        model._require_compiled("fit")
        if x is None or y is None:
            raise NnplayError("fit needs both x and y")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise NnplayError(f"epochs must be a whole number >= 0, got epochs={epochs!r}")
        if batch_size is None:
            batch_size = 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise NnplayError(f"batch_size must be a positive whole number, got batch_size={batch_size!r}")
        self.model = model
        x, y = model.check_data(x, y)
        if data.count(x) == 0:
            raise NnplayError("the training data is empty; give at least one sample")
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise NnplayError("validation_data must be a pair (x_val, y_val)")
            self.val = model.check_data(*validation_data, what="validation x")
            if data.count(self.val[0]) == 0:
                raise NnplayError("validation_data is empty, so there is nothing to validate on; give at least "
                                  "one sample, or leave validation_data out")
        else:
            x, y, self.val = _split_validation(x, y, float(validation_split))
        self.x, self.y = x, y
        self.epochs = int(epochs)
        self.batch_size = int(min(batch_size, data.count(x)))
        self.shuffle = bool(shuffle)
        self.initial_epoch = int(initial_epoch)
        self.steps = math.ceil(data.count(x) / self.batch_size)
        self.history = History()
        self.callbacks = callbacks_mod.CallbackList(callbacks or [], model=model, trainer=self)
        self.snapshot = snapshot
        #: ``augment(x_batch) -> x_batch``: random transforms of each training batch ([data.augment], a
        #: Keras ImageDataGenerator's flow), or None. Validation data is never augmented.
        self.augment = augment
        if augment is not None and isinstance(x, list):
            raise NnplayError("data augmentation needs a model with one input (images)")
        self._init_controls()

    # -------------------------------------------------------------- the loop
    def run(self) -> Iterator[Event]:
        model, opt = self.model, self.model.optimizer
        x, y, bs, n = self.x, self.y, self.batch_size, data.count(self.x)
        model.stop_training = False
        cbs = self.callbacks
        cbs.on_train_begin()
        yield TrainingStarted(self.epochs, self.steps, n, 0 if self.val is None else data.count(self.val[0]),
                              self.initial_epoch)
        reason, logs, epoch, message = "completed", {}, self.initial_epoch - 1, ""
        good_weights, tier = None, tiers.current()
        for epoch in range(self.initial_epoch, self.epochs):
            cbs.on_epoch_begin(epoch)
            if self.snapshot:
                good_weights = model.P.copy()
            order = model._shuffle_rng.permutation(n) if self.shuffle else None
            model.reset_metrics()
            loss_sum, seen, t0 = 0.0, 0, time.perf_counter()
            parts: dict[str, float] = {}  # auxiliary losses (a VAE's kl_loss), sample-weighted
            for b in range(self.steps):
                if (yield from self._before_batch(epoch, b)):
                    break
                if order is None:
                    xb, yb = data.rows(x, b * bs, (b + 1) * bs), data.rows(y, b * bs, (b + 1) * bs)
                else:
                    idx = order[b * bs:(b + 1) * bs]
                    xb, yb = data.take(x, idx), data.take(y, idx)
                if self.augment is not None:
                    xb = self.augment(xb)
                lr = opt.current_learning_rate()
                tier = self._batch_tier()
                with tiers.running(tier):
                    batch_loss, out = model.train_step(xb, yb)
                if not math.isfinite(batch_loss):
                    with tiers.running(tier):      # the diagnosis replays the batch on the same tier
                        event = self._diverged(epoch, b, batch_loss, lr, good_weights, xb)
                    yield event
                    reason, message = "diverged", event.message
                    break
                k = data.count(xb)
                loss_sum += batch_loss * k
                seen += k
                for key, value in model.last_losses.items():     # a VAE's kl_loss, each output's loss
                    parts[key] = parts.get(key, 0.0) + value * k
                model.update_metrics(yb, out)
                cbs.on_batch_end(b, batch_loss)
                yield BatchEnded(epoch, b, self.steps, loss_sum / seen, float(batch_loss), seen,
                                 time.perf_counter() - t0, lr, opt.iterations, tier)
                self._after_batch()
            if reason == "diverged" or (self._stop and seen < n):
                if reason != "diverged":
                    reason = "stopped"
                break
            logs = {"loss": loss_sum / max(seen, 1)}
            logs.update({key: value / max(seen, 1) for key, value in parts.items()})
            logs.update(model.metric_logs())
            if self.val is not None:
                with tiers.running(tier):
                    vlogs = model.evaluate_prepared(*self.val, batch_size=max(bs, 256))
                logs.update({"val_" + k: v for k, v in vlogs.items()})
            seconds = time.perf_counter() - t0
            self.history.append(epoch, logs)
            cbs.on_epoch_end(epoch, logs)
            yield EpochEnded(epoch, self.epochs, dict(logs), seconds, opt.current_learning_rate(),
                             seen / seconds if seconds > 0 else float("inf"), tier)
            if model.stop_training:
                reason = "early_stopped"
                message = getattr(model, "stop_reason", "") or ""
                break
            if self._stop:
                reason = "stopped"
                break
        cbs.on_train_end()
        epochs_run = len(self.history.epoch)
        yield Finished(reason, epochs_run, dict(logs), self.history, message, dict(self.tier_steps))

    def _optimizers(self) -> tuple:
        return (self.model.optimizer,)

    def _diverged(self, epoch, batch, loss, lr, good_weights, xb=None) -> Diverged:
        """Find the layer that blew up, restore the last good weights, explain what to try."""
        model = self.model
        culprit = (None, None)
        for owner, name in model.trainable_weights():
            if not (np.isfinite(owner.params[name]).all() and np.isfinite(owner.grads[name]).all()):
                culprit = (owner.name, name)
                break
        if culprit == (None, None):
            culprit = non_finite_output(model)
        if culprit == (None, None) and xb is not None:
            # The one-kernel step keeps no per-layer outputs, and a loss computed from the logits (sigmoid or
            # softmax + cross-entropy) can be NaN while every weight is finite: replay the batch to see where.
            try:
                with np.errstate(all="ignore"):
                    model.forward(xb, False)
                culprit = non_finite_output(model)
            except Exception:       # the diagnosis is a courtesy: never let it hide the divergence itself
                pass
        where = f" in layer {culprit[0]!r} ({culprit[1]})" if culprit[0] else ""
        restored = ""
        if good_weights is not None and not np.isfinite(model.P).all():
            model.P[...] = good_weights
            restored = f"; weights restored to the start of epoch {epoch + 1}"
        msg = (f"training diverged at epoch {epoch + 1}, batch {batch + 1}: the loss became {loss}{where}{restored}. "
               f"Try a lower learning rate (now {lr:g}), gradient clipping (clipnorm=1.0), or normalised inputs")
        return Diverged(epoch, batch, float(loss), culprit[0], culprit[1], msg)


def non_finite_output(model) -> tuple:
    """(layer name, "output") of the first layer whose last forward pass produced NaN or inf (its
    pre-activation counts: an overflowing sigmoid input is finite after the sigmoid)."""
    for layer in model.layers:
        cache = layer.cache if isinstance(layer.cache, dict) else {}
        for key in ("z", "a", "out"):
            out = cache.get(key)
            if isinstance(out, np.ndarray) and out.dtype.kind == "f" and not np.isfinite(out).all():
                return layer.name, "output"
    return None, None


def run_fit(trainer: Trainer, verbose=1, file=None) -> History:
    """Drive a trainer the way Keras' ``fit`` does, printing progress for ``verbose`` 1 (bar) or 2 (lines)."""
    out = file or sys.stdout
    tty = verbose == 1 and hasattr(out, "isatty") and out.isatty()
    for ev in trainer.run():
        if isinstance(ev, BatchEnded) and tty and (ev.batch % 10 == 0 or ev.batch == ev.steps - 1):
            done = int(30 * (ev.batch + 1) / ev.steps)
            out.write(f"\r{ev.batch + 1}/{ev.steps} [{'=' * done}{'.' * (30 - done)}] - loss: {ev.loss:.4f}")
            out.flush()
        elif isinstance(ev, EpochEnded) and verbose:
            line = " - ".join(f"{k}: {v:.4f}" for k, v in ev.logs.items())
            if tty:
                out.write("\r\033[K")
            out.write(f"Epoch {ev.epoch + 1}/{ev.epochs} - {ev.seconds:.2f}s - {line}\n")
            out.flush()
        elif isinstance(ev, Diverged) and verbose:
            out.write(("\n" if tty else "") + ev.message + "\n")
        elif isinstance(ev, Finished) and ev.reason == "early_stopped" and verbose and ev.message:
            out.write(ev.message + "\n")
    return trainer.history
