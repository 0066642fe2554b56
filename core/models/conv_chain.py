"""The one-kernel training step of a convolutional chain (:mod:`nnplay.core.kernels.conv_chain`).

A model takes this path when its layers are Conv2D, 2-D pooling (max, average, global), Dropout, Flatten and
Dense in a row, the last a Dense layer with a loss the fused step knows, every weight trainable and no
activity regularizer, whichever API built it. Dropout masks are drawn here, before the kernel, exactly as the
layers draw them (same generator, same order, same shapes), so both paths drop the same values. The step runs
in cache-sized micro-batches, one sample range per kernel thread, with no Python between layers; the per-layer
path is the reference and gives the same numbers up to float rounding (pinned by the tests).
"""
from __future__ import annotations

import time

import numpy as np

from ..kernels import conv_chain as C
from ..kernels import mlp
from ..kernels.conv import PLANE, plane_geometry
from ..layers.conv import MAX_COLS, PARALLEL_WORK, Conv2D
from ..layers.core import Dense, Dropout, Flatten
from ..layers.pooling import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D
from ..pacing import Pacer, kernel_threads, run_ranges
from .dense_chain import head_loss_kind

#: What one micro-batch may keep between its forward and backward pass (activations, window matrices,
#: gradients), in bytes, and the smallest micro-batch (smaller ones leave the products too thin for BLAS).
#: Measured on a 2-core machine (1 MB level-2 cache per core), a step's time against the micro-batch size:
#: small-cnn (366 KB a sample, batch 64) best at 4-8 samples, Keras' MNIST convnet (791 KB, batch 128) at 4,
#: a CIFAR-sized net (2.6 MB) at 4, cnn-font-digits (61 KB, batch 32) at 16-32.
MICRO_BATCH_BYTES = 2 * 1024 * 1024
MIN_MICRO_BATCH = 4


