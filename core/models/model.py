"""``Model``: what every nnplay model shares (weights, compile, fit, evaluate, predict, summary, save).

All weights training could update live in one flat buffer ``P`` (gradients in ``G``); every layer's
``params``/``grads`` entries are views into it, so the optimizer updates the whole model in one kernel call.
Several models may share layers (a GAN's generator + discriminator, an autoencoder and its encoder); each
model re-points the shared views into its own buffer before it steps (see :meth:`Model._bind`).

As in Keras 3, ``layer.trainable`` is read at every training step: flipping it, also after ``compile``,
changes which weights the next step updates (:meth:`Model._replan`). A model without an input shape builds
on its first data (``fit``, ``predict``, a call), and its ``compile`` completes then.

A subclass says how data flows: :class:`~.sequential.Sequential` through a chain, :class:`~.functional.
Functional` through a graph. It provides ``build``, ``forward``/``backward`` (as a layer of another model),
``_train_forward``/``_train_backward``, ``_plan_backward``, ``_output_layers``, ``_dense_chain``, the
config, and ``input_shapes``/``output_names``.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import losses as losses_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError, did_you_mean
from ..fileio import atomic_save_npz
from ..layers.base import Layer, _trainable_epoch
from ..layers.core import _Activated
from ..layers.symbolic import is_symbolic
from ..seeding import resolve_seed
from ..training import Trainer, run_fit
from ..training import data as batches
from ..training.watch import current_watcher
from .dense_chain import DenseChainStep
from .heads import Heads

FORMAT_VERSION = 1    #: of the ``.npz`` a model saves to
_binding_epoch = [0]  # bumped whenever any model re-points layer weights into its buffer
_name_counts: dict[str, int] = {}
#: compile arguments Keras takes that change nothing here (accepted so Keras code runs as written)
_COMPILE_NOOPS = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")


def unique_model_name(base: str) -> str:
    """``sequential``, ``sequential_1``, ...: unnamed models are numbered per process, as in Keras."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_model_names() -> None:
    """Start numbering unnamed models afresh (``keras.backend.clear_session``)."""
    _name_counts.clear()


