"""The one-kernel training step for a plain chain of Dense layers (:mod:`nnplay.core.kernels.mlp`).

Forward, loss and backward of every layer run in one kernel call over the model's flat weight buffer, so a
small MLP pays one Python round trip per batch instead of one per layer. A model takes this path whenever
its trainable layers are a chain of Dense layers ending in a loss the kernel knows, whichever API built it;
the per-layer path gives the same numbers (pinned by the tests).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import losses as losses_mod
from ..kernels import mlp, mlp_update
from ..layers.core import Dense
from ..pacing import Pacer, kernel_threads


def head_loss_kind(last, loss, fused) -> int | None:
    """The one-kernel steps' loss kind (:func:`nnplay.core.kernels.mlp.head_loss`) for a chain ending in the
    Dense layer ``last``, or None when the loss is not one they know."""
    if isinstance(loss, losses_mod.MeanSquaredError) and last.act.name != "softmax":
        return mlp.LOSS_MSE
    # the cross-entropies: fused with the last layer's softmax/sigmoid, or given its linear output as logits
    if fused is not last and not (loss.from_logits and last.act.name == "linear"):
        return None
    if isinstance(loss, losses_mod.SparseCategoricalCrossentropy):
        return mlp.LOSS_SPARSE_CCE_LOGITS
    if isinstance(loss, losses_mod.CategoricalCrossentropy):
        return mlp.LOSS_CCE_LOGITS
    if isinstance(loss, losses_mod.BinaryCrossentropy):
        return mlp.LOSS_BCE_LOGITS
    return None


class DenseChainStep:
    """The planned fast step of one compiled model: ``step(x, y) -> (loss, predictions)``."""

    #: Whether a step may update its big layers' kernels itself (tests compare with and without).
    fuse_updates = True

    def __init__(self, kind: int, spec: np.ndarray, alphas: np.ndarray, dtype):
        self.kind, self.spec, self.alphas, self.dtype = kind, spec, alphas, np.dtype(dtype)
        self.pacer = Pacer()
        #: whether the last step ran its products' ``parts`` blocks on threads: the optimizer then updates
        #: the same blocks on the same threads (:meth:`nnplay.core.optimizers.Optimizer.apply`)
        self.parallel = False
        #: the ``(offset, length)`` weights the last step updated itself (None: none), for the optimizer
        self.updated: np.ndarray | None = None
        self.batch = 0
        self.parts_batch = -1
        # the fused update's arguments when there is none (the same types, so the same compiled kernel)
        self._no_slots, self._no_hp = np.zeros((1, 1), self.dtype), np.zeros(mlp_update.HP_SIZE)
        self._spec_fused = spec.copy()         # spec with column 6 set for this batch size's split layers
        self._units_max = int(spec[:, 1].max())
        # the targets' type in training (sparse class indices are int64), so inference runs the same compiled
        # kernel instead of a second specialisation of it
        self.y_none = np.zeros((1, 1), np.int64 if kind == mlp.LOSS_SPARSE_CCE_LOGITS else self.dtype)

    @classmethod
    def plan(cls, layers, input_shape, loss, fused, slots, segments, dtype) -> "DenseChainStep | None":
        """The fast step for ``layers`` (a model's chain, in order), or None when the model does not fit it.

        ``fused`` is the layer whose activation the loss takes as logits (or None); ``slots`` and
        ``segments`` say where each weight sits in the model's flat buffer.
        """
        if not layers or not all(type(l) is Dense and l.trainable and l.activity_regularizer is None
                                 for l in layers):
            return None
        if input_shape is None or len(input_shape) != 1:
            return None
        kind = head_loss_kind(layers[-1], loss, fused)
        if kind is None:
            return None
        offsets = {(id(o), n): off for (o, n), (off, _) in zip(slots, segments)}
        if any((id(l), "kernel") not in offsets for l in layers):
            return None
        spec = np.zeros((len(layers), 7), np.int64)     # column 6: update in the step (set per step)
        for i, l in enumerate(layers):
            spec[i, :6] = (l.params["kernel"].shape[0], l.units, offsets[id(l), "kernel"],
                           offsets[id(l), "bias"] if l.use_bias else -1, l.act.code, int(l.use_bias))
        return cls(kind, spec, np.array([l.act.alpha for l in layers], np.float64), dtype)

    def _buffers(self, batch: int) -> None:
        if batch > self.batch:
            units = self.spec[:, 1]
            self.act_off = np.concatenate([[0], np.cumsum(units[:-1] * batch)]).astype(np.int64)
            total = int(units.sum() * batch)
            widest = int(max(units.max(), self.spec[:, 0].max()) * batch)
            dt = self.dtype
            self.z, self.a = np.empty(total, dt), np.empty(total, dt)
            self.g1, self.g2 = np.empty(widest, dt), np.empty(widest, dt)
            self.batch = batch
        if self.parts_batch != batch:
            # one block per kernel thread once the biggest product is worth splitting (nnplay.core.pacing)
            n_in, units = self.spec[:, 0], self.spec[:, 1]
            work = int((n_in * units).max()) * batch
            self.parts, self.parts_batch = (kernel_threads() if work >= mlp.SPLIT_WORK else 1), batch
            # the layers whose weight-gradient product is split when the step runs in parts
            # (mlp.mlp_train_step): they may update their kernels in the step
            split = n_in * units * batch >= mlp.SPLIT_WORK
            self._spec_fused[:, 6] = split
            self._fused = np.ascontiguousarray(np.stack([self.spec[:, 2], n_in * units], axis=1)[split])

    def step(self, P: np.ndarray, G: np.ndarray, x: np.ndarray, y: np.ndarray,
             optimizer=None) -> tuple[float, np.ndarray]:
        """Forward + loss + backward into ``G`` for one batch; returns (loss, the last layer's output).

        With ``optimizer`` (one whose :meth:`~nnplay.core.optimizers.Optimizer.fused_update` allows it), the
        layers whose products run in blocks update their kernels in the step (:attr:`updated`), while each
        block of gradients is still in its core's cache; the optimizer updates the rest.
        """
        B = x.shape[0]
        self._buffers(B)
        y2 = y.reshape(B, 1) if self.kind == mlp.LOSS_SPARSE_CCE_LOGITS else y
        parts = self.parts
        self.updated = None
        if parts == 1:   # every product whole: the kernel without the threaded split (cheaper to compile)
            loss = mlp.mlp_train_step_whole(x, y2, self.kind, P, G, self.spec, self.alphas, self.act_off, self.z,
                                            self.a, self.g1, self.g2)
            self.parallel = False
            return float(loss), self._output(B)
        fused = optimizer.fused_update() if optimizer is not None and self.fuse_updates and len(self._fused) \
            else None
        slots, hp, spec = (self._no_slots, self._no_hp, self.spec) if fused is None else (*fused, self._spec_fused)
        if fused is not None and self.g1.size < (parts - 1) * B * self._units_max:
            self.g1 = np.empty((parts - 1) * B * self._units_max, self.dtype)   # room for the forward's shares
        parallel = self.pacer.choose(True)
        t0 = time.perf_counter()
        loss = mlp.mlp_train_step(x, y2, self.kind, P, G, spec, self.alphas, self.act_off, self.z, self.a,
                                  self.g1, self.g2, slots, hp, parts, parallel)
        self.pacer.record(parallel, time.perf_counter() - t0, B)
        self.parallel = parallel
        if fused is not None and math.isfinite(loss):     # (a loss that is not finite: the kernel updated none)
            self.updated = self._fused
        return float(loss), self._output(B)

    def forward(self, P: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The model's output for a batch (inference), from the same kernel as the training step, so a small
        model compiles one kernel for both. Returns a view of scratch: valid until the next call."""
        B = x.shape[0]
        self._buffers(B)
        parts = None if self.parts == 1 else self.parts
        if parts is None:
            mlp.mlp_train_step_whole(x, self.y_none, mlp.LOSS_NONE, P, P, self.spec, self.alphas, self.act_off,
                                     self.z, self.a, self.g1, self.g2)
        else:
            mlp.mlp_train_step(x, self.y_none, mlp.LOSS_NONE, P, P, self.spec, self.alphas, self.act_off, self.z,
                               self.a, self.g1, self.g2, self._no_slots, self._no_hp, parts, self.pacer.choose(False))
        return self._output(B)

    def _output(self, B: int) -> np.ndarray:
        last = self.spec[-1, 1]
        off = self.act_off[-1]
        return self.a[off:off + B * last].reshape(B, last)
