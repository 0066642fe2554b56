"""The Dataset container, parameter checking and the registry shared by every dataset module."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import NnplayError, did_you_mean
from ..registry import Registry

TASKS = ("binary", "multiclass", "regression", "generative")
MAX_SAMPLES = 1_000_000


# --------------------------------------------------------------------------------------------------
# The container
# --------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Dataset:
    """Train/test arrays plus what a model builder or a UI needs to know about them.

    Unpacks like Keras' ``load_data`` plus a description::

        x_train, y_train, x_test, y_test, description = load("spiral")
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str = ""
    n_classes: int | None = None
    class_names: list[str] | None = None
    meta: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    featurizer: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def __iter__(self):
        return iter((self.x_train, self.y_train, self.x_test, self.y_test, self.description))

    @property
    def input_shape(self) -> tuple:
        """Shape of one input sample (no batch axis)."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def output_dim(self) -> int:
        """Units of a matching output layer.

        1 for binary (sigmoid), ``n_classes`` for multiclass (softmax), the target width for regression,
        and the width of one sample for generative sets (what a generator must produce).
        """
        if self.task == "binary":
            return 1
        if self.task == "multiclass":
            return int(self.n_classes or 0)
        if self.task == "regression":
            return int(self.y_train.shape[-1]) if self.y_train.ndim > 1 else 1
        return int(np.prod(self.input_shape)) if self.input_shape else 1

    @property
    def n_train(self) -> int:
        return int(len(self.x_train))

    @property
    def n_test(self) -> int:
        return int(len(self.x_test))

    def featurize(self, points) -> np.ndarray:
        """Map raw plane points (n, 2) (or (n, 1) for curve1d) to this dataset's input features.

        A UI uses it to evaluate the network on a grid over ``meta["domain"]``.
        """
        if self.featurizer is None:
            raise NnplayError(
                f"dataset {self.name!r} has no 2-D input plane, so featurize() does not apply; "
                "use it with the 2-D sets (circle, xor, gauss, spiral, reg-plane, moons, ...)"
            )
        return self.featurizer(points)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, task={self.task!r}, x_train{tuple(self.x_train.shape)} "
            f"y_train{tuple(self.y_train.shape)}, x_test{tuple(self.x_test.shape)} "
            f"y_test{tuple(self.y_test.shape)})"
        )


# --------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, int) and abs(v) >= 10_000:
        return f"{v:_}"
    return str(v)


@dataclass(frozen=True)
class Param:
    """One dataset parameter: default, type, allowed range and a short help text."""

    name: str
    default: Any
    kind: str = "float"  # int | float | bool | choice | str | path | custom
    lo: float | None = None
    hi: float | None = None
    open_lo: bool = False
    open_hi: bool = False
    choices: tuple = ()
    help: str = ""
    allow_none: bool = False
    convert: Callable[[Any, str], Any] | None = None  # custom kinds: (value, dataset) -> value

    def range_text(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.lo is None and self.hi is None:
            return ""
        if self.kind == "int":
            lo = self.lo + 1 if (self.lo is not None and self.open_lo) else self.lo
            hi = self.hi - 1 if (self.hi is not None and self.open_hi) else self.hi
            if hi is None:
                return f">= {_fmt(int(lo))}"
            if lo is None:
                return f"<= {_fmt(int(hi))}"
            return f"{_fmt(int(lo))}..{_fmt(int(hi))}"
        left = "(" if self.open_lo else "["
        right = ")" if self.open_hi else "]"
        lo = "-inf" if self.lo is None else _fmt(self.lo)
        hi = "inf" if self.hi is None else _fmt(self.hi)
        return f"{left}{lo}, {hi}{right}"

    def _range_error(self, dataset: str, value) -> NnplayError:
        return NnplayError(
            f"{dataset}: {self.name}={value!r} is out of range; use a value in {self.range_text()}"
        )

    def check(self, value, dataset: str):
        """Convert ``value`` to this parameter's type and check its range; raise NnplayError if bad."""
        if value is None and (self.allow_none or self.default is None):
            return None
        kind = self.kind
        if kind == "custom":
            return self.convert(value, dataset)
        if kind == "int":
            v = _as_int(value)
            if v is None:
                raise NnplayError(f"{dataset}: {self.name}={value!r} must be a whole number ({self.range_text()})")
            self._check_range(v, dataset, value)
            return v
        if kind == "float":
            v = _as_float(value)
            if v is None:
                raise NnplayError(f"{dataset}: {self.name}={value!r} must be a number in {self.range_text()}")
            self._check_range(v, dataset, value)
            return v
        if kind == "bool":
            v = _as_bool(value)
            if v is None:
                raise NnplayError(f"{dataset}: {self.name}={value!r} must be true or false")
            return v
        if kind == "choice":
            if isinstance(value, str):
                key = value.strip().lower().replace("_", "-")
                for c in self.choices:
                    if key == str(c).lower():
                        return c
            raise NnplayError(
                f"{dataset}: {self.name}={value!r} is not allowed"
                + did_you_mean(str(value), [str(c) for c in self.choices])
            )
        if kind in ("str", "path"):
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
            if not isinstance(value, str) or (kind == "path" and not value.strip()):
                what = "file path" if kind == "path" else "string"
                raise NnplayError(f"{dataset}: {self.name}={value!r} must be a {what}")
            return value
        return value  # pragma: no cover - unknown kinds pass through

    def _check_range(self, v, dataset, raw):
        if self.lo is not None and (v < self.lo or (self.open_lo and v == self.lo)):
            raise self._range_error(dataset, raw)
        if self.hi is not None and (v > self.hi or (self.open_hi and v == self.hi)):
            raise self._range_error(dataset, raw)


