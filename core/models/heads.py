"""A model's outputs as compile describes them: a loss, a loss weight and metrics for each output.

One output keeps Keras' plain names (``loss``, ``accuracy``); several outputs log as Keras 3 does:
``loss`` (the weighted total), then ``<output>_loss`` (each output's own, unweighted) and
``<output>_<metric>``. ``loss`` may be one loss for every output, a list (in output order) or a dict by
output name; ``loss_weights`` and ``metrics`` likewise (metrics: a list of lists, or a dict).
"""
from __future__ import annotations

import numpy as np

from .. import losses as losses_mod
from .. import metrics as metrics_mod
from ..errors import NnplayError, did_you_mean


def _by_name(what: str, value: dict, names: list[str], default) -> list:
    for key in value:
        if key not in names:
            raise NnplayError(f"compile: {what} names output {key!r}, but the model's outputs are "
                              f"{', '.join(names)}" + did_you_mean(str(key), names))
    return [value.get(name, default) for name in names]


def _per_output(what: str, value, names: list[str], default) -> list:
    """A loss or loss weight for each output: one for all, a list in output order, or a dict by name (a dict
    with a "name", "type" or "class_name" is one loss's config)."""
    if isinstance(value, dict) and not any(isinstance(value.get(k), str) for k in ("name", "type", "class_name")):
        return _by_name(what, value, names, default)
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise NnplayError(f"compile: {what} has {len(value)} entries but the model has {len(names)} outputs "
                              f"({', '.join(names)}); give one per output or a dict by output name")
        return list(value)
    return [default if value is None else value] * len(names)


def _metrics_per_output(value, names: list[str]) -> list[list]:
    """Metric lists for each output: a list (one output), a list of lists, or a dict by output name."""
    if not value:
        return [[] for _ in names]
    if isinstance(value, dict):
        found = _by_name("metrics", value, names, [])
    elif len(names) == 1:
        found = [value]
    elif isinstance(value, (list, tuple)) and len(value) == len(names) and \
            all(isinstance(v, (list, tuple)) or v is None for v in value):
        found = list(value)
    else:
        raise NnplayError(f"compile: with {len(names)} outputs, give metrics as a list of lists (one per output) "
                          f"or a dict by output name, e.g. {{{names[0]!r}: ['accuracy']}}")
    return [[v] if isinstance(v, str) else list(v or []) for v in found]


class Heads:
    """The per-output losses, weights and metrics of a compiled model."""

    def __init__(self, names: list[str], output_shapes: list[tuple], loss, loss_weights=None, metrics=None):
        self.names = list(names)
        self.single = len(self.names) == 1
        raw_losses = _per_output("loss", loss, self.names, None)
        if any(v is None for v in raw_losses):
            missing = [n for n, v in zip(self.names, raw_losses) if v is None]
            raise NnplayError(f"compile needs a loss for every output; none for {', '.join(missing)}")
        self.losses = [losses_mod.get(v) for v in raw_losses]
        weights = _per_output("loss_weights", loss_weights, self.names, 1.0)
        self.weights = [1.0 if w is None else float(w) for w in weights]
        self.metric_specs = _metrics_per_output(metrics, self.names)
        self.metrics = [[metrics_mod.get(m, loss, shape) for m in spec]
                        for spec, loss, shape in zip(self.metric_specs, self.losses, output_shapes)]
        self.metric_names = [m.name if self.single else f"{name}_{m.name}"
                             for name, ms in zip(self.names, self.metrics) for m in ms]

    def prepare(self, ys: list, outputs: list[tuple], n: int, dtype) -> list:
        """Each output's targets checked and converted by its loss."""
        out = []
        for y, loss, shape, name in zip(ys, self.losses, outputs, self.names):
            y = np.asarray(y)
            which = "" if self.single else f" of output {name!r}"
            if y.dtype.kind not in "biuf":
                raise NnplayError(f"targets{which} must be numeric, got dtype {y.dtype}")
            got = len(y) if np.ndim(y) else 1
            if np.ndim(y) == 0 or got != n:
                raise NnplayError(f"x and y{which} have different lengths: {n} samples but {got} targets; "
                                  f"give one target per sample")
            if y.dtype.kind == "f" and y.size and not np.isfinite(y).all():
                raise NnplayError(f"y{which} contains NaN or infinite values; clean the targets before training")
            y = loss.prepare_targets(y, (n, *shape))
            if y.dtype.kind == "f" or not isinstance(loss, losses_mod.SparseCategoricalCrossentropy):
                y = np.ascontiguousarray(y, dtype=dtype)
            out.append(y)
        return out

    def value_and_grads(self, ys, outs, fused) -> tuple[float, dict, list]:
        """(weighted total, {"<output>_loss": value}, gradient for each output). ``fused[i]`` is the output
        layer whose activation output ``i``'s loss takes as logits, or None."""
        total, parts, grads = 0.0, {}, []
        for i, (y, out, loss, w) in enumerate(zip(ys, outs, self.losses, self.weights)):
            if fused[i] is not None:
                value, grad = loss.fused(y, fused[i].logits())
            else:
                value, grad = loss.value(y, out), loss.grad(y, out)
            total += w * value
            parts[f"{self.names[i]}_loss"] = float(value)
            grads.append(grad * grad.dtype.type(w) if w != 1.0 else grad)
        return total, parts, grads

    def value(self, ys, outs) -> tuple[float, dict]:
        total, parts = 0.0, {}
        for i, (y, out, loss, w) in enumerate(zip(ys, outs, self.losses, self.weights)):
            value = loss.value(y, out)
            total += w * value
            parts[f"{self.names[i]}_loss"] = float(value)
        return total, parts

    def reset(self) -> None:
        for ms in self.metrics:
            for m in ms:
                m.reset()

    def update(self, ys, outs) -> None:
        for ms, y, out in zip(self.metrics, ys, outs):
            for m in ms:
                m.update(y, out)

    def logs(self) -> dict:
        values = [m.result() for ms in self.metrics for m in ms]
        return dict(zip(self.metric_names, values))
