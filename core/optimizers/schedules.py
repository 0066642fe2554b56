"""Learning-rate schedules with Keras' names, arguments and formulas.

A schedule maps the optimizer's step count (``iterations``, the number of updates applied so far; the
first update sees step 0) to a learning rate. Pass one as ``learning_rate`` to any optimizer.

Configs are flat dicts with a ``type``: ``{"type": "exponential_decay", "initial_learning_rate": 0.1,
"decay_steps": 1000, "decay_rate": 0.5}``. :func:`get` also reads Keras' serialized form
``{"class_name": "ExponentialDecay", "config": {...}}``.

Where nnplay differs from Keras:

* :class:`StepDecay` is nnplay's own (no Keras class): ``initial_learning_rate * drop ** floor(step / every)``.
* Arguments are validated (Keras checks only ``decay_steps > 0``): rates must be finite and positive
  (``initial_learning_rate`` may be 0 for a warm-up :class:`CosineDecay`), fractions such as ``alpha`` must
  lie in [0, 1], :class:`PiecewiseConstantDecay` boundaries must increase strictly, and
  :class:`CosineDecayRestarts` needs ``t_mul >= 1`` (below 1 the periods shrink and Keras' formula returns
  NaN after a finite number of steps).
* :class:`CosineDecayRestarts` finds the current period by exact accumulation instead of Keras'
  ``floor(log(...) / log(t_mul))`` alone, so a step that lands exactly on a restart is never put in the
  previous period by rounding. Off the restart points the result is the same.
* Values are plain Python floats computed in float64 (Keras computes in the dtype of
  ``initial_learning_rate``, float32 in practice).
* ``name`` is accepted for compatibility with Keras configs and kept on the object, but ``get_config``
  writes ``type`` instead of Keras' ``name``.
"""
from __future__ import annotations

import bisect
import inspect
import math

from ..checks import non_negative as _non_negative
from ..checks import number as _real
from ..checks import positive as _positive
from ..errors import NnplayError, did_you_mean
from ..registry import Registry, snake_case


def _fraction(owner: str, field: str, value) -> float:
    x = _real(owner, field, value)
    if not 0.0 <= x <= 1.0:
        raise NnplayError(f"{owner}: {field} must be in [0, 1], got {field}={value!r}")
    return x


def _steps(owner: str, field: str, value, allow_zero: bool = False):
    """A step count > 0 (or >= 0). Whole numbers come back as int; Keras also allows fractional counts."""
    x = _real(owner, field, value)
    if x < 0 or (x == 0 and not allow_zero):
        raise NnplayError(f"{owner}: {field} must be {'>= 0' if allow_zero else '> 0'}, got {field}={value!r}")
    return int(x) if x.is_integer() else x