def _as_int(value):
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    if isinstance(value, str):
        s = value.strip().replace("_", "")
        try:
            return int(s)
        except ValueError:
            try:
                f = float(s)
            except ValueError:
                return None
            return int(f) if math.isfinite(f) and f.is_integer() else None
    return None


def _as_float(value):
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _as_bool(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, str):
        s = value.strip().lower()
        if s in ("true", "yes", "on", "1", "y"):
            return True
        if s in ("false", "no", "off", "0", "n"):
            return False
    return None


# Factories for the parameters most datasets share.
def p_samples(default: int, lo: int = 2, hi: int = MAX_SAMPLES, name: str = "n_samples") -> Param:
    return Param(name, default, "int", lo=lo, hi=hi, help="number of samples (train + test)")


def p_ratio(default: float = 0.8) -> Param:
    return Param("train_ratio", default, "float", lo=0.0, hi=1.0, open_lo=True, open_hi=True,
                 help="fraction of the samples used for training; the rest is the test set")


def p_seed() -> Param:
    return Param("seed", 0, "int", lo=0, hi=2**63 - 1, help="random seed; the same seed gives the same arrays")


def p_noise(default: float, hi: float, help: str = "noise level") -> Param:
    return Param("noise", default, "float", lo=0.0, hi=hi, help=help)


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    name: str
    summary: str
    kind: str
    params: tuple
    build: Callable[[dict], Dataset]
    aliases: tuple = ()

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def resolve(self, given: dict) -> dict:
        """Fill defaults and check every given value; unknown names get a did-you-mean error."""
        by_name = {p.name: p for p in self.params}
        for k in given:
            if k not in by_name:
                names = list(by_name)
                hint = did_you_mean(str(k), names)
                listing = "" if hint.startswith(" (choose") else "; its parameters are: " + ", ".join(names)
                raise NnplayError(f"dataset {self.name!r} has no parameter {k!r}{hint}{listing}")
        return {p.name: p.check(given[p.name], self.name) if p.name in given else p.default
                for p in self.params}


REGISTRY: Registry[Entry] = Registry("dataset")


def register(name: str, summary: str, kind: str, params, aliases=()):
    """Decorator: register ``build(params) -> Dataset`` under ``name``."""

    def deco(fn):
        REGISTRY.add(name, Entry(name, summary, kind, tuple(params), fn, tuple(aliases)), aliases)
        return fn

    return deco


def find(name) -> Entry:
    if not isinstance(name, str) or not name.strip():
        raise NnplayError(f"dataset name must be a non-empty string, got {name!r}")
    return REGISTRY.lookup(name)


# --------------------------------------------------------------------------------------------------
# Helpers for builders
# --------------------------------------------------------------------------------------------------
def split_indices(rng: np.random.Generator, n: int, train_ratio: float, dataset: str,
                  shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and cut it: ``floor(n * train_ratio)`` indices for training, the rest for testing."""
    n_train = int(math.floor(n * train_ratio + 1e-9))
    if n_train < 1 or n_train >= n:
        raise NnplayError(
            f"{dataset}: {n} samples with train_ratio={train_ratio} leave an empty train or test set; "
            "use more samples or a train_ratio nearer 0.5"
        )
    order = rng.permutation(n) if shuffle else np.arange(n)
    return order[:n_train], order[n_train:]


def as_f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def as_i64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def jsonable(params: dict) -> dict:
    """Params with tuples turned into lists and numpy scalars into Python ones."""
    out = {}
    for k, v in params.items():
        if isinstance(v, tuple):
            v = list(v)
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def _counts(text: str, n_train: int, n_test: int) -> str:
    return text.replace("{n_train}", str(n_train)).replace("{n_test}", str(n_test))


def build_split(name: str, task: str, x: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                params: dict, description: str, **kw) -> Dataset:
    """Shuffle-split (x, y) with ``params['train_ratio']`` and wrap them in a Dataset."""
    tr, te = split_indices(rng, len(x), params["train_ratio"], name)
    return Dataset(name, task, x[tr], y[tr], x[te], y[te], _counts(description, len(tr), len(te)),
                   params=jsonable(params), **kw)
