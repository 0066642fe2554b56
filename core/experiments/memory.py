"""How much memory a preset will need, estimated before any weight is allocated.

The estimate adds the weights and their gradients, the optimizer's slots (Adam keeps two per weight),
the activations of one batch with the caches backward needs, and the dataset. A model that would not fit
in half of the available memory is refused with a message naming the layer (or setting) to shrink, instead
of crashing the machine halfway through building it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import NnplayError
from ..safety import available_memory, human_bytes, memory_headroom  # noqa: F401  (re-exported)

MEMORY_FRACTION = 0.5
_EVAL_BATCH = 256
_RECURRENT_GATES = {"simplernn": 1, "simple_rnn": 1, "lstm": 4, "gru": 3}


def memory_limit() -> int | None:
    avail = memory_headroom()          # the machine's available memory, or less under ulimit -v
    return None if avail is None else int(avail * MEMORY_FRACTION)


@dataclass
class MemoryEstimate:
    weights: int = 0          #: parameters and their gradients, bytes
    optimizer: int = 0        #: optimizer slots, bytes
    activations: int = 0      #: one batch forward + backward caches, bytes
    data: int = 0             #: the dataset's arrays, bytes
    params: int = 0           #: number of weights
    biggest_layer: int = -1   #: index of the layer with the most weights
    biggest_params: int = 0
    widest_layer: int = -1    #: index of the layer that keeps the most values per sample
    widest_values: int = 0
    values: int = 0           #: values one sample keeps in all layers
    batch_size: int = 0       #: the training batch size (evaluation uses at least 256)
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
    est = MemoryEstimate(data=int(data_bytes), batch_size=int(batch_size))
    shape = tuple(input_shape)
    batch = max(int(batch_size), _EVAL_BATCH)  # evaluation runs in batches of at least 256
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
        kept = layer_activations(layer, shape, out)
        if kept > est.widest_values:
            est.widest_layer, est.widest_values = i, kept
        values += kept
        shape = out
    est.weights = 2 * est.params * itemsize
    est.optimizer = n_slots * est.params * itemsize
    est.activations = batch * values * itemsize
    est.values = values
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
    if worst == "activations" and est.widest_layer >= 0 and (est.batch_size <= _EVAL_BATCH or
                                                            2 * est.widest_values >= est.values):
        # one layer's outputs are the problem (evaluation runs 256 samples at once whatever the batch_size)
        raise error(("model", "layers", est.widest_layer),
                    f"{reason}; this layer alone keeps {est.widest_values:,} values per sample: use fewer units "
                    "or filters")
    if worst == "activations":
        raise error(("training", "batch_size"), f"{reason}; use a smaller batch_size or smaller layers")
    raise error(("data",), f"{reason}; use fewer samples or smaller inputs")