def _flag(owner: str, field: str, value) -> bool:
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise NnplayError(f"{owner}: {field} must be True or False, got {field}={value!r}")
    return bool(value)


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float``.

    Subclasses list their constructor arguments in ``_fields`` (in order); ``get_config`` writes them.
    """

    _fields: tuple[str, ...] = ()
    name: str | None = None

    def __call__(self, step) -> float:
        raise NotImplementedError(f"schedule {type(self).__name__} must implement __call__(step)")

    def get_config(self) -> dict:
        """``{"type": ..., <args>}`` (None values left out); :func:`get` accepts it back."""
        cfg: dict = {"type": _TYPE_OF.get(type(self), snake_case(type(self).__name__))}
        for key in self._fields:
            value = getattr(self, key)
            if value is not None:           # None is the default wherever it is allowed (TOML has no null)
                cfg[key] = list(value) if isinstance(value, tuple) else value
        if self.name is not None:
            cfg["name"] = self.name
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        cfg = dict(config)
        cfg.pop("type", None)
        return _construct(cls, cfg)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase`` the exponent is
    ``floor(step / decay_steps)``."""

    _fields = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, *, name=None):
        o = "ExponentialDecay"
        self.initial_learning_rate = _positive(o, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps(o, "decay_steps", decay_steps)
        self.decay_rate = _positive(o, "decay_rate", decay_rate)
        self.staircase = _flag(o, "staircase", staircase)
        self.name = name

    def __call__(self, step) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after ``boundaries[-1]``."""

    _fields = ("boundaries", "values")

    def __init__(self, boundaries, values, *, name=None):
        o = "PiecewiseConstantDecay"
        if not isinstance(boundaries, (list, tuple)) or not isinstance(values, (list, tuple)):
            raise NnplayError(f"{o}: boundaries and values must be lists, got boundaries={boundaries!r}, "
                              f"values={values!r}")
        if len(boundaries) != len(values) - 1:
            raise NnplayError(f"{o}: values must have one more entry than boundaries, got "
                              f"boundaries={list(boundaries)!r} ({len(boundaries)}) and values={list(values)!r} "
                              f"({len(values)})")
        b = [_real(o, "boundaries", x) for x in boundaries]
        if any(x2 <= x1 for x1, x2 in zip(b, b[1:])):
            raise NnplayError(f"{o}: boundaries must increase strictly, got boundaries={list(boundaries)!r}")
        self.boundaries = [int(x) if x.is_integer() else x for x in b]
        self.values = [_non_negative(o, "values", v) for v in values]
        self.name = name

    def __call__(self, step) -> float:
        return self.values[bisect.bisect_left(self.boundaries, float(step))]


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end`` with ``step`` capped at ``decay_steps``;
    with ``cycle`` the horizon grows to the first multiple of ``decay_steps`` not below ``step``."""

    _fields = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle")

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False, *,
                 name=None):
        o = "PolynomialDecay"
        self.initial_learning_rate = _positive(o, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps(o, "decay_steps", decay_steps)
        self.end_learning_rate = _non_negative(o, "end_learning_rate", end_learning_rate)
        self.power = _positive(o, "power", power)
        self.cycle = _flag(o, "cycle", cycle)
        self.name = name

    def __call__(self, step) -> float:
        step = float(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1.0 - p) ** self.power \
            + self.end_learning_rate


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with ``staircase`` the ratio
    ``step / decay_steps`` is floored."""

    _fields = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, *, name=None):
        o = "InverseTimeDecay"
        self.initial_learning_rate = _positive(o, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps(o, "decay_steps", decay_steps)
        self.decay_rate = _non_negative(o, "decay_rate", decay_rate)
        self.staircase = _flag(o, "staircase", staircase)
        self.name = name

    def __call__(self, step) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warm-up (Keras 3).

    Without ``warmup_target``: ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``
    with ``s = min(step, decay_steps)``. With it: for ``step < warmup_steps`` the rate rises linearly from
    ``initial_learning_rate`` to ``warmup_target``; then the cosine decay above runs from ``warmup_target``
    over ``decay_steps`` more steps (``s = min(step, warmup_steps + decay_steps) - warmup_steps``).
    """

    _fields = ("initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps")

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, *, warmup_target=None, warmup_steps=0,
                 name=None):
        o = "CosineDecay"
        if warmup_target is None:
            self.initial_learning_rate = _positive(o, "initial_learning_rate", initial_learning_rate)
        else:
            self.initial_learning_rate = _non_negative(o, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps(o, "decay_steps", decay_steps)
        self.alpha = _fraction(o, "alpha", alpha)
        self.warmup_target = None if warmup_target is None else _positive(o, "warmup_target", warmup_target)
        self.warmup_steps = _steps(o, "warmup_steps", warmup_steps, allow_zero=True)
        self.name = name

    def _decay(self, step: float, decay_from: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step) -> float:
        step = float(step)
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            frac = step / self.warmup_steps
            return (self.warmup_target - self.initial_learning_rate) * frac + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR). Period ``i`` (from 0) lasts ``first_decay_steps * t_mul**i``
    steps and starts at ``m_mul**i`` times the initial rate:
    ``initial * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * f)) + alpha)``, ``f`` the fraction of the
    current period done."""

    _fields = ("initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha")

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, *, name=None):
        o = "CosineDecayRestarts"
        self.initial_learning_rate = _positive(o, "initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _steps(o, "first_decay_steps", first_decay_steps)
        self.t_mul = _real(o, "t_mul", t_mul)
        if self.t_mul < 1.0:
            raise NnplayError(f"{o}: t_mul must be >= 1, got t_mul={t_mul!r}")
        self.m_mul = _positive(o, "m_mul", m_mul)
        self.alpha = _fraction(o, "alpha", alpha)
        self.name = name

    def _period(self, fraction: float) -> tuple[int, float]:
        """(restart index i, fraction done of period i) for ``fraction = step / first_decay_steps``."""
        t = self.t_mul
        if t == 1.0:
            i = math.floor(fraction)
            return i, fraction - i
        i = max(0, math.floor(math.log(1.0 - fraction * (1.0 - t)) / math.log(t)))
        start = (1.0 - t ** i) / (1.0 - t)          # periods 0..i-1, in units of first_decay_steps
        while i > 0 and start > fraction:           # rounding put us one period too far
            i -= 1
            start = (1.0 - t ** i) / (1.0 - t)
        while start + t ** i <= fraction:           # ... or one period too early
            start += t ** i
            i += 1
        return i, (fraction - start) / t ** i

    def __call__(self, step) -> float:
        i, frac = self._period(float(step) / self.first_decay_steps)
        cosine = 0.5 * self.m_mul ** i * (1.0 + math.cos(math.pi * frac))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)


class StepDecay(LearningRateSchedule):
    """``initial_learning_rate * drop ** floor(step / every)``: multiply the rate by ``drop`` every
    ``every`` steps.

    nnplay's own convenience, not a Keras class (Keras users write it as
    ``ExponentialDecay(initial_learning_rate, every, drop, staircase=True)``, which gives the same values).
    """

    _fields = ("initial_learning_rate", "drop", "every")

    def __init__(self, initial_learning_rate, drop, every, *, name=None):
        o = "StepDecay"
        self.initial_learning_rate = _positive(o, "initial_learning_rate", initial_learning_rate)
        self.drop = _real(o, "drop", drop)
        if not 0.0 < self.drop <= 1.0:
            raise NnplayError(f"{o}: drop must be in (0, 1], got drop={drop!r}")
        if isinstance(every, bool) or not isinstance(every, (int, float)) or every < 1 or not float(every).is_integer():
            raise NnplayError(f"{o}: every must be a whole number of steps >= 1, got every={every!r}")
        self.every = int(every)
        self.name = name

    def __call__(self, step) -> float:
        return self.initial_learning_rate * self.drop ** (int(step) // self.every)


# ---------------------------------------------------------------------------------------------- lookup
_TABLE: Registry[type] = Registry("learning-rate schedule", {
    "exponential_decay": ExponentialDecay,
    "piecewise_constant_decay": PiecewiseConstantDecay,
    "polynomial_decay": PolynomialDecay,
    "inverse_time_decay": InverseTimeDecay,
    "cosine_decay": CosineDecay,
    "cosine_decay_restarts": CosineDecayRestarts,
    "step_decay": StepDecay,
}, aliases={"piecewise_constant": "piecewise_constant_decay", "sgdr_decay": "cosine_decay_restarts",
            "sgdr": "cosine_decay_restarts"})
_TYPE_OF = {cls: key for key, cls in _TABLE.items()}


def _construct(cls: type, cfg: dict) -> LearningRateSchedule:
    """``cls(**cfg)`` with unknown and missing arguments reported as NnplayError."""
    params = inspect.signature(cls.__init__).parameters
    known = [k for k in params if k != "self"]
    for key in cfg:
        if key not in known:
            raise NnplayError(f"{cls.__name__}: unknown argument {key!r}" + did_you_mean(key, known))
    missing = [k for k, p in params.items()
               if k != "self" and p.default is inspect.Parameter.empty and k not in cfg]
    if missing:
        raise NnplayError(f"{cls.__name__}: missing argument(s) {', '.join(missing)}")
    return cls(**cfg)


def get(identifier) -> LearningRateSchedule:
    """A schedule from a config dict (``{"type": "cosine_decay", ...}`` or Keras'
    ``{"class_name": "CosineDecay", "config": {...}}``) or a schedule (returned as is)."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        cfg = dict(identifier)
        if "class_name" in cfg and "type" not in cfg:
            kind = cfg["class_name"]
            cfg = dict(cfg.get("config") or {})
        else:
            kind = cfg.pop("type", None)
            if kind is None:
                raise NnplayError(f"a learning-rate schedule config needs a 'type', got {identifier!r}"
                                  + did_you_mean("", _TABLE))
        if not isinstance(kind, str):
            raise NnplayError(f"learning-rate schedule type must be a name, got {kind!r}")
        return _TABLE.lookup(kind).from_config(cfg)
    if isinstance(identifier, str):
        cls = _TABLE.lookup(identifier)
        raise NnplayError(f"learning-rate schedule {identifier!r} needs arguments; pass a dict such as "
                          f"{{'type': {_TYPE_OF[cls]!r}, ...}} with "
                          + ", ".join(k for k in cls._fields))
    raise NnplayError(f"learning-rate schedule must be a config dict or a schedule, got {identifier!r}")


def serialize(schedule: LearningRateSchedule) -> dict:
    return schedule.get_config()


__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
           "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "StepDecay", "get", "serialize"]
