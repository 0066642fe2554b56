"""One writer at a time in Numba's on-disk kernel cache, so several nnplay processes can share it.

Numba keeps, per source file, an index (signature -> data file) and one data file of machine code per
signature. Saving a new signature reads the index, names the data file after the entries it already holds,
writes the index, then the data. Each write is atomic, the sequence is not: two processes that compile
different signatures of one kernel at the same moment (two `nnplay run` on a fresh machine, a helper and a
training thread, two test processes) can both pick the same name, and the index can end up pointing one
signature at the other's machine code, which every later start then loads for the wrong types.

:func:`install` wraps the index's save in an exclusive lock and its load in a shared one, taken on one lock
file per cache folder (``fcntl.flock``: released by the kernel if the process dies). Where the lock cannot
be taken (no ``fcntl``, a read-only folder, a file system without locks, a Numba without this class) the
cache works as before.
"""
from __future__ import annotations

import contextlib
import os

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None

LOCK_NAME = "nnplay-cache.lock"


@contextlib.contextmanager
def locked(folder: str, exclusive: bool):
    """Hold the cache folder's lock (shared or exclusive) for the block; no lock where none can be taken."""
    try:
        handle = open(os.path.join(folder, LOCK_NAME), "a+b")
    except (OSError, TypeError):  # read-only or missing folder: Numba's own load or save decides what happens
        yield
        return
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except OSError:          # a file system without locks (some network mounts): go on unlocked
            pass
        yield
    finally:
        handle.close()           # closing releases the lock


def install() -> bool:
    """Wrap Numba's cache index in the folder lock, once per process. Returns whether it is in place."""
    if fcntl is None:  # pragma: no cover
        return False
    try:
        from numba.core.caching import IndexDataCacheFile as index
    except ImportError:  # pragma: no cover - a Numba without it
        return False
    if getattr(index, "_nnplay_locked", False):
        return True
    save, load = getattr(index, "save", None), getattr(index, "load", None)
    if save is None or load is None:  # pragma: no cover
        return False

    def locked_save(self, key, data):
        with locked(getattr(self, "_cache_path", None), exclusive=True):
            return save(self, key, data)

    def locked_load(self, key):
        with locked(getattr(self, "_cache_path", None), exclusive=False):
            return load(self, key)

    index.save, index.load, index._nnplay_locked = locked_save, locked_load, True
    return True
