"""``Model``: what every nnplay model shares (weights, compile, summary, save); the training API (fit,
evaluate, predict) is in :mod:`.fitting`, the data checks in :mod:`.data_checks`.

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

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import losses as losses_mod
from .. import optimizers as optimizers_mod
from ..errors import NnplayError, did_you_mean
from ..layers.base import Layer, _trainable_epoch
from ..layers.core import _Activated
from ..safety import check_allocation, sanitize
from ..seeding import resolve_seed
from .data_checks import DataChecks
from .conv_chain import ConvChainStep
from .dense_chain import DenseChainStep
from .fitting import Fitting
from .heads import Heads
from .npz_format import compile_info, write_model_npz
from .optimizer_slots import optimizer_slots

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


def sublayers(layer):
    """The layer and, for a nested model, every layer inside it (depth first)."""
    yield layer
    for sub in getattr(layer, "layers", ()):
        yield from sublayers(sub)


class Model(Fitting, DataChecks, Layer):
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
        if isinstance(name, str):      # a preset's name names its model: shown in summaries, so no escapes
            name = sanitize(name, one_line=True)
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
        if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence):
            raise NnplayError(f"set_weights takes a list of {len(slots)} arrays (as get_weights returns), got "
                              f"{type(weights).__name__}")
        if len(weights) != len(slots):
            raise NnplayError(f"set_weights got {len(weights)} arrays but the model has {len(slots)} weights "
                              f"({', '.join(o.name + '/' + n for o, n in slots)})")
        for (owner, n), w in zip(slots, weights):
            target = owner.weight(n)
            try:
                w = np.asarray(w)
            except (TypeError, ValueError):
                raise NnplayError(f"set_weights: {owner.name}/{n} must be an array of numbers, got "
                                  f"{type(w).__name__}") from None
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
            check_allocation(2 * total * self.model_dtype.itemsize, f"model {self.name!r}: {total:,} weights",
                             "use fewer units or filters, or fewer layers")
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

    def _owns_weights(self) -> bool:
        """Whether every weight's view still points into this model's buffer (no model sharing its layers has
        re-pointed them since)."""
        return self._epoch == _binding_epoch[0] or all(getattr(o, "_bound_by", None) is self for o, _ in self._slots)

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
                chain = self._dense_chain()
                for step_class in (DenseChainStep, ConvChainStep):
                    fast = step_class.plan(chain, self._input_shape, self.loss, self._fused, self._slots,
                                           self._segments, self.model_dtype)
                    if fast is not None:
                        break
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
        """Save config, weights and optimizer state to one ``.npz`` (written atomically, no pickle), or, for
        a path ending in ``.keras``, to Keras 3's own format (``keras.saving.load_model`` opens it);
        :func:`~.saving.load_model` reads both back."""
        self._require_built("save")
        if Path(path).suffix == ".keras":
            from ..saving import write_keras_file

            ready = self.compiled and self._ready
            return write_keras_file(path, self.get_config(), self.get_weights(), compile_info(self) if ready else None,
                                    optimizer_slots(self) if ready else None)
        return write_model_npz(self, path)

def _has_activity(layer) -> bool:
    return getattr(layer, "activity_regularizer", None) is not None
