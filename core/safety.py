"""Hostile input, handled in one place: files opened only when they are regular files, reads bounded by what
the file claims and the memory the process can still use, ``.npz`` members checked against their ``.npy``
header before they are inflated, allocations checked before they are made, and text from files cleaned of
control characters before a terminal shows it.

    with open_regular("data.csv", "csv: path='data.csv'") as f: ...     # a FIFO or /dev/zero: refused
    raw = read_file("data.csv", "csv: path='data.csv'")                  # at most file_read_limit() bytes
    with NpzReader("m.npz", "'m.npz'") as z:
        w = z.read("w0000", expect_shape=(3, 4))                          # header checked, then inflated
    print(sanitize(preset.description))                                   # no escape sequences reach the tty
"""
from __future__ import annotations

import math
import os
import stat
import zipfile

import numpy as np

from .errors import NnplayError, has_control, sanitize  # noqa: F401  (text from files, cleaned for a terminal)

_MB = 1 << 20
#: Bytes read per chunk when an array is filled from a file (so no second full-size copy is made).
CHUNK = 4 * _MB
#: An ``.npy`` header longer than this is not one numpy wrote.
NPY_HEADER_LIMIT = 64 << 10


# ------------------------------------------------------------------------------------------ memory
def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def _address_space_left() -> int | None:
    """What an address-space limit (``ulimit -v``) still allows this process, or None without a limit."""
    try:
        import resource
        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft < 0:
            return None
        with open("/proc/self/statm", encoding="ascii") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return max(0, soft - used)
    except (ImportError, OSError, ValueError, IndexError, AttributeError):
        return None


def memory_headroom() -> int | None:
    """Bytes this process can still allocate: the machine's available memory, or less under ``ulimit -v``."""
    known = [n for n in (available_memory(), _address_space_left()) if n is not None]
    return min(known) if known else None


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


def check_allocation(nbytes: int, what: str, fix: str) -> None:
    """Refuse to allocate ``nbytes`` when the process cannot hold them: one line naming ``what`` needs it."""
    room = memory_headroom()
    if room is not None and nbytes > room:
        raise NnplayError(f"{what} needs {human_bytes(nbytes)}, but only {human_bytes(room)} of memory is "
                          f"available; {fix}")