class ConvChainStep:
    """The planned fast step of one compiled model: ``step(P, G, x, y) -> (loss, predictions)``."""

    #: Fixed micro-batch size and number of sample ranges (None: from the sizes; tests pin them).
    micro_batch: int | None = None
    n_chunks: int | None = None
    #: The weight gradients are the sum of the ranges' shares, added up on the caller's thread: the optimizer
    #: updates them all, whole, there (see :attr:`.dense_chain.DenseChainStep.parallel`).
    parts, parallel, updated = 1, False, None

    def __init__(self, kind: int, spec: np.ndarray, alphas: np.ndarray, per_sample: int, work: int, dtype,
                 dropouts: list):
        self.kind, self.spec, self.alphas, self.dtype = kind, spec, alphas, np.dtype(dtype)
        self.per_sample, self.work = per_sample, work
        self.dropouts = dropouts            # [(layer, mask offset per sample, values per sample)], in order
        self.mask_size = sum(size for _, _, size in dropouts)
        self.masks = self._no_masks = np.zeros(0, self.dtype)
        self.pacer = Pacer()
        self._key = None
        self.y_none = np.zeros((1, 1), np.int64 if kind == mlp.LOSS_SPARSE_CCE_LOGITS else self.dtype)

    @classmethod
    def plan(cls, layers, input_shape, loss, fused, slots, segments, dtype) -> "ConvChainStep | None":
        """The fast step for ``layers`` (a model's chain, in order), or None when the model does not fit it
        (``fused``, ``slots`` and ``segments`` as :meth:`.dense_chain.DenseChainStep.plan`)."""
        if not layers or input_shape is None or len(input_shape) != 3:
            return None
        allowed = (Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Dropout, Flatten,
                   Dense)
        if not all(type(l) in allowed for l in layers) or type(layers[-1]) is not Dense:
            return None
        if not any(type(l) is Conv2D for l in layers):
            return None
        if any(l.params and (not l.trainable or l.activity_regularizer is not None) for l in layers):
            return None
        kind = head_loss_kind(layers[-1], loss, fused)
        if kind is None:
            return None
        offsets = {(id(o), n): off for (o, n), (off, _) in zip(slots, segments)}
        # Flatten and a Dropout of rate 0 change nothing in a flat buffer
        kept = [l for l in layers if type(l) is not Flatten and not (type(l) is Dropout and l.rate == 0.0)]
        rows = [_spec_row(l, offsets) for l in kept]
        if any(r is None for r in rows):
            return None
        spec = np.array([row for row, _, _ in rows], np.int64)
        dropouts, at = [], 0
        for i, l in enumerate(kept):
            if type(l) is Dropout:
                size = int(np.prod(l.input_shape))
                spec[i, C.S_KOFF] = at
                dropouts.append((l, at, size))
                at += size
        alphas = np.array([alpha for _, alpha, _ in rows], np.float64)
        work = sum(w for _, _, w in rows)
        return cls(kind, spec, alphas, _bytes_per_sample(spec, np.dtype(dtype).itemsize), work, dtype, dropouts)

    # ------------------------------------------------------------------ buffers
    def _sizes(self, batch: int) -> tuple[int, int]:
        """(micro-batch size, sample ranges) for a batch: micro-batches whose buffers fit in
        MICRO_BATCH_BYTES, and one range per kernel thread once the batch's products are big enough."""
        m = self.micro_batch or max(MIN_MICRO_BATCH, MICRO_BATCH_BYTES // self.per_sample)
        if self.n_chunks is not None:
            n = self.n_chunks
        else:
            threads = kernel_threads()
            n = threads if threads > 1 and self.work * batch >= PARALLEL_WORK else 1
        return min(m, batch), max(1, min(n, batch))

    def _buffers(self, batch: int) -> None:
        m, n = self._sizes(batch)
        key = (batch, m, n)
        if key == self._key:
            return
        if self._key is None or (m, n) != self._key[1:]:
            self.offs, ws_size, iws_size = _layout(self.spec, m)
            self.ws = np.empty((n, ws_size), self.dtype)
            self.iws = np.empty((n, iws_size), np.int32)
            self.gparts = None
            self._no_parts = np.empty((n, 0), self.dtype)
        self.out = np.empty((batch, int(self.spec[-1, C.S_F])), self.dtype)
        self.m, self.n, self._key = m, n, key

    def _run(self, P, G, x, y, kind, training: bool) -> float:
        B = x.shape[0]
        self._buffers(B)
        grads = kind != mlp.LOSS_NONE
        if grads and (self.gparts is None or self.gparts.shape[1] != G.size):
            self.gparts = np.empty((self.n, G.size), self.dtype)
        gparts = self.gparts if grads else self._no_parts
        m, n, out, spec, alphas, offs = self.m, self.n, self.out, self.spec, self.alphas, self.offs
        masks = self.masks if grads else self._no_masks

        def one(k: int) -> float:
            b0, b1 = (B * k) // n, (B * (k + 1)) // n
            return C.conv_chain_range(x, y, kind, P, gparts[k], spec, alphas, offs, self.ws[k], self.iws[k], masks,
                                      out, m, b0, b1)

        parallel = n > 1 and self.pacer.choose(training)
        t0 = time.perf_counter()
        losses = run_ranges(one, n, parallel)
        if grads:
            np.sum(gparts, axis=0, out=G)
        if n > 1 and training:
            self.pacer.record(parallel, time.perf_counter() - t0, B)
        return float(sum(losses))

    # ------------------------------------------------------------------ steps
    def step(self, P: np.ndarray, G: np.ndarray, x: np.ndarray, y: np.ndarray,
             optimizer=None) -> tuple[float, np.ndarray]:
        """Forward + loss + backward into ``G`` for one batch; returns (loss, the last layer's output).
        (``optimizer``: as :meth:`.dense_chain.DenseChainStep.step`; this step updates no weight itself.)"""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        y2 = y.reshape(x.shape[0], 1) if self.kind == mlp.LOSS_SPARSE_CCE_LOGITS else y
        self._draw_masks(x.shape[0])
        loss = self._run(P, G, x, y2, self.kind, True)
        return loss, self.out

    def _draw_masks(self, batch: int) -> None:
        """Each Dropout layer's mask for this batch (``Dropout.draw_mask``, as its forward draws it)."""
        if not self.dropouts:
            return
        if self.masks.size != batch * self.mask_size:
            self.masks = np.empty(batch * self.mask_size, self.dtype)
        for layer, at, size in self.dropouts:
            self.masks[batch * at:batch * (at + size)] = layer.draw_mask((batch, *layer.input_shape),
                                                                         self.dtype).reshape(-1)

    def forward(self, P: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The model's output for a batch (inference) from the same kernel. Returns a view of scratch: valid
        until the next call."""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        self._run(P, P, x, self.y_none, mlp.LOSS_NONE, False)
        return self.out


def _spec_row(layer, offsets: dict):
    """(spec row, activation alpha, multiply-adds per sample) of one layer, or None when it cannot join."""
    row = np.zeros(C.SPEC_COLUMNS, np.int64)
    work = 0
    if layer.params and (id(layer), "kernel") not in offsets:
        return None
    if type(layer) is Dropout:
        dims = tuple(layer.input_shape)
        if len(dims) > 3:
            return None
        dims = (*dims, 1, 1)[:3] if len(dims) < 3 else dims
        row[C.S_OP:C.S_F + 1] = (C.OP_DROP, *dims, *dims)
        return row, 0.0, 0
    if type(layer) in (GlobalAveragePooling2D, GlobalMaxPooling2D):   # one window over the whole image
        h, w, c = layer.input_shape
        op = C.OP_AVG if type(layer) is GlobalAveragePooling2D else C.OP_POOL
        row[C.S_OP:C.S_SW + 1] = (op, h, w, c, 1, 1, c, h, w, h, w)
        return row, 0.0, 0
    if type(layer) is Dense:
        if len(layer.input_shape) != 1:
            return None                      # a Dense applied along the last axis of an image
        row[[C.S_OP, C.S_H, C.S_W, C.S_C, C.S_OH, C.S_OW, C.S_F]] = (C.OP_DENSE, layer.input_shape[0], 1, 1, 1, 1,
                                                                        layer.units)
    else:
        (h, w, c), (oh, ow, f) = layer._in2, layer._out2
        pool = type(layer) in (MaxPooling2D, AveragePooling2D)
        op = C.OP_CONV if not pool else C.OP_POOL if type(layer) is MaxPooling2D else C.OP_AVG
        row[C.S_OP:C.S_F + 1] = (op, h, w, c, oh, ow, f)
        row[[C.S_PT, C.S_PL]] = layer._pt, layer._pl
        if pool:
            row[[C.S_KH, C.S_KW, C.S_SH, C.S_SW]] = (*layer._p2, *layer._s2)
        else:
            (kh, kw), (sh, sw) = layer._ks2, layer._st2
            if kh * kw * c * oh * ow > MAX_COLS:
                return None                  # one sample's window matrix is too big: the direct loops
            row[[C.S_KH, C.S_KW, C.S_SH, C.S_SW, C.S_METHOD]] = (kh, kw, sh, sw, layer.method)
            work = layer.work_per_sample()
    if not layer.params:
        return row, 0.0, work
    row[C.S_CODE], row[C.S_BIAS] = layer.act.code, int(layer.use_bias)
    row[C.S_KOFF] = offsets[id(layer), "kernel"]
    row[C.S_BOFF] = offsets[id(layer), "bias"] if layer.use_bias else -1
    return row, layer.act.alpha, work


def _layer_sizes(row, m: int) -> tuple[int, int, int, int]:
    """(output values, window-matrix values, PLANE scratch values, argmax indices) of one layer for ``m``
    samples."""
    op = row[C.S_OP]
    out = m * int(row[C.S_OH] * row[C.S_OW] * row[C.S_F])
    if op == C.OP_POOL:
        return out, 0, 0, out
    if op in (C.OP_DENSE, C.OP_DROP, C.OP_AVG):
        return out, 0, 0, 0
    kh, kw, c, f = (int(v) for v in row[[C.S_KH, C.S_KW, C.S_C, C.S_F]])
    oh, ow = int(row[C.S_OH]), int(row[C.S_OW])
    if row[C.S_METHOD] == PLANE:
        _, _, total, used = plane_geometry(m, oh, ow, kh, kw)
        return out, kh * kw * c * used, max(total * c, used * f), 0
    return out, m * oh * ow * kh * kw * c, 0, 0


def _layout(spec: np.ndarray, m: int) -> tuple[np.ndarray, int, int]:
    """Offsets of every layer's buffers in one range's workspace for ``m`` samples (see the kernel's
    ``offs``), and the sizes of the workspace and the index workspace."""
    L = spec.shape[0]
    offs = np.zeros((L + 1, C.OFFS_COLUMNS), np.int64)
    pos = ipos = 0
    widest, gt_len = 0, 0
    for l in range(L):
        row = spec[l]
        out, cols, buf, idx = _layer_sizes(row, m)
        offs[l, C.O_A] = pos
        pos += out
        if row[C.S_OP] in (C.OP_CONV, C.OP_DENSE):
            offs[l, C.O_Z] = pos
            pos += out
            n_in = int(row[C.S_H] * row[C.S_W] * row[C.S_C])
            window = n_in if row[C.S_OP] == C.OP_DENSE else int(row[C.S_KH] * row[C.S_KW] * row[C.S_C])
            gt_len = max(gt_len, window * int(row[C.S_F]))
        offs[l, C.O_COLS] = pos
        pos += cols
        offs[l, C.O_BUF] = pos
        pos += buf
        offs[l, C.O_IDX] = ipos
        ipos += idx
        widest = max(widest, out, m * int(row[C.S_H] * row[C.S_W] * row[C.S_C]))
    gt_len += int(spec[:, C.S_F].max())
    offs[L, C.O_A], offs[L, C.O_Z], offs[L, C.O_COLS] = pos, widest, gt_len
    return offs, pos + 3 * widest + gt_len, max(ipos, 1)


def _bytes_per_sample(spec: np.ndarray, itemsize: int) -> int:
    """What one sample adds to a micro-batch's buffers, in bytes."""
    _, one, _ = _layout(spec, 1)
    _, two, _ = _layout(spec, 2)
    return max(1, (two - one) * itemsize)
