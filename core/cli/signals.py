"""Stopping signals for nnplay's headless commands: SIGINT (Ctrl-C), SIGTERM (``kill``, a job scheduler, a
container stopping) and SIGHUP (the terminal or SSH session closed) all mean "stop", and the exit status
says which one: 128 + the signal number (130, 143, 129).

Three modes, process-wide, while :func:`handled` is active:

* setting up (the default): a stopping signal raises :class:`Interrupted` (a ``KeyboardInterrupt``) where the
  program is, so nothing half-done is kept; ``main`` prints one line and exits 128 + signal.
* training (:class:`Stopper`): the first signal asks the trainer to stop after the current batch, so what was
  trained is evaluated and saved; a second one raises at once.
* publishing (:func:`held`): while a run's finished files are renamed into place, signals wait, so a folder
  never holds half of them; a signal that came meanwhile is raised right after.
"""
from __future__ import annotations

import contextlib
import signal
import threading

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_NAMES = {"SIGINT": "interrupted", "SIGTERM": "terminated", "SIGHUP": "hung up"}


class Interrupted(KeyboardInterrupt):
    """A stopping signal arrived; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = int(signum)


def exit_code(exc: BaseException | int | None) -> int:
    """128 + the signal's number: 130 for Ctrl-C (also a plain KeyboardInterrupt), 143 SIGTERM, 129 SIGHUP."""
    signum = exc if isinstance(exc, int) else getattr(exc, "signum", signal.SIGINT)
    return 128 + int(signum)


def describe(signum: int) -> str:
    """``interrupted`` (Ctrl-C), ``terminated (SIGTERM)``, ``hung up (SIGHUP)``."""
    name = signal.Signals(signum).name
    return _NAMES.get(name, name.lower()) + ("" if name == "SIGINT" else f" ({name})")


class _State:
    on_stop = None        #: the current Stopper's callback (training), or None (setting up)
    held = 0              #: depth of held() sections
    pending: int | None = None


_state = _State()


def _handle(signum, frame):
    if _state.on_stop is None and _state.held:
        if _state.pending is None:
            _state.pending = signum                # raised when the held section ends
        return
    if _state.on_stop is not None:
        callback, _state.on_stop = _state.on_stop, None   # the next signal raises
        callback(signum)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def handled():
    """Install the handlers for the duration (main thread only; elsewhere signals keep their defaults)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    try:
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, _handle)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        _state.on_stop, _state.held, _state.pending = None, 0, None


@contextlib.contextmanager
def held():
    """Signals wait until the block is done (it must be short: a few renames); one that came meanwhile is
    raised (or, while training, turned into a stop request) at the end."""
    _state.held += 1
    try:
        yield
    finally:
        _state.held -= 1
    if not _state.held and _state.pending is not None:
        signum, _state.pending = _state.pending, None
        raise Interrupted(signum)


class Stopper:
    """While training: the first stopping signal calls ``trainer.stop()`` (the run stops after this batch and
    is saved) and notes it through ``note``; a second one raises :class:`Interrupted`."""

    def __init__(self, note):
        self.note, self.trainer, self.signum = note, None, None

    @property
    def hit(self) -> bool:
        return self.signum is not None

    def __enter__(self):
        _state.on_stop = self._stop
        return self

    def __exit__(self, *exc):
        if _state.on_stop == self._stop:
            _state.on_stop = None
        return False

    def _stop(self, signum: int) -> None:
        self.signum = signum
        if self.trainer is not None:
            self.trainer.stop()
        again = "Ctrl-C again" if signum == signal.SIGINT else "send it again"
        try:        # after SIGHUP the terminal may be gone: the stop must not depend on saying so
            self.note(f"{describe(signum)}: stopping after this batch and saving ({again} to quit now)")
        except (OSError, ValueError, AttributeError):
            pass
