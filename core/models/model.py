"""``Model``: what every nnplay model shares (weights, compile, fit, evaluate, predict, summary, save).

All trainable weights of a compiled model live in one flat buffer ``P`` (gradients in ``G``); every layer's
``params``/``grads`` entries are views into it, so the optimizer updates the whole model in one kernel call.
Several models may share layers (a GAN's generator + discriminator); each model re-points the shared
views into its own buffer before it steps (see :meth:`Model._bind`).

A subclass says how data flows: :class:`~.sequential.Sequential` through a chain. It provides ``build``,
``forward``/``backward`` (as a layer of another model), ``_train_forward``/``_train_backward`` (one
training pass, skipping the gradients nobody needs), ``_output_layer``, ``_dense_chain`` and the config.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError, did_you_mean
from ..fileio import atomic_save_npz
from ..layers.base import Layer, format_shape
from ..layers.core import _Activated
from ..seeding import resolve_seed
from ..training import Trainer, run_fit
from .dense_chain import DenseChainStep

FORMAT_VERSION = 1    #: of the ``.npz`` a model saves to
_binding_epoch = [0]  # bumped whenever any model re-points layer weights into its buffer


def _as_float_array(name: str, x, dtype) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError):
        raise NnplayError(f"{name} must be numeric, got {type(x).__name__}") from None
    if arr.ndim == 0:
        raise NnplayError(f"{name} must have a batch axis, got a scalar")
    if arr.size and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise NnplayError(f"{name} contains {bad} NaN or infinite value(s); clean or impute the data before training")
    return np.ascontiguousarray(arr)


def sublayers(layer):
    """The layer and, for a nested model, every layer inside it (depth first)."""
    yield layer
    for sub in getattr(layer, "layers", ()):
        yield from sublayers(sub)


class Model(Layer):
    """Base class of nnplay's models; itself usable as a layer of another model."""

    def __init__(self, name: str | None = None, *, seed: int | None = None, dtype="float32", trainable: bool = True):
        super().__init__(name=name or "model", trainable=trainable)
        self.model_dtype = np.dtype(dtype)
        if self.model_dtype not in (np.float32, np.float64):
            raise NnplayError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.seed = resolve_seed(seed)
        self.layers: list[Layer] = []
        self._input_shape: tuple | None = None
        self.optimizer = None
        self.loss = None
        self.metrics_names: list[str] = []
        self.compiled = False
        self.stop_training = False
        self.P = self.G = None
        self._epoch = -1

    def _streams(self):
        """The model's three random streams from its seed: weights, dropout masks, shuffling."""
        init_rng, self._dropout_rng, self._shuffle_rng = (np.random.default_rng(s) for s in
                                                         np.random.SeedSequence(self.seed).spawn(3))
        return init_rng

    # ------------------------------------------------------------------ weights
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights()]

    def all_weights(self):
        return [w for layer in self.layers for w in layer.all_weights()]

    def get_weights(self) -> list[np.ndarray]:
        """Every weight in Keras order and layout (copies)."""
        self._require_built("get_weights")
        return [owner.weight(n).copy() for owner, n in self.all_weights()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        self._require_built("set_weights")
        slots = self.all_weights()
        if len(weights) != len(slots):
            raise NnplayError(f"set_weights got {len(weights)} arrays but the model has {len(slots)} weights "
                              f"({', '.join(o.name + '/' + n for o, n in slots)})")
        for (owner, n), w in zip(slots, weights):
            target = owner.weight(n)
            w = np.asarray(w)
            if w.shape != target.shape:
                raise NnplayError(f"set_weights: {owner.name}/{n} has shape {target.shape}, got {w.shape}")
            target[...] = w

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def _bind(self, slots=None) -> None:
        """Point every trainable weight of this model into its flat buffers (copying current values).

        ``slots`` defaults to the weights captured at compile time: as in Keras, flipping ``trainable``
        on a sub-model later (a GAN's discriminator) changes nothing until the model is compiled again.
        """
        slots = slots if slots is not None else self._slots
        sizes = [owner.params[n].size for owner, n in slots]
        total = int(sum(sizes))
        if self.P is None or self.P.size != total:
            self.P = np.zeros(total, self.model_dtype)
            self.G = np.zeros(total, self.model_dtype)
        self._segments, off = [], 0
        for (owner, n), size in zip(slots, sizes):
            shape = owner.params[n].shape
            self.P[off:off + size] = owner.params[n].ravel()
            owner.params[n] = self.P[off:off + size].reshape(shape)
            owner.grads[n] = self.G[off:off + size].reshape(shape)
            owner._bound_by = self
            if hasattr(owner, "on_rebind"):
                owner.on_rebind()
            self._segments.append((off, size))
            off += size
        self._slots = slots
        _binding_epoch[0] += 1
        self._epoch = _binding_epoch[0]

    def _ensure_bound(self) -> None:
        if self._epoch != _binding_epoch[0] and any(getattr(o, "_bound_by", None) is not self for o, _ in self._slots):
            self._bind()
        self._epoch = _binding_epoch[0]

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **unknown) -> None:
        """Choose optimizer, loss and metrics (Keras defaults: RMSprop, no metrics)."""
        if unknown:
            raise NnplayError(f"compile: unknown argument {next(iter(unknown))!r}; it takes optimizer, loss, metrics")
        if loss is None:
            raise NnplayError("compile needs a loss, e.g. loss='mse' or loss='binary_crossentropy'")
        self.loss = losses_mod.get(loss)
        self.optimizer = optimizers_mod.get(optimizer)
        self._metric_specs = list(metrics or [])
        if not self.built:
            self.build()
        self._bind(self.trainable_weights())
        self.optimizer.build(self._segments, int(self.P.size), self.model_dtype)
        self.metrics = [metrics_mod.get(m, self.loss, self.output_shape) for m in self._metric_specs]
        self.metrics_names = ["loss"] + [m.name for m in self.metrics]
        self._fused = self._fused_output()
        self._activated = [l for l in sublayers(self) if isinstance(l, _Activated)]
        for layer in self._activated:
            layer.grad_is_logits = False
        if self._fused is not None:
            self._fused.grad_is_logits = True
        self._plan_backward()
        self._penalized = [l for l in self.layers if l.regularizers or _has_activity(l)]
        self._aux_layers = [l for l in sublayers(self) if l is not self and getattr(l, "adds_aux_loss", False)]
        self.last_losses: dict[str, float] = {}
        self._fast = DenseChainStep.plan(self._dense_chain(), self._input_shape, self.loss, self._fused,
                                         self._slots, self._segments, self.model_dtype)
        self.compiled = True

    def _fused_output(self):
        """The last layer whose activation fuses with the loss (softmax/sigmoid + cross-entropy), if any."""
        last = self._output_layer()
        while isinstance(last, Model) and last.layers:
            last = last._output_layer()
        want = self.loss.fuses_with
        if want is None or self.loss.from_logits or not isinstance(last, _Activated):
            return None
        return last if last.act.name == want else None

    def _plan_backward(self) -> None:
        """Decide, after compile, which layers need to pass a gradient back (subclasses)."""

    def _dense_chain(self) -> list:
        """The model's layers in order when they form one chain (for the one-kernel step), else []."""
        return []

    def _require_built(self, what: str) -> None:
        if not self.built:
            self.build()

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise NnplayError(f"call model.compile(optimizer=..., loss=...) before {what}")

    # ------------------------------------------------------------------ penalties
    def penalty(self) -> float:
        return sum(l.penalty() for l in self.layers)

    def add_penalty_grads(self) -> None:
        for l in self.layers:
            l.add_penalty_grads()

    def _penalty_total(self) -> float:
        total = 0.0
        for layer in self._penalized:
            total += layer.penalty() + float(layer.cache.get("activity_penalty", 0.0))
        return total

    def aux_losses(self) -> dict[str, float]:
        """Auxiliary loss terms of the last forward pass by name (a VAE's ``kl_loss``), summed over layers.

        A layer with ``adds_aux_loss = True`` puts ``{"name": value}`` in ``cache["aux_losses"]`` in its
        forward and adds the matching gradient in its backward; the model adds the values to the loss.
        """
        out: dict[str, float] = {}
        for layer in self._aux_layers:
            for key, value in layer.cache.get("aux_losses", {}).items():
                out[key] = out.get(key, 0.0) + float(value)
        return out

    def _add_aux_losses(self, loss: float) -> float:
        aux = self.aux_losses()
        self.last_losses = {"reconstruction_loss": float(loss), **aux}
        return loss + sum(aux.values())

    # ------------------------------------------------------------------ training
    def check_data(self, x, y=None, what: str = "x"):
        """Validate and convert data once (dtype, finiteness, input shape, matching lengths)."""
        self._require_built(what)
        x = _as_float_array(what, x, self.model_dtype)
        want = tuple(self._input_shape)
        if x.shape[1:] != want:
            if x.ndim == len(want) and x.shape == want:
                raise NnplayError(f"{what} has the shape of one sample {x.shape}; add a batch axis, e.g. x[None]")
            raise NnplayError(f"{what} has samples of shape {x.shape[1:]}, but the model's input is {want}; "
                              f"reshape the data or change the first layer's input_shape")
        if y is None:
            return x, None
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise NnplayError(f"targets must be numeric, got dtype {y.dtype}")
        if len(y) != len(x):
            raise NnplayError(f"x and y have different lengths: {len(x)} samples but {len(y)} targets; "
                              f"give one target per sample")
        if y.dtype.kind == "f" and y.size and not np.isfinite(y).all():
            raise NnplayError("y contains NaN or infinite values; clean the targets before training")
        y = self.loss.prepare_targets(y, (len(x), *self.output_shape))
        if y.dtype.kind == "f" or not isinstance(self.loss, losses_mod.SparseCategoricalCrossentropy):
            y = np.ascontiguousarray(y, dtype=self.model_dtype)
        return x, y

    def train_step(self, x: np.ndarray, y: np.ndarray):
        """One forward + backward + update on a prepared batch. Returns (total loss, predictions)."""
        self._ensure_bound()
        if self._fast is not None:
            loss, out = self._fast.step(self.P, self.G, x, y)
            if self._penalized:
                loss += self._penalty_total()
            if not math.isfinite(loss):
                return loss, out
            for layer in self._penalized:
                layer.add_penalty_grads()
            self.optimizer.apply(self.P, self.G)
            return loss, out
        out = self._train_forward(x)
        if self._fused is not None:
            loss, grad = self.loss.fused(y, self._fused.logits())
        else:
            loss = self.loss.value(y, out)
            grad = self.loss.grad(y, out)
        if self._aux_layers:
            loss = self._add_aux_losses(loss)
        if self._penalized:
            loss += self._penalty_total()
        if not math.isfinite(loss):
            return loss, out  # no update: the weights stay as they were before the blow-up
        grad = np.asarray(grad, dtype=self.model_dtype)
        for layer in self._activated:  # shared layers: another model may have flipped the flag
            layer.grad_is_logits = layer is self._fused
        self._train_backward(grad)
        for layer in self._penalized:
            layer.add_penalty_grads()
        self.optimizer.apply(self.P, self.G)
        return loss, out

    def _train_forward(self, x):
        return self.forward(x, True)

    def _train_backward(self, grad) -> None:
        self.backward(grad, False)

    def train_on_batch(self, x, y):
        """One update on one batch (Keras): the loss, or [loss, *metrics] when metrics were compiled."""
        self._require_compiled("train_on_batch")
        x, y = self.check_data(x, y)
        loss, out = self.train_step(x, y)
        if not self.metrics:
            return float(loss)
        return [float(loss)] + [m.compute(y, out) for m in self.metrics]

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0, **unknown):
        """Train (Keras' ``fit``), built on :class:`nnplay.core.training.Trainer`; returns the History."""
        if unknown:
            raise NnplayError(f"fit: unknown argument {next(iter(unknown))!r}")
        trainer = Trainer(self, x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                          validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                          initial_epoch=initial_epoch)
        return run_fit(trainer, verbose)

    def predict(self, x, batch_size=32, verbose=0) -> np.ndarray:
        x, _ = self.check_data(x, what="x")
        if len(x) == 0:
            return np.zeros((0, *self.output_shape), self.model_dtype)
        outs = [self.forward(x[i:i + batch_size], False) for i in range(0, len(x), max(1, int(batch_size)))]
        return np.concatenate(outs, axis=0)

    def __call__(self, x, training=False):
        return self.forward(np.asarray(x, self.model_dtype), training)

    def evaluate(self, x=None, y=None, batch_size=32, verbose=0, return_dict=False):
        """Loss (including regularization, as Keras reports it) and metrics over the whole set."""
        self._require_compiled("evaluate")
        x, y = self.check_data(x, y)
        logs = self.evaluate_prepared(x, y, batch_size)
        if return_dict:
            return logs
        vals = [logs[k] for k in self.metrics_names]
        return vals[0] if len(vals) == 1 else vals

    def evaluate_prepared(self, x, y, batch_size=32) -> dict:
        for m in self.metrics:
            m.reset()
        total, n, parts = 0.0, 0, {}
        for i in range(0, len(x), max(1, int(batch_size))):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            out = self.forward(xb, False)
            batch_loss = self.loss.value(yb, out)
            if self._aux_layers:
                batch_loss = self._add_aux_losses(batch_loss)
                for key, value in self.last_losses.items():
                    parts[key] = parts.get(key, 0.0) + value * len(xb)
            total += batch_loss * len(xb)
            n += len(xb)
            for m in self.metrics:
                m.update(yb, out)
        logs = {"loss": total / max(n, 1) + (self.penalty() if self._penalized else 0.0)}
        logs.update({key: value / max(n, 1) for key, value in parts.items()})
        for m in self.metrics:
            logs[m.name] = m.result()
        return logs

    # ------------------------------------------------------------------ views
    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name (searching nested models too) or by index, as Keras' ``get_layer``."""
        if index is not None:
            if not -len(self.layers) <= int(index) < len(self.layers):
                raise NnplayError(f"get_layer: index {index} is out of range for a model of {len(self.layers)} layers")
            return self.layers[int(index)]
        for layer in sublayers(self):
            if layer is not self and layer.name == name:
                return layer
        names = [l.name for l in sublayers(self) if l is not self]
        raise NnplayError(f"no layer named {name!r}" + did_you_mean(str(name), names) + f"; layers: {', '.join(names)}")

    def summary(self, print_fn=print, line_length: int = 65) -> str:
        self._require_built("summary")
        w1, w2 = 28, 22
        rows = [f'Model: "{self.name}"', "─" * line_length,
                f"{'Layer (type)':<{w1}}{'Output Shape':<{w2}}{'Param #':>{line_length - w1 - w2}}",
                "═" * line_length]
        for layer in self.layers:
            label = f"{layer.name} ({type(layer).__name__})"
            rows.append(f"{label:<{w1}}{format_shape(layer.output_shape):<{w2}}"
                        f"{layer.count_params():>{line_length - w1 - w2},}")
        total = self.count_params()
        trainable = sum(o.params[n].size for o, n in self.trainable_weights())
        rows += ["═" * line_length, f" Total params: {total:,}", f" Trainable params: {trainable:,}",
                 f" Non-trainable params: {total - trainable:,}", "─" * line_length]
        text = "\n".join(rows)
        if print_fn is not None:
            print_fn(text)
        return text

    def save(self, path) -> Path:
        """Save config, weights and optimizer state to one ``.npz`` (written atomically, no pickle);
        :func:`~.saving.load_model` reads it back."""
        self._require_built("save")
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        meta = {"format": "nnplay-model", "version": FORMAT_VERSION, "config": self.get_config(),
                "compile": None}
        arrays = {f"w{i:04d}": w for i, w in enumerate(self.get_weights())}
        if self.compiled:
            meta["compile"] = {"optimizer": self.optimizer.get_config(), "loss": self.loss.get_config(),
                               "metrics": [m if isinstance(m, str) else getattr(m, "name", str(m))
                                           for m in self._metric_specs]}
            for k, v in self.optimizer.get_state().items():
                arrays[f"opt/{k}"] = np.asarray(v)
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        return atomic_save_npz(path, arrays)


def _has_activity(layer) -> bool:
    return getattr(layer, "activity_regularizer", None) is not None
