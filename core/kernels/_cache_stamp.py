"""A cached kernel is stale when any kernel source changed, not only its own file.

Numba stamps each cache entry with a hash of the one file that defines the function. A kernel that calls
kernels of other files (the conv chain step calls the conv, pooling, dense and loss kernels) carries their
machine code inside its own entry, so after an edit of one of those files, and nothing else, Numba would
load the old code: a checkout that changed ``mlp.head_loss`` kept the conv chain step computing the old
gradient. :func:`install` makes every nnplay kernel's stamp one hash over all the kernel package's sources:
any change there recompiles them all (a release replaces every file anyway; this matters for a working
copy installed with ``pip install -e``). Where Numba lacks the hooks this uses, its own stamps stay.
"""
from __future__ import annotations

import functools
import hashlib
import os
import time

KERNELS = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=4)
def _paths(root: str) -> tuple:
    """Every Python file of the kernel package, in a fixed order (listed once per process)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found.extend(os.path.join(folder, name) for name in sorted(files) if name.endswith(".py"))
    return tuple(found)


def _sources() -> tuple:
    """(path, mtime, size) of every Python file of the kernel package."""
    return tuple((path, st.st_mtime_ns, st.st_size) for path, st in ((p, os.stat(p)) for p in _paths(KERNELS)))


@functools.lru_cache(maxsize=4)
def _hash(sources: tuple) -> bytes:
    h = hashlib.sha256()
    for path, _, _ in sources:
        h.update(os.path.relpath(path, KERNELS).encode())
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.digest()


_last = [0.0, b""]     # when the stamp was last checked, and its value


def package_stamp() -> bytes:
    """One hash over the contents of all kernel sources (recomputed when a file's size or time changes;
    checked at most once a second: a start loads a hundred kernels, each asking)."""
    now = time.monotonic()
    if now - _last[0] > 1.0 or not _last[1]:
        _last[1] = _hash(_sources())
        _last[0] = now
    return _last[1]


def _inside(path: str) -> bool:
    return os.path.abspath(path).startswith(KERNELS + os.sep)


def install() -> None:
    """Put locators that stamp nnplay's kernels with :func:`package_stamp` in front of Numba's own."""
    try:
        from numba.core import caching
        impl, base = caching.CacheImpl, caching._SourceFileBackedLocatorMixin
    except (ImportError, AttributeError):     # pragma: no cover - a Numba without these hooks
        return
    if getattr(impl, "_nnplay_stamps", False):
        return
    ours = []
    for cls in impl._locator_classes:
        if not issubclass(cls, base):
            continue

        class Stamped(cls):
            def get_source_stamp(self):
                if _inside(self._py_file):
                    return package_stamp()
                return super().get_source_stamp()

            @classmethod
            def from_function(cls, py_func, py_file):
                return super().from_function(py_func, py_file) if _inside(py_file) else None

        Stamped.__name__ = Stamped.__qualname__ = f"NnplayStamped{cls.__name__}"
        ours.append(Stamped)
    impl._locator_classes = [*ours, *impl._locator_classes]
    impl._nnplay_stamps = True
