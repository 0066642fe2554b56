"""How much memory a preset will need, estimated before any weight is allocated.

The estimate adds the weights and their gradients, the optimizer's slots (Adam keeps two per weight),
the activations of one batch with the caches backward needs, and the dataset. A model that would not fit
in half of the available memory is refused with a message naming the layer (or setting) to shrink, instead
of crashing the machine halfway through building it.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..errors import NnplayError

MEMORY_FRACTION = 0.5
_RECURRENT_GATES = {"simplernn": 1, "simple_rnn": 1, "lstm": 4, "gru": 3}


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit() -> int | None:
    avail = available_memory()
    return None if avail is None else int(avail * MEMORY_FRACTION)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


@dataclass
class MemoryEstimate:
    weights: int = 0          #: parameters and their gradients, bytes
    optimizer: int = 0        #: optimizer slots, bytes
    activations: int = 0      #: one batch forward + backward caches, bytes
    data: int = 0             #: the dataset's arrays, bytes
    params: int = 0           #: number of weights
    biggest_layer: int = -1   #: index of the layer with the most weights
    biggest_params: int = 0
    complete: bool = True     #: False when some layer's shape could not be worked out ahead of building

    @property
    def total(self) -> int:
        return self.weights + self.optimizer + self.activations + self.data

    def describe(self) -> str:
        return (f"about {human_bytes(self.total)} (weights and gradients {human_bytes(self.weights)}, optimizer "
                f"{human_bytes(self.optimizer)}, activations of one batch {human_bytes(self.activations)}, "
                f"data {human_bytes(self.data)})")


def _prod(shape) -> int:
    return int(math.prod(int(s) for s in shape)) if shape else 1


def layer_params(layer, in_shape: tuple, out_shape: tuple) -> int:
    """Weights of ``layer`` for this input, from its config alone (nothing is allocated)."""
    kind = type(layer).__name__.lower()
    n_in = int(in_shape[-1]) if in_shape else 1
    units = getattr(layer, "units", None)
    if kind in _RECURRENT_GATES and units:
        g = _RECURRENT_GATES[kind]
        return g * (n_in * units + units * units + 2 * units)
    if "conv" in kind and getattr(layer, "filters", None):
        k = _prod(getattr(layer, "kernel_size", (1,)))
        return k * n_in * layer.filters + layer.filters
    if kind == "embedding":
        return int(getattr(layer, "input_dim", 0)) * int(getattr(layer, "output_dim", 0))
    if "normalization" in kind:
        return 4 * n_in
    if units:
        return n_in * int(units) + int(units)
    return 0


def layer_activations(layer, in_shape: tuple, out_shape: tuple) -> int:
    """Values one sample keeps through forward + backward in this layer (output, caches, gradient)."""
    kind = type(layer).__name__.lower()
    values = 3 * (_prod(in_shape) + _prod(out_shape))
    units = getattr(layer, "units", None)
    if kind in _RECURRENT_GATES and units and len(in_shape) >= 2:
        values += int(in_shape[0]) * int(units) * (_RECURRENT_GATES[kind] + 2)
    if "conv" in kind and getattr(layer, "filters", None):   # the unfolded input windows
        values += 2 * _prod(out_shape[:-1]) * _prod(getattr(layer, "kernel_size", (1,))) * int(in_shape[-1])
    return values


def estimate(layers, input_shape: tuple, batch_size: int, n_slots: int, itemsize: int, data_bytes: int,
             shape_error=None) -> MemoryEstimate:
    """Walk the stack with ``compute_output_shape`` only and add up what training will allocate.

    ``shape_error(i, exc)`` turns an impossible layer into a located error; a layer whose shape cannot be
    known ahead of building ends the walk (``complete=False``) and the real build checks it.
    """
    est = MemoryEstimate(data=int(data_bytes))
    shape = tuple(input_shape)
    batch = max(int(batch_size), 256)  # evaluation runs in batches of at least 256
    values = 0
    for i, layer in enumerate(layers):
        try:
            out = tuple(layer.compute_output_shape(shape))
        except NnplayError as exc:
            if shape_error is not None:
                raise shape_error(i, exc) from None
            raise
        except Exception:  # a layer that needs build() to know its shape
            est.complete = False
            break
        n = layer_params(layer, shape, out)
        if n > est.biggest_params:
            est.biggest_layer, est.biggest_params = i, n
        est.params += n
        values += layer_activations(layer, shape, out)
        shape = out
    est.weights = 2 * est.params * itemsize
    est.optimizer = n_slots * est.params * itemsize
    est.activations = batch * values * itemsize
    return est


def check(est: MemoryEstimate, error) -> None:
    """Raise ``error(path, reason)`` when ``est`` does not fit in the memory limit."""
    limit = memory_limit()
    if limit is None or est.total <= limit:
        return
    reason = (f"training would need {est.describe()}, but only {human_bytes(limit)} may be used (half of the "
              f"available memory)")
    parts = {"weights": est.weights + est.optimizer, "activations": est.activations, "data": est.data}
    worst = max(parts, key=parts.get)
    if worst == "weights" and est.biggest_layer >= 0:
        raise error(("model", "layers", est.biggest_layer),
                    f"{reason}; this layer alone has {est.biggest_params:,} weights: use fewer units or filters")
    if worst == "activations":
        raise error(("training", "batch_size"), f"{reason}; use a smaller batch_size or smaller layers")
    raise error(("data",), f"{reason}; use fewer samples or smaller inputs")
