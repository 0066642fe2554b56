"""Standard output and error that never raise, for the ``nnplay`` command.

Output goes where the user sent it, and that place can fail: a closed pipe (``nnplay list | head``), a full
disk (``> /dev/full``), a terminal that went away (SIGHUP over SSH), or no stream at all (``>&-``). None of
these may become a traceback or stop a run before its results are saved. :class:`SafeStream` wraps a stream:
the first failure sends the rest of the output to ``os.devnull`` and is remembered, so the command can say
once, at the end, that its output was lost (a closed pipe is a reader that had enough: that stays silent).
"""
from __future__ import annotations

import contextlib
import os
import sys


class SafeStream:
    """A text stream whose ``write`` and ``flush`` never raise; ``error`` holds the first real failure."""

    def __init__(self, stream):
        self._stream = stream
        self.error: OSError | None = None
        self.dead = False

    def write(self, text: str) -> int:
        if not self.dead:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._silence(None)
            except (OSError, ValueError) as exc:   # ENOSPC, EIO, a closed file
                self._silence(exc)
        return len(text)

    def flush(self) -> None:
        if not self.dead:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._silence(None)
            except (OSError, ValueError) as exc:
                self._silence(exc)

    def isatty(self) -> bool:
        try:
            return not self.dead and self._stream.isatty()
        except (OSError, ValueError, AttributeError):
            return False

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def _silence(self, exc) -> None:
        """Point the stream's file descriptor at /dev/null, so what is buffered (and Python's last flush at
        exit) goes nowhere instead of failing again."""
        self.dead = True
        if exc is not None and self.error is None:
            self.error = exc if isinstance(exc, OSError) else OSError(str(exc))
        try:
            fd = self._stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)
            self._stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def _reopen_closed_descriptors() -> None:
    """A command started with fd 0, 1 or 2 closed would hand that number to the next file it opens, and
    anything printed would land in that file: fill the gaps with /dev/null first."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                new = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if new != fd:       # a lower descriptor was free after all: keep ours where it belongs
                os.dup2(new, fd)
                os.close(new)


@contextlib.contextmanager
def safe_streams():
    """``sys.stdout`` and ``sys.stderr`` as :class:`SafeStream` for the duration (restored afterwards)."""
    _reopen_closed_descriptors()
    saved = sys.stdout, sys.stderr
    sys.stdout = SafeStream(sys.stdout if sys.stdout is not None else open(os.devnull, "w"))
    sys.stderr = SafeStream(sys.stderr if sys.stderr is not None else open(os.devnull, "w"))
    try:
        yield sys.stdout, sys.stderr
    finally:
        wrapped = sys.stdout, sys.stderr
        for stream in wrapped:
            if isinstance(stream, SafeStream):
                stream.flush()
        sys.stdout, sys.stderr = (old if old is not None else getattr(now, "_stream", now)
                                  for old, now in zip(saved, wrapped))


def lost_output(stream) -> OSError | None:
    """The failure that made ``stream`` drop output (None when it never failed, or only its reader left)."""
    return getattr(stream, "error", None)