def file_read_limit() -> int:
    """The most bytes a data or model file may have: an eighth of the memory left (reading, parsing and
    converting a file takes several times its size), at least 64 MB."""
    room = memory_headroom()
    return max(64 * _MB, (room if room is not None else 8 << 30) // 8)


# ------------------------------------------------------------------------------------------ files
def open_regular(path, what: str):
    """``path`` opened for binary reading, if it is a regular file (symlinks are followed).

    A named pipe would block the open (or the read) forever and a device such as ``/dev/zero`` never ends,
    so both are refused before a byte is read. ``what`` names the file in messages, e.g. ``"csv:
    path='x.csv'"``.
    """
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NnplayError(f"{what} does not exist; check the path") from None
    except IsADirectoryError:
        raise NnplayError(f"{what} is a folder; give a file inside it") from None
    except OSError as exc:
        raise NnplayError(f"{what} cannot be opened ({exc.strerror or exc}); check the path and its "
                          "permissions") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise NnplayError(f"{what} is a folder; give a file inside it")
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device or socket"
        raise NnplayError(f"{what} is {kind}, not a regular file; give the path of a file (nnplay reads only "
                          "regular files)")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def file_size(f) -> int:
    return os.fstat(f.fileno()).st_size


def too_big(what: str, size: int, limit: int) -> NnplayError:
    return NnplayError(f"{what} is {human_bytes(size)}, more than the {human_bytes(limit)} nnplay can read with "
                       "the memory available; use a smaller file or free some memory")


def read_file(path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default :func:`file_read_limit`)."""
    limit = file_read_limit() if limit is None else int(limit)
    try:
        with open_regular(path, what) as f:
            size = file_size(f)
            if size > limit:
                raise too_big(what, size, limit)
            data = f.read(limit + 1)
    except OSError as exc:
        raise NnplayError(f"{what} cannot be read ({exc.strerror or exc}); check the file") from None
    if len(data) > limit:
        raise too_big(what, len(data), limit)
    return data


def read_stream(f, limit: int, what: str) -> bytes:
    """Read a stream (e.g. a gzip or zip member) to its end, refusing more than ``limit`` bytes."""
    data = f.read(limit + 1)
    if len(data) > limit:
        raise NnplayError(f"{what} unpacks to more than {human_bytes(limit)}, more than it can hold; the file is "
                          "damaged or not what it claims to be")
    return data


# ------------------------------------------------------------------------------------------ .npz archives
class NpzReader:
    """The ``.npy`` members of an ``.npz`` archive, each read only after its header was checked.

    ``np.load`` inflates a member as soon as it is asked for, whatever its size; here the header's shape and
    dtype are read first (a few hundred bytes), compared with what the caller expects and with the bytes left
    in ``budget``, and only then is the member inflated, into an array of exactly that size. Object arrays
    (pickles) are refused. Errors are one :class:`NnplayError` naming ``what`` and the member.
    """

    def __init__(self, path, what: str, limit: int | None = None, budget: int | None = None,
                 kind: str = ".npz archive", fix: str = "save it with numpy.savez (or nnplay) again"):
        self.what = what
        if budget is None:          # what all members together may inflate to: half of the memory left
            room = memory_headroom()
            budget = room // 2 if room is not None else 4 * file_read_limit()
        self.budget = int(budget)
        self._file = open_regular(path, what)
        try:
            size = file_size(self._file)
            limit = file_read_limit() if limit is None else limit
            if size > limit:
                raise too_big(what, size, limit)
            self._zip = zipfile.ZipFile(self._file)
            self.members = {}
            for info in self._zip.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if name in self.members:
                    raise NnplayError(f"{what} holds the array {name!r} twice; it is damaged")
                self.members[name] = info
        except NnplayError:
            self.close()
            raise
        except Exception as exc:     # whatever a damaged or hostile archive provokes in zipfile: one line
            self.close()
            raise NnplayError(f"{what} is not a readable {kind} ({_short(exc)}); {fix}") from None
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        z = getattr(self, "_zip", None)
        if z is not None:
            z.close()
        self._file.close()

    @property
    def names(self) -> list[str]:
        return list(self.members)

    def header(self, name: str) -> tuple[tuple, np.dtype, bool]:
        """``(shape, dtype, fortran_order)`` of member ``name``, from its header alone."""
        with self._open(name) as f:
            return self._header(f, name)[:3]

    def read(self, name: str, expect_shape: tuple | None = None, kinds: str = "biuf",
             max_bytes: int | None = None) -> np.ndarray:
        """Member ``name`` as an array, if its header says the shape ``expect_shape`` (when given), a dtype
        of one of ``kinds`` (numpy kind letters) and at most ``max_bytes`` (and what is left of the budget)."""
        try:
            return self._read(name, expect_shape, kinds, max_bytes)
        except NnplayError:
            raise
        except Exception as exc:     # a bad CRC or deflate stream, a damaged header: one line
            raise NnplayError(f"{self.what} (array {name!r}) is damaged ({_short(exc)}); the file is truncated "
                              "or was changed") from None

    def _read(self, name, expect_shape, kinds, max_bytes) -> np.ndarray:
        where = f"{self.what} (array {name!r})"
        with self._open(name) as f:
            shape, dtype, fortran, offset = self._header(f, name)
            if dtype.hasobject:
                raise NnplayError(f"{where} holds Python objects, and nnplay never unpickles; save plain "
                                  "numeric arrays")
            if dtype.kind not in kinds:
                raise NnplayError(f"{where} holds {dtype} values, which cannot be used here; save plain numeric "
                                  "arrays")
            if expect_shape is not None and tuple(shape) != tuple(expect_shape):
                raise NnplayError(f"{where} has shape {tuple(shape)}, but the model needs {tuple(expect_shape)}; "
                                  "the file is damaged or from another model")
            nbytes = math.prod(shape) * dtype.itemsize
            cap = self.budget if max_bytes is None else min(max_bytes, self.budget)
            if nbytes > cap:
                raise NnplayError(f"{where} claims {human_bytes(nbytes)}, more than the {human_bytes(cap)} it may "
                                  "take here; the file is damaged, or too big for the memory available")
            info = self.members[name]
            if info.file_size != offset + nbytes:
                raise NnplayError(f"{where} holds {info.file_size - offset} bytes of values, but its header needs "
                                  f"{nbytes}; the file is truncated or damaged")
            arr = np.empty(shape[::-1] if fortran else shape, dtype)
            view = memoryview(arr.reshape(-1).view(np.uint8)) if nbytes else memoryview(b"")
            done = 0
            while done < nbytes:
                chunk = f.read(min(CHUNK, nbytes - done))
                if not chunk:
                    raise NnplayError(f"{where} ends early; the file is truncated or damaged")
                view[done:done + len(chunk)] = chunk
                done += len(chunk)
            self.budget -= nbytes
        return arr.T if fortran else arr

    def _open(self, name: str):
        if name not in self.members:
            found = ", ".join(sorted(self.members)[:8]) or "nothing"
            raise NnplayError(f"{self.what} has no array {name!r} (it holds {found})")
        try:
            return self._zip.open(self.members[name])
        except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError) as exc:
            raise NnplayError(f"{self.what} (array {name!r}) cannot be read ({_short(exc)}); the file is "
                              "damaged") from None

    def _header(self, f, name: str):
        where = f"{self.what} (array {name!r})"
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=NPY_HEADER_LIMIT)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=NPY_HEADER_LIMIT)
            else:
                raise ValueError(f"unknown .npy version {version}")
            offset = f.tell()
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError, TypeError) as exc:
            raise NnplayError(f"{where} is not a readable .npy array ({_short(exc)}); the file is damaged") \
                from None
        if any(not isinstance(s, int) or s < 0 for s in shape):
            raise NnplayError(f"{where} has an impossible shape {shape!r}; the file is damaged")
        return tuple(shape), np.dtype(dtype), bool(fortran), offset


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__
