"""Keras' training API on a model: ``train_step`` (one update), ``train_on_batch``, ``fit`` (through
:class:`~nnplay.core.training.Trainer`), ``predict``, ``evaluate`` and the metric bookkeeping they share."""
from __future__ import annotations

import math
import sys

import numpy as np

from .. import tiers
from ..errors import NnplayError
from ..layers.base import Layer, _trainable_epoch
from ..layers.symbolic import is_symbolic
from ..tiers import numpy_tier
from ..training import Trainer, run_fit
from ..training import data as batches
from ..training.tiered import ModelWarmUp, numpy_tier_enabled, start_warm_up
from ..training.watch import current_watcher


def batch_size_arg(batch_size, what: str) -> int:
    """Keras' ``batch_size``: a whole number >= 1, or None for 32."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise NnplayError(f"{what}: batch_size must be a whole number >= 1 (or None for 32), "
                          f"got batch_size={batch_size!r}")
    return int(batch_size)


class Fitting:
    """The training API of :class:`~.model.Model` (a mixin: it uses the model's plan, heads and layers)."""

    #: The kernels a cold first ``fit`` is still compiling; until they are ready, this model's steps and
    #: predictions run on the NumPy tier wherever they are called from.
    _compiling = None

    def _compiling_now(self) -> bool:
        """Whether this call must switch to the NumPy tier (the caller checked ``_compiling`` is set)."""
        if tiers.while_compiling(self._compiling) == tiers.KERNELS:
            self._compiling = None
            return False
        return not numpy_tier()

    def train_step(self, x, y):
        """One forward + backward + update on a prepared batch. Returns (total loss, predictions)."""
        if self._compiling is not None and self._compiling_now():
            with tiers.running(tiers.NUMPY):
                return self.train_step(x, y)
        if self._plan_epoch != _trainable_epoch[0]:
            self._replan()
        self._ensure_bound()
        if self._fast is not None and not numpy_tier():
            # a step may update its biggest weights itself, unless penalty gradients are still to be added
            loss, out = self._fast.step(self.P, self.G, x, y, None if self._penalized else self.optimizer)
            if self._penalized:
                loss += self._penalty_total()
            if not math.isfinite(loss):
                return loss, out
            for layer in self._penalized:
                layer.add_penalty_grads()
            self.optimizer.apply(self.P, self.G, self._fast.parts, self._fast.parallel, self._fast.updated)
            return loss, out
        for layer in self._activated:  # shared layers: another model may have flipped the flag
            layer.grad_is_logits = False
        for layer in self._fused_all:
            if layer is not None:
                layer.grad_is_logits = True
        out = self._train_forward(x)
        if self.heads.single:
            if self._fused is not None:
                loss, grad = self.loss.fused(y, self._fused.logits())
            else:
                loss = self.loss.value(y, out)
                grad = self.loss.grad(y, out)
            grad = np.asarray(grad, dtype=self.model_dtype)
        else:
            loss, self.last_losses, grad = self.heads.value_and_grads(y, out, self._fused_all)
            grad = [np.asarray(g, dtype=self.model_dtype) for g in grad]
        if self._aux_layers:
            loss = self._add_aux_losses(loss)
        if self._penalized:
            loss += self._penalty_total()
        if not math.isfinite(loss):
            return loss, out  # no update: the weights stay as they were before the blow-up
        self._train_backward(grad)
        for layer in self._penalized:
            layer.add_penalty_grads()
        self.optimizer.apply(self.P, self.G)
        return loss, out

    def _infer(self, x):
        """Outputs for a prepared batch in inference mode: an all-Dense model runs the kernel of its training
        step (forward only; the same numbers as the layers give), anything else its layers."""
        if self._compiling is not None and self._compiling_now():
            with tiers.running(tiers.NUMPY):
                return self._infer(x)
        if self._ready:
            if self._plan_epoch != _trainable_epoch[0]:
                self._replan()
            if self._fast is not None and self._owns_weights() and not numpy_tier():
                return self._fast.forward(self.P, x).copy()
        return self.forward(x, False)

    def _train_forward(self, x):
        return self.forward(x, True)

    def _train_backward(self, grad) -> None:
        self.backward(grad, False)

    def train_on_batch(self, x, y):
        """One update on one batch (Keras): the loss, or [loss, *metrics] when metrics were compiled."""
        self._require_compiled("train_on_batch")
        x, y = self.check_data(x, y)
        if batches.count(x) == 0:
            raise NnplayError("train_on_batch got an empty batch; give at least one sample")
        loss, out = self.train_step(x, y)
        if not self.metrics and self.heads.single:
            return float(loss)
        self.reset_metrics()
        self.update_metrics(y, out)
        return [float(loss), *self.last_losses.values(), *self.metric_logs().values()] if not self.heads.single \
            else [float(loss), *self.metric_logs().values()]

    def reset_metrics(self) -> None:
        if self.heads is not None:
            self.heads.reset()

    def update_metrics(self, y, out) -> None:
        if self.heads.single:
            for m in self.metrics:
                m.update(y, out)
        else:
            self.heads.update(y, out)

    def metric_logs(self) -> dict:
        return self.heads.logs() if self.heads is not None else {}

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0, steps_per_epoch=None, **unknown):
        """Train (Keras' ``fit``), built on :class:`nnplay.core.training.Trainer`; returns the History.

        ``x`` may be a Keras ``ImageDataGenerator``'s ``flow(x, y, batch_size)`` (anything with a
        ``training_data()`` method): its arrays train with its batch size, each batch randomly transformed.
        ``steps_per_epoch`` caps the batches of an epoch (an epoch never runs past the end of the data).
        """
        if unknown:
            raise NnplayError(f"fit: unknown argument {next(iter(unknown))!r}")
        augment = None
        if hasattr(x, "training_data"):
            if y is not None:
                raise NnplayError("fit: the flow already holds the targets; give them to flow(x, y), not to fit")
            x, y, batch_size, shuffle, augment = x.training_data()
        if hasattr(validation_data, "training_data"):
            validation_data = validation_data.validation_data()
        trainer = Trainer(self, x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                          validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                          initial_epoch=initial_epoch, augment=augment)
        if steps_per_epoch is not None:
            if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, (int, np.integer, float)) \
                    or steps_per_epoch < 1:
                raise NnplayError(f"fit: steps_per_epoch must be a whole number >= 1, got "
                                  f"steps_per_epoch={steps_per_epoch!r}")
            trainer.steps = min(trainer.steps, int(steps_per_epoch))
        watcher = current_watcher()          # ``nnplay watch`` shows this run live instead
        if watcher is not None:
            return watcher(self, trainer, verbose)
        trainer.compiling = self._cold_start(trainer, verbose)
        return run_fit(trainer, verbose)

    def _cold_start(self, trainer, verbose):
        """On the first ``fit`` of this model: warm its kernels, and on a cold cache return the compilation
        its trainer waits for on the NumPy tier (see :mod:`nnplay.core.training.tiered`); else None."""
        if getattr(self, "_fit_warmed", False) or not numpy_tier_enabled():
            return None
        self._fit_warmed = True
        compiling = self._compiling = start_warm_up(ModelWarmUp(self, trainer.x, trainer.y))
        if compiling is not None and verbose:
            print("compiling kernels in the background (first run only); training on NumPy meanwhile",
                  file=sys.stderr, flush=True)
        return compiling

    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for ``x`` (inference mode): one array, or a list for several outputs."""
        bs = batch_size_arg(batch_size, "predict")
        x, _ = self.check_data(x, what="x")
        n = batches.count(x)
        outs = [self._infer(batches.rows(x, i, i + bs)) for i in range(0, n, bs)]
        if self.output_count == 1:
            if not outs:
                return np.zeros((0, *self.output_shape), self.model_dtype)
            return np.concatenate(outs, axis=0)
        if not outs:
            return [np.zeros((0, *s), self.model_dtype) for s in self.output_shapes]
        return [np.concatenate([o[k] for o in outs], axis=0) for k in range(self.output_count)]

    def __call__(self, x, training=None, **kwargs):
        """On arrays: the outputs (inference mode unless ``training``; augmentation layers transform unless
        ``training=False``, as in Keras). On symbolic tensors: the model becomes one layer of a bigger
        functional model."""
        if kwargs or is_symbolic(x):
            return Layer.__call__(self, x, training=training, **kwargs)
        if not self.built:
            self._build_from_data(x)
        # training=None reaches the layers as None: each takes its own Keras default (augmentation layers
        # transform, dropout does not), as a Keras model called directly on data does
        return self.forward(self._check_inputs(x, "x"), None if training is None else bool(training))

    def evaluate(self, x=None, y=None, batch_size=32, verbose=0, return_dict=False):
        """Loss (including regularization, as Keras reports it) and metrics over the whole set."""
        self._require_compiled("evaluate")
        bs = batch_size_arg(batch_size, "evaluate")
        if x is None or y is None:
            raise NnplayError("evaluate needs both x and y")
        x, y = self.check_data(x, y)
        if batches.count(x) == 0:
            raise NnplayError("evaluate got no samples (x is empty); give at least one")
        logs = self.evaluate_prepared(x, y, bs)
        if return_dict:
            return logs
        vals = [logs[k] for k in self.metrics_names]
        return vals[0] if len(vals) == 1 else vals

    def evaluate_prepared(self, x, y, batch_size=32) -> dict:
        self.reset_metrics()
        total, n, parts = 0.0, 0, {}
        bs = max(1, int(batch_size or 32))
        for i in range(0, batches.count(x), bs):
            xb, yb = batches.rows(x, i, i + bs), batches.rows(y, i, i + bs)
            k = batches.count(xb)
            out = self._infer(xb)
            if self.heads.single:
                batch_loss, part = self.loss.value(yb, out), {}
            else:
                batch_loss, part = self.heads.value(yb, out)
            if self._aux_layers:
                batch_loss = self._add_aux_losses(batch_loss)
                part = {**part, **self.last_losses}
            if self._penalized:                       # activity penalties of this batch (Keras counts them)
                batch_loss += self._activity_total()
            for key, value in part.items():
                parts[key] = parts.get(key, 0.0) + value * k
            total += batch_loss * k
            n += k
            self.update_metrics(yb, out)
        logs = {"loss": total / max(n, 1) + (self.penalty() if self._penalized else 0.0)}
        logs.update({key: value / max(n, 1) for key, value in parts.items()})
        logs.update(self.metric_logs())
        return logs
