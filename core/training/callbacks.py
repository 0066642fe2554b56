"""Callbacks with Keras' names and arguments: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, CSVLogger,
TerminateOnNaN, LearningRateScheduler, LambdaCallback, plus nnplay's StopAtTarget; and :class:`History`, what
``fit`` returns.

A callback sees ``self.model`` and ``self.trainer``; setting ``model.stop_training = True`` ends training
after the current epoch (``model.stop_reason`` says why, for the runner and the TUI).
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path


from ..errors import NnplayError
from ..fileio import atomic_write_text
from ..safety import read_file


class History:
    """What ``fit`` returns: ``history.history["loss"]`` etc., one value per epoch."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict = {}

    def append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class Callback:
    def __init__(self):
        self.model = None
        self.trainer = None

    def set_context(self, model, trainer) -> None:
        self.model, self.trainer = model, trainer

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_end(self, batch, loss): ...


class CallbackList:
    def __init__(self, callbacks, model, trainer):
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise NnplayError(f"callbacks must be Callback objects, got {cb!r}")
            cb.set_context(model, trainer)
        self.callbacks = list(callbacks)
        self._batch = [cb for cb in self.callbacks if type(cb).on_batch_end is not Callback.on_batch_end]

    def on_train_begin(self):
        for cb in self.callbacks:
            cb.on_train_begin()

    def on_train_end(self):
        for cb in self.callbacks:
            cb.on_train_end()

    def on_epoch_begin(self, epoch):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch)

    def on_epoch_end(self, epoch, logs):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_batch_end(self, batch, loss):
        for cb in self._batch:
            cb.on_batch_end(batch, loss)


class _Monitor(Callback):
    """Shared by callbacks that watch one logged value for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise NnplayError(f"mode must be 'auto', 'min' or 'max', got mode={mode!r}")
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "precision", "recall", "f1", "r2", "auc")) else "min"
        self.mode = mode
        self.min_delta = abs(float(min_delta))

    def _value(self, logs):
        if self.monitor not in logs:
            raise NnplayError(f"{type(self).__name__} monitors {self.monitor!r}, which training does not log "
                              f"(it logs: {', '.join(logs)}); pick one of those")
        return float(logs[self.monitor])

    def _better(self, value, best) -> bool:
        if best is None:
            return True
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs (Keras semantics)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        if patience < 0:
            raise NnplayError(f"EarlyStopping: patience must be >= 0, got patience={patience!r}")
        self.patience, self.baseline = int(patience), baseline
        self.restore_best_weights, self.start_from_epoch = bool(restore_best_weights), int(start_from_epoch)

    def on_train_begin(self, logs=None):
        self.wait, self.best, self.best_weights, self.best_epoch, self.stopped_epoch = 0, None, None, 0, 0
        if self.baseline is not None:
            self.best = float(self.baseline)

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        value = self._value(logs)
        self.wait += 1
        if self._better(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            msg = (f"early stopping at epoch {epoch + 1}: {self.monitor} has not improved for {self.wait} epochs "
                   f"(best {self.best:.4g} at epoch {self.best_epoch + 1})")
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)
                msg += "; best weights restored"
            self.model.stop_reason = msg


class StopAtTarget(_Monitor):
    """nnplay's stop rule: end training once ``monitor`` reaches ``target`` (e.g. accuracy >= 0.95)."""

    def __init__(self, monitor="loss", target=0.0, mode="auto"):
        super().__init__(monitor, mode, 0.0)
        self.target = float(target)

    def on_epoch_end(self, epoch, logs=None):
        value = self._value(logs)
        hit = value <= self.target if self.mode == "min" else value >= self.target
        if hit:
            self.model.stop_training = True
            self.model.stop_reason = f"target reached at epoch {epoch + 1}: {self.monitor} = {value:.4g}"


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta)
        if not 0.0 < factor < 1.0:
            raise NnplayError(f"ReduceLROnPlateau: factor must be in (0, 1), got factor={factor!r}")
        self.factor, self.patience, self.cooldown, self.min_lr = float(factor), int(patience), int(cooldown), float(min_lr)

    def on_train_begin(self, logs=None):
        self.wait, self.best, self.cooldown_counter = 0, None, 0

    def on_epoch_end(self, epoch, logs=None):
        value = self._value(logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(value, self.best):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                opt = self.model.optimizer
                old = opt.current_learning_rate()
                if old > self.min_lr:
                    opt.set_learning_rate(max(old * self.factor, self.min_lr))
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start from ``schedule(epoch, lr) -> new lr``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        lr = float(self.schedule(epoch, opt.current_learning_rate()))
        if not (lr > 0 and math.isfinite(lr)):
            raise NnplayError(f"LearningRateScheduler returned {lr!r} at epoch {epoch}; it must be a positive number")
        opt.set_learning_rate(lr)


class TerminateOnNaN(Callback):
    """Kept for Keras compatibility: the trainer always stops on a NaN loss and says which layer blew up."""


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only when ``monitor`` improves), atomically."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto"):
        super().__init__()
        self.filepath, self.save_best_only = str(filepath), bool(save_best_only)
        self._mon = _Monitor(monitor, mode, 0.0)
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            value = self._mon._value(logs)
            if not self._mon._better(value, self.best):
                return
            self.best = value
        path = self.filepath.format(epoch=epoch + 1, **{k: v for k, v in (logs or {}).items()})
        self.model.save(path)


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` then the logs); the file is rewritten atomically each epoch."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = Path(filename), separator, bool(append)

    def on_train_begin(self, logs=None):
        self.rows: list[dict] = []
        self.prefix = ""
        if self.append and self.filename.exists():
            # a regular file of a size that fits in memory (a pipe or device there must not hang training)
            raw = read_file(self.filename, f"CSVLogger: {str(self.filename)!r}")
            try:
                self.prefix = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise NnplayError(f"CSVLogger: {str(self.filename)!r} is not UTF-8 text; give another file name "
                                  "or append=False") from None

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}})
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys, delimiter=self.separator, lineterminator="\n")
        if not self.prefix:
            w.writeheader()
        w.writerows(self.rows)
        atomic_write_text(self.filename, self.prefix + buf.getvalue())


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_end=None, on_train_begin=None,
                 on_train_end=None):
        super().__init__()
        self._fns = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_batch_end=on_batch_end,
                         on_train_begin=on_train_begin, on_train_end=on_train_end)
        if on_batch_end is not None:
            self.on_batch_end = lambda batch, loss: on_batch_end(batch, loss)

    def on_epoch_begin(self, epoch, logs=None):
        if self._fns["on_epoch_begin"]:
            self._fns["on_epoch_begin"](epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._fns["on_epoch_end"]:
            self._fns["on_epoch_end"](epoch, logs)

    def on_train_begin(self, logs=None):
        if self._fns["on_train_begin"]:
            self._fns["on_train_begin"](logs)

    def on_train_end(self, logs=None):
        if self._fns["on_train_end"]:
            self._fns["on_train_end"](logs)