def as_float_array(name: str, x, dtype) -> np.ndarray:
    if np.iscomplexobj(x):
        raise NnplayError(f"{name} holds complex numbers; give real values")
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
    """Base class of nnplay's models, itself usable as a layer of another model.

    ``Model(inputs, outputs)`` makes a functional model, as ``keras.Model`` does.
    """

    _functional_class: type | None = None     # set by .functional (the class Model(inputs, outputs) makes)

    def __new__(cls, *args, **kwargs):
        if cls is Model:
            if args or "inputs" in kwargs or "outputs" in kwargs:
                return super().__new__(cls._functional_class)
            raise NnplayError("Model(inputs, outputs) builds a functional model: give the Input(...) tensors and "
                              "the tensors your layers produced (subclassing Model with call() is not supported)")
        return super().__new__(cls)

    def __init__(self, name: str | None = None, *, seed: int | None = None, dtype="float32", trainable: bool = True):
        super().__init__(name=name, trainable=trainable)
        if not name:
            self.name = unique_model_name(self.base_name)
        self.auto_named = False          # a model's name is settled: another model never renames it
        self.model_dtype = np.dtype(dtype)
        if self.model_dtype not in (np.float32, np.float64):
            raise NnplayError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.seed = resolve_seed(seed)
        self.layers: list[Layer] = []
        self._input_shape: tuple | None = None
        self.optimizer = None
        self.loss = None
        self.heads: Heads | None = None
        self.metrics: list = []
        self.metrics_names: list[str] = []
        self.compiled = False
        self._ready = False             # compiled and bound (compile waits for the build)
        self.stop_training = False
        self.last_losses: dict[str, float] = {}
        self.P = self.G = None
        self._epoch = -1
        self._plan_epoch = -1

    def _streams(self):
        """The model's three random streams from its seed: weights, dropout masks, shuffling."""
        init_rng, self._dropout_rng, self._shuffle_rng = (np.random.default_rng(s) for s in
                                                         np.random.SeedSequence(self.seed).spawn(3))
        return init_rng

    @Layer.trainable.setter
    def trainable(self, value) -> None:
        # Keras 3: freezing a model freezes every layer inside it (and unfreezing unfreezes them)
        Layer.trainable.fset(self, value)
        for layer in self.layers:
            layer.trainable = value

    # ------------------------------------------------------------------ shapes
    @property
    def input_shapes(self) -> list[tuple]:
        return [] if self._input_shape is None else [tuple(self._input_shape)]

    @property
    def output_shapes(self) -> list[tuple]:
        return list(self.output_shape) if self.output_count > 1 else [self.output_shape]

    @property
    def output_names(self) -> list[str]:
        return [layer.name for layer in self._output_layers()]

    def _output_layers(self) -> list:
        raise NotImplementedError

    def _dense_chain(self) -> list:
        """The model's layers in order when they form one chain (for the one-kernel step), else []."""
        return []

    # ------------------------------------------------------------------ weights
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights()]

    def all_weights(self):
        return [w for layer in self.layers for w in layer.all_weights()]

    def param_weights(self):
        return [w for layer in self.layers for w in layer.param_weights()]

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
            if w.dtype.kind not in "biuf":
                raise NnplayError(f"set_weights: {owner.name}/{n} must be numeric, got dtype {w.dtype}")
            if w.shape != target.shape:
                raise NnplayError(f"set_weights: {owner.name}/{n} has shape {target.shape}, got {w.shape}")
            target[...] = w

    def count_params(self) -> int:
        if not self.built and self.input_shapes:
            self.build()
        return sum(layer.count_params() for layer in self.layers)

    def _bind(self, slots=None) -> None:
        """Point every weight training could update into this model's flat buffers (copying their values)."""
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
        self._slot_index = {(id(o), n): i for i, (o, n) in enumerate(slots)}
        _binding_epoch[0] += 1
        self._epoch = _binding_epoch[0]

    def _ensure_bound(self) -> None:
        if self._epoch != _binding_epoch[0] and any(getattr(o, "_bound_by", None) is not self for o, _ in self._slots):
            self._bind()
        self._epoch = _binding_epoch[0]

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **unknown) -> None:
        """Choose optimizer, loss(es) and metrics (Keras defaults: RMSprop, no metrics). With several outputs,
        ``loss``, ``loss_weights`` and ``metrics`` may be lists (in output order) or dicts by output name."""
        for key in unknown:
            if key not in _COMPILE_NOOPS:
                raise NnplayError(f"compile: unknown argument {key!r}" +
                                  did_you_mean(key, ["optimizer", "loss", "metrics", "loss_weights"]))
        if loss is None:
            raise NnplayError("compile needs a loss, e.g. loss='mse' or loss='binary_crossentropy'")
        if optimizer is None:
            raise NnplayError("compile needs an optimizer, e.g. optimizer='adam' (Keras' default is 'rmsprop')")
        self.optimizer = optimizers_mod.get(optimizer)
        self._compile_args = (loss, metrics, loss_weights)
        if not isinstance(loss, (list, tuple, dict)):
            losses_mod.get(loss)             # a bad name fails here, not at the first batch
        self._metric_specs = metrics
        self.compiled = True
        self._ready = False
        if not self.built and self.input_shapes:
            self.build()
        if self.built:
            self._finish_compile()

    def _finish_compile(self) -> None:
        loss, metrics, loss_weights = self._compile_args
        self.heads = Heads(self.output_names, self.output_shapes, loss, loss_weights, metrics)
        self.loss, self.metrics = self.heads.losses[0], self.heads.metrics[0]
        self._metric_specs = self.heads.metric_specs[0] if self.heads.single else self.heads.metric_specs
        multi_losses = [] if self.heads.single else [f"{n}_loss" for n in self.heads.names]
        self.metrics_names = ["loss", *multi_losses, *self.heads.metric_names]
        self._bind(self.param_weights())
        self.optimizer.build(self._segments, int(self.P.size), self.model_dtype)
        self._activated = [l for l in sublayers(self) if isinstance(l, _Activated)]
        self._fused_all = [self._fused_layer(layer, loss) for layer, loss in
                           zip(self._output_layers(), self.heads.losses)]
        self._fused = self._fused_all[0] if self.heads.single else None
        self._penalized = [l for l in self.layers if l.regularizers or _has_activity(l)]
        self._aux_layers = [l for l in sublayers(self) if l is not self and getattr(l, "adds_aux_loss", False)]
        self._plans: dict[tuple, tuple] = {}
        self._replan()
        self._ready = True

    @staticmethod
    def _fused_layer(last, loss):
        """``last`` (or the last layer inside it) when its activation fuses with ``loss``
        (softmax/sigmoid + cross-entropy computed from the logits), else None."""
        while isinstance(last, Model) and last.layers:
            last = last._output_layers()[0]
        want = loss.fuses_with
        if want is None or loss.from_logits or not isinstance(last, _Activated):
            return None
        return last if last.act.name == want else None

    def _replan(self) -> None:
        """Which weights the next steps update, who needs a gradient, and whether the one-kernel step fits:
        from the layers' ``trainable`` flags now (cached per combination of flags)."""
        active = [self._slot_index[id(o), n] for o, n in self.trainable_weights() if (id(o), n) in self._slot_index]
        key = tuple(active)
        plan = self._plans.get(key)
        if plan is None:
            segments = [self._segments[i] for i in active]
            all_trainable = len(active) == len(self._slots)
            fast = None
            if all_trainable and self.heads.single:
                fast = DenseChainStep.plan(self._dense_chain(), self._input_shape, self.loss, self._fused,
                                           self._slots, self._segments, self.model_dtype)
            plan = self._plans[key] = (self.optimizer.segment_runs(segments), self._plan_backward(), fast)
        runs, self._backward_plan, self._fast = plan
        self.optimizer.use_segments(runs)
        self._plan_epoch = _trainable_epoch[0]

    def _plan_backward(self):
        """Decide which layers need to pass a gradient back, for the current ``trainable`` flags."""
        return None

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

    def _activity_total(self) -> float:
        return sum(float(layer.cache.get("activity_penalty", 0.0)) for layer in self._penalized)

    def _penalty_total(self) -> float:
        return sum(layer.penalty() for layer in self._penalized) + self._activity_total()

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

    # ------------------------------------------------------------------ data
    def _build_from_data(self, x) -> None:
        """Build an unbuilt model from the first data it sees (Keras builds lazily)."""
        first = x[0] if isinstance(x, (list, tuple)) else x
        shape = np.shape(first)
        if len(shape) < 2:
            raise NnplayError(f"the model has no input shape yet and the data has shape {shape}; give data with a "
                              f"batch axis, or give the first layer input_shape=...")
        self.build(tuple(int(s) for s in shape[1:]))

    def check_data(self, x, y=None, what: str = "x"):
        """Validate and convert data once (dtype, finiteness, input shapes, matching lengths); builds the
        model from the data if it has no input shape yet."""
        if not self.built:
            if self.input_shapes:
                self.build()
            else:
                self._build_from_data(x)
        if self.compiled and not self._ready:
            self._finish_compile()
        x = self._check_inputs(x, what)
        if y is None:
            return x, None
        n = batches.count(x)
        if self.output_count == 1:
            if isinstance(y, (list, tuple)) and len(y) == 1 and np.ndim(y[0]) >= 1 and len(y[0]) == n:
                y = y[0]
            return x, self.heads.prepare([y], self.output_shapes, n, self.model_dtype)[0] if self.heads \
                else self._plain_targets(y, n)
        if isinstance(y, dict):
            missing = [name for name in self.output_names if name not in y]
            if missing:
                raise NnplayError(f"targets are missing for output(s) {', '.join(missing)}; give a dict with "
                                  f"{', '.join(self.output_names)}")
            y = [y[name] for name in self.output_names]
        if not isinstance(y, (list, tuple)) or len(y) != self.output_count:
            raise NnplayError(f"the model has {self.output_count} outputs ({', '.join(self.output_names)}): give "
                              f"y as a list of {self.output_count} arrays or a dict by output name")
        return x, self.heads.prepare(list(y), self.output_shapes, n, self.model_dtype)

    def _plain_targets(self, y, n):
        """Targets before compile (no loss to prepare them for): numbers with one entry per sample."""
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise NnplayError(f"targets must be numeric, got dtype {y.dtype}")
        if len(y) != n:
            raise NnplayError(f"x and y have different lengths: {n} samples but {len(y)} targets; "
                              f"give one target per sample")
        return y

    def _check_inputs(self, x, what: str):
        shapes = self.input_shapes
        if len(shapes) == 1:
            if isinstance(x, (list, tuple)) and len(x) == 1 and np.ndim(x[0]) == len(shapes[0]) + 1:
                x = x[0]
            return self._check_input(x, shapes[0], what)
        if isinstance(x, dict):
            names = self.input_names
            missing = [name for name in names if name not in x]
            if missing:
                raise NnplayError(f"{what} is missing input(s) {', '.join(missing)}; give a dict with "
                                  f"{', '.join(names)}")
            x = [x[name] for name in names]
        if not isinstance(x, (list, tuple)) or len(x) != len(shapes):
            raise NnplayError(f"the model has {len(shapes)} inputs ({', '.join(self.input_names)}): give {what} "
                              f"as a list of {len(shapes)} arrays or a dict by input name")
        xs = [self._check_input(v, s, f"{what}[{i}]") for i, (v, s) in enumerate(zip(x, shapes))]
        if len({len(v) for v in xs}) > 1:
            raise NnplayError(f"the inputs have different numbers of samples ({', '.join(str(len(v)) for v in xs)}); "
                              f"give one row per sample in each")
        return xs

    def _check_input(self, x, want: tuple, what: str) -> np.ndarray:
        x = as_float_array(what, x, self.model_dtype)
        if x.shape[1:] != tuple(want):
            if x.ndim == len(want) and x.shape == tuple(want):
                raise NnplayError(f"{what} has the shape of one sample {x.shape}; add a batch axis, e.g. x[None]")
            raise NnplayError(f"{what} has samples of shape {x.shape[1:]}, but the model's input is {tuple(want)}; "
                              f"reshape the data or change the first layer's input_shape")
        return x

    @property
    def input_names(self) -> list[str]:
        return ["input"]

    # ------------------------------------------------------------------ training
    def train_step(self, x, y):
        """One forward + backward + update on a prepared batch. Returns (total loss, predictions)."""
        if self._plan_epoch != _trainable_epoch[0]:
            self._replan()
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

    def _train_forward(self, x):
        return self.forward(x, True)

    def _train_backward(self, grad) -> None:
        self.backward(grad, False)

    def train_on_batch(self, x, y):
        """One update on one batch (Keras): the loss, or [loss, *metrics] when metrics were compiled."""
        self._require_compiled("train_on_batch")
        x, y = self.check_data(x, y)
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
            validation_data=None, shuffle=True, initial_epoch=0, **unknown):
        """Train (Keras' ``fit``), built on :class:`nnplay.core.training.Trainer`; returns the History."""
        if unknown:
            raise NnplayError(f"fit: unknown argument {next(iter(unknown))!r}")
        trainer = Trainer(self, x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                          validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                          initial_epoch=initial_epoch)
        watcher = current_watcher()          # ``nnplay watch`` shows this run live instead
        if watcher is not None:
            return watcher(self, trainer, verbose)
        return run_fit(trainer, verbose)

    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for ``x`` (inference mode): one array, or a list for several outputs."""
        x, _ = self.check_data(x, what="x")
        bs = max(1, int(batch_size or 32))
        n = batches.count(x)
        outs = [self.forward(batches.rows(x, i, i + bs), False) for i in range(0, n, bs)]
        if self.output_count == 1:
            if not outs:
                return np.zeros((0, *self.output_shape), self.model_dtype)
            return np.concatenate(outs, axis=0)
        if not outs:
            return [np.zeros((0, *s), self.model_dtype) for s in self.output_shapes]
        return [np.concatenate([o[k] for o in outs], axis=0) for k in range(self.output_count)]

    def __call__(self, x, training=False, **kwargs):
        """On arrays: the outputs (inference mode unless ``training``). On symbolic tensors: the model becomes
        one layer of a bigger functional model."""
        if kwargs or is_symbolic(x):
            return Layer.__call__(self, x, training=training, **kwargs)
        if not self.built:
            self._build_from_data(x)
        return self.forward(self._check_inputs(x, "x"), bool(training))

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
        self.reset_metrics()
        total, n, parts = 0.0, 0, {}
        bs = max(1, int(batch_size or 32))
        for i in range(0, batches.count(x), bs):
            xb, yb = batches.rows(x, i, i + bs), batches.rows(y, i, i + bs)
            k = batches.count(xb)
            out = self.forward(xb, False)
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

    def summary(self, print_fn=print, line_length: int | None = None) -> str:
        """The layers, their output shapes and parameter counts (and, for a graph, what feeds each layer)."""
        from .summary import summary_text   # a view of the model, below it in the import order

        self._require_built("summary")
        text = summary_text(self, line_length)
        if print_fn is not None:
            print_fn(text)
        return text

    def save(self, path) -> Path:
        """Save config, weights and optimizer state to one ``.npz`` (written atomically, no pickle);
        :func:`~.saving.load_model` reads it back."""
        self._require_built("save")
        path = Path(path)
        if path.is_dir():
            raise NnplayError(f"{str(path)!r} is a folder; give a file name such as {str(path / 'model.npz')!r}")
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        meta = {"format": "nnplay-model", "version": FORMAT_VERSION, "config": self.get_config(),
                "compile": None}
        arrays = {f"w{i:04d}": w for i, w in enumerate(self.get_weights())}
        if self.compiled and self._ready:
            loss, metrics, weights = self._compile_args
            meta["compile"] = {"optimizer": self.optimizer.get_config(),
                               "loss": [l.get_config() for l in self.heads.losses] if not self.heads.single
                               else self.loss.get_config(),
                               "metrics": _plain_metrics(metrics), "loss_weights": weights}
            for k, v in self.optimizer.get_state().items():
                arrays[f"opt/{k}"] = np.asarray(v)
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        return atomic_save_npz(path, arrays)


def _plain_metrics(metrics):
    """Metric specs as names (what a saved model's config can hold)."""
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        return {k: _plain_metrics(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return [_plain_metrics(m) if isinstance(m, (list, tuple, dict)) else
                (m if isinstance(m, str) else getattr(m, "name", str(m))) for m in metrics]
    return metrics if isinstance(metrics, str) else getattr(metrics, "name", str(metrics))


def _has_activity(layer) -> bool:
    return getattr(layer, "activity_regularizer", None) is not None
