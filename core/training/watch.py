"""The hook ``nnplay watch`` uses: while a watcher is installed, ``Model.fit`` hands it the trainer it made
instead of running it, and returns what the watcher returns (the History)."""
from __future__ import annotations

import contextlib
from collections.abc import Callable

_watchers: list[Callable] = []


def current_watcher() -> Callable | None:
    """The innermost installed watcher, or None (``fit`` then runs as usual)."""
    return _watchers[-1] if _watchers else None


@contextlib.contextmanager
def watching(watcher: Callable):
    """Install ``watcher(model, trainer, verbose) -> History`` for the duration of the block."""
    _watchers.append(watcher)
    try:
        yield watcher
    finally:
        _watchers.remove(watcher)
