"""Typed access to a preset's tables with located errors, and the preset-to-engine conversions they share.

:class:`Table` reads one table of a preset dict and raises :class:`~.schema.PresetError` naming the key
(and its line); :func:`relocate` re-reports an engine error at the key it is about.
"""
from __future__ import annotations

import math
import re

from ..errors import NnplayError, did_you_mean
from ..registry import squash
from .schema import Context
from .toml_io import Path, format_path

# schedule keys that may be given in epochs instead of optimizer steps
EPOCH_KEYS = {"decay_epochs": "decay_steps", "first_decay_epochs": "first_decay_steps",
              "warmup_epochs": "warmup_steps", "every_epochs": "every", "boundaries_epochs": "boundaries"}

_MAX_STEPS = 2 ** 53     # optimizer steps a schedule may count (exact as float64)
_UNKNOWN = re.compile(r"(?:unknown (?:argument|parameter|key)|has no parameter) '([^']+)'(.*)$")
_HINT = re.compile(r" \((?:did you mean|choose from)[^)]*\)")


# ------------------------------------------------------------------------------------------ helpers
def relocate(ctx: Context, exc: NnplayError, base: Path, table: dict | None = None, by_value: bool = True
             ) -> NnplayError:
    """Re-raise an engine error at the key it is about (``unknown argument 'x'`` -> ``base.x: unknown key``)."""
    msg = str(exc)
    m = _UNKNOWN.search(msg)
    if m:
        hint = _HINT.search(m.group(2))
        return ctx.error(base + (m.group(1),), "unknown key" + (hint.group() if hint else ""))
    if isinstance(table, dict):
        for key, value in table.items():
            if re.search(rf"(?<![\w.]){re.escape(str(key))}=", msg):
                return ctx.error(base + (key,), msg)
        for key, value in table.items() if by_value else ():
            if isinstance(value, str) and repr(value) in msg:
                return ctx.error(base + (key,), msg)
    return ctx.error(base, msg)


def _num(v) -> str:
    if isinstance(v, int) and abs(v) >= 10_000:
        return f"{v:_}"
    return f"{v:g}"


def _range_text(lo, hi, lo_open=False, hi_open=False) -> str:
    if lo is not None and hi is not None:
        if isinstance(lo, int) and isinstance(hi, int):
            return f" in {_num(lo)}..{_num(hi)}"
        return f" in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {_num(lo)}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {_num(hi)}"
    return ""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _quote_hint(v) -> str:
    return " (it is a string: remove the quotes)" if isinstance(v, str) else ""


class Table:
    """Typed access to one table of the preset, raising located errors."""

    def __init__(self, ctx: Context, path: Path, raw, keys: tuple, what: str = "a table"):
        self.ctx, self.path = ctx, tuple(path)
        if not isinstance(raw, dict):
            raise ctx.error(self.path, f"must be {what}, got {raw!r}")
        for key in raw:
            if key not in keys:
                raise ctx.error(self.path + (key,), "unknown key" + did_you_mean(str(key), keys))
        self.raw = raw

    def err(self, key, reason: str) -> NnplayError:
        return self.ctx.error(self.path + ((key,) if key is not None else ()), reason)

    def has(self, key) -> bool:
        return key in self.raw

    def _value(self, key, required, example):
        if key not in self.raw:
            if required:
                raise self.err(None, f"missing key '{key}'" + (f"; add e.g. {key} = {example}" if example else ""))
            return None
        return self.raw[key]

    def int(self, key, default=None, lo=None, hi=None, required=False, example=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        if not _is_int(v):
            fix = f"; write {int(v)}" if isinstance(v, float) and v.is_integer() else _quote_hint(v)
            raise self.err(key, f"must be a whole number{_range_text(lo, hi)}, got {v!r}{fix}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.err(key, f"must be a whole number{_range_text(lo, hi)}, got {v}")
        return v

    def float(self, key, default=None, lo=None, hi=None, lo_open=False, hi_open=False, required=False,
              example=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        rng = _range_text(lo, hi, lo_open, hi_open)
        if not _is_num(v) or not math.isfinite(v):
            raise self.err(key, f"must be a finite number{rng}, got {v!r}{_quote_hint(v)}")
        if (lo is not None and (v < lo or (lo_open and v == lo))) or \
                (hi is not None and (v > hi or (hi_open and v == hi))):
            raise self.err(key, f"must be a number{rng}, got {v!r}")
        return v

    def bool(self, key, default=None):
        v = self._value(key, False, None)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self.err(key, f"must be true or false, got {v!r}{_quote_hint(v)}")
        return v

    def str(self, key, default=None, required=False, example=None, choices=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        if not isinstance(v, str):
            raise self.err(key, f"must be a string such as {example or repr('...')}, got {v!r}")
        if choices is not None and v not in choices:
            raise self.err(key, f"{v!r} is not allowed" + did_you_mean(v, choices))
        return v

    def table(self, key, required=False, example=None):
        v = self._value(key, required, example)
        if v is not None and not isinstance(v, dict):
            raise self.err(key, f"must be a table ([{format_path(self.path + (key,))}] or {{ ... }}), got {v!r}")
        return v

    def list(self, key, item: str, default=None, required=False, example=None):
        v = self._value(key, required, example)
        if v is None:
            return default
        if not isinstance(v, list):
            raise self.err(key, f"must be a list, e.g. {key} = {example}, got {v!r}")
        for i, x in enumerate(v):
            ok = {"str": isinstance(x, str), "table": isinstance(x, dict),
                  "positive int": _is_int(x) and x > 0}[item]
            if not ok:
                raise self.ctx.error(self.path + (key, i), f"must be a {item}, got {x!r}")
        return v


# ------------------------------------------------------------------------------------------ schedules
def schedule_config(cfg: dict, steps_per_epoch: int, default_lr: float) -> dict:
    """A preset's schedule table -> a ``schedules.get`` config (``*_epochs`` keys turned into steps)."""
    out = {}
    for key, value in cfg.items():
        if key in EPOCH_KEYS:
            step_key = EPOCH_KEYS[key]
            if step_key in cfg:
                raise NnplayError(f"give either {key} or {step_key}, not both")
            if isinstance(value, list):
                out[step_key] = [_epochs_to_steps(key, v, steps_per_epoch) for v in value]
            else:
                out[step_key] = _epochs_to_steps(key, value, steps_per_epoch)
        else:
            out[key] = value
    if "initial_learning_rate" not in out and not squash(str(out.get("type", ""))).startswith("piecewise"):
        out["initial_learning_rate"] = default_lr
    return out


def _epochs_to_steps(key, value, steps_per_epoch) -> int | float:
    if not _is_num(value) or not math.isfinite(value) or value < 0:
        raise NnplayError(f"{key} must be a finite number of epochs >= 0, got {key}={value!r}")
    steps = value * steps_per_epoch
    if steps >= _MAX_STEPS:        # also keeps round() below from overflowing
        raise NnplayError(f"{key} must be below {_MAX_STEPS / steps_per_epoch:.3g} epochs (2**53 optimizer "
                          f"steps), got {key}={value!r}")
    return int(round(steps)) if abs(steps - round(steps)) < 1e-9 else steps
