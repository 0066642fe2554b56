"""Data a model is given, checked once before any work: numbers only, finite, one batch axis, shapes that
match the inputs and outputs (a list or a dict by name for several), and the same number of samples in each.
A model without an input shape builds here from its first data, as Keras builds lazily."""
from __future__ import annotations

import numpy as np

from ..errors import NnplayError
from ..training import data as batches


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


class DataChecks:
    """The data checks of :class:`~.model.Model` (a mixin: it reads the model's shapes and heads)."""

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
