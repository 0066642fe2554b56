"""Things found by name: layers, activations, losses, metrics, optimizers, schedules, initializers, regularizers
and datasets each keep one :class:`Registry`, and every ``get()`` looks names up through it.

A name matches whatever its case and separators (``"binary_crossentropy"``, ``"BinaryCrossentropy"``,
``"binary-crossentropy"``; ``"font-digits"``, ``"font_digits"``), so the snake_case names of presets and
the CamelCase class names of Keras configs both work. An unknown name raises one :class:`NnplayError`
with a did-you-mean.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from .errors import NnplayError, did_you_mean

T = TypeVar("T")


def squash(name: str) -> str:
    """The form names are compared in: lower case, letters and digits only."""
    return "".join(ch for ch in name.strip().lower() if ch.isalnum())


def snake_case(name: str) -> str:
    """``"MaxPooling2D"`` -> ``"max_pooling2d"``, ``"ExponentialDecay"`` -> ``"exponential_decay"``."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.strip())
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower().replace("-", "_").replace(" ", "_").replace("2_d", "2d").replace("1_d", "1d")


class Registry(Mapping[str, T], Generic[T]):
    """A read-mostly ``name -> thing`` table; iterating gives the canonical names in the order added.

    ``registry[name]`` and ``name in registry`` accept any spelling of a name or alias (``KeyError``
    when unknown, as a mapping); :meth:`lookup` raises the user-facing error instead.
    """

    def __init__(self, kind: str, entries: dict[str, T] | None = None, aliases: dict[str, str] | None = None):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._keys: dict[str, str] = {}
        self._aliases: list[str] = []
        for name, value in (entries or {}).items():
            self.add(name, value)
        for alias, name in (aliases or {}).items():
            self.alias(alias, name)

    def add(self, name: str, value: T, aliases=()) -> T:
        """Register ``value`` under ``name`` (and ``aliases``); returns ``value``."""
        key = squash(name)
        owner = self._keys.get(key)
        if owner is not None and owner != name:
            raise ValueError(f"{self.kind} names {owner!r} and {name!r} collide")
        self._items[name] = value
        self._keys[key] = name
        for alias in aliases:
            self.alias(alias, name)
        return value

    def alias(self, alias: str, name: str) -> None:
        self._keys.setdefault(squash(alias), name)
        self._aliases.append(alias)

    def canonical(self, name: str) -> str | None:
        """The registered name ``name`` spells, or None."""
        return self._keys.get(squash(name)) if isinstance(name, str) else None

    def lookup(self, name) -> T:
        """The thing called ``name``, or an :class:`NnplayError` naming the closest names."""
        if not isinstance(name, str) or not name.strip():
            raise NnplayError(f"{self.kind} must be a name or an object, got {name!r}")
        found = self.canonical(name)
        if found is None:
            raise NnplayError(f"unknown {self.kind} {name!r}"
                              + did_you_mean(name.strip().lower(), [*self._items, *self._aliases]))
        return self._items[found]

    def __getitem__(self, name: str) -> T:
        found = self.canonical(name)
        if found is None:
            raise KeyError(name)
        return self._items[found]

    def __contains__(self, name) -> bool:
        return self.canonical(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._items)})"
