"""Atomic file writes: a temp file in the target folder, fsync, then rename into place.

A crash or Ctrl-C while writing leaves the old file (or nothing), never a half-written one; a failed write
(a full disk, a folder in the way) is one NnplayError line and leaves no temp file.
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import NnplayError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_error(path, exc: OSError) -> NnplayError:
    """One line for a failed write: the file, the system's reason and what to do about it."""
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        fix = "free some space on that disk or choose another folder"
    elif code == errno.EISDIR or os.path.isdir(path):
        fix = "a folder has that name; remove it or choose another name"
    else:
        fix = "choose a folder you can write to"
    return NnplayError(f"cannot write {str(path)!r}: {exc.strerror or exc}; {fix}")


def _write_fd(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def _removed_on_failure(tmp, path):
    """The temp file ``tmp`` is removed when the block fails (an interrupt included); an OSError becomes
    the one-line error for ``path``."""
    try:
        yield
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def write_temp(path, data: bytes) -> Path:
    """``data`` in a hidden temp file beside ``path`` (complete and synced), ready to be renamed onto it with
    ``os.replace``; nothing is left behind when it fails. Raises NnplayError for OS failures."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise NnplayError(f"cannot write {str(path)!r}: {exc.strerror or exc}; choose a folder you can write to") \
            from None
    with _removed_on_failure(tmp, path):
        _write_fd(fd, data)
        # mkstemp creates 0600 files; give the result the mode a plain open() would (0666 minus umask)
        os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
    tmp = write_temp(path, data)
    with _removed_on_failure(tmp, path):
        os.replace(tmp, path)
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npz(path, arrays: dict[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())
